"""Reservations from parallel transactions that collide (issue: Trust, point 3).

Real PostgreSQL transactions: each thread has its own cursor and runs its call
through ``odoo.service.model.retrying``, exactly as an RPC request does in an
Odoo worker (serialization failures are replayed on fresh data). A barrier
releases the threads together so that they collide. The fixture is committed
(other cursors must see it) in a product of its own, and removed afterwards.
"""

import threading
import time
import uuid
from contextlib import closing
from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, api
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged

THREADS = 8
ROUNDS = 3
LOT_QTY = 10
DEMAND = 3


@tagged("post_install", "-at_install")
class TestConcurrentReservations(TransactionCase):
    """Never more reserved than on hand, and nothing of a lot blocked meanwhile, whatever the timing."""

    def _committed(self, function):
        """Run ``function(env)`` in a transaction of its own and commit it."""
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            result = function(env)
            # other transactions must see the fixture
            cr.commit()  # pylint: disable=invalid-commit
            return result

    def _setup_round(self, env, tag):
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        product = env["product.product"].create(
            {"name": f"LMC Race {tag}", "is_storable": True, "tracking": "lot", "use_expiration_date": True}
        )
        lots = env["stock.lot"].create(
            [
                {
                    "name": f"RACE-{tag}-A",
                    "product_id": product.id,
                    "expiration_date": datetime.now() + timedelta(days=40),
                },
                {
                    "name": f"RACE-{tag}-B",
                    "product_id": product.id,
                    "expiration_date": datetime.now() + timedelta(days=80),
                },
            ]
        )
        for lot in lots:
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, LOT_QTY, lot_id=lot)
        customer = env["res.partner"].create({"name": f"LMC Race Customer {tag}"})
        pickings = env["stock.picking"].create(
            [
                {
                    "picking_type_id": warehouse.out_type_id.id,
                    "partner_id": customer.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": env.ref("stock.stock_location_customers").id,
                    "move_type": "direct",
                    "move_ids": [
                        (
                            0,
                            0,
                            {
                                "name": product.name,
                                "product_id": product.id,
                                "product_uom_qty": DEMAND,
                                "product_uom": product.uom_id.id,
                                "location_id": warehouse.lot_stock_id.id,
                                "location_dest_id": env.ref("stock.stock_location_customers").id,
                            },
                        )
                    ],
                }
                for _ in range(THREADS)
            ]
        )
        # confirm without reserving, so that the threads do the reserving
        pickings.move_ids.write({"state": "confirmed"})
        return product.id, lots.ids, pickings.ids, customer.id

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a run stopped half-way (killed, crashed) leaves its committed fixture: remove it first
        with closing(cls.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for product in (
                env["product.product"].with_context(active_test=False).search([("name", "=like", "LMC Race %")])
            ):
                customers = env["res.partner"].search([("name", "=like", "LMC Race Customer %")])
                cls._drop_fixture(env, product.id, customers.ids)
            cr.commit()  # pylint: disable=invalid-commit

    @staticmethod
    def _drop_fixture(env, product_id, customer_ids):
        product = env["product.product"].browse(product_id)
        moves = env["stock.move"].search([("product_id", "=", product_id)])
        moves._do_unreserve()
        moves._action_cancel()
        env["stock.picking"].search([("move_ids", "in", moves.ids)]).unlink()
        moves.exists().unlink()
        env.cr.execute("DELETE FROM stock_quant WHERE product_id = %s", [product_id])
        env["stock.lot"].search([("product_id", "=", product_id)]).unlink()
        product.product_tmpl_id.unlink()
        env["res.partner"].browse(customer_ids).exists().unlink()

    def _cleanup(self, product_id, customer_id):
        self._committed(lambda env: self._drop_fixture(env, product_id, [customer_id]))

    def _race(self, calls):
        """Run each ``call(env)`` in its own thread and transaction, released together."""
        barrier = threading.Barrier(len(calls))
        errors = []

        def worker(call):
            try:
                with closing(self.registry.cursor()) as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    barrier.wait(timeout=30)
                    retrying(lambda: call(env), env)
            except Exception as error:  # collected and asserted below
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        return errors

    def _reservation_state(self, product_id):
        def read(env):
            quants = env["stock.quant"].search([("product_id", "=", product_id)])
            lines = env["stock.move.line"].search(
                [("product_id", "=", product_id), ("state", "not in", ("done", "cancel"))]
            )
            per_lot = {}
            for line in lines:
                per_lot[line.lot_id.id] = per_lot.get(line.lot_id.id, 0) + line.quantity
            return (
                [(quant.lot_id.id, quant.quantity, quant.reserved_quantity) for quant in quants],
                per_lot,
                {lot.id: lot.quality_state for lot in quants.lot_id},
            )

        return self._committed(read)

    def _assert_never_over_reserved(self, quants, per_lot):
        on_hand = {}
        reserved = {}
        for lot_id, quantity, reserved_quantity in quants:
            self.assertLessEqual(reserved_quantity, max(quantity, 0), "a quant is reserved beyond its quantity")
            on_hand[lot_id] = on_hand.get(lot_id, 0) + quantity
            reserved[lot_id] = reserved.get(lot_id, 0) + reserved_quantity
        for lot_id, quantity in per_lot.items():
            self.assertLessEqual(quantity, on_hand.get(lot_id, 0), "move lines reserve more of a lot than it holds")
            self.assertEqual(quantity, reserved.get(lot_id, 0), "quants and move lines disagree on what is reserved")

    def test_parallel_deliveries_never_over_reserve(self):
        for round_number in range(ROUNDS):
            tag = f"{uuid.uuid4().hex[:6]}-{round_number}"
            product_id, lot_ids, picking_ids, customer_id = self._committed(
                lambda env, tag=tag: self._setup_round(env, tag)
            )
            try:
                calls = [
                    lambda env, picking_id=picking_id: env["stock.picking"].browse(picking_id).action_assign()
                    for picking_id in picking_ids
                ]
                errors = self._race(calls)
                self.assertFalse(errors, f"round {round_number}: {errors!r}")
                quants, per_lot, _states = self._reservation_state(product_id)
                self._assert_never_over_reserved(quants, per_lot)
                # 2 lots x 10 units, 8 x 3 units asked: exactly 20 reserved, nothing more
                self.assertEqual(sum(per_lot.values()), 2 * LOT_QTY)
            finally:
                self._cleanup(product_id, customer_id)

    def test_blocking_a_lot_while_deliveries_reserve_leaves_nothing_of_it_reserved(self):
        for round_number in range(ROUNDS):
            tag = f"{uuid.uuid4().hex[:6]}-blk{round_number}"
            product_id, lot_ids, picking_ids, customer_id = self._committed(
                lambda env, tag=tag: self._setup_round(env, tag)
            )
            try:
                blocked_id = lot_ids[0]
                calls = [
                    lambda env, picking_id=picking_id: env["stock.picking"].browse(picking_id).action_assign()
                    for picking_id in picking_ids[:6]
                ]
                calls.append(
                    lambda env, blocked_id=blocked_id: env["stock.lot"]
                    .browse(blocked_id)
                    ._set_quality_state("blocked", "Lab failure")
                )
                errors = self._race(calls)
                self.assertFalse(errors, f"round {round_number}: {errors!r}")
                quants, per_lot, states = self._reservation_state(product_id)
                self.assertEqual(states[blocked_id], "blocked")
                self.assertFalse(per_lot.get(blocked_id), "move lines of the blocked lot are still reserved")
                self.assertFalse(
                    sum(reserved for lot_id, _qty, reserved in quants if lot_id == blocked_id),
                    "quants of the blocked lot are still reserved",
                )
                self._assert_never_over_reserved(quants, per_lot)
            finally:
                self._cleanup(product_id, customer_id)

    def test_reserving_one_lot_does_not_wait_for_another_lot_in_use(self):
        """Only the quants taken are locked: another transaction holding a lot not taken does not stop a delivery."""
        tag = uuid.uuid4().hex[:6]
        product_id, lot_ids, picking_ids, customer_id = self._committed(lambda env: self._setup_round(env, tag))
        try:
            with closing(self.registry.cursor()) as holder:
                # e.g. a transfer of the later lot being validated, not yet committed
                holder.execute("SELECT id FROM stock_quant WHERE lot_id = %s FOR NO KEY UPDATE", [lot_ids[1]])
                with closing(self.registry.cursor()) as cr:
                    cr.execute("SET LOCAL lock_timeout = '3s'")
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    env["stock.picking"].browse(picking_ids[0]).action_assign()
                    lines = env["stock.move.line"].search([("picking_id", "=", picking_ids[0])])
                    self.assertEqual(lines.lot_id.ids, [lot_ids[0]])
                    self.assertEqual(sum(lines.mapped("quantity")), DEMAND)
                    cr.rollback()
                holder.rollback()
        finally:
            self._cleanup(product_id, customer_id)

    def test_unreserving_while_another_transaction_holds_the_quant_waits_instead_of_splitting_it(self):
        """Core gives an unreservation a new quant when the lot's quant is locked (SKIP LOCKED).

        The new quant carries a negative reservation, which core's clamping at zero then
        loses: the lot's quants end up more reserved than its move lines. Waiting for the
        lock keeps one quant per lot and place, with its reservation equal to the lines'.
        """
        tag = uuid.uuid4().hex[:6]
        product_id, lot_ids, picking_ids, customer_id = self._committed(lambda env: self._setup_round(env, tag))
        try:
            self._committed(lambda env: env["stock.picking"].browse(picking_ids[0]).action_assign())
            held = threading.Event()

            def hold():
                with closing(self.registry.cursor()) as holder:
                    # another request working on the lot's quant (e.g. reserving from it)
                    holder.execute("SELECT id FROM stock_quant WHERE lot_id = %s FOR NO KEY UPDATE", [lot_ids[0]])
                    held.set()
                    time.sleep(1)
                    holder.rollback()

            thread = threading.Thread(target=hold)
            thread.start()
            self.assertTrue(held.wait(timeout=30))
            try:
                self._committed(lambda env: env["stock.picking"].browse(picking_ids[0]).do_unreserve())
            finally:
                thread.join(timeout=30)
            quants, per_lot, _states = self._reservation_state(product_id)
            of_lot = [quant for quant in quants if quant[0] == lot_ids[0]]
            self.assertEqual(len(of_lot), 1, f"the lot's quant was split: {of_lot}")
            self.assertEqual(of_lot[0][2], 0)
            self.assertFalse(per_lot)
        finally:
            self._cleanup(product_id, customer_id)
