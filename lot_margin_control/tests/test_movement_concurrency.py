"""The roll-forward's movements (stock.lot.valuation.movement) under parallel transactions.

Two real PostgreSQL transactions on two cursors, as two Odoo workers validating deliveries of the
same product at the same time: each syncs its own move's rows (one DELETE and one INSERT of that
move's rows), so neither waits for the other, and after both commit each move has its rows, none
lost or doubled. The fixture is committed (the other cursor must see it) and removed afterwards.
"""

from contextlib import closing

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged

from .committed import remove_product, validated_deliveries


@tagged("post_install", "-at_install")
class TestMovementConcurrency(TransactionCase):
    def setUp(self):
        super().setUp()
        with closing(self.registry.cursor()) as cr:
            moves = validated_deliveries(api.Environment(cr, SUPERUSER_ID, {}), "LMC Movement", [2, 3])
            cr.commit()  # pylint: disable=invalid-commit
            self.product_id = moves.product_id.id
            self.move_ids = moves.ids
        self.addCleanup(remove_product, self.registry, self.product_id)

    def _quantities(self, cr):
        cr.execute(
            "SELECT move_id, SUM(quantity) FROM stock_lot_valuation_movement "
            "WHERE product_id = %s AND kind = 'quantity' GROUP BY move_id ORDER BY move_id",
            [self.product_id],
        )
        return [(move_id, float(quantity)) for move_id, quantity in cr.fetchall()]

    def test_two_validations_sync_their_moves_without_waiting(self):
        first, second = self.move_ids
        with closing(self.registry.cursor()) as cr_a, closing(self.registry.cursor()) as cr_b:
            self.assertEqual(self._quantities(cr_a), [(first, -2.0), (second, -3.0)])
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_a["stock.lot.valuation.movement"]._sync_moves(env_a["stock.move"].browse(first))
            # B syncs the other move while A's transaction is open: it must not wait for A
            cr_b.execute("SET LOCAL lock_timeout = '2s'")
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            env_b["stock.lot.valuation.movement"]._sync_moves(env_b["stock.move"].browse(second))
            cr_b.commit()  # pylint: disable=invalid-commit
            cr_a.commit()  # pylint: disable=invalid-commit
        with closing(self.registry.cursor()) as cr:
            self.assertEqual(self._quantities(cr), [(first, -2.0), (second, -3.0)])
            cr.execute("SELECT COUNT(*) FROM stock_lot_valuation_movement WHERE move_id = ANY(%s)", [self.move_ids])
            # per move: its line's quantity, its layer by lot and shared by quantity
            self.assertEqual(cr.fetchone()[0], 6)
