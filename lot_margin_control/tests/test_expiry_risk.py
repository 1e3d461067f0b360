from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import SQL

from .common import NOW, LotControlCommon


@tagged("post_install", "-at_install")
class TestExpiryRisk(LotControlCommon):
    """Expiry risk (PRODUCT.md §9): demand, FEFO queue, unsold quantity and value, by hand-computed numbers.

    The demand window is 10 days, so 10 units delivered in it are a demand of 1 a day.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.lot_demand_window_days = 10
        cls.product.standard_price = 4.0
        cls.serial_product.standard_price = 50.0
        cls.Lot = cls.env["stock.lot"]
        cls.history = 0

    def setUp(self):
        super().setUp()
        frozen = freeze_time(NOW)
        frozen.start()
        self.addCleanup(frozen.stop)

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _lot_at(self, name, quantity, expires_in, product=None, location=None, **values):
        """A lot expiring ``expires_in`` days after NOW with ``quantity`` in stock."""
        lot = self._lot(name, product=product, expiration_date=NOW + timedelta(days=expires_in), **values)
        if quantity:
            self._put_in_stock(lot, quantity, location=location)
        return lot

    def _sell(self, quantity, product=None, location=None, uom=None, days_ago=0):
        """Delivered demand: a lot received and delivered at once, ``days_ago`` days before NOW.

        Called before the lots under test exist, so that the delivery takes this lot only.
        """
        product = product or self.product
        location = location or self.stock
        uom = uom or product.uom_id
        product_quantity = uom._compute_quantity(quantity, product.uom_id)
        lots = self.Lot
        if product.tracking == "serial":
            for _index in range(int(product_quantity)):
                TestExpiryRisk.history += 1
                lots |= self._lot_at(f"HIST-{self.history}", 1, 300, product=product, location=location)
        else:
            TestExpiryRisk.history += 1
            lots = self._lot_at(f"HIST-{self.history}", product_quantity, 300, product=product, location=location)
        warehouse = location.warehouse_id
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": warehouse.out_type_id.id,
                "partner_id": self.customer.id,
                "location_id": location.id,
                "location_dest_id": self.customers.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": uom.id,
                            "location_id": location.id,
                            "location_dest_id": self.customers.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.move_ids.quantity = quantity
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        if days_ago:
            picking.move_ids.move_line_ids.date = NOW - timedelta(days=days_ago)
        return picking, lots

    def _return(self, delivery, lot, quantity):
        """A customer return of ``quantity`` of ``lot``, through core's return wizard."""
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_ids=delivery.ids, active_id=delivery.id, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = quantity
        returned = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        returned.move_ids.move_line_ids.unlink()
        returned.move_ids.move_line_ids = [
            Command.create(
                {
                    "product_id": lot.product_id.id,
                    "location_id": returned.location_id.id,
                    "location_dest_id": returned.location_dest_id.id,
                    "lot_id": lot.id,
                    "quantity": quantity,
                }
            )
        ]
        returned.move_ids.picked = True
        returned.button_validate()
        self.assertEqual(returned.state, "done")
        return returned

    def _refresh(self):
        self.Lot._refresh_expiry_risk()

    def _assert_risk(self, lot, demand, ahead, unsold, sellout=None):
        self.assertAlmostEqual(lot.demand_daily_qty, demand, places=4, msg=lot.name)
        self.assertAlmostEqual(lot.fefo_ahead_qty, ahead, places=4, msg=lot.name)
        self.assertAlmostEqual(lot.projected_unsold_qty, unsold, places=4, msg=lot.name)
        self.assertEqual(lot.projected_sellout_date, sellout or False, lot.name)

    # ------------------------------------------------------------------
    # the hand-computed cases of the issue
    # ------------------------------------------------------------------
    def test_one_a_day_queue(self):
        self._sell(10)  # 1 a day over 10 days
        first = self._lot_at("RISK-30", 30, 5)
        behind = self._lot_at("RISK-20", 20, 10)
        far = self._lot_at("RISK-FAR", 10, 100)
        self._refresh()
        # 5 days sell 5 of 30: 25 left; sold out 30 days from now
        self._assert_risk(first, 1, 0, 25, date(2026, 7, 15))
        # 30 go first, 10 days of demand never reach it: all 20 left
        self._assert_risk(behind, 1, 30, 20, date(2026, 8, 4))
        # 100 days sell 100 - 50 ahead: all 10 sold
        self._assert_risk(far, 1, 50, 0, date(2026, 8, 14))
        self.assertAlmostEqual(first.projected_unsold_ratio, 0.8333)
        self.assertEqual(first.risk_warehouse_id, self.warehouse)
        # the value at the product's cost (4.0)
        self.assertEqual(first.expiry_value_at_risk, 100.0)
        self.assertEqual(behind.expiry_value_at_risk, 80.0)

    def test_no_demand_everything_unsold(self):
        # demand older than the window does not count
        self._sell(10, days_ago=11)
        lot = self._lot_at("RISK-NODEMAND", 30, 50)
        self._refresh()
        self._assert_risk(lot, 0, 0, 30)
        # in a 12-day window it does: 10 / 12 a day sell 41.7 in 50 days, the 30 in 36 days
        self.env.company.lot_demand_window_days = 12
        self._refresh()
        self._assert_risk(lot, 10 / 12, 0, 0, date(2026, 7, 21))

    def test_returns_reduce_demand(self):
        delivery, sold_lot = self._sell(20)  # 2 a day
        self._return(delivery, sold_lot, 10)  # 1 a day net; the returned lot expires last
        lot = self._lot_at("RISK-RET", 30, 5)
        self._refresh()
        self._assert_risk(lot, 1, 0, 25, date(2026, 7, 15))

    def test_other_warehouse_not_in_the_queue(self):
        other = self.env["stock.warehouse"].create({"name": "LMC Second", "code": "LMC2"})
        self._sell(10)
        earlier_elsewhere = self._lot_at("RISK-WH2", 40, 2, location=other.lot_stock_id)
        lot = self._lot_at("RISK-WH1", 30, 5)
        self._refresh()
        self._assert_risk(lot, 1, 0, 25, date(2026, 7, 15))
        # no deliveries from the other warehouse: all of it unsold there
        self._assert_risk(earlier_elsewhere, 0, 0, 40)
        self.assertEqual(earlier_elsewhere.risk_warehouse_id, other)

    def test_lot_in_two_warehouses_sums_them(self):
        other = self.env["stock.warehouse"].create({"name": "LMC Second", "code": "LMC2"})
        self._sell(10)
        self._sell(20, location=other.lot_stock_id)  # 2 a day there
        lot = self._lot_at("RISK-BOTH", 30, 5)
        self._put_in_stock(lot, 40, location=other.lot_stock_id)
        self._refresh()
        # here 25 of 30 left, there 40 - 10 = 30 left; sold out here in 30 days, there in 20
        self._assert_risk(lot, 3, 0, 55, date(2026, 7, 15))
        self.assertEqual(lot.risk_warehouse_id, other)

    def test_blocked_and_quarantined_not_ahead_but_at_risk(self):
        self._sell(10)
        blocked = self._lot_at("RISK-BLOCKED", 10, 2)
        blocked._set_quality_state("blocked", "Seal broken")
        quarantined = self._lot_at("RISK-QUAR", 10, 3)
        quarantined._set_quality_state("quarantine", "Lab test")
        lot = self._lot_at("RISK-REL", 30, 5)
        self._refresh()
        self._assert_risk(lot, 1, 0, 25, date(2026, 7, 15))
        # at risk themselves: 2 of 10 could sell, then 3 of 10 (the blocked lot is not ahead either)
        self._assert_risk(blocked, 1, 0, 8, date(2026, 6, 25))
        self._assert_risk(quarantined, 1, 0, 7, date(2026, 6, 25))

    def test_expired_lots_not_ahead_and_all_at_risk(self):
        self._sell(10)
        expired = self._lot_at("RISK-EXPIRED", 10, -1)
        lot = self._lot_at("RISK-AFTER", 30, 5)
        self._refresh()
        self._assert_risk(lot, 1, 0, 25, date(2026, 7, 15))
        self.assertEqual(expired.projected_unsold_qty, 10)

    def test_serial_numbers(self):
        self._sell(5, product=self.serial_product)  # half a unit a day
        serials = [
            self._lot_at(f"RISK-SN{index}", 1, 4 + index / 24, product=self.serial_product) for index in range(3)
        ]
        self._refresh()
        # 4 days of half a unit: 2 sell, the third is left
        self._assert_risk(serials[0], 0.5, 0, 0, date(2026, 6, 17))
        self._assert_risk(serials[1], 0.5, 1, 0, date(2026, 6, 19))
        self._assert_risk(serials[2], 0.5, 2, 1, date(2026, 6, 21))
        self.assertEqual(serials[2].expiry_value_at_risk, 50.0)

    def test_units_of_measure(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        self._sell(1, uom=dozen)  # 12 units over 10 days: 1.2 a day
        lot = self._lot_at("RISK-UOM", 30, 5)
        self._refresh()
        # 6 of 30 sell in 5 days; 30 / 1.2 = 25 days to sell out
        self._assert_risk(lot, 1.2, 0, 24, date(2026, 7, 10))

    def test_lots_without_expiry_are_not_at_risk_and_lots_gone_are_reset(self):
        self._sell(10)
        salt = self.env["product.product"].create({"name": "LMC Salt", "is_storable": True, "tracking": "lot"})
        self._sell(10, product=salt)
        no_expiry = self._lot("RISK-UNDATED", product=salt, expires_in_days=None)
        self._put_in_stock(no_expiry, 5)
        lot = self._lot_at("RISK-GONE", 30, 5)
        self._refresh()
        # never expires, so never unsold; sold out in 5 days
        self._assert_risk(no_expiry, 1, 0, 0, date(2026, 6, 20))
        self.assertEqual(lot.projected_unsold_qty, 25)
        # the lot leaves stock: no risk left
        self._put_in_stock(lot, -30)
        self._refresh()
        self._assert_risk(lot, 0, 0, 0)
        self.assertFalse(lot.risk_warehouse_id)

    # ------------------------------------------------------------------
    # demand summed per day (stock.lot.demand.day) = demand from the move lines
    # ------------------------------------------------------------------
    def _demand_from_lines(self):
        """``{(product_id, warehouse_id): daily qty}`` summed from every done move line of the window,
        the way demand was read before it was kept per day: the oracle of the daily sums."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT line.product_id,
                       CASE WHEN source.usage = 'internal' THEN source.warehouse_id ELSE destination.warehouse_id END,
                       GREATEST(SUM(CASE WHEN source.usage = 'internal' THEN line.quantity_product_uom
                                         ELSE -line.quantity_product_uom END), 0) / MAX(company.lot_demand_window_days)
                  FROM stock_move_line line
                  JOIN res_company company ON company.id = line.company_id
                  JOIN stock_location source ON source.id = line.location_id
                  JOIN stock_location destination ON destination.id = line.location_dest_id
                 WHERE line.state = 'done'
                   AND line.date > %(now)s - make_interval(days => company.lot_demand_window_days)
                   AND line.date <= %(now)s
                   AND ((source.usage = 'internal' AND destination.usage = 'customer')
                        OR (source.usage = 'customer' AND destination.usage = 'internal'))
                 GROUP BY 1, 2
                """,
                now=NOW,
            )
        )
        return {(product, warehouse): float(qty) for product, warehouse, qty in rows if warehouse and qty}

    def _demand(self):
        self.env.flush_all()
        rows = self.env.execute_query(self.Lot._sql_daily_demand(NOW, SQL("TRUE")))
        return {(product, warehouse): float(qty) for product, warehouse, qty in rows if qty}

    def _assert_demand_matches_lines(self):
        """The kept demand equals the oracle's (both without products of no demand); returns it."""
        kept, oracle = self._demand(), self._demand_from_lines()
        self.assertEqual(kept.keys(), oracle.keys())
        for key, qty in oracle.items():
            self.assertAlmostEqual(kept[key], qty, places=6, msg=key)
        return kept

    def _sell_at(self, quantity, instant):
        picking, _lots = self._sell(quantity)
        picking.move_ids.move_line_ids.date = instant
        return picking

    def test_demand_window_edges_to_the_second(self):
        """The window is (NOW - 10 days, NOW]: its first and last days are partial, to the second."""
        start = NOW - timedelta(days=10)
        self._sell_at(1, start)  # the window's open end: out
        self._sell_at(2, start + timedelta(seconds=1))  # in, on the window's first (partial) day
        self._sell_at(4, start - timedelta(hours=1))  # the day before the window's first: out
        self._sell_at(8, start.replace(hour=0))  # the first day, before the window opens: out
        self._sell_at(16, NOW - timedelta(days=3))  # a whole day: in
        self._sell_at(32, NOW.replace(hour=0))  # today, midnight: in
        self._sell_at(64, NOW)  # now: in
        self._sell_at(128, NOW + timedelta(seconds=1))  # later today: out
        demand = self._assert_demand_matches_lines()
        self.assertAlmostEqual(demand[self.product.id, self.warehouse.id], (2 + 16 + 32 + 64) / 10)

    def test_demand_follows_edits_of_done_lines(self):
        picking = self._sell_at(10, NOW - timedelta(days=2))
        line = picking.move_ids.move_line_ids
        self.assertAlmostEqual(self._assert_demand_matches_lines()[self.product.id, self.warehouse.id], 1.0)
        line.quantity = 6  # corrected on the validated delivery
        self.assertAlmostEqual(self._assert_demand_matches_lines()[self.product.id, self.warehouse.id], 0.6)
        line.date = NOW - timedelta(days=20)  # out of the window
        self.assertFalse(self._assert_demand_matches_lines())
        line.date = NOW - timedelta(days=1)
        other = self.env["stock.warehouse"].create({"name": "LMC Demand Moved", "code": "LMCDM"})
        shelf = self.env["stock.location"].create({"name": "LMC Moving Shelf", "location_id": self.stock.id})
        line.location_id = shelf  # shipped from a shelf of the same warehouse
        self.assertAlmostEqual(self._assert_demand_matches_lines()[self.product.id, self.warehouse.id], 0.6)
        shelf.location_id = other.lot_stock_id  # the shelf moved to another warehouse, its history with it
        demand = self._assert_demand_matches_lines()
        self.assertEqual(list(demand), [(self.product.id, other.id)])
        self.assertEqual(self.env["stock.lot.demand.day"].search_count([("warehouse_id", "=", self.warehouse.id)]), 0)

    def test_demand_per_day_compacts_and_rebuilds_to_the_same_figures(self):
        delivery, sold_lot = self._sell(20)
        self._return(delivery, sold_lot, 5)
        self._sell_at(7, NOW - timedelta(days=4))
        self._sell_at(3, NOW - timedelta(days=4, hours=5))
        Day = self.env["stock.lot.demand.day"]
        before = self._assert_demand_matches_lines()
        # each validation and correction added rows of its own; the refresh sums past days into one row
        self.assertGreater(Day.search_count([("day", "<", NOW.date())]), 1)
        self._refresh()
        days = Day.search([("day", "<", NOW.date())])
        self.assertEqual(len(days), 1)
        self.assertEqual(days.qty, 10)
        self.assertEqual(self._assert_demand_matches_lines(), before)
        Day._rebuild()
        self.assertEqual(self._assert_demand_matches_lines(), before)
        self.assertAlmostEqual(before[self.product.id, self.warehouse.id], (20 - 5 + 7 + 3) / 10)

    def _deliver_untracked(self, env, product, warehouse, quantity, when):
        """A done customer delivery of ``quantity`` from ``warehouse`` dated ``when`` (core's moves)."""
        move = env["stock.move"].create(
            {
                "name": product.name,
                "product_id": product.id,
                "product_uom_qty": quantity,
                "product_uom": product.uom_id.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": self.customers.id,
            }
        )
        move._action_confirm()
        move.quantity = quantity
        move.picked = True
        move._action_done()
        self.assertEqual(move.state, "done")
        move.move_line_ids.date = when
        return move

    def test_demand_windows_per_company(self):
        """Each company's lines count over its own window, its partial first day to the second."""
        other = self.env["res.company"].create({"name": "LMC Demand Window Co"})
        other.lot_demand_window_days = 20
        other_env = self.env(context=dict(self.env.context, allowed_company_ids=[other.id]))
        other_warehouse = other_env["stock.warehouse"].search([("company_id", "=", other.id)])
        shared = self.env["product.product"].create({"name": "LMC Shared Demand", "is_storable": True})
        for quantity, days in ((1, 15), (2, 20), (4, 9)):
            self._deliver_untracked(self.env, shared, self.warehouse, quantity, NOW - timedelta(days=days))
        for quantity, when in (
            (8, NOW - timedelta(days=15)),  # in the other company's 20 days, not in our 10
            (16, NOW - timedelta(days=20) + timedelta(seconds=1)),  # its first, partial day: in
            (32, NOW - timedelta(days=20) - timedelta(seconds=1)),  # out
        ):
            self._deliver_untracked(other_env, shared, other_warehouse, quantity, when)
        demand = self._assert_demand_matches_lines()
        self.assertAlmostEqual(demand[shared.id, self.warehouse.id], 4 / 10)
        self.assertAlmostEqual(demand[shared.id, other_warehouse.id], (8 + 16) / 20)

    def test_demand_per_day_is_read_only_and_per_company(self):
        self._sell(10)
        Day = self.env["stock.lot.demand.day"]
        row = Day.search([])
        self.assertEqual(row.qty, 10)
        stock_user = new_test_user(self.env, login="lmc_demand_stock_user", groups="stock.group_stock_user")
        self.assertEqual(Day.with_user(stock_user).search([]), row)
        for attempt in (
            lambda: row.with_user(stock_user).write({"qty": 1000}),
            lambda: Day.with_user(stock_user).create({"day": NOW.date(), "qty": 1000}),
            lambda: row.with_user(stock_user).unlink(),
        ):
            with self.assertRaises(AccessError):
                attempt()
        other_company = self.env["res.company"].create({"name": "LMC Demand Other Co"})
        outsider = new_test_user(
            self.env,
            login="lmc_demand_outsider",
            groups="stock.group_stock_user",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        self.assertFalse(Day.with_user(outsider).search([]))

    # ------------------------------------------------------------------
    # set-based, the cron, who may refresh
    # ------------------------------------------------------------------
    def _refresh_query_count(self):
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        self._refresh()
        return self.env.cr.sql_log_count - before

    def test_query_count_does_not_grow_with_lots(self):
        self._sell(10)
        for index in range(5):
            self._lot_at(f"RISK-Q{index}", 10, 5 + index)
        with_five = self._refresh_query_count()
        for index in range(5, 50):
            self._lot_at(f"RISK-Q{index}", 10, 5 + index)
        with_fifty = self._refresh_query_count()
        self.assertEqual(with_five, with_fifty)
        # the past days' demand summed, lock, session settings, one statement (figures and writes)
        self.assertLessEqual(with_fifty, 4)

    def test_daily_cron_refreshes_risk(self):
        self._sell(10)
        lot = self._lot_at("RISK-CRON", 30, 5)
        self.assertEqual(lot.projected_unsold_qty, 0)
        self.Lot._cron_refresh_shelf_life_state()
        self.assertEqual(lot.projected_unsold_qty, 25)

    def test_who_may_refresh(self):
        self._sell(10)
        lot = self._lot_at("RISK-BUTTON", 30, 5)
        stock_user = new_test_user(self.env, login="lmc_risk_stock_user", groups="stock.group_stock_user")
        stock_manager = new_test_user(self.env, login="lmc_risk_stock_manager", groups="stock.group_stock_manager")
        with self.assertRaises(AccessError):
            self.Lot.with_user(stock_user).action_refresh_expiry_risk()
        self.assertEqual(lot.projected_unsold_qty, 0)
        for user in (self.lot_user, self.quality_manager, stock_manager):
            self.env.cr.execute("DELETE FROM stock_lot_expiry_risk")
            self.Lot.invalidate_model()
            self.assertEqual(lot.projected_unsold_qty, 0)
            self.assertIs(self.Lot.with_user(user).action_refresh_expiry_risk(), True)
            self.assertEqual(lot.projected_unsold_qty, 25, user.login)

    # ------------------------------------------------------------------
    # bad input and access to costs
    # ------------------------------------------------------------------
    def test_bad_demand_window(self):
        company = self.env.company
        for days in (0, -5, 36_501):
            with self.assertRaises(ValidationError):
                company.lot_demand_window_days = days
            self.assertEqual(company.lot_demand_window_days, 10)
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.lot_demand_window_days, 10)
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"lot_demand_window_days": 0}).execute()
        self.assertEqual(company.lot_demand_window_days, 10)
        company.lot_demand_window_days = 36_500
        self.assertEqual(company.lot_demand_window_days, 36_500)
        self.assertEqual(
            self.env["res.company"].default_get(["lot_demand_window_days"]), {"lot_demand_window_days": 90}
        )

    def test_value_at_risk_for_cost_readers_only(self):
        self._sell(10)
        lot = self._lot_at("RISK-COST", 30, 5)
        self._refresh()
        accountant = new_test_user(
            self.env, login="lmc_risk_accountant", groups="account.group_account_readonly,stock.group_stock_user"
        )
        self.assertEqual(lot.with_user(accountant).expiry_value_at_risk, 100.0)
        lot_as_user = lot.with_user(self.lot_user)
        self.assertEqual(lot_as_user.projected_unsold_qty, 25)
        with self.assertRaises(AccessError):
            lot_as_user.read(["expiry_value_at_risk"])
        with self.assertRaises(AccessError):
            self.env["stock.lot.expiry.risk"].with_user(self.lot_user).read_group([], ["expiry_value_at_risk:sum"], [])
        with self.assertRaises(AccessError):
            self.Lot.with_user(self.lot_user).search([("expiry_value_at_risk", ">", 0)])

    # ------------------------------------------------------------------
    # markdown rules on projected unsold
    # ------------------------------------------------------------------
    def _risk_rule(self, ratio, **values):
        self.env["stock.lot.markdown.rule"].search([]).write({"active": False})
        return self.env["stock.lot.markdown.rule"].create(
            {
                "name": "Will not sell in time",
                "trigger": "projected_unsold",
                "threshold_ratio": ratio,
                "discount": 30,
                "product_ids": [Command.set(self.product.ids)],
                **values,
            }
        )

    def test_markdown_when_risk_reaches_the_ratio_and_gone_when_demand_picks_up(self):
        self.product.list_price = 10.0
        self._sell(10)
        rule = self._risk_rule(0.5)
        at_risk = self._lot_at("RISK-MD-30", 30, 5)  # 25 of 30 unsold: 0.8333
        below = self._lot_at("RISK-MD-LOW", 10, 100)  # all sold
        self.Lot._cron_refresh_shelf_life_state()
        self.assertEqual(at_risk.markdown_rule_id, rule)
        self.assertEqual(at_risk.markdown_price, 7.0)
        self.assertFalse(below.markdown_rule_id)
        # demand picks up: 60 more delivered in the window is 7 a day, 35 sell in 5 days
        self._sell(60)
        self.Lot._cron_refresh_shelf_life_state()
        self.assertEqual(at_risk.projected_unsold_qty, 0)
        self.assertFalse(at_risk.markdown_rule_id)
        self.assertEqual(at_risk.markdown_discount, 0)

    def test_markdown_threshold_is_inclusive(self):
        self._sell(10)
        rule = self._risk_rule(0.5)
        half = self._lot_at("RISK-MD-HALF", 20, 10)  # 10 of 20 sell: exactly half unsold
        self.assertIs(self.Lot.action_refresh_expiry_risk(), True)
        self.assertEqual(half.projected_unsold_ratio, 0.5)
        self.assertEqual(half.markdown_rule_id, rule)
        rule.threshold_ratio = 0.51
        self.assertFalse(half.markdown_rule_id)

    def test_projected_unsold_ratio_must_be_a_share(self):
        rule = self._risk_rule(0.5)
        for ratio in (0, -0.1, 1.5):
            with self.assertRaises(ValidationError):
                rule.threshold_ratio = ratio
            self.assertEqual(rule.threshold_ratio, 0.5)
        with self.assertRaises(ValidationError):
            self._risk_rule(0)
        rule.threshold_ratio = 1
        self.assertEqual(rule.threshold_ratio, 1)

    # ------------------------------------------------------------------
    # screens
    # ------------------------------------------------------------------
    def test_expiry_risk_report_by_product_warehouse_and_week(self):
        self._sell(10)
        self._lot_at("RISK-R1", 30, 5)
        self._lot_at("RISK-R2", 20, 10)
        self._lot_at("RISK-R3", 10, 100)  # sold in time: not at risk
        self._refresh()
        action = self.env["ir.actions.act_window"]._for_xml_id("lot_margin_control.action_stock_lot_expiry_risk")
        self.assertEqual((action["res_model"], action["view_mode"]), ("stock.lot.expiry.risk", "pivot,graph,list"))
        Risk = self.env["stock.lot.expiry.risk"].with_user(self.lot_user)
        domain = [("projected_unsold_qty", ">", 0)]
        by_product = Risk._read_group(domain, ["product_id", "warehouse_id"], ["projected_unsold_qty:sum"])
        self.assertEqual(by_product, [(self.product, self.warehouse, 45.0)])
        # expiring on Saturday 20 June and Thursday 25 June: two weeks
        by_week = Risk._read_group(
            domain, ["expiration_date:week"], ["projected_unsold_qty:sum"], order="expiration_date:week"
        )
        self.assertEqual([unsold for _week, unsold in by_week], [25.0, 20.0])
        # the lot's own figures are the sums of its rows; the lot list filters on them
        at_risk = self.Lot.with_user(self.lot_user).search([("projected_unsold_qty", ">", 0)])
        self.assertEqual(sorted(at_risk.mapped("name")), ["RISK-R1", "RISK-R2"])
        # the views open for a Lot Control user, without the cost column
        for view_type in ("form", "list", "search"):
            arch = self.Lot.with_user(self.lot_user).get_views([(False, view_type)], {"load_filters": False})["views"][
                view_type
            ]["arch"]
            self.assertNotIn("expiry_value_at_risk", arch)
        for view_id, view_type in action["views"]:
            arch = Risk.get_view(view_id, view_type)["arch"]
            self.assertIn("projected_unsold_qty", arch)
            self.assertNotIn("expiry_value_at_risk", arch)
        self.assertIn(
            "expiry_value_at_risk", self.env["stock.lot.expiry.risk"].get_view(action["views"][0][0], "pivot")["arch"]
        )
        # the report is read-only, also over RPC: only the refresh writes it
        row = Risk.search([], limit=1)
        for operation in (
            lambda: row.write({"projected_unsold_qty": 0}),
            lambda: row.unlink(),
            lambda: Risk.create({"lot_id": row.lot_id.id}),
        ):
            with self.assertRaises(AccessError):
                operation()
        settings_arch = self.env["res.config.settings"].get_view(view_type="form")["arch"]
        self.assertIn('name="lot_demand_window_days"', settings_arch)

    # ------------------------------------------------------------------
    # purchasing
    # ------------------------------------------------------------------
    def _purchase_line(self, quantity, uom=None):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.vendor.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_qty": quantity,
                            "product_uom": (uom or self.product.uom_id).id,
                        }
                    )
                ],
            }
        )
        self.assertEqual(order.picking_type_id.warehouse_id, self.warehouse)
        return order.order_line

    def test_purchase_warns_beyond_what_demand_sells_in_shelf_life(self):
        self._sell(10)  # 1 a day; the yogurt keeps 30 days: 30 sell in its shelf life
        self._lot_at("RISK-PO", 10, 20)
        # 10 on hand + 15 ordered = 25: no warning
        self.assertIsNone(self._purchase_line(15)._onchange_expiry_risk_warning())
        # 10 + 40 = 50: 20 of these 40 would expire unsold
        warning = self._purchase_line(40)._onchange_expiry_risk_warning()["warning"]
        self.assertIn("about 20.00 of these 40.00 Units would expire unsold", warning["message"])
        self.assertIn("1.00 Units a day", warning["message"])
        # incoming counts: 10 on the way, 10 on hand and 15 ordered is 35: 5 of 15
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.in_type_id.id,
                "location_id": self.suppliers.id,
                "location_dest_id": self.stock.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": self.product.name,
                            "product_id": self.product.id,
                            "product_uom_qty": 10,
                            "product_uom": self.product.uom_id.id,
                            "location_id": self.suppliers.id,
                            "location_dest_id": self.stock.id,
                        }
                    )
                ],
            }
        )
        receipt.action_confirm()
        self.assertEqual(self._purchase_line(15)._get_expiry_risk_excess(), (5, 15, 1))
        # in the order's unit: 2 dozen are 24 units, 14 of them too many
        dozen = self.env.ref("uom.product_uom_dozen")
        self.assertEqual(self._purchase_line(2, uom=dozen)._get_expiry_risk_excess(), (14, 24, 1))

    def test_purchase_warning_in_the_form_without_demand_and_no_block(self):
        lot_line = self._purchase_line(5)
        # no demand at all: every unit bought would expire unsold
        self.assertEqual(lot_line._get_expiry_risk_excess(), (5, 5, 0))
        with self.assertLogs("odoo.tests.form.onchange", "WARNING") as logs:
            with Form(self.env["purchase.order"]) as order_form:
                order_form.partner_id = self.vendor
                with order_form.order_line.new() as line:
                    line.product_id = self.product
                    line.product_qty = 5
        self.assertIn("about 5.00 of these 5.00 Units would expire unsold", "\n".join(logs.output))
        order = order_form.record
        order.button_confirm()
        self.assertEqual(order.state, "purchase")
        # products without expiration dates never warn
        salt = self.env["product.product"].create({"name": "LMC Salt", "is_storable": True, "tracking": "lot"})
        lot_line.product_id = salt
        self.assertFalse(lot_line._get_expiry_risk_excess())

    def test_replenishment_shows_what_demand_sells_in_shelf_life(self):
        self._sell(10)  # 1 a day, and the yogurt keeps 30 days
        salt = self.env["product.product"].create({"name": "LMC Salt", "is_storable": True, "tracking": "lot"})
        other = self.env["stock.warehouse"].create({"name": "LMC Second", "code": "LMC2"})
        Orderpoint = self.env["stock.warehouse.orderpoint"]
        orderpoints = Orderpoint.create(
            [
                {"product_id": self.product.id, "warehouse_id": self.warehouse.id, "location_id": self.stock.id},
                {"product_id": self.product.id, "warehouse_id": other.id, "location_id": other.lot_stock_id.id},
                {"product_id": salt.id, "warehouse_id": self.warehouse.id, "location_id": self.stock.id},
            ]
        )
        self.assertEqual(orderpoints.mapped("expiry_sellable_qty"), [30.0, 0.0, 0.0])
        arch = Orderpoint.get_view(self.env.ref("stock.view_warehouse_orderpoint_tree_editable").id, "list")["arch"]
        self.assertIn('name="expiry_sellable_qty"', arch)
