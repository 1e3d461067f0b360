from datetime import datetime, timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import LotControlCommon


@tagged("post_install", "-at_install")
class TestLotGate(LotControlCommon):
    """Lots that are not released, or expired for customers, never leave by the wrong door."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.blocked_lot = cls._lot("G-BLOCKED", expires_in_days=20)
        cls.released_lot = cls._lot("G-RELEASED", expires_in_days=90)
        # The blocked lot comes first for every strategy: oldest, soonest to expire, and
        # in FIFO/LIFO/closest tests the only one with enough quantity.
        cls._put_in_stock(cls.blocked_lot, 10, in_date=datetime.now() - timedelta(days=30))
        cls._put_in_stock(cls.released_lot, 3)
        cls.blocked_lot._set_quality_state("blocked", "Lab failure")

    def _reserved_lots(self, picking):
        return picking.move_ids.move_line_ids.lot_id

    def test_no_removal_strategy_reserves_a_blocked_lot(self):
        strategies = ["stock.removal_fifo", "stock.removal_lifo", "stock.removal_closest"]
        strategies += ["stock.removal_least_packages", "product_expiry.removal_fefo"]
        for xmlid in strategies:
            with self.subTest(strategy=xmlid):
                self.category.removal_strategy_id = self.env.ref(xmlid)
                picking = self._delivery(self.product, 5)
                picking.action_assign()
                self.assertEqual(self._reserved_lots(picking), self.released_lot)
                self.assertEqual(picking.move_ids.quantity, 3)
                picking.do_unreserve()

    def test_typing_a_blocked_lot_on_a_delivery_is_refused(self):
        picking = self._delivery(self.product, 2)
        lines_before = self.env["stock.move.line"].search_count([])
        with self.assertRaises(UserError) as refused:
            self.env["stock.move.line"].create(
                {
                    "move_id": picking.move_ids.id,
                    "picking_id": picking.id,
                    "product_id": self.product.id,
                    "lot_id": self.blocked_lot.id,
                    "quantity": 2,
                    "location_id": self.stock.id,
                    "location_dest_id": self.customers.id,
                }
            )
        self.assertRegex(str(refused.exception), "G-BLOCKED.*Blocked: Lab failure")
        self.assertEqual(self.env["stock.move.line"].search_count([]), lines_before)
        picking.action_assign()
        line = picking.move_ids.move_line_ids
        with self.assertRaises(UserError):
            line.lot_id = self.blocked_lot
        self.assertEqual(line.lot_id, self.released_lot)

    def test_blocked_serial_number_is_neither_reserved_nor_accepted(self):
        good, bad = self._lot("SN-GOOD", self.serial_product), self._lot("SN-BAD", self.serial_product)
        self._put_in_stock(bad, 1, in_date=datetime.now() - timedelta(days=3))
        self._put_in_stock(good, 1)
        bad._set_quality_state("blocked", "Failed calibration")
        picking = self._delivery(self.serial_product, 2)
        picking.action_assign()
        self.assertEqual(self._reserved_lots(picking), good)
        with self.assertRaises(UserError):
            picking.move_ids.move_line_ids.lot_id = bad

    def test_scrap_and_quarantine_transfer_take_a_blocked_lot(self):
        scrap = self.env["stock.scrap"].create(
            {
                "product_id": self.product.id,
                "lot_id": self.blocked_lot.id,
                "scrap_qty": 4,
                "location_id": self.stock.id,
            }
        )
        scrap.action_validate()
        self.assertEqual(scrap.state, "done")
        transfer = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.int_type_id.id,
                "location_id": self.stock.id,
                "location_dest_id": self.quarantine.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "to quarantine",
                            "product_id": self.product.id,
                            "product_uom_qty": 6,
                            "location_id": self.stock.id,
                            "location_dest_id": self.quarantine.id,
                            "restrict_lot_id": self.blocked_lot.id,
                        },
                    )
                ],
            }
        )
        transfer.action_confirm()
        transfer.action_assign()
        self.assertEqual(self._reserved_lots(transfer), self.blocked_lot)
        transfer.button_validate()
        self.assertEqual(transfer.state, "done")
        quant = self.env["stock.quant"]._gather(self.product, self.quarantine, lot_id=self.blocked_lot, strict=True)
        self.assertEqual(quant.quantity, 6)

    def test_return_to_vendor_takes_a_blocked_lot(self):
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.out_type_id.id,
                "partner_id": self.vendor.id,
                "location_id": self.stock.id,
                "location_dest_id": self.suppliers.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "back to vendor",
                            "product_id": self.product.id,
                            "product_uom_qty": 10,
                            "location_id": self.stock.id,
                            "location_dest_id": self.suppliers.id,
                            "restrict_lot_id": self.blocked_lot.id,
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        self.assertEqual(self._reserved_lots(picking), self.blocked_lot)
        self.assertEqual(picking.move_ids.quantity, 10)

    def test_expired_lot_is_never_reserved_nor_typed_for_a_customer(self):
        expired = self._lot("G-EXPIRED", expires_in_days=-2)
        self._put_in_stock(expired, 50, in_date=datetime.now() - timedelta(days=60))
        picking = self._delivery(self.product, 5)
        picking.action_assign()
        self.assertNotIn(expired, self._reserved_lots(picking))
        with self.assertRaises(UserError) as refused:
            picking.move_ids.move_line_ids[:1].lot_id = expired
        self.assertRegex(str(refused.exception), "G-EXPIRED.*expired")
        self.assertNotIn(expired, self._reserved_lots(picking))

    def test_blocking_a_reserved_lot_unreserves_it_and_the_picking_says_why(self):
        other = self._lot("G-OTHER", expires_in_days=120)
        self._put_in_stock(other, 5)
        picking = self._delivery(self.product, 3)
        picking.action_assign()
        self.assertEqual(self._reserved_lots(picking), self.released_lot)
        self.released_lot.with_user(self.quality_manager).action_quality_block(reason="Foreign body found")
        self.assertEqual(self._reserved_lots(picking), other)
        self.assertEqual(picking.move_ids.quantity, 3)
        self.assertIn("Foreign body found", picking.message_ids[:1].body)
        self.assertIn("G-RELEASED", picking.message_ids[:1].body)
