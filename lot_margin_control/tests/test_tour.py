from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install", "is_tour")
class TestLotControlTour(HttpCase):
    """A real browser walks Inventory > Lot Control > Lots and edits a lot."""

    def test_smoke_tour_edits_a_lot(self):
        product = self.env["product.product"].create(
            {"name": "LMC Tour Product", "is_storable": True, "tracking": "lot"}
        )
        lot = self.env["stock.lot"].create({"name": "LMC-TOUR-LOT", "product_id": product.id})
        self.start_tour("/odoo", "lot_margin_control_smoke_tour", login="admin")
        # Only a tour that really ran in the browser can have written this.
        self.assertEqual(lot.supplier_lot_name, "SUP-TOUR-42")
