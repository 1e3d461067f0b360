from odoo.tests import tagged

from .common import LotControlCommon


@tagged("post_install", "-at_install")
class TestQuarantineOnReceipt(LotControlCommon):
    """Quarantine-on-receipt products land in quarantine; release moves nothing."""

    def _receive(self, product, lot_name, quantity):
        receipt = self._receipt(product, quantity)
        receipt.move_ids.move_line_ids.write({"lot_name": lot_name, "quantity": quantity, "picked": True})
        receipt.button_validate()
        self.assertEqual(receipt.state, "done")
        return receipt

    def test_warehouse_has_a_quarantine_location_beside_stock_with_a_rule(self):
        self.assertTrue(self.quarantine.lot_quarantine_location)
        self.assertEqual(self.quarantine.usage, "internal")
        # beside WH/Stock, under the warehouse, as core's Input and Quality Control are
        self.assertEqual(self.quarantine.location_id, self.warehouse.view_location_id)
        self.assertFalse(self.quarantine._child_of(self.stock))
        self.assertNotIn(self.quarantine, self.stock.child_ids)
        self.assertEqual(self.quarantine.warehouse_id, self.warehouse)
        self.assertNotIn(self.quarantine, self.env["stock.location"].search([("id", "child_of", self.stock.id)]))
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
        self.assertEqual(second.lot_quarantine_location_id.location_id, second.view_location_id)
        self.assertFalse(second.lot_stock_id.child_ids)  # what core and its tests expect of WH/Stock
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
        # the release itself took the goods back to stock with a done internal transfer
        transfers = self.env["stock.picking"].search(
            [("location_id", "=", self.quarantine.id), ("location_dest_id", "=", self.stock.id)]
        )
        quants = self.env["stock.quant"].search([("lot_id", "=", line.lot_id.id), ("quantity", ">", 0)])
        self.assertEqual(quants.location_id, self.stock, transfers)
        self.assertFalse(self.env["stock.warehouse"]._lot_quarantine_release_to_stock(line.lot_id))
        self.assertEqual(transfers.state, "done")
        self.assertEqual(transfers.location_id, self.quarantine)
        self.assertEqual(transfers.location_dest_id, self.stock)
        quants = self.env["stock.quant"].search([("lot_id", "=", line.lot_id.id), ("quantity", ">", 0)])
        self.assertEqual(quants.location_id, self.stock)
        self.assertEqual(sum(quants.mapped("quantity")), 12)
        delivery.action_assign()
        self.assertEqual(delivery.move_ids.quantity, 5)
        self.assertEqual(delivery.move_ids.move_line_ids.location_id, self.stock)

    def test_deliveries_never_reach_the_quarantine_location_even_for_released_lots(self):
        lot = self._lot("QR-BESIDE")
        self._put_in_stock(lot, 7, location=self.quarantine)
        self.assertEqual(lot.quality_state, "released")
        delivery = self._delivery(self.product, 3)
        delivery.action_assign()
        self.assertEqual(delivery.move_ids.quantity, 0)
        # a quarantined lot is not taken out of quarantine either, and is not moved by a release of others
        held = self._lot("QR-HELD")
        self._put_in_stock(held, 4, location=self.quarantine)
        held.with_user(self.lot_user).action_quality_quarantine("Awaiting results")
        self.env["stock.warehouse"]._lot_quarantine_release_to_stock(lot | held)
        self.assertEqual(
            self.env["stock.quant"]._get_available_quantity(self.product, self.quarantine, lot_id=held, strict=True),
            4,
        )
        self.assertEqual(
            self.env["stock.quant"]._get_available_quantity(self.product, self.stock, lot_id=lot, strict=True), 7
        )

    def test_quarantined_goods_count_as_the_warehouse_stock_and_are_valued(self):
        category = self.env["product.category"].create(
            {
                "name": "LMC Quarantine FIFO",
                "property_cost_method": "fifo",
                "property_valuation": "manual_periodic",
                "lot_quarantine_on_receipt": True,
            }
        )
        product = self.env["product.product"].create(
            {
                "name": "LMC Quarantined Infant Formula",
                "is_storable": True,
                "tracking": "lot",
                "categ_id": category.id,
                "standard_price": 4.0,
            }
        )
        receipt = self._receive(product, "QR-VAL", 12)
        lot = receipt.move_ids.move_line_ids.lot_id
        self.assertEqual(receipt.move_ids.move_line_ids.location_dest_id, self.quarantine)
        self.assertEqual(lot.quality_state, "quarantine")
        # on hand in the warehouse, not in WH/Stock
        self.assertEqual(product.with_context(warehouse_id=self.warehouse.id).qty_available, 12)
        self.assertEqual(product.with_context(location=self.stock.id).qty_available, 0)
        self.assertEqual(product.qty_available, 12)
        # core valuation counts it
        layers = self.env["stock.valuation.layer"].search([("product_id", "=", product.id)])
        self.assertAlmostEqual(sum(layers.mapped("value")), 48.0)
        quant = self.env["stock.quant"].search([("lot_id", "=", lot.id), ("quantity", ">", 0)])
        self.assertEqual(quant.location_id, self.quarantine)
        self.assertAlmostEqual(quant.value, 48.0)
        # so does the valuation by lot, filtered by warehouse as its wizard does
        rows = self.env["stock.lot.valuation.report"].search(
            [("product_id", "=", product.id), ("warehouse_id", "in", self.warehouse.ids)]
        )
        self.assertEqual(rows.location_id, self.quarantine)
        self.assertEqual(rows.lot_id, lot)
        self.assertAlmostEqual(sum(rows.mapped("quantity")), 12)
        self.assertAlmostEqual(sum(rows.mapped("value")), 48.0)

    def test_migration_moves_a_quarantine_location_out_of_stock(self):
        # the 18.0.1.1.0 layout: Quarantine under WH/Stock, a released lot and a quarantined one in it
        self.quarantine.location_id = self.stock
        self.assertTrue(self.quarantine._child_of(self.stock))
        released = self._lot("QR-MIG-R")
        held = self._lot("QR-MIG-Q")
        self._put_in_stock(released, 5, location=self.quarantine)
        self._put_in_stock(held, 3, location=self.quarantine)
        held.with_user(self.lot_user).action_quality_quarantine("Awaiting results")

        moved = self.warehouse._move_lot_quarantine_beside_stock()
        self.assertEqual(moved, self.quarantine)
        self.assertEqual(self.quarantine.location_id, self.warehouse.view_location_id)
        self.assertFalse(self.quarantine._child_of(self.stock))
        quants = self.env["stock.quant"].search([("lot_id", "in", (released | held).ids), ("quantity", ">", 0)])
        self.assertEqual(
            quants.filtered(lambda q: q.lot_id == released).location_id, self.stock
        )  # reservable as before
        self.assertEqual(quants.filtered(lambda q: q.lot_id == held).location_id, self.quarantine)
        # a second run changes nothing
        self.assertFalse(self.warehouse._move_lot_quarantine_beside_stock())

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
