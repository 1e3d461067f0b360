from datetime import datetime, timedelta

from odoo.tests import HttpCase, new_test_user, tagged

from .tour_screenshot import last_screen_saved_as

SCREENSHOT_NAME = "lot_scan_phone.png"


@tagged("post_install", "-at_install", "is_tour")
class TestLotScanTour(HttpCase):
    """A stock user scans a three-lot delivery on a phone-sized screen (390 x 844, touch).

    The camera cannot run headless: the tour replaces the web client's
    ``scanBarcode`` by a stub returning a code, so the dialog's camera path runs
    and the server side is real. The last screen is saved as a PNG into the
    folder named by ``LMC_SCREENSHOT_DIR`` when set (the README's picture), else
    into a temporary folder.
    """

    browser_size = "390x844"
    touch_enabled = True

    def _make_delivery(self):
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)
        customers = self.env.ref("stock.stock_location_customers")
        in_a_year = datetime.now() + timedelta(days=365)
        moves = []
        self.lots = {}
        for name, lots in (
            ("Yogurt", ("TOUR-YOGURT", "TOUR-BLOCKED")),
            ("Cheese", ("TOUR-CHEESE",)),
            ("Milk", ("TOUR-MILK-1", "TOUR-MILK-2")),
        ):
            product = self.env["product.product"].create(
                {"name": f"LMC Tour {name}", "is_storable": True, "tracking": "lot", "use_expiration_date": True}
            )
            for index, lot_name in enumerate(lots):
                lot = self.env["stock.lot"].create(
                    {
                        "name": lot_name,
                        "product_id": product.id,
                        "expiration_date": in_a_year + timedelta(days=30 * index),
                    }
                )
                self.env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 10, lot_id=lot)
                self.lots[lot_name] = lot
            moves.append(
                (
                    0,
                    0,
                    {
                        "name": product.name,
                        "product_id": product.id,
                        "product_uom_qty": 4,
                        "product_uom": product.uom_id.id,
                        "location_id": warehouse.lot_stock_id.id,
                        "location_dest_id": customers.id,
                    },
                )
            )
        self.lots["TOUR-BLOCKED"].write({"quality_state": "blocked", "quality_state_reason": "Foreign body found"})
        delivery = self.env["stock.picking"].create(
            {
                "picking_type_id": warehouse.out_type_id.id,
                "partner_id": self.env["res.partner"].create({"name": "LMC Tour Customer"}).id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": customers.id,
                "move_ids": moves,
            }
        )
        delivery.action_confirm()
        return delivery

    def test_scan_a_delivery_on_a_phone(self):
        user = new_test_user(
            self.env, login="lmc_tour_picker", groups="stock.group_stock_user,stock.group_production_lot"
        )
        delivery = self._make_delivery()
        self.assertEqual(
            sorted(delivery.move_line_ids.lot_id.mapped("name")), ["TOUR-CHEESE", "TOUR-MILK-1", "TOUR-YOGURT"]
        )
        with last_screen_saved_as(SCREENSHOT_NAME) as path:
            self.start_tour(
                f"/odoo/action-stock.action_picking_tree_all/{delivery.id}",
                "lot_margin_control_lot_scan_tour",
                login=user.login,
            )
        self.assertTrue(path.read_bytes().startswith(b"\x89PNG"), path)
        self.assertEqual(
            sorted(delivery.move_line_ids.lot_id.mapped("name")), ["TOUR-CHEESE", "TOUR-MILK-2", "TOUR-YOGURT"]
        )
        self.assertTrue(all(delivery.move_line_ids.mapped("lot_scanned")))
        scans = self.env["stock.lot.scan"].search([("picking_id", "=", delivery.id)], order="id")
        self.assertEqual(scans.mapped("result"), ["refused", "confirmed", "confirmed", "switched"])
        self.assertEqual(scans.user_id, user)

    def test_validate_from_the_scan_dialog(self):
        user = new_test_user(
            self.env, login="lmc_tour_shipper", groups="stock.group_stock_user,stock.group_production_lot"
        )
        delivery = self._make_delivery()
        self.start_tour(
            f"/odoo/action-stock.action_picking_tree_all/{delivery.id}",
            "lot_margin_control_lot_scan_validate_tour",
            login=user.login,
        )
        delivery.invalidate_recordset()
        self.assertEqual(delivery.state, "done")
        self.assertTrue(all(delivery.move_line_ids.mapped("lot_scanned")))
