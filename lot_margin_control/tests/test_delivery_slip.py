from odoo.tests import tagged

from .test_recall import RecallCommon


@tagged("post_install", "-at_install")
class TestDeliverySlipTraceabilityLotCode(RecallCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendor.write({"street": "1 Dairy Road", "city": "Lyon"})
        cls._build_life_of_lot()

    def _slip(self, picking):
        html = self.env["ir.actions.report"]._render_qweb_html("stock.report_deliveryslip", picking.ids)[0]
        return html.decode()

    def test_slip_prints_each_lot_line_code_source_and_quantity(self):
        own = self._lot("RC-OWN")
        self._done_move(self.product, own, 8, self.suppliers, self.stock, self.vendor, self.warehouse.in_type_id)
        delivery = self._done_move(
            self.product, self.lot_a, 4, self.shelf, self.customers, self.customer_1, self.warehouse.out_type_id
        ).picking_id
        html = self._slip(delivery)
        self.assertIn("Traceability Lot Codes", html)
        self.assertIn("VEND-9", html)  # the vendor's code is the traceability lot code
        self.assertIn("LMC Vendor, 1 Dairy Road, Lyon", html)
        self.assertIn("4.00", html)
        # a lot the company named at receipt: the code is its name, the source the receiving warehouse
        second = self._done_move(
            self.product, own, 2, self.stock, self.customers, self.customer_2, self.warehouse.out_type_id
        ).picking_id
        html = self._slip(second)
        self.assertIn("RC-OWN", html)
        site = self.env.company.name
        if self.warehouse.name != site:
            site = f"{site} - {self.warehouse.name}"
        self.assertIn(f"{site}, ", html)

    def test_typed_source_is_printed(self):
        self.lot_b1.traceability_lot_code_source = "Cup Packers Ltd, 5 Pack Lane, Leeds"
        delivery = self._done_move(
            self.cups, self.lot_b1, 1, self.stock, self.customers, self.customer_2, self.warehouse.out_type_id
        ).picking_id
        self.assertIn("Cup Packers Ltd, 5 Pack Lane, Leeds", self._slip(delivery))

    def test_sources_of_many_lots_in_one_query(self):
        lots = self.lot_a | self.lot_b1 | self.lot_b2
        self.env.invalidate_all()
        with self.assertQueryCount(1):
            sources = lots._get_traceability_lot_code_sources()
        self.assertEqual(set(sources), set(lots.ids))
