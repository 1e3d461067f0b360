"""The layers summed per lot and month (stock.lot.valuation.month) always equal the layers.

Every case compares with an oracle that sums ``stock_valuation_layer`` itself: after validations
of products created the ordinary way (FIFO by lot, average cost by product, standard without lot),
layers of past months, a layer without quantity (landed cost), a layer's value corrected, a layer
deleted; sums read at a past instant, at a month's first instant, at a month's last and now; after
compaction and rebuild; as each role; and under two parallel transactions.
"""

import uuid
from contextlib import closing
from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestValuationMonth(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "LMC Month Foods"})
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))
        cls.env.user.company_ids += cls.company
        cls.stock = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1).lot_stock_id
        cls.suppliers = cls.env.ref("stock.stock_location_suppliers")
        cls.customers = cls.env.ref("stock.stock_location_customers")
        fifo = cls.env["product.category"].create({"name": "Month FIFO", "property_cost_method": "fifo"})
        average = cls.env["product.category"].create({"name": "Month AVCO", "property_cost_method": "average"})
        cls.by_lot = cls.env["product.product"].create(
            {"name": "Month By Lot", "is_storable": True, "tracking": "lot", "categ_id": fifo.id, "lot_valuated": True}
        )
        # lot_valuated never written: valued by product
        cls.by_product = cls.env["product.product"].create(
            {"name": "Month By Product", "is_storable": True, "tracking": "lot", "categ_id": average.id}
        )
        cls.plain = cls.env["product.product"].create(
            {"name": "Month Plain", "is_storable": True, "standard_price": 4.0}
        )
        cls.lots = {
            name: cls.env["stock.lot"].create({"name": name, "product_id": product.id})
            for name, product in (("M-A", cls.by_lot), ("M-B", cls.by_lot), ("M-C", cls.by_product))
        }
        cls.now = fields.Datetime.now()
        cls.this_month = cls.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        cls.last_month = (cls.this_month - timedelta(days=1)).replace(day=1)
        cls._move(cls.by_lot, cls.lots["M-A"], 10, cls.suppliers, cls.stock, price_unit=1.25)
        cls._move(cls.by_lot, cls.lots["M-B"], 4, cls.suppliers, cls.stock, price_unit=2.5)
        cls._move(cls.by_product, cls.lots["M-C"], 6, cls.suppliers, cls.stock, price_unit=3.0)
        cls._move(cls.plain, None, 5, cls.suppliers, cls.stock)
        cls._move(cls.by_lot, cls.lots["M-A"], 3, cls.stock, cls.customers)
        cls._move(cls.by_product, cls.lots["M-C"], 2, cls.stock, cls.customers)
        Layer = cls.env["stock.valuation.layer"]
        base = {"company_id": cls.company.id, "description": "Month test"}
        # layers of past months (made now, then dated back by SQL as an import would date them, and the
        # sums made again: the incremental path for past months is the corrections' test)
        dates = [
            cls.last_month.replace(day=15, hour=10),
            cls.last_month - timedelta(days=40),
            cls.this_month,  # the very first instant of this month: this month's
            cls.this_month - timedelta(seconds=1),  # the last instant of last month: last month's
        ]
        cls.past = Layer.create(
            [
                {**base, "product_id": cls.by_lot.id, "lot_id": cls.lots["M-B"].id, "quantity": 2, "value": 5.0},
                {**base, "product_id": cls.by_product.id, "quantity": 1, "value": 3.33},
                {**base, "product_id": cls.plain.id, "quantity": 1, "value": 4.0},
                {**base, "product_id": cls.plain.id, "quantity": 0, "value": 0.5},
            ]
        )
        cls.env.flush_all()
        for layer, date in zip(cls.past, dates, strict=True):
            cls.env.cr.execute("UPDATE stock_valuation_layer SET create_date = %s WHERE id = %s", [date, layer.id])
        cls.env.invalidate_all()
        cls.env["stock.lot.valuation.month"]._rebuild()
        # a landed cost: value without quantity
        cls.landed = Layer.create({**base, "product_id": cls.by_product.id, "quantity": 0, "value": 7.5})

    @classmethod
    def _move(cls, product, lot, quantity, source, destination, **values):
        move = cls.env["stock.move"].create(
            {
                "name": product.name,
                "product_id": product.id,
                "product_uom_qty": quantity,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "company_id": cls.company.id,
                **values,
            }
        )
        move._action_confirm()
        move._action_assign()
        if not move.move_line_ids:
            cls.env["stock.move.line"].create({"move_id": move.id, "product_id": product.id, "location_id": source.id})
        move.move_line_ids.write({"lot_id": lot and lot.id, "quantity": quantity, "picked": True})
        move.picked = True
        move._action_done()
        assert move.state == "done"
        return move

    # ------------------------------------------------------------------
    # Oracles: the layers themselves
    # ------------------------------------------------------------------
    def _table(self):
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT product_id, COALESCE(lot_id, 0), month, SUM(value), SUM(quantity)
                  FROM stock_lot_valuation_month WHERE company_id = %s
                 GROUP BY 1, 2, 3 HAVING SUM(value) <> 0 OR SUM(quantity) <> 0
                """,
                self.company.id,
            )
        )
        return {row[:3]: (round(float(row[3]), 6), round(float(row[4]), 6)) for row in rows}

    def _layers(self):
        rows = self.env.execute_query(
            SQL(
                """
                SELECT product_id, COALESCE(lot_id, 0), date_trunc('month', create_date)::date, SUM(value),
                       SUM(quantity)
                  FROM stock_valuation_layer WHERE company_id = %s
                 GROUP BY 1, 2, 3 HAVING SUM(value) <> 0 OR SUM(quantity) <> 0
                """,
                self.company.id,
            )
        )
        return {row[:3]: (round(float(row[3]), 6), round(float(row[4]), 6)) for row in rows}

    def _sums(self, instants, **options):
        """``_sql_layer_sums`` at ``instants`` (``options``: its keywords) and the oracle's: ``{key: (value,
        first id) per instant}``."""
        self.env.flush_all()
        Month = self.env["stock.lot.valuation.month"]
        ours = {
            (row[0], row[1], row[2]): tuple(
                (None if row[i] is None else round(float(row[i]), 6), row[i + 1]) for i in range(3, len(row), 2)
            )
            for row in self.env.execute_query(Month._sql_layer_sums(instants, [self.company.id], **options))
        }
        columns = SQL(", ").join(
            SQL(
                "SUM(value) FILTER (WHERE %(cond)s), MIN(id) FILTER (WHERE %(cond)s)",
                cond=SQL("TRUE") if is_now else SQL("create_date <= %s", as_of),
            )
            for as_of, is_now in instants
        )
        oracle = {
            (row[0], row[1], row[2]): tuple(
                (None if row[i] is None else round(float(row[i]), 6), row[i + 1]) for i in range(3, len(row), 2)
            )
            for row in self.env.execute_query(
                SQL(
                    "SELECT company_id, product_id, lot_id, %s FROM stock_valuation_layer WHERE company_id = %s "
                    "GROUP BY 1, 2, 3",
                    columns,
                    self.company.id,
                )
            )
        }
        return ours, oracle

    def _instants(self):
        return [
            (self.last_month.replace(day=20), False),  # past, mid-month
            (self.this_month - timedelta(seconds=1), False),  # last month's last instant
            (self.this_month, False),  # this month's first instant
            (self.now, True),
        ]

    # ------------------------------------------------------------------
    # Cases
    # ------------------------------------------------------------------
    def test_the_sums_are_the_layers_at_every_instant(self):
        layers = self._layers()
        self.assertEqual(self._table(), layers)
        # every kind of key: by lot, by product with and without lot, the landed cost (no quantity)
        self.assertIn((self.by_product.id, 0, self.this_month.date()), layers)
        self.assertIn((self.plain.id, 0, self.last_month.date()), layers)
        ours, oracle = self._sums(self._instants())
        self.assertEqual(ours, oracle)
        # the boundary cases bite: the first instant of this month holds one layer more than the last of
        # last month, which holds one more than mid-month
        plain = ours[(self.company.id, self.plain.id, None)]
        self.assertEqual([value for value, _first in plain], [None, 0.5, 4.5, 24.5])

    def test_read_back_from_the_month_end(self):
        """``nearest_month_end`` (the roll-forward's reads): an instant nearer the end of its month is its
        whole months up to its own minus the layers of its month made after it; the same values, except
        0 where no layer was made yet (a key whose layers came later in the month)."""
        instants = self._instants()
        ours, oracle = self._sums(instants, nearest_month_end=True)
        self.assertEqual(ours.keys(), oracle.keys())
        for key, figures in oracle.items():
            with self.subTest(key=key):
                self.assertEqual([value or 0.0 for value, _first in ours[key]], [value or 0.0 for value, _f in figures])
                # a key with a layer by an instant has a first there
                for (_value, first), (_oracle_value, oracle_first) in zip(ours[key], figures, strict=True):
                    if oracle_first:
                        self.assertTrue(first)
        # the 20th of last month was read back from its end (forward: no layer yet, None)
        plain = ours[(self.company.id, self.plain.id, None)]
        self.assertEqual([value for value, _first in plain], [0.0, 0.5, 4.5, 24.5])
        # the layers after an instant in its month are taken out: the same after correcting one of them
        self.past[3].value += 1.5  # made after the 20th, in its month
        ours, oracle = self._sums(instants, nearest_month_end=True)
        for key, figures in oracle.items():
            with self.subTest(key=key, corrected=True):
                self.assertEqual([value or 0.0 for value, _first in ours[key]], [value or 0.0 for value, _f in figures])

    def test_corrections_and_deletions_follow(self):
        self.past[0].value = 6.25
        self.past[1].write({"quantity": 3, "product_id": self.plain.id})
        self.landed.sudo().unlink()
        self.assertEqual(self._table(), self._layers())
        ours, oracle = self._sums(self._instants())
        # the first layer of a key may have been deleted: its id stays the row's (ids stay unique); a key
        # whose layers up to an instant all went elsewhere keeps rows adding up to nothing there (0 for no layer)
        self.assertEqual(
            {key: [value or 0.0 for value, _first in sums] for key, sums in ours.items()},
            {key: [value or 0.0 for value, _first in sums] for key, sums in oracle.items()},
        )
        # a layer given another lot changes its key, too
        self.past[0].lot_id = self.lots["M-A"]
        self.assertEqual(self._table(), self._layers())

    def test_compaction_and_rebuild_keep_the_sums(self):
        """What the layers' hooks kept (this month's validations and landed cost, corrections) is what
        a rebuild from the layers makes; compaction leaves one row per key and month."""
        Month = self.env["stock.lot.valuation.month"]
        self.past[0].value = 6.25  # two more rows for one key and month
        before = self._table()
        Month._compact(self.this_month.date())
        self.assertEqual(self._table(), before)
        duplicated = self.env.execute_query(
            SQL(
                """
                SELECT COUNT(*) FROM (
                    SELECT 1 FROM stock_lot_valuation_month WHERE month < %s
                     GROUP BY company_id, product_id, lot_id, month HAVING COUNT(*) > 1) split
                """,
                self.this_month.date(),
            )
        )
        self.assertEqual(duplicated, [(0,)])
        Month._rebuild()
        self.assertEqual(self._table(), before)
        ours, oracle = self._sums(self._instants())
        self.assertEqual(ours, oracle)

    def test_the_daily_cron_compacts_every_month(self):
        """The layer sums have a cron of their own: it leaves one row per key and month, this month's
        included, and the same sums."""
        self.past[0].value = 6.25  # more rows for one key and month
        self.env["stock.valuation.layer"].create(  # this month: a second row for the landed cost's key
            {
                "company_id": self.company.id,
                "description": "Month test",
                "product_id": self.by_product.id,
                "quantity": 0,
                "value": 1.25,
            }
        )
        before = self._table()
        split = SQL(
            """
            SELECT COUNT(*) FROM (
                SELECT 1 FROM stock_lot_valuation_month
                 GROUP BY company_id, product_id, lot_id, month HAVING COUNT(*) > 1) split
            """
        )
        self.assertNotEqual(self.env.execute_query(split), [(0,)])
        self.env.ref("lot_margin_control.ir_cron_compact_layer_sums").method_direct_trigger()
        self.assertEqual(self.env.execute_query(split), [(0,)])
        self.assertEqual(self._table(), before)
        self.assertEqual(self._table(), self._layers())

    def test_read_only_and_per_company(self):
        # the layer sums are costs: stock managers (and accountants) read them, nobody writes them
        user = new_test_user(
            self.env, "lmc_month_stock", groups="stock.group_stock_manager", company_id=self.company.id
        )
        main = self.env.ref("base.main_company")
        other = new_test_user(
            self.env, "lmc_month_other", groups="stock.group_stock_manager", company_id=main.id, company_ids=main.ids
        )
        Month = self.env["stock.lot.valuation.month"]
        mine = Month.with_user(user).search([("company_id", "=", self.company.id)])
        self.assertTrue(mine)
        for operation in (
            lambda: Month.with_user(user).create({"month": self.this_month.date(), "company_id": self.company.id,
                                                  "product_id": self.plain.id, "value": 1e9}),
            lambda: mine[:1].write({"value": 1e9}),
            lambda: mine[:1].unlink(),
        ):  # fmt: skip
            with self.assertRaises(AccessError):
                operation()
        other_companies = Month.with_user(other).with_context(allowed_company_ids=other.company_ids.ids)
        self.assertFalse(other_companies.search([("product_id", "=", self.plain.id)]))


@tagged("post_install", "-at_install")
class TestValuationMonthConcurrency(TransactionCase):
    """Two real transactions, as two workers: while one compacts (its transaction open), the other
    validates a receipt of the same product in the same month; it does not wait, and after both
    commit the table still equals the layers."""

    def setUp(self):
        super().setUp()
        tag = uuid.uuid4().hex[:8]
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.product_id = (
                env["product.product"]
                .create({"name": f"LMC Month {tag}", "is_storable": True, "standard_price": 2.0})
                .id
            )
            self.company_id = env.company.id
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self._remove_fixture)

    def _receive(self, env, quantity):
        product = env["product.product"].browse(self.product_id)
        stock = env["stock.warehouse"].search([("company_id", "=", self.company_id)], limit=1).lot_stock_id
        move = env["stock.move"].create(
            {
                "name": product.name,
                "product_id": product.id,
                "product_uom_qty": quantity,
                "location_id": env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": stock.id,
                "quantity": quantity,
                "picked": True,
            }
        )
        move._action_confirm()
        move._action_done()

    def _remove_fixture(self):
        with closing(self.registry.cursor()) as cr:
            # validated moves cannot be deleted through the ORM
            for table in ("stock_valuation_layer", "stock_move_line", "stock_move", "stock_quant"):
                cr.execute(f"DELETE FROM {table} WHERE product_id = %s", [self.product_id])
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["product.product"].browse(self.product_id).product_tmpl_id.unlink()  # its month rows go with it
            cr.commit()  # pylint: disable=invalid-commit

    def _compare(self, cr):
        cr.execute(
            """
            SELECT (SELECT SUM(value) FROM stock_valuation_layer WHERE product_id = %(product)s),
                   (SELECT SUM(value) FROM stock_lot_valuation_month WHERE product_id = %(product)s),
                   (SELECT COUNT(*) FROM stock_lot_valuation_month WHERE product_id = %(product)s)
            """,
            {"product": self.product_id},
        )
        return cr.fetchone()

    def test_compaction_blocks_no_validation(self):
        next_month = (datetime.now().replace(day=1) + timedelta(days=32)).replace(day=1).date()
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self._receive(env, 3)
            self._receive(env, 4)
            cr.commit()  # pylint: disable=invalid-commit
        with closing(self.registry.cursor()) as cr_a, closing(self.registry.cursor()) as cr_b:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_a["stock.lot.valuation.month"]._compact(next_month)  # this month's rows too
            self.assertEqual(self._compare(cr_a)[2], 1)
            cr_b.execute("SET LOCAL lock_timeout = '5s'")
            self._receive(api.Environment(cr_b, SUPERUSER_ID, {}), 5)
            cr_b.commit()  # pylint: disable=invalid-commit
            cr_a.commit()  # pylint: disable=invalid-commit
        with closing(self.registry.cursor()) as cr:
            layers, summed, rows = self._compare(cr)
            self.assertEqual(float(layers), 24.0)
            self.assertEqual(float(summed), float(layers))
            self.assertEqual(rows, 2)  # A's sum of the two rows it saw, and B's row
