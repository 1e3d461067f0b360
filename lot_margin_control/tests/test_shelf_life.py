from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import NOW, LotControlCommon


@tagged("post_install", "-at_install")
class TestShelfLife(LotControlCommon):
    """Shelf-life states, days and ratio left, date checks, the daily refresh and its alerts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.no_expiry_product = cls.env["product.product"].create(
            {"name": "LMC Salt", "is_storable": True, "tracking": "lot", "categ_id": cls.category.id}
        )

    def _lot_at(self, name, expires_in, alert_in=None, no_alert=False, product=None, **values):
        """A lot created at NOW expiring ``expires_in`` days later (alert per product unless given)."""
        vals = {"expiration_date": NOW + timedelta(days=expires_in), **values}
        lot = self._lot(name, product=product, **vals)
        if alert_in is not None:
            lot.alert_date = NOW + timedelta(days=alert_in)
        if no_alert:
            lot.alert_date = False
        return lot

    def test_states_at_a_fixed_now(self):
        with freeze_time(NOW):
            no_expiry = self._lot("SL-NONE", product=self.no_expiry_product, expires_in_days=None)
            expired = self._lot_at("SL-EXPIRED", -1)
            expiring_now = self._lot_at("SL-NOW", 0)
            alert_passed = self._lot_at("SL-ALERT-PASSED", 20, alert_in=-1)
            alert_ahead = self._lot_at("SL-ALERT-AHEAD", 20, alert_in=2)
            by_product_alert_time = self._lot_at("SL-PRODUCT-ALERT", 5)  # alert_time 7 days
            self.assertEqual(no_expiry.shelf_life_state, "no_expiry")
            self.assertEqual(expired.shelf_life_state, "expired")
            self.assertEqual(expiring_now.shelf_life_state, "expired")
            self.assertEqual(alert_passed.shelf_life_state, "near_expiry")
            self.assertEqual(alert_ahead.shelf_life_state, "fresh")
            self.assertEqual(by_product_alert_time.shelf_life_state, "near_expiry")

    def test_threshold_from_product_then_category_without_alert_date(self):
        with freeze_time(NOW):
            self.category.lot_near_expiry_days = 15
            inside_category = self._lot_at("SL-CAT-IN", 10, no_alert=True)
            outside_category = self._lot_at("SL-CAT-OUT", 20, no_alert=True)
            self.assertEqual(inside_category.shelf_life_state, "near_expiry")
            self.assertEqual(outside_category.shelf_life_state, "fresh")
            # the product's own threshold wins over its category's
            self.product.lot_near_expiry_days = 25
            self.assertEqual(outside_category.shelf_life_state, "near_expiry")
            self.product.lot_near_expiry_days = 5
            self.assertEqual(inside_category.shelf_life_state, "fresh")

    def test_date_write_updates_state_at_once(self):
        with freeze_time(NOW):
            lot = self._lot_at("SL-WRITE", 40)
            self.assertEqual(lot.shelf_life_state, "fresh")
            alert_date = lot.alert_date
            lot.expiration_date = NOW - timedelta(hours=1)
            self.assertEqual(lot.shelf_life_state, "expired")
            # best before, removal and alert dates moved with it, as in the form
            self.assertEqual(lot.alert_date, alert_date - timedelta(days=40, hours=1))

    def test_cron_gives_the_same_states_as_the_compute(self):
        with freeze_time(NOW):
            self.category.lot_near_expiry_days = 45
            lots = (
                self._lot("SL-C-NONE", product=self.no_expiry_product, expires_in_days=None)
                | self._lot_at("SL-C-PAST", -10)
                | self._lot_at("SL-C-SOON", 3)
                | self._lot_at("SL-C-ALERT", 25, alert_in=12)
                | self._lot_at("SL-C-FAR", 200)
                | self._lot_at("SL-C-THRESHOLD", 40, no_alert=True)
            )
        later = NOW + timedelta(days=14)
        changed = self.env["stock.lot"]._refresh_shelf_life_state(now=later)
        for lot in lots:
            self.assertEqual(lot.shelf_life_state, lot._get_shelf_life_state(later), lot.name)
        self.assertEqual(
            lots.mapped("shelf_life_state"), ["no_expiry", "expired", "expired", "near_expiry", "fresh", "near_expiry"]
        )
        self.assertIn(lots.filtered(lambda lot: lot.name == "SL-C-SOON").id, changed["expired"])
        # A second run at the same instant changes nothing.
        self.assertFalse(
            {lot_id for ids in self.env["stock.lot"]._refresh_shelf_life_state(now=later).values() for lot_id in ids}
            & set(lots.ids)
        )

    def test_refresh_query_count_does_not_grow_with_lots(self):
        def lots(count, prefix):
            return self.env["stock.lot"].create(
                [
                    {"name": f"{prefix}{i}", "product_id": self.product.id, "expiration_date": NOW + timedelta(days=i)}
                    for i in range(count)
                ]
            )

        def refresh_queries(now):
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            self.env["stock.lot"]._refresh_shelf_life_state(now=now)
            return self.env.cr.sql_log_count - before

        few = lots(3, "SL-Q")
        few_queries = refresh_queries(NOW + timedelta(days=100))  # all expire
        many = lots(60, "SL-QQ")
        many_queries = refresh_queries(NOW + timedelta(days=100))
        self.assertEqual(set((few | many).mapped("shelf_life_state")), {"expired"})
        self.assertEqual(few_queries, many_queries)

    def test_remaining_days_and_ratio_compute_and_search(self):
        with freeze_time(NOW):
            lot = self._lot_at("SL-RATIO", 30, production_date=NOW - timedelta(days=90))
            expired = self._lot_at("SL-RATIO-OLD", -2, production_date=NOW - timedelta(days=50))
            self.assertEqual(lot.remaining_shelf_life_days, 30)
            self.assertAlmostEqual(lot.remaining_shelf_life_ratio, 0.25, places=4)
            self.assertEqual(expired.remaining_shelf_life_days, -2)
            self.assertEqual(expired.remaining_shelf_life_ratio, 0.0)
            Lot = self.env["stock.lot"]
            mine = lot | expired
            self.assertEqual(Lot.search([("id", "in", mine.ids), ("remaining_shelf_life_days", ">=", 30)]), lot)
            self.assertEqual(Lot.search([("id", "in", mine.ids), ("remaining_shelf_life_days", ">", 30)]), Lot)
            self.assertEqual(Lot.search([("id", "in", mine.ids), ("remaining_shelf_life_days", "<", 0)]), expired)
            self.assertEqual(Lot.search([("id", "in", mine.ids), ("remaining_shelf_life_days", "=", 30)]), lot)
            self.assertEqual(Lot.search([("id", "in", mine.ids), ("remaining_shelf_life_ratio", "<=", 0.3)]), mine)
            self.assertEqual(Lot.search([("id", "in", mine.ids), ("remaining_shelf_life_ratio", ">", 0.2)]), lot)

    def test_incoherent_dates_are_refused_and_nothing_changes(self):
        with freeze_time(NOW):
            lot = self._lot_at("SL-DATES", 30, production_date=NOW - timedelta(days=10))
        before = lot.read(["expiration_date", "production_date", "alert_date", "use_date", "removal_date"])
        with self.assertRaises(ValidationError):
            lot.expiration_date = NOW - timedelta(days=20)  # before production
        with self.assertRaises(ValidationError):
            lot.alert_date = NOW + timedelta(days=31)  # after expiry
        with self.assertRaises(ValidationError):
            lot.use_date = NOW - timedelta(days=11)  # before production
        with self.assertRaises(ValidationError):
            self._lot("SL-BAD-NEW", expiration_date=NOW, production_date=NOW + timedelta(days=1), expires_in_days=None)
        lot.invalidate_recordset()
        self.assertEqual(
            lot.read(["expiration_date", "production_date", "alert_date", "use_date", "removal_date"]), before
        )
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "SL-BAD-NEW")]))

    def test_refresh_schedules_one_alert_activity_per_lot_in_stock(self):
        with freeze_time(NOW):
            in_stock = self._lot_at("SL-ACT-STOCK", 10, alert_in=5)
            not_in_stock = self._lot_at("SL-ACT-GONE", 10, alert_in=5)
        self._put_in_stock(in_stock, 4)
        activity_type = self.env.ref("product_expiry.mail_activity_type_alert_date_reached")

        def alerts(lot):
            return self.env["mail.activity"].search(
                [("res_model", "=", "stock.lot"), ("res_id", "=", lot.id), ("activity_type_id", "=", activity_type.id)]
            )

        self.env["stock.lot"]._refresh_shelf_life_state(now=NOW + timedelta(days=6))
        self.assertEqual(in_stock.shelf_life_state, "near_expiry")
        self.assertEqual(len(alerts(in_stock)), 1)
        self.assertFalse(alerts(not_in_stock))
        self.assertTrue(in_stock.product_expiry_reminded)
        # Expiring later, product_expiry's own scheduler and another refresh add nothing.
        self.env["stock.lot"]._refresh_shelf_life_state(now=NOW + timedelta(days=11))
        with freeze_time(NOW + timedelta(days=11)):
            self.env["stock.lot"]._alert_date_exceeded()
        self.assertEqual(in_stock.shelf_life_state, "expired")
        self.assertEqual(len(alerts(in_stock)), 1)
