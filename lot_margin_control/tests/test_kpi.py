from datetime import datetime, time, timedelta

import odoo
from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL

# Tables whose rows an operation made get the operation's date: (table, date column).
DATED_TABLES = (
    ("stock_move", "date"),
    ("stock_move_line", "date"),
    ("stock_valuation_layer", "create_date"),
    ("stock_lot_count", "date"),
    ("stock_scrap", "date_done"),
)


class KpiCommon(TransactionCase):
    """A company of its own with a small, dated history, every figure computable by hand.

    T is today; the period is T-60 .. T-31 (30 days), the previous one T-90 .. T-61.
    Standard-cost products (created the ordinary way): P1 at 2.00, P2 at 3.00, P3 at 1.00.

    Previous period: L0 (P1, GS1 scan) 5 received T-80, counted 5 = 5 at T-75, all 5 shipped
    T-70 (FEFO compliant); a mock recall traced in 50 ms. Nothing left in stock at its end.

    Period: received T-55 L1 (P1) 10, expired T-40; L2 (P2) 20, near expiry from T-35;
    L3 (P3, GS1 scan) 30. T-50 scrap 2 of L1. T-45 ship 2 of L2 on a sale line at 10.00
    less a 20 % markdown (compliant) and 1 of L3 (not compliant). T-40 counts: L1 8 = 8,
    L2 17 vs 18, L3 29 = 29. L3 blocked afterwards. Recalls: two real ones contained in 6 h
    and 24 h, avoiding 40.00 and 60.00; three mock ones traced in 100, 300 and 200 ms; a
    cancelled one (avoiding 999.00, not counted).

    By hand at the end of the period: L1 8 x 2 = 16 (expired), L2 17 x 3 = 51 (near expiry),
    L3 29 x 1 = 29 (blocked): inventory value 96.00; losses 2 x 2 + 1 x 3 = 7.00.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "LMC KPI Foods"})
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id], tz="UTC"))
        cls.env.user.company_ids += cls.company
        cls.today = fields.Date.context_today(cls.env["res.users"])
        cls.date_from, cls.date_to = cls.today - timedelta(days=60), cls.today - timedelta(days=31)
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        cls.stock = cls.warehouse.lot_stock_id
        cls.suppliers = cls.env.ref("stock.stock_location_suppliers")
        cls.customers = cls.env.ref("stock.stock_location_customers")
        cls.customer = cls.env["res.partner"].create({"name": "KPI Shop"})
        cls.p1, cls.p2, cls.p3 = (
            cls.env["product.product"].create(
                {
                    "name": f"KPI Product {index}",
                    "is_storable": True,
                    "tracking": "lot",
                    "use_expiration_date": True,
                    "standard_price": price,
                }
            )
            for index, price in ((1, 2.0), (2, 3.0), (3, 1.0))
        )
        now = fields.Datetime.now()
        cls.l0 = cls._lot("KPI-L0", cls.p1, now + timedelta(days=100), gs1_scanned=True)
        cls.l1 = cls._lot("KPI-L1", cls.p1, cls._at(-40))
        cls.l2 = cls._lot("KPI-L2", cls.p2, now + timedelta(days=30), alert_date=cls._at(-35))
        cls.l3 = cls._lot("KPI-L3", cls.p3, now + timedelta(days=300), gs1_scanned=True)
        # previous period
        cls._move(cls.l0, 5, cls.suppliers, cls.stock, -80)
        cls._count({cls.l0: 5}, -75)
        cls._move(cls.l0, 5, cls.stock, cls.customers, -70)
        # the period
        for lot, quantity in ((cls.l1, 10), (cls.l2, 20), (cls.l3, 30)):
            cls._move(lot, quantity, cls.suppliers, cls.stock, -55)
        cls._scrap(cls.l1, 2, -50)
        sale_line = cls._marked_down_sale_line(cls.l2, 2, 10.0, 20.0)
        cls._move(cls.l2, 2, cls.stock, cls.customers, -45, sale_line_id=sale_line.id)
        delivery = cls._move(cls.l3, 1, cls.stock, cls.customers, -45)
        cls.env.cr.execute(
            SQL("UPDATE stock_move_line SET fefo_compliant = FALSE WHERE id = ANY(%s)", delivery.move_line_ids.ids)
        )
        cls._count({cls.l1: 8, cls.l2: 17, cls.l3: 29}, -40)
        cls.l3.action_quality_block("Lab")
        # recalls (dates and scope values as their own steps would leave them)
        cls.recalls = cls.env["stock.lot.recall"]
        for is_mock, state, opened, contained, traced, ms, avoided in (
            (False, "contained", (-50, 8), (-50, 14), (-50, 9), 10, 40.0),
            (False, "contained", (-48, 10), (-47, 10), (-48, 11), 10, 60.0),
            (False, "cancelled", (-44, 10), None, None, 0, 999.0),
            (True, "traced", (-52, 9), None, (-52, 9), 100, 0.0),
            (True, "traced", (-51, 9), None, (-51, 9), 300, 0.0),
            (True, "traced", (-49, 9), None, (-49, 9), 200, 0.0),
            (True, "traced", (-65, 9), None, (-65, 9), 50, 0.0),
        ):
            recall = cls.env["stock.lot.recall"].create({"lot_ids": [Command.set(cls.l3.ids)], "reason": "KPI"})
            cls.env.flush_all()
            cls.env.cr.execute(
                SQL(
                    """UPDATE stock_lot_recall SET is_mock = %s, state = %s, create_date = %s, contained_date = %s,
                              traced_date = %s, trace_duration_ms = %s, scope_avoided_value = %s WHERE id = %s""",
                    is_mock,
                    state,
                    cls._at(*opened),
                    contained and cls._at(*contained),
                    traced and cls._at(*traced),
                    ms,
                    avoided,
                    recall.id,
                )
            )
            cls.recalls |= recall
        cls.env.invalidate_all()

    @classmethod
    def _at(cls, days, hour=12):
        return datetime.combine(cls.today + timedelta(days=days), time(hour))

    @classmethod
    def _lot(cls, name, product, expiration, **values):
        return cls.env["stock.lot"].create(
            {"name": name, "product_id": product.id, "expiration_date": expiration, **values}
        )

    @classmethod
    def _last_ids(cls):
        cls.env.flush_all()
        marks = {}
        for table, _column in DATED_TABLES:
            cls.env.cr.execute(SQL("SELECT COALESCE(MAX(id), 0) FROM %s", SQL.identifier(table)))
            marks[table] = cls.env.cr.fetchone()[0]
        return marks

    @classmethod
    def _backdate(cls, marks, days):
        """Give what was made since ``marks`` the date ``days`` from today at noon."""
        cls.env.flush_all()
        for table, column in DATED_TABLES:
            cls.env.cr.execute(
                SQL(
                    "UPDATE %s SET %s = %s WHERE id > %s",
                    SQL.identifier(table),
                    SQL.identifier(column),
                    cls._at(days),
                    marks[table],
                )
            )
        cls.env.invalidate_all()
        # the layers and lines were dated back by SQL: their sums per month and the movements too
        cls.env["stock.lot.valuation.month"]._rebuild()
        cls.env["stock.lot.valuation.movement"]._rebuild()

    @classmethod
    def _move(cls, lot, quantity, source, destination, days, **values):
        marks = cls._last_ids()
        move = cls.env["stock.move"].create(
            {
                "name": lot.name,
                "product_id": lot.product_id.id,
                "product_uom_qty": quantity,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "company_id": cls.company.id,
                "partner_id": cls.customer.id if destination == cls.customers else False,
                "restrict_lot_id": lot.id,
                **values,
            }
        )
        move._action_confirm()
        move._action_assign()
        if not move.move_line_ids:
            cls.env["stock.move.line"].create(
                {"move_id": move.id, "product_id": lot.product_id.id, "location_id": source.id}
            )
        move.move_line_ids.write({"lot_id": lot.id, "quantity": quantity, "picked": True})
        move.picked = True
        move._action_done()
        assert move.state == "done"
        cls._backdate(marks, days)
        return move

    @classmethod
    def _scrap(cls, lot, quantity, days):
        marks = cls._last_ids()
        cls.env["stock.scrap"].create(
            {
                "product_id": lot.product_id.id,
                "lot_id": lot.id,
                "scrap_qty": quantity,
                "location_id": cls.stock.id,
                "company_id": cls.company.id,
            }
        ).action_validate()
        cls._backdate(marks, days)

    @classmethod
    def _count(cls, counted, days):
        marks = cls._last_ids()
        quants = cls.env["stock.quant"].search(
            [("lot_id", "in", [lot.id for lot in counted]), ("location_id", "=", cls.stock.id)]
        )
        for quant in quants:
            quant.inventory_quantity = counted[quant.lot_id]
        quants.action_apply_inventory()
        cls._backdate(marks, days)

    @classmethod
    def _marked_down_sale_line(cls, lot, quantity, price, discount):
        rule = cls.env["stock.lot.markdown.rule"].create(
            {
                "name": "KPI clearance",
                "company_id": cls.company.id,
                "trigger": "remaining_days",
                "threshold_days": 1,
                "discount": discount,
            }
        )
        order = cls.env["sale.order"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": lot.product_id.id,
                            "product_uom_qty": quantity,
                            "price_unit": price,
                            "discount": discount,
                        }
                    )
                ],
            }
        )
        line = order.order_line
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL("UPDATE sale_order_line SET lot_id = %s, markdown_rule_id = %s WHERE id = %s", lot.id, rule.id, line.id)
        )
        cls.env.invalidate_all()
        return line

    def _kpis(self, **kwargs):
        kpis = self.env["stock.lot.kpi"].get_kpis(self.date_from, self.date_to, [self.company.id], **kwargs)
        return {kpi["code"]: kpi for kpi in kpis}


@tagged("post_install", "-at_install")
class TestKpiByHand(KpiCommon):
    def test_every_metric_by_hand(self):
        kpis = self._kpis()
        expected = {
            # code: (value, previous)
            "lot_accuracy": (round(100 * 2 / 3, 2), 100.0),
            "fefo_compliance": (50.0, 100.0),
            "gs1_capture": (round(100 / 3, 2), 100.0),
            "obsolescence": (round(100 * 16 / 96, 2), None),
            "shrinkage": (round(100 * 7 / 96, 2), None),
            "recall_response_hours": (15.0, None),
            "mock_recall_trace_ms": (200.0, 50.0),
            "recall_scope_avoided": (100.0, None),
            "recovered_value": (16.0, None),
            "inventory_value": (96.0, None),
            "expired_value": (16.0, None),
            "near_expiry_value": (51.0, None),
            "blocked_value": (29.0, None),
            # the projection exists for the present only
            "expiry_value_at_risk": (None, None),
            # nothing scanned (test_lot_scan measures them)
            "scan_coverage": (None, None),
            "picking_accuracy": (None, None),
        }
        self.assertEqual(set(kpis), set(expected))
        for code, (value, previous) in expected.items():
            with self.subTest(code=code):
                self.assertEqual(kpis[code]["value"], value)
                self.assertEqual(kpis[code]["previous"], previous)
        self.assertEqual(kpis["lot_accuracy"]["unit"], "percent")
        self.assertEqual(kpis["recall_response_hours"]["unit"], "hours")
        self.assertEqual(kpis["mock_recall_trace_ms"]["unit"], "ms")
        self.assertEqual(kpis["inventory_value"]["unit"], "currency")
        self.assertEqual(kpis["inventory_value"]["currency_id"], self.company.currency_id.id)

    def test_recalls_created_the_ordinary_way_count(self):
        """A real recall created and contained by the ORM (``is_mock`` never written: NULL) is measured."""
        recall = self.env["stock.lot.recall"].create({"lot_ids": [Command.set(self.l2.ids)], "reason": "Seal defect"})
        recall.action_trace()
        recall.action_contain()
        self.env.flush_all()
        kpis = {
            kpi["code"]: kpi for kpi in self.env["stock.lot.kpi"].get_kpis(self.today, self.today, [self.company.id])
        }
        self.assertIsNotNone(kpis["recall_response_hours"]["value"])
        self.assertLess(kpis["recall_response_hours"]["value"], 1.0)
        self.assertEqual(kpis["recall_scope_avoided"]["value"], recall.scope_avoided_value)

    def test_inventory_value_is_the_valuation_by_lot_and_the_layers(self):
        kpis = self._kpis()
        report = self.env["stock.lot.valuation.report"].with_context(valuation_date=self.date_to)
        rows = report.search([("company_id", "=", self.company.id)])
        self.assertEqual(kpis["inventory_value"]["value"], sum(rows.mapped("value")))
        expired = rows.filtered(lambda row: row.expiry_bucket == "expired")
        self.assertEqual(kpis["expired_value"]["value"], sum(expired.mapped("value")))
        end = datetime.combine(self.date_to, time.max)
        layers = self.env["stock.valuation.layer"].search(
            [("company_id", "=", self.company.id), ("create_date", "<=", end)]
        )
        self.assertAlmostEqual(kpis["inventory_value"]["value"], sum(layers.mapped("value")), places=2)

    def test_targets_colours_and_drill_downs(self):
        self.company.lot_kpi_target_lot_accuracy = 99.0
        self.company.lot_kpi_target_fefo_compliance = 50.0
        self.company.lot_kpi_target_recall_response_hours = 12.0
        self.company.lot_kpi_target_gs1_capture = 34.0
        kpis = self._kpis()
        self.assertEqual(kpis["lot_accuracy"]["status"], "danger")
        self.assertEqual(kpis["fefo_compliance"]["status"], "success")
        self.assertEqual(kpis["recall_response_hours"]["status"], "warning")  # 15 h, within 1.5 x 12 h
        self.assertEqual(kpis["gs1_capture"]["status"], "warning")  # 33.33 %, within 5 % of 34 %
        self.assertFalse(kpis["inventory_value"]["status"])
        self.company.lot_kpi_target_fefo_compliance = 0
        self.assertIsNone(self._kpis()["fefo_compliance"]["target"])
        # each tile opens the records behind its number
        for code, model, count in (
            ("lot_accuracy", "stock.lot.count", 3),
            ("fefo_compliance", "stock.move.line", 1),
            ("gs1_capture", "stock.move.line", 2),
            ("shrinkage", "stock.move", 2),
            ("recall_response_hours", "stock.lot.recall", 2),
            ("mock_recall_trace_ms", "stock.lot.recall", 3),
            ("recall_scope_avoided", "stock.lot.recall", 2),
            ("recovered_value", "stock.lot.markdown.recovery.report", 1),
        ):
            with self.subTest(code=code):
                action = kpis[code]["action"]
                self.assertEqual(action["type"], "ir.actions.act_window")
                self.assertEqual(action["res_model"], model)
                self.assertEqual(self.env[model].search_count(action["domain"]), count)
        action = kpis["expired_value"]["action"]
        rows = self.env[action["res_model"]].with_context(**action["context"]).search(action["domain"])
        self.assertEqual(rows.lot_id, self.l1)

    def test_no_data_is_none(self):
        first = self.today - timedelta(days=400)
        kpis = self.env["stock.lot.kpi"].get_kpis(first, first + timedelta(days=9), [self.company.id])
        for kpi in kpis:
            with self.subTest(code=kpi["code"]):
                self.assertIsNone(kpi["value"])
                self.assertIsNone(kpi["previous"])

    def test_trend_by_month(self):
        trend = self.env["stock.lot.kpi"].get_kpi_trend(self.date_to, [self.company.id], months=4)
        self.assertEqual(len(trend["months"]), 4)
        self.assertEqual(trend["months"][-1], self.date_to.strftime("%Y-%m"))
        self.assertEqual(len(trend["values"]["inventory_value"]), 4)
        self.assertEqual(trend["values"]["inventory_value"][-1], 96.0)
        # the months share the period's events: their counts add up to the period's
        counts = self.env["stock.lot.count"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(counts), 4)

    def test_value_at_risk_of_the_present_is_the_expiry_risk_report(self):
        self.env["stock.lot"]._refresh_expiry_risk()
        rows = self.env["stock.lot.expiry.risk"].search([("company_id", "=", self.company.id)])
        at_risk = sum(rows.mapped("expiry_value_at_risk"))
        self.assertGreater(at_risk, 0)
        kpis = {
            kpi["code"]: kpi
            for kpi in self.env["stock.lot.kpi"].get_kpis(self.today - timedelta(days=6), self.today, [self.company.id])
        }
        self.assertAlmostEqual(kpis["expiry_value_at_risk"]["value"], at_risk, places=2)
        action = kpis["expiry_value_at_risk"]["action"]
        self.assertEqual(action["res_model"], "stock.lot.expiry.risk")
        drilled = self.env["stock.lot.expiry.risk"].search(action["domain"])
        self.assertAlmostEqual(sum(drilled.mapped("expiry_value_at_risk")), at_risk, places=2)

    def test_query_count_does_not_grow_with_the_data(self):
        Kpi = self.env["stock.lot.kpi"]
        Kpi.get_kpis(self.date_from, self.date_to, [self.company.id])
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        Kpi.get_kpis(self.date_from, self.date_to, [self.company.id])
        small = self.env.cr.sql_log_count - before
        lots = self.env["stock.lot"].create(
            [{"name": f"KPI-N{index}", "product_id": self.p3.id} for index in range(15)]
        )
        for lot in lots:
            self._move(lot, 3, self.suppliers, self.stock, -50)
        self._count({lot: 2 for lot in lots}, -40)
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        kpis = {kpi["code"]: kpi for kpi in Kpi.get_kpis(self.date_from, self.date_to, [self.company.id])}
        self.assertEqual(self.env.cr.sql_log_count - before, small)
        self.assertEqual(kpis["lot_accuracy"]["value"], round(100 * 2 / 18, 2))


@tagged("post_install", "-at_install")
class TestKpiAccessAndInput(KpiCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "LMC KPI Other"})
        cls.lot_user = cls._user("lmc_kpi_user", "lot_margin_control.group_lot_control_user", cls.company)
        cls.accountant = cls._user("lmc_kpi_accountant", "account.group_account_readonly,base.group_user", cls.company)
        cls.outsider = cls._user(
            "lmc_kpi_outsider",
            "lot_margin_control.group_lot_control_quality_manager,stock.group_stock_manager",
            cls.other_company,
        )

    @classmethod
    def _user(cls, login, groups, company):
        return new_test_user(
            cls.env, login=login, groups=groups, company_id=company.id, company_ids=[Command.set(company.ids)]
        )

    def test_money_tiles_are_for_cost_readers(self):
        kpis = self.env["stock.lot.kpi"].with_user(self.lot_user).get_kpis(self.date_from, self.date_to)
        codes = {kpi["code"] for kpi in kpis}
        self.assertIn("lot_accuracy", codes)
        self.assertIn("obsolescence", codes)
        self.assertFalse(codes & {"inventory_value", "expired_value", "recall_scope_avoided", "recovered_value"})
        by_code = {kpi["code"]: kpi for kpi in kpis}
        self.assertEqual(by_code["obsolescence"]["action"]["res_model"], "stock.lot")
        kpis = self.env["stock.lot.kpi"].with_user(self.accountant).get_kpis(self.date_from, self.date_to)
        self.assertEqual({kpi["code"]: kpi["value"] for kpi in kpis}["inventory_value"], 96.0)

    def test_other_companies_are_refused(self):
        Kpi = (
            self.env["stock.lot.kpi"].with_user(self.outsider).with_context(allowed_company_ids=self.other_company.ids)
        )
        with self.assertRaises(UserError):
            Kpi.get_kpis(self.date_from, self.date_to, [self.company.id])
        # its own company has nothing of ours
        kpis = Kpi.get_kpis(self.date_from, self.date_to)
        self.assertIsNone({kpi["code"]: kpi["value"] for kpi in kpis}["inventory_value"])
        with self.assertRaises(UserError):
            self.env["stock.lot.kpi"].get_kpis(self.date_from, self.date_to, [987654321])

    def test_users_outside_lot_control_are_refused(self):
        portal = new_test_user(self.env, login="lmc_kpi_portal", groups="base.group_portal")
        salesman = new_test_user(self.env, login="lmc_kpi_sales", groups="sales_team.group_sale_salesman")
        for user in (portal, salesman):
            with self.assertRaises(AccessError):
                self.env["stock.lot.kpi"].with_user(user).get_kpis(self.date_from, self.date_to)

    def test_bad_input(self):
        Kpi = self.env["stock.lot.kpi"]
        bad_calls = [
            (self.date_to, self.date_from, None),
            ("2026-13-45", "2026-12-31", None),
            (20260101, "2026-12-31", None),
            (None, "2026-12-31", None),
            ("1800-01-01", "1800-01-31", None),
            ("2026-01-01", "9999-12-31", None),
            ("2026-01-01", "2026-01-31", "1"),
            ("2026-01-01", "2026-01-31", [True]),
            ("2026-01-01", "2026-01-31", []),
            ("2026-01-01", "2026-01-31", {"id": 1}),
        ]
        for date_from, date_to, company_ids in bad_calls:
            with self.subTest(date_from=date_from, date_to=date_to, company_ids=company_ids):
                with self.assertRaises(UserError):
                    Kpi.get_kpis(date_from, date_to, company_ids)
        for months in (0, 25, "6", 2.5, True):
            with self.subTest(months=months):
                with self.assertRaises(UserError):
                    Kpi.get_kpi_trend(self.date_to, [self.company.id], months=months)
        # strings and dates are both dates
        self.assertEqual(
            Kpi.get_kpis(self.date_from.isoformat(), self.date_to.isoformat(), self.company.id),
            Kpi.get_kpis(self.date_from, self.date_to, [self.company.id]),
        )


@tagged("post_install", "-at_install")
class TestKpiValuationAtDates(KpiCommon):
    """The value tiles at several dates at once equal the valuation by lot at each date, to the cent.

    On top of the period's history: an average-cost product valued by product whose value does not
    split evenly over its three lots in two locations (shares rounded, the difference on the largest
    row), and a FIFO product valued by lot held in two locations; a delivery and a receipt after
    the period end (undone for the earlier dates).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        average = cls.env["product.category"].create({"name": "KPI Average", "property_cost_method": "average"})
        fifo = cls.env["product.category"].create({"name": "KPI FIFO", "property_cost_method": "fifo"})
        cls.p4 = cls.env["product.product"].create(
            {"name": "KPI Average", "is_storable": True, "tracking": "lot", "categ_id": average.id}
        )
        cls.p5 = cls.env["product.product"].create(
            {"name": "KPI By Lot", "is_storable": True, "tracking": "lot", "categ_id": fifo.id, "lot_valuated": True}
        )
        shelf = cls.env["stock.location"].create({"name": "KPI Shelf", "location_id": cls.stock.id})
        now = fields.Datetime.now()
        cls.a1 = cls._lot("KPI-A1", cls.p4, cls._at(-20))
        cls.a2 = cls._lot("KPI-A2", cls.p4, now + timedelta(days=200))
        cls.a3 = cls._lot("KPI-A3", cls.p4, now + timedelta(days=5), alert_date=cls._at(-25))
        cls.b1 = cls._lot("KPI-B1", cls.p5, now + timedelta(days=30))
        cls._move(cls.a1, 1, cls.suppliers, cls.stock, -50, price_unit=1.0)
        cls._move(cls.a2, 1, cls.suppliers, shelf, -50, price_unit=2.0)
        cls._move(cls.a3, 1, cls.suppliers, cls.stock, -50, price_unit=0.5)
        cls._move(cls.b1, 7, cls.suppliers, cls.stock, -50, price_unit=1.37)
        cls._move(cls.b1, 3, cls.stock, shelf, -45)
        cls._move(cls.b1, 2, cls.stock, cls.customers, -20)
        cls._move(cls.a2, 1, cls.suppliers, shelf, -10, price_unit=4.0)

    def _assert_valuations_are_the_report(self, days, empty_days=()):
        """``_get_valuations`` at the ends of ``days`` (one statement) equals the valuation by lot's sums
        by bucket at each day, to the cent, and the layers' total; ``empty_days`` have no row."""
        Kpi = self.env["stock.lot.kpi"]
        report = self.env["stock.lot.valuation.report"]
        instants = [Kpi._end_of_day(day) for day in days]
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        values = Kpi._get_valuations(instants, [self.company.id])
        # the closes kept for past instants (one), the others' statement (and its planner settings back)
        past = any(not report._resolve_valuation_date(instant)[1] for instant in instants)
        self.assertEqual(self.env.cr.sql_log_count - before, 2 + past)
        for day, (total, expired, near, held) in zip(days, values, strict=True):
            with self.subTest(day=day):
                rows = report.with_context(valuation_date=day).search([("company_id", "=", self.company.id)])
                if not rows:
                    # e.g. T-61: everything received was shipped (layers summing to 0): no row, no data
                    self.assertIn(day, empty_days)
                    self.assertEqual((total, expired, near, held), (None, None, None, None))
                    continue
                # to the cent (the sums differ from Python's float sums only in the last bits)
                for value, report_rows in (
                    (total, rows),
                    (expired, rows.filtered(lambda row: row.expiry_bucket == "expired")),
                    (near, rows.filtered(lambda row: row.shelf_life_state == "near_expiry")),
                    (held, rows.filtered(lambda row: row.quality_state in ("quarantine", "blocked", "recalled"))),
                ):
                    self.assertAlmostEqual(value, sum(report_rows.mapped("value")), places=6)
                layers = self.env["stock.valuation.layer"].search(
                    [("company_id", "=", self.company.id), ("create_date", "<=", Kpi._end_of_day(day))]
                )
                self.assertAlmostEqual(total, sum(layers.mapped("value")), places=2)
        return values

    def _assert_hashed_rows_are_the_window_rows(self, days):
        """The valuation by lot's two ways of spreading a partition's value (window functions for its own
        reads, hash aggregates for snapshots) give the same rows, value for value, at each day."""
        report = self.env["stock.lot.valuation.report"]
        self.env.flush_all()
        for day in days:
            as_of, is_now = report._resolve_valuation_date(self.env["stock.lot.kpi"]._end_of_day(day) if day else None)
            rows = {}
            for hashed in (False, True):
                query = SQL("SELECT * FROM (%s) AS report ORDER BY id", report._valuation_query(as_of, is_now, hashed))
                rows[hashed] = report._execute_hashed(query) if hashed else self.env.execute_query(query)
            with self.subTest(day=day):
                self.assertTrue(rows[False])
                self.assertEqual(rows[True], rows[False])

    def test_ties_zero_stock_and_value_without_stock_are_shared_as_the_report_does(self):
        """Two rows of the same size (the first made takes the rounding difference, here into the
        expired bucket), a product whose stock adds up to nothing while it still has value (the value
        on a row of its own, the stock rows worth 0), stock without any layer (worth 0)."""
        average = self.env["product.category"].create({"name": "KPI Ties", "property_cost_method": "average"})
        tie, unheld, unvalued = (
            self.env["product.product"].create(
                {"name": f"KPI {name}", "is_storable": True, "tracking": "lot", "categ_id": average.id}
            )
            for name in ("Tie", "Unheld", "Unvalued")
        )
        shelf = self.env["stock.location"].create({"name": "KPI Tie Shelf", "location_id": self.stock.id})
        now = fields.Datetime.now()
        expired_lot = self._lot("KPI-T1", tie, self._at(-20))
        fresh_lot = self._lot("KPI-T2", tie, now + timedelta(days=90))
        self._move(expired_lot, 2, self.suppliers, self.stock, -25, price_unit=1.0)
        self._move(fresh_lot, 2, self.suppliers, shelf, -25, price_unit=1.005)
        unheld_lot = self._lot("KPI-U1", unheld, now + timedelta(days=90))
        self._move(unheld_lot, 2, self.suppliers, self.stock, -25, price_unit=5.0)
        unvalued_lot = self._lot("KPI-V1", unvalued, now + timedelta(days=90))
        Quant = self.env["stock.quant"].sudo()
        # inventory set by hand, no layer: the unheld product's stock is 2 - 2, the unvalued one's 3
        Quant._update_available_quantity(unheld, shelf, -2, lot_id=unheld_lot)
        Quant._update_available_quantity(unvalued, self.stock, 3, lot_id=unvalued_lot)
        values = self._assert_valuations_are_the_report([self.date_to, self.today])
        report = self.env["stock.lot.valuation.report"]
        rows = report.search([("product_id", "=", tie.id)])
        # 4.01 over two rows of 2: 2.01 each rounded, the first made gives back the cent
        self.assertEqual(sorted(rows.mapped("value")), [2.0, 2.01])
        self.assertEqual(rows.filtered(lambda row: row.lot_id == expired_lot).value, 2.0)
        self.assertEqual(sum(report.search([("product_id", "=", unheld.id)]).mapped("value")), 10.0)
        self.assertFalse(any(report.search([("product_id", "=", unvalued.id)]).mapped("value")))
        self.assertIsNotNone(values[-1][0])
        self._assert_hashed_rows_are_the_window_rows([self.date_to, None])

    def test_runs_in_a_read_only_transaction(self):
        """What a hot-standby replica allows: no write, no temporary table (its planner settings are
        local to the transaction and leave a larger work memory as it was)."""
        with odoo.sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            cr.execute("SET TRANSACTION READ ONLY")
            cr.execute("SET LOCAL work_mem = '256MB'")
            env = api.Environment(cr, SUPERUSER_ID, {"tz": "UTC"})
            company = env.ref("base.main_company")
            kpis = env["stock.lot.kpi"].get_kpis(self.today.replace(day=1), self.today, [company.id])
            trend = env["stock.lot.kpi"].get_kpi_trend(self.today, [company.id], months=3)
            cr.execute("SHOW work_mem")
            self.assertEqual(cr.fetchone()[0], "256MB")
            cr.execute("SHOW jit")
            self.assertEqual(cr.fetchone()[0], "off")
            cr.rollback()
        self.assertEqual(len(trend["months"]), 3)
        self.assertIn("inventory_value", {kpi["code"] for kpi in kpis})

    def test_values_at_several_dates_are_the_valuation_by_lot(self):
        Kpi = self.env["stock.lot.kpi"]
        report = self.env["stock.lot.valuation.report"]
        days = [self.date_to - timedelta(days=30), self.date_to, self.today - timedelta(days=15), self.today]
        self._assert_valuations_are_the_report(days, empty_days=[days[0]])
        # the average-cost product's 3.50 over three units does not split evenly: the report's rounding
        rows = report.with_context(valuation_date=self.date_to).search([("product_id", "=", self.p4.id)])
        self.assertEqual(sorted(rows.mapped("value")), [1.16, 1.17, 1.17])
        self._assert_hashed_rows_are_the_window_rows(days[1:-1] + [None])
        # before anything happened: no data either
        self.assertEqual(
            Kpi._get_valuations([Kpi._end_of_day(self.today - timedelta(days=400))], [self.company.id]),
            [(None, None, None, None)],
        )


class TestKpiMonthEndCloses(KpiCommon):
    """A closed month's value tiles come from its month-end close (a whole-company valuation snapshot
    kept as a period end at the month's last instant): the same figures as computing them, read from
    the snapshot's lines, and as they stood when the month was closed."""

    def _snapshot(self, day, **values):
        return (
            self.env["stock.lot.valuation.snapshot"]
            .with_context(tz="UTC")
            .create({"company_id": self.company.id, "valuation_date": day, **values})
        )

    def test_a_kept_close_gives_the_computed_figures_and_keeps_them(self):
        Kpi = self.env["stock.lot.kpi"]
        closed, other = self.date_to, self.today - timedelta(days=15)
        instants = [Kpi._end_of_day(closed), Kpi._end_of_day(other), Kpi._end_of_day(self.today)]
        computed = Kpi._get_valuations(instants, [self.company.id])
        self.assertEqual(computed[0], (96.0, 16.0, 51.0, 29.0))
        self._snapshot(closed, is_period_end=True)
        # neither a working copy nor a filtered snapshot is a close
        self._snapshot(other)
        self._snapshot(other, is_period_end=True, categ_ids=[Command.set(self.p1.categ_id.ids)])
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        self.assertEqual(Kpi._get_valuations(instants, [self.company.id]), computed)
        self.assertEqual(self.env.cr.sql_log_count - before, 3)
        # L2 (near expiry, 51.00 at the close) is quarantined afterwards: the closed month keeps the value
        # held as it was closed; an instant without a close counts it as held
        self.l2.action_quality_quarantine("Lab check")
        self.env.flush_all()
        closed_now, other_now, _present = Kpi._get_valuations(instants, [self.company.id])
        self.assertEqual(closed_now, computed[0])
        self.assertEqual(other_now[3], computed[1][3] + 51.0)
        # a second company without a close at that instant: both computed (the quarantine counts)
        company_b = self.env["res.company"].create({"name": "LMC KPI Other"})
        self.env.user.company_ids += company_b
        both = Kpi._get_valuations(instants[:1], [self.company.id, company_b.id])
        self.assertEqual(both, [(96.0, 16.0, 51.0, 80.0)])

    def test_the_overview_of_a_closed_month_reads_the_close(self):
        Kpi = self.env["stock.lot.kpi"]
        computed = {kpi["code"]: kpi for kpi in Kpi.get_kpis(self.date_from, self.date_to, [self.company.id])}
        self._snapshot(self.date_to, is_period_end=True)
        self.l3.action_quality_release("Cleared")
        kept = {kpi["code"]: kpi for kpi in Kpi.get_kpis(self.date_from, self.date_to, [self.company.id])}
        for code in ("inventory_value", "expired_value", "near_expiry_value", "blocked_value"):
            self.assertEqual(kept[code]["value"], computed[code]["value"], code)
        self.assertEqual(kept["blocked_value"]["value"], 29.0)
        # the drill-down opens the close's lines behind the number, not the valuation recomputed today
        self.assertEqual(computed["blocked_value"]["action"]["res_model"], "stock.lot.valuation.report")
        for code in ("inventory_value", "blocked_value"):
            action = kept[code]["action"]
            self.assertEqual(action["res_model"], "stock.lot.valuation.snapshot.line")
            lines = self.env[action["res_model"]].with_context(**action["context"]).search(action["domain"])
            self.assertAlmostEqual(sum(lines.mapped("value")), kept[code]["value"], places=2)

    def test_the_cron_keeps_each_closed_month_once(self):
        """Every month ended since the company's first move (at most ``months``), at the end of its last
        day in the time zone of the company's address; a month already kept is left alone."""
        Snapshot = self.env["stock.lot.valuation.snapshot"]
        self.company.partner_id.tz = "Europe/Brussels"
        mine = [("company_id", "=", self.company.id)]
        Snapshot._cron_keep_month_ends(months=4)
        closes = Snapshot.search(mine)
        brussels = Snapshot.with_context(tz="Europe/Brussels")
        first_move = min(self.env["stock.move"].search([*mine, ("state", "=", "done")]).mapped("date"))
        expected = []
        month_end = fields.Date.context_today(brussels).replace(day=1) - timedelta(days=1)
        for _index in range(4):
            instant = brussels.env["stock.lot.valuation.report"]._get_as_of_instant(month_end)
            if instant >= first_move:
                expected.append((month_end, instant))
            month_end = month_end.replace(day=1) - timedelta(days=1)
        self.assertTrue(expected)
        self.assertLess(len(expected), 4, "the history starts T-80: the oldest month ended before it")
        self.assertEqual(sorted((close.valuation_date, close.valuation_datetime) for close in closes), sorted(expected))
        self.assertTrue(all(closes.mapped("is_period_end")) and all(closes.mapped("is_whole_company")))
        self.assertEqual(
            sorted(closes.mapped("name")), sorted(f"{day.strftime('%Y-%m')} close" for day, _instant in expected)
        )
        layers = self.env["stock.valuation.layer"]
        for close in closes:
            total = sum(layers.search([*mine, ("create_date", "<=", close.valuation_datetime)]).mapped("value"))
            self.assertAlmostEqual(close.total_value, total, places=2)
        # kept once: a second run makes only the close deleted meanwhile, and nothing after that
        closes[:1].unlink()
        Snapshot._cron_keep_month_ends(months=4)
        self.assertEqual(len(Snapshot.search([*mine, ("is_period_end", "=", True)])), len(expected))
        Snapshot._cron_keep_month_ends(months=4)
        self.assertEqual(len(Snapshot.search([*mine, ("is_period_end", "=", True)])), len(expected))
