from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL

from .valuation_common import ValuationCommon


class LotMarginCommon(ValuationCommon):
    """Sales delivered lot by lot, and the margin report's row of a lot."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Report = cls.env["stock.lot.margin.report"]

    @classmethod
    def _sell(cls, product, quantity, price, discount=None, lot=None, delivered_lots=None, pricelist=None):
        """Confirm a sale of ``quantity`` and deliver it (the lot chosen on the line, or ``delivered_lots``).

        Without ``discount``, the line keeps the discount Odoo gives it (a near-date markdown of the lot).
        """
        order = cls.env["sale.order"].create(
            {
                "partner_id": cls.customer.id,
                **({"pricelist_id": pricelist.id} if pricelist else {}),
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "price_unit": price,
                            **({"discount": discount} if discount is not None else {}),
                            **({"lot_id": lot.id} if lot else {}),
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        if delivered_lots:
            picking.move_ids.move_line_ids.unlink()
            picking.move_ids.move_line_ids = [
                Command.create(
                    {
                        "product_id": product.id,
                        "location_id": picking.location_id.id,
                        "location_dest_id": picking.location_dest_id.id,
                        "lot_id": delivered_lot.id,
                        "quantity": qty,
                    }
                )
                for delivered_lot, qty in delivered_lots
            ]
        picking.move_ids.picked = True
        picking.button_validate()
        if picking.state != "done":
            raise AssertionError(f"{picking.name} was not delivered: {picking.state}")
        return order

    def _margin(self, lot):
        rows = self.Report.search_read([("lot_id", "=", lot.id)])
        self.assertEqual(len(rows), 1, lot.name)
        return rows[0]


@tagged("post_install", "-at_install")
class TestLotMargin(LotMarginCommon):
    """Revenue, cost of goods sold, markdown and write-off of a lot, from real sales and core valuation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fifo = cls._valuation_category("LMC Margin FIFO", "fifo", "real_time")
        cls.lot_product = cls._valued_product("LMC Cheese", fifo, lot_valuated=True, list_price=20.0)
        cls.product_valued = cls._valued_product("LMC Butter", fifo, list_price=30.0)
        cls.lot = cls._lot("CHEESE-L", product=cls.lot_product, expires_in_days=90)
        cls.other_lot = cls._lot("CHEESE-M", product=cls.lot_product, expires_in_days=90)
        cls._receive(cls.lot_product, [(cls.lot, 10)], 8.0)
        cls._receive(cls.lot_product, [(cls.other_lot, 10)], 12.0)

    def test_lot_sold_twice_with_a_markdown_and_a_scrap(self):
        self._sell(self.lot_product, 4, 20.0, lot=self.lot)
        second = self._sell(self.lot_product, 3, 20.0, discount=25.0, lot=self.lot)
        self.assertEqual(second.order_line.discount, 25.0)
        self._scrap(self.lot, 1)
        margin = self._margin(self.lot)
        # revenue 4 x 20 + 3 x 15; markdown 3 x 5; cost 7 x 8 (its own layers); scrap 1 x 8
        self.assertAlmostEqual(margin["delivered_qty"], 7.0)
        self.assertAlmostEqual(margin["revenue"], 125.0, places=2)
        self.assertAlmostEqual(margin["markdown_amount"], 15.0, places=2)
        self.assertAlmostEqual(margin["cogs"], 56.0, places=2)
        self.assertAlmostEqual(margin["write_off_value"], 8.0, places=2)
        self.assertAlmostEqual(margin["margin"], 61.0, places=2)
        self.assertAlmostEqual(margin["margin_percent"], 48.8, places=2)
        self.assertEqual(margin["company_id"][0], self.env.company.id)
        # cost is what core booked for the lot's deliveries
        delivered_layers = self.env["stock.valuation.layer"].search(
            [("lot_id", "=", self.lot.id), ("stock_move_id.location_dest_id.usage", "=", "customer")]
        )
        self.assertAlmostEqual(-sum(delivered_layers.mapped("value")), margin["cogs"], places=2)
        # the other lot was neither sold nor scrapped
        self.assertFalse(self.Report.search([("lot_id", "=", self.other_lot.id)]))

    def test_customer_return_takes_back_revenue_and_cost(self):
        order = self._sell(self.lot_product, 4, 20.0, lot=self.lot)
        self._return(order.picking_ids.move_ids, self.lot, 1)
        margin = self._margin(self.lot)
        self.assertAlmostEqual(margin["delivered_qty"], 3.0)
        self.assertAlmostEqual(margin["revenue"], 60.0, places=2)
        self.assertAlmostEqual(margin["cogs"], 24.0, places=2)
        self.assertAlmostEqual(margin["margin"], 36.0, places=2)

    def test_product_valued_cost_is_shared_by_quantity(self):
        """Without lot valuation, a delivery's cost is shared between its lots by quantity."""
        lot_p = self._lot("BUTTER-P", product=self.product_valued)
        lot_q = self._lot("BUTTER-Q", product=self.product_valued)
        self._receive(self.product_valued, [(lot_p, 5)], 10.0)
        self._receive(self.product_valued, [(lot_q, 5)], 14.0)
        order = self._sell(self.product_valued, 6, 30.0, delivered_lots=[(lot_p, 5), (lot_q, 1)])
        move_cost = -sum(order.picking_ids.move_ids.stock_valuation_layer_ids.mapped("value"))
        self.assertAlmostEqual(move_cost, 64.0)  # FIFO: 5 x 10 + 1 x 14
        margin_p, margin_q = self._margin(lot_p), self._margin(lot_q)
        self.assertAlmostEqual(margin_p["revenue"], 150.0, places=2)
        self.assertAlmostEqual(margin_q["revenue"], 30.0, places=2)
        self.assertAlmostEqual(margin_p["cogs"], 64.0 * 5 / 6, places=2)
        self.assertAlmostEqual(margin_q["cogs"], 64.0 / 6, places=2)
        self.assertAlmostEqual(margin_p["cogs"] + margin_q["cogs"], move_cost, places=2)

    def test_revenue_in_company_currency(self):
        company_currency = self.env.company.currency_id
        foreign = self.env.ref("base.EUR" if company_currency != self.env.ref("base.EUR") else "base.USD")
        foreign.active = True
        self.env["res.currency.rate"].search([("currency_id", "=", foreign.id)]).unlink()
        self.env["res.currency.rate"].create({"currency_id": foreign.id, "rate": 2.0, "name": "2000-01-01"})
        pricelist = self.env["product.pricelist"].create({"name": "LMC Foreign", "currency_id": foreign.id})
        self._sell(self.lot_product, 2, 40.0, lot=self.lot, pricelist=pricelist)
        margin = self._margin(self.lot)
        self.assertAlmostEqual(margin["revenue"], 40.0, places=2)  # 2 x 40 foreign at 2 per company unit
        self.assertEqual(margin["currency_id"][0], company_currency.id)

    def test_lot_pnl_button_for_accountants_only(self):
        action = self.env.ref("lot_margin_control.action_stock_lot_margin_report")
        marker = f'name="{action.id}"'
        for user, visible in ((self.accountant, True), (self.stock_manager, True), (self.lot_user, False)):
            arch = self.env["stock.lot"].with_user(user).get_views([(False, "form")])["views"]["form"]["arch"]
            self.assertEqual(marker in arch, visible, user.login)
        self._sell(self.lot_product, 1, 20.0, lot=self.lot)
        rows = self.Report.with_user(self.accountant).with_context(search_default_lot_id=self.lot.id)
        self.assertEqual(rows.search([("lot_id", "=", self.lot.id)]).lot_id, self.lot)
        with self.assertRaises(AccessError):
            self.Report.with_user(self.lot_user).search([("lot_id", "=", self.lot.id)])


COST_METHODS = ("fifo", "average", "standard")


@tagged("post_install", "-at_install")
class TestLotMarginTieOut(LotMarginCommon):
    """Every money figure of the lot reports against core's valuation layers of the same moves.

    Products are created the ordinary way (``lot_valuated`` never written: Odoo
    leaves the column NULL on lot-tracked products) or valued by lot, under
    FIFO, AVCO and standard cost. Each is received in two lots at two costs,
    sold from both lots in one delivery, partly returned, scrapped and counted
    short. The expected figures are summed here from ``stock.valuation.layer``
    records and move lines through the ORM, not from the reports' SQL.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lots_by_product = {}
        for cost_method in COST_METHODS:
            category = cls._valuation_category(f"LMC Tie-out {cost_method}", cost_method, "real_time")
            ordinary = cls._ordinary_product(f"LMC Crackers {cost_method}", category, standard_price=5.0)
            by_lot = cls._valued_product(f"LMC Olives {cost_method}", category, lot_valuated=True, standard_price=5.0)
            for product in (ordinary, by_lot):
                cls.lots_by_product[product] = cls._sell_return_scrap_and_count(product)

    @classmethod
    def _sell_return_scrap_and_count(cls, product):
        first = cls._lot(f"{product.name} A", product=product)
        second = cls._lot(f"{product.name} B", product=product)
        cls._receive(product, [(first, 6)], 4.0)
        cls._receive(product, [(second, 6)], 6.0)
        order = cls._sell(product, 6, 10.0, delivered_lots=[(first, 4), (second, 2)])
        cls._return(order.picking_ids.move_ids, first, 1)
        cls._scrap(second, 1)
        cls._count(first, 2)  # 6 - 4 + 1 = 3 on hand: one lost
        return first | second

    def _lot_valuated_in_database(self, product):
        """The column as PostgreSQL holds it (the ORM reads NULL as False)."""
        self.env.flush_all()
        [(value,)] = self.env.execute_query(
            SQL("SELECT lot_valuated FROM product_template WHERE id = %s", product.product_tmpl_id.id)
        )
        return value

    def _core_moves(self):
        """The done moves of lot-tracked goods the report costs, chosen through the ORM.

        Sold: customer deliveries and customer returns of sale order lines.
        Written off: from stock to scrap or inventory-loss locations.
        """
        moves = self.env["stock.move"].search([("state", "=", "done"), ("move_line_ids.lot_id", "!=", False)])
        sold = moves.filtered(
            lambda move: (move.sale_line_id or move.origin_returned_move_id.sale_line_id)
            and (move.location_id.usage == "customer") != (move.location_dest_id.usage == "customer")
        )
        written_off = moves.filtered(
            lambda move: move.location_dest_id.usage == "inventory"
            and move.location_id.usage in ("internal", "transit")
        )
        return sold, written_off

    def test_ordinary_product_lot_shows_the_cost_of_its_delivery(self):
        """The issue's case: a lot sold 3 x 10.00 with a -12.00 delivery layer shows COGS 12.00, margin 18.00."""
        category = self._valuation_category("LMC Issue FIFO", "fifo", "real_time")
        product = self._ordinary_product("LMC Crispbread", category)
        self.assertIsNone(self._lot_valuated_in_database(product))
        lot = self._lot("CRISP-1", product=product)
        self._receive(product, [(lot, 5)], 4.0)
        order = self._sell(product, 3, 10.0, lot=lot)
        self.assertAlmostEqual(sum(order.picking_ids.move_ids.stock_valuation_layer_ids.mapped("value")), -12.0)
        margin = self._margin(lot)
        self.assertAlmostEqual(margin["revenue"], 30.0, places=2)
        self.assertAlmostEqual(margin["cogs"], 12.0, places=2)
        self.assertAlmostEqual(margin["margin"], 18.0, places=2)
        self.assertAlmostEqual(margin["margin_percent"], 60.0, places=2)

        self._scrap(lot, 1)
        self.env.invalidate_all()
        margin = self._margin(lot)
        self.assertAlmostEqual(margin["write_off_value"], 4.0, places=2)
        self.assertAlmostEqual(margin["margin"], 14.0, places=2)

    def test_each_cost_method_and_basis_ties_out_to_the_layers(self):
        sold, written_off = self._core_moves()
        for product, lots in self.lots_by_product.items():
            with self.subTest(product=product.name):
                self.assertEqual(self._lot_valuated_in_database(product), True if product.lot_valuated else None)
                rows = self.Report.search_read([("product_id", "=", product.id)])
                self.assertEqual({row["lot_id"][0] for row in rows}, set(lots.ids))
                sold_layers = sold.filtered(lambda move, product=product: move.product_id == product)
                sold_layers = sold_layers.stock_valuation_layer_ids
                lost_layers = written_off.filtered(lambda move, product=product: move.product_id == product)
                lost_layers = lost_layers.stock_valuation_layer_ids
                cogs, write_off = -sum(sold_layers.mapped("value")), -sum(lost_layers.mapped("value"))
                self.assertGreater(cogs, 0)
                self.assertGreater(write_off, 0)
                self.assertAlmostEqual(sum(row["cogs"] for row in rows), cogs, places=2)
                self.assertAlmostEqual(sum(row["write_off_value"] for row in rows), write_off, places=2)
                self.assertAlmostEqual(sum(row["revenue"] for row in rows), 50.0, places=2)  # 6 sold, 1 back
                self.assertAlmostEqual(sum(row["margin"] for row in rows), 50.0 - cogs - write_off, places=2)
                if product.lot_valuated:
                    # valued by lot: each lot carries exactly its own layers
                    for row in rows:
                        lot_cost = -sum(
                            sold_layers.filtered(lambda layer, row=row: layer.lot_id.id == row["lot_id"][0]).mapped(
                                "value"
                            )
                        )
                        lot_loss = -sum(
                            lost_layers.filtered(lambda layer, row=row: layer.lot_id.id == row["lot_id"][0]).mapped(
                                "value"
                            )
                        )
                        self.assertAlmostEqual(row["cogs"], lot_cost, places=2)
                        self.assertAlmostEqual(row["write_off_value"], lot_loss, places=2)

    def test_fifo_figures(self):
        """FIFO by product takes the oldest cost whatever the lot; by lot, each lot's own cost."""
        ordinary, by_lot = list(self.lots_by_product)[:2]
        # by product: the delivery takes 6 x 4.00 = 24.00, shared 4:2 between the lots; the return
        # comes back at 4.00; the scrap (lot B) and the count (lot A) leave at 6.00 each
        first, second = self.lots_by_product[ordinary]
        self.assertAlmostEqual(self._margin(first)["cogs"], 16.0 - 4.0, places=2)
        self.assertAlmostEqual(self._margin(second)["cogs"], 8.0, places=2)
        self.assertAlmostEqual(self._margin(first)["write_off_value"], 6.0, places=2)
        self.assertAlmostEqual(self._margin(second)["write_off_value"], 6.0, places=2)
        # by lot: A 4 x 4.00 less 1 x 4.00 back, B 2 x 6.00; the scrap of B 6.00, the count of A 4.00
        first, second = self.lots_by_product[by_lot]
        self.assertAlmostEqual(self._margin(first)["cogs"], 12.0, places=2)
        self.assertAlmostEqual(self._margin(second)["cogs"], 12.0, places=2)
        self.assertAlmostEqual(self._margin(first)["write_off_value"], 4.0, places=2)
        self.assertAlmostEqual(self._margin(second)["write_off_value"], 6.0, places=2)

    def test_whole_database_ties_out_to_the_layers(self):
        """Summed over every lot of every company, COGS and write-offs are the layers of the same moves."""
        self.env.flush_all()
        [(ordinary_products,)] = self.env.execute_query(
            SQL("SELECT COUNT(*) FROM product_template WHERE tracking = 'lot' AND lot_valuated IS NULL")
        )
        self.assertGreater(ordinary_products, 0)
        [(report_cogs, report_write_off)] = self.Report._read_group([], [], ["cogs:sum", "write_off_value:sum"])
        rows = self.Report.search_read([], ["cogs", "write_off_value"])
        sold, written_off = self._core_moves()
        # every lot-tracked move line of those moves carries a lot: each move counts in full
        self.assertFalse(sold.move_line_ids.filtered(lambda line: not line.lot_id))
        cogs = -sum(sold.stock_valuation_layer_ids.mapped("value"))
        write_off = -sum(written_off.stock_valuation_layer_ids.mapped("value"))
        self.assertGreater(cogs, 0)
        self.assertGreater(write_off, 0)
        self.assertAlmostEqual(report_cogs, cogs, places=2)
        self.assertAlmostEqual(report_write_off, write_off, places=2)
        self.assertAlmostEqual(sum(row["cogs"] for row in rows), cogs, places=2)
        self.assertAlmostEqual(sum(row["write_off_value"] for row in rows), write_off, places=2)

    def test_markdown_recovery_write_off_avoided_is_the_delivery_cost(self):
        """The recovery report's costs are the delivery layers, for ordinary and lot-valued products."""
        Rule = self.env["stock.lot.markdown.rule"]
        Rule.search([]).write({"active": False})
        rule = Rule.create({"name": "LMC Tie-out markdown", "discount": 30, "threshold_days": 10})
        Recovery = self.env["stock.lot.markdown.recovery.report"]
        for product in list(self.lots_by_product)[:2]:
            with self.subTest(product=product.name):
                lot = self._lot(f"{product.name} NEAR", product=product, expires_in_days=5)
                self.assertEqual(lot.markdown_rule_id, rule)
                self._receive(product, [(lot, 4)], 7.0)
                order = self._sell(product, 3, 10.0, lot=lot)
                self.assertEqual(order.order_line.markdown_rule_id, rule)
                delivery_cost = -sum(order.picking_ids.move_ids.stock_valuation_layer_ids.mapped("value"))
                self.assertGreater(delivery_cost, 0)
                rows = Recovery.search_read([("lot_id", "=", lot.id)], ["quantity", "revenue", "writeoff_cost"])
                self.assertAlmostEqual(sum(row["quantity"] for row in rows), 3.0)
                self.assertAlmostEqual(sum(row["revenue"] for row in rows), 21.0, places=2)  # 3 x 10.00 - 30%
                self.assertAlmostEqual(sum(row["writeoff_cost"] for row in rows), delivery_cost, places=2)

    def test_valuation_report_values_every_product_by_its_layers(self):
        Valuation = self.env["stock.lot.valuation.report"]
        for product in self.lots_by_product:
            with self.subTest(product=product.name):
                rows = Valuation.search([("product_id", "=", product.id)])
                self.assertEqual(rows.lot_id, self.lots_by_product[product])
                self.assertEqual(set(rows.mapped("valuation_basis")), {"lot" if product.lot_valuated else "product"})
                self.assertGreater(product.value_svl, 0)
                self.assertAlmostEqual(sum(rows.mapped("value")), product.value_svl, places=2)
