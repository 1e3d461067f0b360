from odoo.tests import tagged

from .common import LotControlCommon


@tagged("post_install", "-at_install")
class TestQuarantineOnReceipt(LotControlCommon):
    """Quarantine-on-receipt products land in quarantine; release moves nothing."""

    def _receive(self, product, lot_name, quantity):
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.in_type_id.id,
                "partner_id": self.vendor.id,
                "location_id": self.suppliers.id,
                "location_dest_id": self.stock.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "location_id": self.suppliers.id,
                            "location_dest_id": self.stock.id,
                        },
                    )
                ],
            }
        )
        receipt.action_confirm()
        receipt.move_ids.move_line_ids.write({"lot_name": lot_name, "quantity": quantity, "picked": True})
        receipt.button_validate()
        self.assertEqual(receipt.state, "done")
        return receipt

    def test_warehouse_has_a_quarantine_location_under_stock_with_a_rule(self):
        self.assertTrue(self.quarantine.lot_quarantine_location)
        self.assertEqual(self.quarantine.location_id, self.stock)
        rule = self.stock.putaway_rule_ids.filtered("lot_quarantine")
        self.assertEqual(rule.location_out_id, self.quarantine)

    def test_quarantine_location_appears_when_quarantine_is_first_used(self):
        # No product asks for quarantine: a new warehouse keeps core's locations only.
        self.env["product.template"].search(
            [("lot_quarantine_on_receipt", "=", True)]
        ).lot_quarantine_on_receipt = False
        self.env["product.category"].search(
            [("lot_quarantine_on_receipt", "=", True)]
        ).lot_quarantine_on_receipt = False
        second = self.env["stock.warehouse"].create({"name": "LMC Second", "code": "LMC2"})
        self.assertFalse(second.lot_quarantine_location_id)
        self.assertFalse(second.lot_stock_id.child_ids)
        self.category.lot_quarantine_on_receipt = True
        self.assertEqual(second.lot_quarantine_location_id.location_id, second.lot_stock_id)
        self.assertTrue(second.lot_stock_id.putaway_rule_ids.filtered("lot_quarantine"))
        third = self.env["stock.warehouse"].create({"name": "LMC Third", "code": "LMC3"})
        self.assertTrue(third.lot_quarantine_location_id)

    def test_receipt_lands_in_quarantine_and_release_allows_reservation(self):
        self.product.lot_quarantine_on_receipt = True
        receipt = self._receive(self.product, "QR-001", 12)
        line = receipt.move_ids.move_line_ids
        self.assertEqual(line.location_dest_id, self.quarantine)
        self.assertEqual(line.lot_id.quality_state, "quarantine")
        delivery = self._delivery(self.product, 5)
        delivery.action_assign()
        self.assertEqual(delivery.move_ids.quantity, 0)
        self.assertEqual(delivery.state, "confirmed")

        line.lot_id.with_user(self.quality_manager).action_quality_release()
        quants = self.env["stock.quant"].search([("lot_id", "=", line.lot_id.id), ("quantity", ">", 0)])
        self.assertEqual(quants.location_id, self.quarantine)  # release moves nothing
        delivery.action_assign()
        self.assertEqual(delivery.move_ids.quantity, 5)
        self.assertEqual(delivery.move_ids.move_line_ids.location_id, self.quarantine)

    def test_products_without_the_flag_follow_normal_putaway(self):
        receipt = self._receive(self.product, "QR-NORMAL", 4)
        line = receipt.move_ids.move_line_ids
        self.assertEqual(line.location_dest_id, self.stock)
        self.assertEqual(line.lot_id.quality_state, "released")

    def test_category_flag_quarantines_an_already_released_lot_received_again(self):
        lot = self._lot("QR-AGAIN")
        self.category.lot_quarantine_on_receipt = True
        self.assertEqual(lot.quality_state, "released")
        receipt = self._receive(self.product, "QR-AGAIN", 3)
        self.assertEqual(receipt.move_ids.move_line_ids.lot_id, lot)
        self.assertEqual(lot.quality_state, "quarantine")
