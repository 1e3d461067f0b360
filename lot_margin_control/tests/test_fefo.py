from datetime import datetime, timedelta

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import LotControlCommon


@tagged("post_install", "-at_install")
class TestCustomerShelfLifeTerms(LotControlCommon):
    """FEFO respects each customer's minimum remaining shelf life, and says what it skipped."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.category.removal_strategy_id = cls.env.ref("product_expiry.removal_fefo")
        cls.lot_30 = cls._lot("T-30", expires_in_days=30)
        cls.lot_70 = cls._lot("T-70", expires_in_days=70)
        cls.lot_120 = cls._lot("T-120", expires_in_days=120)
        for lot in (cls.lot_30, cls.lot_70, cls.lot_120):
            cls._put_in_stock(lot, 10)
        cls.strict_customer = cls.env["res.partner"].create(
            {"name": "LMC Hospital", "is_company": True, "min_remaining_shelf_life_days": 60}
        )
        cls.strict_contact = cls.env["res.partner"].create(
            {"name": "Ward 3 buyer", "parent_id": cls.strict_customer.id}
        )

    def _reserved(self, picking):
        picking.action_assign()
        return picking.move_ids.move_line_ids.lot_id

    def test_customer_minimum_beats_plain_fefo(self):
        self.assertEqual(self.strict_contact.min_remaining_shelf_life_days, 60)  # follows its company
        picking = self._delivery(self.product, 10, partner=self.strict_contact)
        self.assertEqual(self._reserved(picking), self.lot_70)
        self.assertEqual(picking.move_ids.quantity, 10)

    def test_customer_without_terms_gets_the_earliest_lot(self):
        picking = self._delivery(self.product, 10)
        self.assertEqual(self._reserved(picking), self.lot_30)

    def test_larger_order_never_falls_back_to_short_dated_lots(self):
        picking = self._delivery(self.product, 25, partner=self.strict_customer)
        self.assertEqual(self._reserved(picking), self.lot_70 | self.lot_120)
        self.assertEqual(picking.move_ids.quantity, 20)
        self.assertEqual(picking.state, "assigned")  # partially available, waiting for the rest
        self.assertNotIn(self.lot_30, picking.move_ids.move_line_ids.lot_id)

    def test_product_minimum_applies_and_the_stricter_one_wins(self):
        self.product.min_remaining_shelf_life_days = 100
        self.assertEqual(self._reserved(self._delivery(self.product, 5)), self.lot_120)
        self.product.min_remaining_shelf_life_days = 20
        self.assertEqual(self._reserved(self._delivery(self.product, 5, partner=self.strict_customer)), self.lot_70)

    def test_terms_count_from_the_scheduled_date(self):
        in_20_days = datetime.now() + timedelta(days=20)  # then the 70-day lot has only 50 days left
        picking = self._delivery(self.product, 5, partner=self.strict_customer, date=in_20_days)
        self.assertEqual(picking.move_ids.date, in_20_days)
        self.assertEqual(self._reserved(picking), self.lot_120)

    def test_waiting_delivery_lists_the_lots_it_skipped_and_why(self):
        self.lot_120._set_quality_state("blocked", "Seal broken")
        demanding = self.env["res.partner"].create({"name": "LMC Export", "min_remaining_shelf_life_days": 90})
        picking = self._delivery(self.product, 5, partner=demanding)
        picking.action_assign()
        self.assertEqual(picking.move_ids.quantity, 0)
        self.assertEqual(picking.state, "confirmed")
        note = picking.lot_gate_skipped_html
        self.assertIn("T-30", note)
        self.assertIn("too short-dated", note)
        self.assertIn("90 required", note)
        self.assertIn("T-120", note)
        self.assertIn("Blocked: Seal broken", note)
        # a reserved picking has nothing to explain
        ready = self._delivery(self.product, 1)
        ready.action_assign()
        self.assertFalse(ready.lot_gate_skipped_html)


@tagged("post_install", "-at_install")
class TestRemovalStrategies(LotControlCommon):
    """FMFO and strict FEFO order quants as documented; lots without the date go last."""

    def _order(self, strategy_xmlid, product, lots):
        self.category.removal_strategy_id = self.env.ref(strategy_xmlid)
        quants = self.env["stock.quant"]._gather(product, self.stock)
        return [quant.lot_id for quant in quants if quant.lot_id in lots]

    def test_fmfo_orders_by_production_date(self):
        now = datetime.now()
        old = self._lot("FM-OLD", production_date=now - timedelta(days=40), expires_in_days=200)
        new = self._lot("FM-NEW", production_date=now - timedelta(days=5), expires_in_days=20)
        undated = self._lot("FM-NONE", expires_in_days=10)
        # received in the opposite order, and FEFO would pick "new" first
        for offset, lot in enumerate((undated, new, old)):
            self._put_in_stock(lot, 5, in_date=now - timedelta(days=10 - offset))
        ordered = self._order("lot_margin_control.removal_fmfo", self.product, old | new | undated)
        self.assertEqual(ordered, [old, new, undated])
        picking = self._delivery(self.product, 5)
        picking.action_assign()
        self.assertEqual(picking.move_ids.move_line_ids.lot_id, old)

    def test_fefo_strict_ignores_removal_dates(self):
        now = datetime.now()
        early = self._lot("FS-EARLY", expires_in_days=20)
        late = self._lot("FS-LATE", expires_in_days=40)
        undated = self._lot("FS-NONE", product=self.product, expires_in_days=None)
        undated.expiration_date = False
        # removal dates say the opposite of expiration dates
        early.removal_date = now + timedelta(days=19)
        late.removal_date = now + timedelta(days=2)
        for lot in (undated, late, early):
            self._put_in_stock(lot, 5)
        lots = early | late | undated
        strict = self._order("lot_margin_control.removal_fefo_strict", self.product, lots)
        self.assertEqual(strict, [early, late, undated])
        self.assertEqual(self._order("product_expiry.removal_fefo", self.product, lots)[:2], [late, early])

    def test_ties_break_on_receipt_date_then_quant(self):
        now = datetime.now()
        expiry = now + timedelta(days=50)
        first = self._lot("FS-TIE-1", expiration_date=expiry, expires_in_days=None)
        second = self._lot("FS-TIE-2", expiration_date=expiry, expires_in_days=None)
        self._put_in_stock(second, 1, in_date=now - timedelta(days=1))
        self._put_in_stock(first, 1, in_date=now - timedelta(days=3))
        self.assertEqual(
            self._order("lot_margin_control.removal_fefo_strict", self.product, first | second), [first, second]
        )

    def test_serial_numbers_follow_the_strategy(self):
        now = datetime.now()
        serials = [
            self._lot(f"SN-FM-{i}", product=self.serial_product, production_date=now - timedelta(days=i * 10))
            for i in range(1, 4)
        ]
        for serial in serials:
            self._put_in_stock(serial, 1)
        all_serials = self.env["stock.lot"].union(*serials)
        ordered = self._order("lot_margin_control.removal_fmfo", self.serial_product, all_serials)
        self.assertEqual(ordered, list(reversed(serials)))
        picking = self._delivery(self.serial_product, 2)
        picking.action_assign()
        self.assertEqual(set(picking.move_ids.move_line_ids.lot_id), {serials[2], serials[1]})


@tagged("post_install", "-at_install")
class TestFefoCompliance(LotControlCommon):
    """Each validated customer line records once whether an earlier eligible lot was left behind."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.category.removal_strategy_id = cls.env.ref("product_expiry.removal_fefo")
        cls.early = cls._lot("C-EARLY", expires_in_days=20)
        cls.late = cls._lot("C-LATE", expires_in_days=80)
        cls._put_in_stock(cls.early, 10)
        cls._put_in_stock(cls.late, 10)

    def _ship(self, picking):
        picking.move_ids.picked = True
        picking._action_done()
        self.assertEqual(picking.state, "done")
        return picking.move_ids.move_line_ids

    def test_normal_fefo_pick_is_compliant(self):
        picking = self._delivery(self.product, 4)
        picking.action_assign()
        line = self._ship(picking)
        self.assertEqual(line.lot_id, self.early)
        self.assertTrue(line.fefo_checked)
        self.assertTrue(line.fefo_compliant)
        self.assertEqual(line.fefo_compliance_rate, 100.0)
        self.assertEqual(line.fefo_warehouse_id, self.warehouse)

    def test_manual_override_to_a_later_lot_is_not_compliant_and_stays_so(self):
        picking = self._delivery(self.product, 4)
        picking.action_assign()
        picking.move_ids.move_line_ids.lot_id = self.late
        line = self._ship(picking)
        self.assertEqual(line.lot_id, self.late)
        self.assertFalse(line.fefo_compliant)
        self.assertEqual(line.fefo_earlier_lot_id, self.early)
        self.assertEqual(line.fefo_user_id, self.env.user)
        # later events do not rewrite history
        scrap = self.env["stock.scrap"].create(
            {"product_id": self.product.id, "lot_id": self.early.id, "scrap_qty": 10, "location_id": self.stock.id}
        )
        scrap.action_validate()
        self.assertFalse(line.fefo_compliant)
        self.assertEqual(line.fefo_earlier_lot_id, self.early)

    def test_later_lot_is_compliant_when_the_earlier_one_was_not_eligible(self):
        strict = self.env["res.partner"].create({"name": "LMC Strict", "min_remaining_shelf_life_days": 60})
        picking = self._delivery(self.product, 4, partner=strict)
        picking.action_assign()
        line = self._ship(picking)
        self.assertEqual(line.lot_id, self.late)
        self.assertTrue(line.fefo_compliant)

    def test_compliance_rate_in_the_report(self):
        good = self._delivery(self.product, 1)
        good.action_assign()
        self._ship(good)
        bad = self._delivery(self.product, 1)
        bad.action_assign()
        bad.move_ids.move_line_ids.lot_id = self.late
        self._ship(bad)
        action = self.env.ref("lot_margin_control.action_fefo_compliance")
        domain = [*safe_eval(action.domain), ("picking_id", "in", (good | bad).ids)]
        groups = self.env["stock.move.line"]._read_group(domain, [], ["fefo_compliance_rate:avg", "__count"])
        self.assertEqual(groups, [(50.0, 2)])


@tagged("post_install", "-at_install")
class TestNearExpiryPutaway(LotControlCommon):
    """A putaway rule can send near-expiry lots to a clearance zone."""

    def test_near_expiry_lot_goes_to_the_clearance_zone(self):
        clearance = self.env["stock.location"].create(
            {"name": "Clearance", "usage": "internal", "location_id": self.stock.id}
        )
        shelf = self.env["stock.location"].create(
            {"name": "Shelf A", "usage": "internal", "location_id": self.stock.id}
        )
        self.env["stock.putaway.rule"].create(
            {
                "location_in_id": self.stock.id,
                "location_out_id": shelf.id,
                "category_id": self.category.id,
                "near_expiry_location_out_id": clearance.id,
            }
        )
        near = self._lot("PA-NEAR", expires_in_days=3)  # alert_time 7: near expiry already
        fresh = self._lot("PA-FRESH", expires_in_days=90)
        self.assertEqual(near.shelf_life_state, "near_expiry")
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.in_type_id.id,
                "location_id": self.suppliers.id,
                "location_dest_id": self.stock.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "in",
                            "product_id": self.product.id,
                            "product_uom_qty": 6,
                            "location_id": self.suppliers.id,
                            "location_dest_id": self.stock.id,
                        },
                    ),
                ],
            }
        )
        receipt.action_confirm()
        line = receipt.move_ids.move_line_ids
        self.assertEqual(line.location_dest_id, shelf)
        line.write({"lot_id": near.id, "quantity": 3})
        self.assertEqual(line.location_dest_id, clearance)
        other = line.copy({"lot_id": fresh.id, "quantity": 3, "location_dest_id": shelf.id})
        other.lot_id = fresh
        self.assertEqual(other.location_dest_id, shelf)
