"""The roll-forward from the valuation wizard, its spreadsheet, rights, companies and bad input.

Bad input gets a clear error and changes nothing: an end before the start,
dates out of range or not dates (the context keys of an RPC ``search_read``:
UserError; the wizard's fields: ValidationError on save, UserError on the
buttons). A start before the company's first move is not an error: the
opening balance is zero, and the screen and the spreadsheet say why.
"""

import io
from datetime import date, timedelta

import openpyxl

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .test_valuation_rollforward import ROW_FIELDS
from .valuation_common import ValuationCommon


@tagged("post_install", "-at_install")
class TestRollforwardWizard(ValuationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fifo = cls._valuation_category("LMC Roll Wizard FIFO", "fifo", "real_time")
        average = cls._valuation_category("LMC Roll Wizard AVCO", "average", "real_time")
        cls.by_lot = cls._valued_product("LMC Roll Wizard Olives", fifo, lot_valuated=True)
        cls.ordinary = cls._ordinary_product("LMC Roll Wizard Crackers", average)
        cls.products = cls.by_lot | cls.ordinary
        cls.lot_a = cls._lot("ROLLW-A", product=cls.by_lot)
        cls.lot_b = cls._lot("ROLLW-B", product=cls.ordinary)
        cls._receive(cls.by_lot, [(cls.lot_a, 10)], 5.0)
        cls._receive(cls.ordinary, [(cls.lot_b, 10)], 3.0)
        cls._backdate(cls._days_ago(40))
        cls._deliver(cls.by_lot, [(cls.lot_a, 4)])
        cls._scrap(cls.lot_b, 2)
        cls._backdate(cls._days_ago(10))
        cls.Rollforward = cls.env["stock.lot.valuation.rollforward"]
        cls.today = fields.Date.context_today(cls.Rollforward)
        cls.wizard = cls.env["stock.lot.valuation.wizard"].create(
            {
                "company_id": cls.env.company.id,
                "categ_ids": [Command.set(cls.products.categ_id.ids)],
                "valuation_date_from": cls.today - timedelta(days=20),
            }
        )

    def _layers_total(self, instant):
        layers = self.env["stock.valuation.layer"].search(
            [("product_id", "in", self.products.ids), ("create_date", "<=", instant)]
        )
        return sum(layers.mapped("value"))

    def _open(self, wizard=None):
        action = (wizard or self.wizard).action_open_rollforward()
        rows = self.Rollforward.with_context(**action["context"]).search_read(action["domain"], ROW_FIELDS)
        return action, rows

    def _attachments(self):
        return self.env["ir.attachment"].search_count([])

    def assertRefused(self, error_class, call):
        """``call`` raises exactly ``error_class`` with a message, and nothing is written."""
        attachments = self._attachments()
        before = self.wizard.read(["valuation_date", "valuation_date_from"])
        with self.assertRaises(Exception) as caught:
            call()
        self.assertIs(type(caught.exception), error_class, caught.exception)
        self.assertTrue(str(caught.exception.args[0]).strip())
        self.env.invalidate_all()
        self.assertEqual(self._attachments(), attachments)
        self.assertEqual(self.wizard.read(["valuation_date", "valuation_date_from"]), before)

    # ------------------------------------------------------------------
    # Screen and spreadsheet
    # ------------------------------------------------------------------
    def test_wizard_opens_the_rows_of_its_period(self):
        action, rows = self._open()
        self.assertEqual(action["res_model"], "stock.lot.valuation.rollforward")
        self.assertEqual([view_type for _id, view_type in action["views"]], ["list", "pivot"])
        self.assertEqual(
            action["context"],
            {
                "valuation_date_from": fields.Date.to_string(self.today - timedelta(days=20)),
                "valuation_date": fields.Date.to_string(self.today),
            },
        )
        by_lot = {row["lot_id"][0]: row for row in rows}
        self.assertEqual(set(by_lot), {self.lot_a.id, self.lot_b.id})
        self.assertEqual((by_lot[self.lot_a.id]["delivery_qty"], by_lot[self.lot_a.id]["delivery_value"]), (4, 20.0))
        self.assertEqual((by_lot[self.lot_b.id]["writeoff_qty"], by_lot[self.lot_b.id]["writeoff_value"]), (2, 6.0))
        self.assertAlmostEqual(sum(row["closing_value"] for row in rows), self._layers_total(fields.Datetime.now()))
        views = self.Rollforward.get_views([(False, "list"), (False, "pivot"), (False, "search")])["views"]
        self.assertIn('name="revaluation_value"', views["list"]["arch"])
        self.assertIn('name="product_categ_id"', views["pivot"]["arch"])

    def test_xlsx_with_subtotals(self):
        _action, rows = self._open()
        action = self.wizard.action_export_rollforward_xlsx()
        self.assertEqual(action["type"], "ir.actions.act_url")
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/web/content/")[1].split("?")[0]))
        workbook = openpyxl.load_workbook(io.BytesIO(attachment.raw), data_only=True)
        self.assertEqual(workbook.sheetnames, ["Summary", "Roll-forward", "By Category"])
        sheet = workbook["Roll-forward"]
        self.assertEqual(sheet.freeze_panes, "D2")
        self.assertTrue(sheet.auto_filter.ref.startswith("A1:"))
        header = [cell.value for cell in sheet[1]]
        lines = list(sheet.iter_rows(min_row=2, values_only=True))
        detail = [line for line in lines if line[1]]
        subtotals = [line for line in lines[:-1] if not line[1]]
        self.assertEqual(len(detail), len(rows))
        self.assertEqual(len(subtotals), len(self.products.categ_id))
        self.assertEqual(lines[-1][0], "Grand Total")
        # detail rows grouped (outline level 1) under their subtotal, which is not
        first_subtotal = next(index for index, line in enumerate(lines) if not line[1]) + 2
        self.assertEqual(sheet.row_dimensions[2].outline_level, 1)
        self.assertEqual(sheet.row_dimensions[first_subtotal].outline_level, 0)
        for title, key in (("Closing Value", "closing_value"), ("Deliveries (COGS)", "delivery_value")):
            column = header.index(title)
            self.assertAlmostEqual(lines[-1][column], sum(row[key] for row in rows), places=2)
            self.assertAlmostEqual(sum(line[column] for line in subtotals), sum(row[key] for row in rows), places=2)
        summary = {line[0]: line[1] for line in workbook["Summary"].iter_rows(values_only=True) if line[0]}
        self.assertAlmostEqual(summary["Closing Value"], sum(row["closing_value"] for row in rows), places=2)
        self.assertAlmostEqual(summary["Opening Value"], sum(row["opening_value"] for row in rows), places=2)
        self.assertAlmostEqual(summary["- Deliveries (COGS)"], -20.0, places=2)
        category = list(workbook["By Category"].iter_rows(min_row=2, values_only=True))
        self.assertEqual(category[-1][0], "Grand Total")

    def test_between_two_kept_snapshots(self):
        Snapshot = self.env["stock.lot.valuation.snapshot"]
        opening = Snapshot.create({"valuation_date": self.today - timedelta(days=20), "is_period_end": True})
        lot = self._lot("ROLLW-C", product=self.by_lot)
        self._receive(self.by_lot, [(lot, 3)], 9.0)
        closing = Snapshot.create({"is_period_end": True})
        wizard = self.env["stock.lot.valuation.wizard"].create(
            {"opening_snapshot_id": opening.id, "closing_snapshot_id": closing.id}
        )
        action, rows = self._open(wizard)
        self.assertEqual(
            action["context"]["valuation_date_from"], fields.Datetime.to_string(opening.valuation_datetime)
        )
        self.assertEqual(action["context"]["valuation_date"], fields.Datetime.to_string(closing.valuation_datetime))
        self.assertAlmostEqual(sum(row["opening_value"] for row in rows), opening.total_value, places=2)
        self.assertAlmostEqual(sum(row["closing_value"] for row in rows), closing.total_value, places=2)
        self.assertIn(opening.name, action["name"])

    # ------------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------------
    def test_end_before_start_is_refused(self):
        self.wizard.valuation_date = self.today - timedelta(days=30)
        self.assertRefused(UserError, self.wizard.action_open_rollforward)
        self.assertRefused(UserError, self.wizard.action_export_rollforward_xlsx)
        rollforward = self.Rollforward.with_context(valuation_date_from="2026-03-31", valuation_date="2026-02-28")
        self.assertRefused(UserError, lambda: rollforward.search_read([], ["closing_value"]))
        self.assertRefused(UserError, lambda: rollforward.read_group([], ["closing_value:sum"], []))

    def test_dates_out_of_range_or_not_dates_are_refused(self):
        for start in ("0001-01-01", "9999-12-31", "yesterday", ["2026-01-01"], 20260101, True, {"a": 1}):
            rollforward = self.Rollforward.with_context(valuation_date_from=start)
            with self.subTest(start=start):
                self.assertRefused(UserError, lambda rollforward=rollforward: rollforward.search_read([], ["id"]))
        for end in ("0001-01-01", "9999-12-31", "2026-02-30"):
            rollforward = self.Rollforward.with_context(valuation_date_from="2026-01-31", valuation_date=end)
            with self.subTest(end=end):
                self.assertRefused(UserError, lambda rollforward=rollforward: rollforward.search_read([], ["id"]))
        self.assertRefused(ValidationError, lambda: self.wizard.write({"valuation_date_from": date(1, 1, 1)}))
        self.assertRefused(ValidationError, lambda: self.wizard.write({"valuation_date_from": date(9999, 12, 31)}))

    def test_start_before_the_first_move_opens_at_zero_and_says_so(self):
        wizard = self.env["stock.lot.valuation.wizard"].create(
            {"categ_ids": [Command.set(self.products.categ_id.ids)], "valuation_date_from": date(2001, 1, 31)}
        )
        action, rows = self._open(wizard)
        self.assertIn("has no stock moves before", action["help"])
        self.assertEqual({row["opening_value"] for row in rows}, {0.0})
        self.assertEqual({row["opening_qty"] for row in rows}, {0.0})
        self.assertAlmostEqual(sum(row["closing_value"] for row in rows), self._layers_total(fields.Datetime.now()))
        export = wizard.action_export_rollforward_xlsx()
        attachment = self.env["ir.attachment"].browse(int(export["url"].split("/web/content/")[1].split("?")[0]))
        workbook = openpyxl.load_workbook(io.BytesIO(attachment.raw), data_only=True)
        notes = [line[0] for line in workbook["Summary"].iter_rows(values_only=True) if line[0]]
        self.assertTrue(any("has no stock moves before" in str(note) for note in notes))

    def test_future_end_means_now_and_no_start_means_last_month_end(self):
        future = self.Rollforward.with_context(
            valuation_date_from=fields.Date.to_string(self.today - timedelta(days=20)),
            valuation_date=fields.Date.to_string(self.today + timedelta(days=30)),
        )
        _opening, _closing, closing_is_now = future._get_period()
        self.assertTrue(closing_is_now)
        opening, _closing, _now = self.Rollforward._get_period()
        month_end = self.Rollforward.with_context(
            valuation_date_from=fields.Date.to_string(self.today.replace(day=1) - timedelta(days=1))
        )._get_period()[0]
        self.assertEqual(opening, month_end)

    # ------------------------------------------------------------------
    # Rights and companies
    # ------------------------------------------------------------------
    def test_rights_and_companies(self):
        salesperson = new_test_user(self.env, login="lmc_roll_sales", groups="sales_team.group_sale_salesman")
        portal = new_test_user(self.env, login="lmc_roll_portal", groups="base.group_portal")
        for user in (self.lot_user, self.quality_manager, salesperson, portal):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.Rollforward.with_user(user).search_read([], ["closing_value"])
        for user in (self.accountant, self.stock_manager):
            rows = self.Rollforward.with_user(user).search_read([("product_id", "in", self.products.ids)], ROW_FIELDS)
            self.assertAlmostEqual(sum(row["closing_value"] for row in rows), self._layers_total(fields.Datetime.now()))
            wizard = self.env["stock.lot.valuation.wizard"].with_user(user).create({})
            self.assertEqual(wizard.action_export_rollforward_xlsx()["type"], "ir.actions.act_url")
        other = self.env["res.company"].create({"name": "LMC Roll Other"})
        other_accountant = new_test_user(
            self.env,
            login="lmc_roll_other_accountant",
            groups="account.group_account_readonly",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        self.assertFalse(self.Rollforward.with_user(other_accountant).search([("product_id", "in", self.products.ids)]))
