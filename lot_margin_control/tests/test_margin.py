from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .valuation_common import ValuationCommon


@tagged("post_install", "-at_install")
class TestLotMargin(ValuationCommon):
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
        cls.Report = cls.env["stock.lot.margin.report"]

    def _sell(self, product, quantity, price, discount=0.0, lot=None, delivered_lots=None, pricelist=None):
        """Confirm a sale of ``quantity`` and deliver it (the lot chosen on the line, or ``delivered_lots``)."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                **({"pricelist_id": pricelist.id} if pricelist else {}),
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "price_unit": price,
                            "discount": discount,
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
        self.assertEqual(picking.state, "done")
        return order

    def _margin(self, lot):
        rows = self.Report.search_read([("lot_id", "=", lot.id)])
        self.assertEqual(len(rows), 1, lot.name)
        return rows[0]

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
