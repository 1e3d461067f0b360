from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .test_margin import LotMarginCommon

COST_READERS = "account.group_account_readonly,stock.group_stock_manager"

# Our fields holding a cost or a valuation, by model: accountants and stock managers only.
COST_FIELDS = {
    "stock.lot.margin.report": ["cogs", "write_off_value", "margin", "margin_percent"],
    "stock.lot.markdown.recovery.report": ["writeoff_cost"],
    "stock.lot.valuation.report": ["unit_cost", "value", "markdown_exposure"],
}


@tagged("post_install", "-at_install")
class TestCostAccess(LotMarginCommon):
    """Costs and stock values of the lot reports: accountants and inventory administrators only.

    A plain stock user with Lot Control rights sees what a markdown brought in
    (revenue, recovered value) but not what the goods cost.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Rule = cls.env["stock.lot.markdown.rule"]
        Rule.search([]).write({"active": False})
        Rule.create({"name": "LMC Cost access markdown", "discount": 20, "threshold_days": 10})
        fifo = cls._valuation_category("LMC Cost access FIFO", "fifo", "real_time")
        cls.cost_product = cls._valued_product("LMC Cost Brie", fifo, lot_valuated=True, list_price=10.0)
        cls.cost_lot = cls._lot("COST-BRIE-1", product=cls.cost_product, expires_in_days=5)
        cls._receive(cls.cost_product, [(cls.cost_lot, 10)], 4.0)
        cls._sell(cls.cost_product, 5, 10.0, lot=cls.cost_lot)
        cls.plain_stock_user = new_test_user(cls.env, login="lmc_plain_stock", groups="stock.group_stock_user")

    def _read(self, user, model, fields):
        return self.env[model].with_user(user).search_read([("lot_id", "=", self.cost_lot.id)], fields)

    def test_lot_control_user_reads_no_cost(self):
        for model, fields in COST_FIELDS.items():
            for field in fields:
                with self.subTest(model=model, field=field), self.assertRaises(AccessError):
                    self._read(self.lot_user, model, [field])
        Recovery = self.env["stock.lot.markdown.recovery.report"].with_user(self.lot_user)
        with self.assertRaises(AccessError):
            Recovery._read_group([("lot_id", "=", self.cost_lot.id)], [], ["writeoff_cost:sum"])
        # what the markdown brought in stays theirs
        [row] = self._read(
            self.lot_user, "stock.lot.markdown.recovery.report", ["quantity", "revenue", "recovered_value"]
        )
        self.assertAlmostEqual(row["quantity"], 5.0)
        self.assertAlmostEqual(row["revenue"], 40.0, places=2)  # 5 x 10.00 - 20%
        self.assertAlmostEqual(row["recovered_value"], 40.0, places=2)
        self.assertAlmostEqual(self.cost_lot.with_user(self.lot_user).markdown_recovered_value, 40.0, places=2)
        # and its screens open without the cost column
        views = Recovery.get_views([(False, "pivot"), (False, "list"), (False, "graph")])["views"]
        for view_type, view in views.items():
            with self.subTest(view=view_type):
                self.assertNotIn("writeoff_cost", view["arch"])
                self.assertIn('name="revenue"' if view_type != "graph" else 'name="recovered_value"', view["arch"])

    def test_plain_stock_user_reads_no_report_cost(self):
        for model, fields in COST_FIELDS.items():
            with self.subTest(model=model), self.assertRaises(AccessError):
                self._read(self.plain_stock_user, model, fields)

    def test_accountant_and_stock_manager_read_costs(self):
        for user in (self.accountant, self.stock_manager):
            with self.subTest(user=user.login):
                [margin] = self._read(user, "stock.lot.margin.report", COST_FIELDS["stock.lot.margin.report"])
                self.assertAlmostEqual(margin["cogs"], 20.0, places=2)  # 5 x 4.00
                self.assertAlmostEqual(margin["margin"], 20.0, places=2)  # 40.00 - 20.00
                self.assertAlmostEqual(margin["margin_percent"], 50.0, places=2)
                self.assertAlmostEqual(margin["write_off_value"], 0.0, places=2)
                [recovery] = self._read(user, "stock.lot.markdown.recovery.report", ["writeoff_cost", "revenue"])
                self.assertAlmostEqual(recovery["writeoff_cost"], 20.0, places=2)
                [valuation] = self._read(user, "stock.lot.valuation.report", COST_FIELDS["stock.lot.valuation.report"])
                self.assertAlmostEqual(valuation["unit_cost"], 4.0, places=2)
                self.assertAlmostEqual(valuation["value"], 20.0, places=2)  # 5 left at 4.00
                self.assertAlmostEqual(valuation["markdown_exposure"], 4.0, places=2)  # 20% of 20.00
                Recovery = self.env["stock.lot.markdown.recovery.report"].with_user(user)
                arch = Recovery.get_views([(False, "list")])["views"]["list"]["arch"]
                self.assertIn('name="writeoff_cost"', arch)

    def test_kept_layer_sums_and_movements_are_for_cost_readers(self):
        """The tables the valuation and the roll-forward read by SQL hold layer values: like core's layers,
        only cost readers may read them through the ORM (a stock user could read the layer sums before)."""
        for model in ("stock.lot.valuation.month", "stock.lot.valuation.movement"):
            for user in (self.plain_stock_user, self.lot_user):
                with self.subTest(model=model, user=user.login), self.assertRaises(AccessError):
                    self.env[model].with_user(user).search_read([("product_id", "=", self.cost_product.id)], ["value"])
            for user in (self.accountant, self.stock_manager):
                with self.subTest(model=model, user=user.login):
                    rows = (
                        self.env[model]
                        .with_user(user)
                        .search_read([("product_id", "=", self.cost_product.id)], ["value"])
                    )
                    self.assertTrue(rows)
                    self.assertTrue(any(row["value"] for row in rows))

    def test_cost_fields_are_declared_for_cost_readers(self):
        """Every cost field of the reports carries the groups, so a new access rule cannot expose it."""
        for model, fields in COST_FIELDS.items():
            for field in fields:
                with self.subTest(model=model, field=field):
                    self.assertEqual(self.env[model]._fields[field].groups, COST_READERS)

    def test_odoo_own_lot_costs_stay_as_odoo_ships_them(self):
        """stock_account shows a lot's value, average cost and cost to every stock user: we leave that."""
        lot = self.cost_lot.with_user(self.lot_user)
        self.assertAlmostEqual(lot.total_value, 20.0, places=2)
        self.assertAlmostEqual(lot.avg_cost, 4.0, places=2)
        self.assertAlmostEqual(lot.standard_price, 4.0, places=2)
