# pylint: disable=invalid-commit
import gc
import io
from datetime import timedelta
from unittest.mock import patch

import openpyxl

from odoo import Command, fields, models
from odoo.addons.web.models.models import Base as WebBase
from odoo.exceptions import AccessError, UserError
from odoo.sql_db import Cursor
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from ..models import stock_lot_valuation_snapshot_line as snapshot_line_module
from ..models.stock_lot_valuation_snapshot_line import SNAPSHOT_COLUMNS
from .valuation_common import ValuationCommon

# what a line shows, compared before and after later events
LINE_FIELDS = ["lot_id", "location_id", "quantity", "value", "unit_cost", "quality_state", "shelf_life_state"]


@tagged("post_install", "-at_install")
class TestValuationSnapshot(ValuationCommon):
    """A snapshot keeps the valuation by lot as it was: same rows as the report, never changed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fifo = cls._valuation_category("LMC Snap FIFO", "fifo", "real_time")
        average = cls._valuation_category("LMC Snap AVCO", "average", "manual_periodic")
        cls.by_lot = cls._valued_product("LMC Snap Olives", fifo, lot_valuated=True)
        cls.ordinary = cls._ordinary_product("LMC Snap Crackers", average)
        cls.products = cls.by_lot | cls.ordinary
        cls.lot_a = cls._lot("SNAP-A", product=cls.by_lot, expires_in_days=20)
        cls.lot_b = cls._lot("SNAP-B", product=cls.by_lot, expires_in_days=200)
        cls.lot_c = cls._lot("SNAP-C", product=cls.ordinary, expires_in_days=90)
        cls._receive(cls.by_lot, [(cls.lot_a, 10)], 5.0)
        cls._receive(cls.by_lot, [(cls.lot_b, 10)], 7.0)
        cls._receive(cls.ordinary, [(cls.lot_c, 8)], 3.0)
        cls._deliver(cls.by_lot, [(cls.lot_a, 4)])
        cls._move(cls.by_lot, cls.stock, cls.shelf, [(cls.lot_a, 2)])
        cls._backdate(cls._days_ago(5))
        cls.categories = cls.products.categ_id
        cls.Snapshot = cls.env["stock.lot.valuation.snapshot"]
        cls.Line = cls.env["stock.lot.valuation.snapshot.line"]
        cls.Report = cls.env["stock.lot.valuation.report"]

    def _snapshot(self, user=None, **values):
        values.setdefault("categ_ids", [Command.set(self.categories.ids)])
        return self.Snapshot.with_user(user or self.env.user).create({"company_id": self.env.company.id, **values})

    def _core_value(self, instant=None):
        domain = [("product_id", "in", self.products.ids), ("company_id", "=", self.env.company.id)]
        if instant:
            domain.append(("create_date", "<=", instant))
        return sum(self.env["stock.valuation.layer"].search(domain).mapped("value"))

    def _line_values(self, snapshot):
        return sorted(
            tuple(str(value) for value in line.values())
            for line in self.Line.search_read([("snapshot_id", "=", snapshot.id)], LINE_FIELDS)
        )

    # ------------------------------------------------------------------
    # Made from the valuation
    # ------------------------------------------------------------------
    def test_open_report_makes_a_snapshot_of_the_report_rows(self):
        wizard = self.env["stock.lot.valuation.wizard"].create(
            {"company_id": self.env.company.id, "categ_ids": [Command.set(self.categories.ids)]}
        )
        action = wizard.action_open_report()
        self.assertEqual(action["res_model"], "stock.lot.valuation.snapshot.line")
        lines = self.Line.search(action["domain"])
        snapshot = lines.snapshot_id
        self.assertEqual(len(snapshot), 1)
        self.assertEqual(snapshot.create_uid, self.env.user)
        self.assertEqual(snapshot.valuation_date, fields.Date.context_today(wizard))
        rows = self.Report.search(wizard._get_report_domain())
        self.assertEqual(len(lines), len(rows))
        for column in SNAPSHOT_COLUMNS:
            self.assertEqual(
                sorted(map(str, lines.mapped(column))), sorted(map(str, rows.mapped(column))), f"column {column}"
            )
        self.assertAlmostEqual(snapshot.total_value, self._core_value(), places=2)
        self.assertEqual(snapshot.line_count, len(lines))
        self.assertIn("Categories", snapshot.filter_description)
        # the lines are stored in the report's paper order: category, product, lot, location
        self.assertEqual(lines.ids, sorted(lines.ids))
        self.assertEqual(lines[0].product_categ_id, min(self.categories, key=lambda categ: categ.complete_name))

    def test_fast_read_sets_the_collector_back(self):
        """The fast read pauses Python's garbage collector while it makes its dicts and sets it back as
        it was: on after a read, still off when a caller had turned it off, on after a read that failed
        (a process left without its collector would never free cycles)."""
        report = self.Report.with_user(self.accountant)
        domain = [("product_id", "in", self.products.ids)]
        self.assertTrue(gc.isenabled())
        self.assertTrue(report.search_read(domain, ["value"]))
        self.assertTrue(gc.isenabled())
        gc.disable()
        try:
            report.search_read(domain, ["value"])
            self.assertFalse(gc.isenabled())
        finally:
            gc.enable()
        with (
            patch.object(type(report), "_format_rows", side_effect=ValueError("formatting failed")),
            self.assertRaises(ValueError),
        ):
            report.search_read(domain, ["value"])
        self.assertTrue(gc.isenabled())

    def test_web_search_read_is_the_orms(self):
        """The valuation's and the roll-forward's list pages (SQL views) come with their count from one
        run of the view's statement (the ORM runs it twice: the page, then search_count), and are the
        ORM's pages, value for value: full and partial pages, past the end, a count limit, another
        order, no row, many2ones by id or with their names, a specification the fast read leaves to
        the ORM."""
        report = self.Report.with_user(self.accountant)
        rollforward = self.env["stock.lot.valuation.rollforward"].with_user(self.accountant)
        domain = [("product_id", "in", self.products.ids)]
        for model in (report, rollforward):
            numbers = [name for name in model._fields if name.endswith(("_qty", "_value", "quantity", "value"))]
            spec = {"lot_id": {"fields": {"display_name": {}}}, "product_id": {"fields": {"display_name": {}}}}
            # as the web client asks: names of the columns shown, only the id of one always invisible
            spec |= {"company_id": {}, "currency_id": {"fields": {}}}
            spec |= {name: {} for name in numbers if model._fields[name].store}
            total = model.search_count(domain)
            self.assertGreaterEqual(total, 3)
            calls = {
                "first page": dict(limit=2),
                "second page": dict(offset=2, limit=2),
                "whole": dict(limit=1000),
                "past the end": dict(offset=1000, limit=2),
                "count limit": dict(limit=1, count_limit=2),
                "count limit reached": dict(offset=1, limit=1, count_limit=2),
                "reverse order": dict(limit=2, order="id desc"),
            }
            for name, kwargs in calls.items():
                with self.subTest(model=model._name, call=name):
                    page = model.web_search_read(domain, spec, **kwargs)
                    self.assertEqual(page, WebBase.web_search_read(model, domain, spec, **kwargs))
            page = model.web_search_read(domain, spec, limit=2)
            self.assertEqual(page["length"], total)
            self.assertEqual(len(page["records"]), 2)
            self.assertEqual(set(page["records"][0]["lot_id"]), {"id", "display_name"})
            self.assertEqual(set(page["records"][0]["currency_id"]), {"id"})
            self.assertEqual(model.web_search_read([("id", "=", 0)], spec, limit=2), {"length": 0, "records": []})
            forced = model.with_context(force_search_count=True)
            self.assertEqual(
                forced.web_search_read(domain, spec, limit=1000),
                WebBase.web_search_read(forced, domain, spec, limit=1000),
            )
            # the product's own fields: the ORM's web_read
            deep = {"product_id": {"fields": {"display_name": {}, "default_code": {}}}, "lot_id": {}}
            self.assertEqual(
                model.web_search_read(domain, deep, limit=2), WebBase.web_search_read(model, domain, deep, limit=2)
            )
            # one run of the view for the page and its count, where the ORM runs it twice
            runs = self._view_runs(model, lambda model=model, spec=spec: model.web_search_read(domain, spec, limit=2))
            orm_runs = self._view_runs(
                model, lambda model=model, spec=spec: WebBase.web_search_read(model, domain, spec, limit=2)
            )
            self.assertEqual((runs, orm_runs), (1, 2))

    def _view_runs(self, model, call):
        """How many statements ``call`` runs on ``model``'s SQL view."""
        statements = []
        execute = Cursor.execute

        def spy(cr, query, params=None, log_exceptions=True):
            statements.append(query.code if isinstance(query, SQL) else str(query))
            return execute(cr, query, params, log_exceptions)

        self.env.invalidate_all()
        with patch.object(Cursor, "execute", spy):
            call()
        return sum(f'AS "{model._table}"' in statement for statement in statements)

    def test_fast_read_is_the_orm_read(self):
        """Lines, the valuation and the roll-forward are read in bulk without the ORM's per-value loop
        (stock.lot.bulk.read.mixin): the same dicts in the same order, archived records named,
        missing records left out, for both read formats, with the ORM's access checks."""
        snapshot = self._snapshot()
        self.ordinary.product_tmpl_id.active = False  # archived after the snapshot: still named
        self.lot_c.name = "SNAP-C renamed"
        domain = [("snapshot_id", "=", snapshot.id)]
        fnames = ["snapshot_id", *SNAPSHOT_COLUMNS]
        lines = self.Line.with_user(self.accountant)
        report = self.Report.with_user(self.accountant)
        rollforward = self.env["stock.lot.valuation.rollforward"].with_user(self.accountant)
        rollforward_fields = [name for name in rollforward._fields if name.endswith(("_qty", "_value", "_id"))]
        cases = {
            "lines": (lines, domain, fnames),
            "lines, reverse order": (lines, domain, fnames),
            "valuation": (report, [("product_id", "in", self.products.ids)], list(SNAPSHOT_COLUMNS)),
            "roll-forward": (rollforward, [("product_id", "in", self.products.ids)], rollforward_fields),
        }
        for name, (model, case_domain, case_fields) in cases.items():
            order = "id desc" if "reverse" in name else None
            for load in ("_classic_read", None):
                with self.subTest(case=name, load=load):
                    rows = model.search_read(case_domain, case_fields, order=order, load=load)
                    orm = models.Model.search_read(model, case_domain, case_fields, order=order, load=load)
                    self.assertTrue(rows)
                    self.assertEqual(rows, orm)
        rows = lines.search_read(domain, ["lot_id"])
        self.assertIn((self.lot_c.id, "SNAP-C renamed"), [row["lot_id"] for row in rows])
        # reads by id of many lines (read()): the same, missing records left out
        records = lines.browse([max(lines.search(domain).ids) + 1000, *reversed(lines.search(domain).ids)])
        with patch.object(snapshot_line_module, "FAST_READ_MIN_RECORDS", 1):
            for load in ("_classic_read", None):
                with self.subTest(read="by id", load=load):
                    self.assertEqual(
                        records._read_format(fnames, load), models.Model._read_format(records, fnames, load)
                    )
        for user in (self.lot_user, self.quality_manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.Line.with_user(user).search_read(domain, ["value"])

    def test_past_snapshot_ties_out_to_core(self):
        past = fields.Date.context_today(self.Snapshot) - timedelta(days=3)
        for product in self.products:
            lot = self._lot(f"LATER-{product.id}", product=product)
            self._receive(product, [(lot, 3)], 11.0)
        snapshot = self._snapshot(valuation_date=past)
        self.assertEqual(snapshot.valuation_date, past)
        self.assertAlmostEqual(snapshot.total_value, self._core_value(snapshot.valuation_datetime), places=2)
        self.assertNotAlmostEqual(snapshot.total_value, self._core_value(), places=2)
        summary = snapshot.line_ids.get_summary([("snapshot_id", "=", snapshot.id)])
        report = self.Report.with_context(valuation_date=fields.Date.to_string(past))
        self.assertEqual(summary, report.get_summary(snapshot._get_report_domain()))

    def test_old_snapshots_never_change(self):
        """Moves, a revaluation, a quality block and a markdown after the snapshot leave it as it was."""
        snapshot = self._snapshot()
        before = self._line_values(snapshot)
        total, count = snapshot.total_value, snapshot.line_count
        summary = snapshot.line_ids.get_summary([("snapshot_id", "=", snapshot.id)])
        self._receive(self.by_lot, [(self.lot_b, 5)], 9.0)
        self._deliver(self.ordinary, [(self.lot_c, 3)])
        self._scrap(self.lot_a, 1)
        self._move(self.by_lot, self.stock, self.shelf, [(self.lot_b, 4)])
        self.env["stock.valuation.layer"].create(
            {"company_id": self.env.company.id, "product_id": self.ordinary.id, "quantity": 0, "value": 2.5}
        )
        self.lot_b.with_user(self.quality_manager).action_quality_block(reason="Broken seal")
        self.lot_a.markdown_discount = 40.0
        self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(self._line_values(snapshot), before)
        self.assertEqual((snapshot.total_value, snapshot.line_count), (total, count))
        self.assertEqual(snapshot.line_ids.get_summary([("snapshot_id", "=", snapshot.id)]), summary)
        # a new snapshot sees the change
        self.assertNotEqual(self._line_values(self._snapshot()), before)

    def test_provision_summary_shown_with_it(self):
        self.lot_a.markdown_discount = 30.0
        snapshot = self._snapshot()
        summary = self.Report.get_summary(snapshot._get_report_domain())
        self.assertEqual(snapshot.line_ids.get_summary([("snapshot_id", "=", snapshot.id)]), summary)
        self.assertIn("Provision Suggestion", str(snapshot.summary_html))
        action = snapshot.action_open_lines()
        lines = self.Line.with_context(active_domain=action["domain"], **action["context"])
        shown = self.env["stock.lot.valuation.wizard"].browse(lines.action_open_provision_summary()["res_id"])
        self.assertIn("Suggested Provision", str(shown.summary_html))
        self.assertEqual(lines.action_open_snapshot()["res_id"], snapshot.id)
        # lines of two snapshots have no one summary
        other = self._snapshot()
        with self.assertRaises(UserError):
            self.Line.with_context(
                active_domain=[("snapshot_id", "in", (snapshot | other).ids)]
            ).action_open_provision_summary()

    def test_query_count_does_not_grow_with_rows(self):
        self.env.flush_all()
        with self.assertQueryCount(13):
            small = self._snapshot()
        for index in range(6):
            lot = self._lot(f"SNAP-MORE-{index}", product=self.by_lot)
            self._receive(self.by_lot, [(lot, 2)], 4.0)
        self.env.flush_all()
        with self.assertQueryCount(13):
            large = self._snapshot()
        self.assertEqual(large.line_count, small.line_count + 6)

    def test_xlsx_of_a_snapshot(self):
        snapshot = self._snapshot()
        action = snapshot.action_export_xlsx()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/web/content/")[1].split("?")[0]))
        workbook = openpyxl.load_workbook(io.BytesIO(attachment.raw), data_only=True)
        self.assertEqual(workbook.sheetnames, ["Summary", "By Lot", "By Category"])
        by_lot = workbook["By Lot"]
        self.assertEqual(by_lot.freeze_panes, "A2")
        value_col = [cell.value for cell in by_lot[1]].index("Value")
        lines = list(by_lot.iter_rows(min_row=2, values_only=True))
        self.assertEqual(len([line for line in lines if line[1]]), snapshot.line_count)
        self.assertEqual(lines[-1][0], "Grand Total")
        self.assertAlmostEqual(lines[-1][value_col], snapshot.total_value, places=2)
        summary = {line[0]: line[1] for line in workbook["Summary"].iter_rows(values_only=True) if line[0]}
        self.assertEqual(summary["Snapshot"], snapshot.name)
        self.assertEqual(summary["Made by"], self.env.user.name)
        self.assertAlmostEqual(summary["Total Inventory Value"], snapshot.total_value, places=2)

    # ------------------------------------------------------------------
    # Read-only once made
    # ------------------------------------------------------------------
    def test_only_name_and_period_end_can_change(self):
        snapshot = self._snapshot(user=self.accountant)
        snapshot.with_user(self.accountant).write({"name": "2026-10 close", "is_period_end": True})
        self.assertEqual((snapshot.name, snapshot.is_period_end), ("2026-10 close", True))
        kept = ["total_value", "line_count", "valuation_date", "valuation_datetime", "filter_description"]
        before = (snapshot.read(kept), snapshot.categ_ids)
        lines_before = self._line_values(snapshot)
        for vals in (
            {"total_value": 1.0},
            {"line_count": 0},
            {"valuation_date": "2001-01-01"},
            {"valuation_datetime": "2001-01-01 00:00:00"},
            {"company_id": self.env.company.id},
            {"categ_ids": [Command.clear()]},
            {"line_ids": [Command.clear()]},
            {"filter_description": "forged"},
        ):
            for user in (self.accountant, self.stock_manager, self.env.user):
                with self.subTest(vals=vals, user=user.login), self.assertRaises(UserError):
                    snapshot.with_user(user).write(vals)
        line = snapshot.line_ids[:1]
        for line_as in (line.with_user(self.accountant), line.with_user(self.stock_manager), line.sudo()):
            with self.assertRaises(UserError):
                line_as.write({"value": 1.0})
            with self.assertRaises(UserError):
                line_as.unlink()
            with self.assertRaises(UserError):
                line_as.create({"snapshot_id": snapshot.id, "company_id": self.env.company.id, "value": 9.0})
        with self.assertRaises(UserError):
            snapshot.copy()
        self.env.invalidate_all()
        self.assertEqual((snapshot.read(kept), snapshot.categ_ids), before)
        self.assertEqual(self._line_values(snapshot), lines_before)

    def test_figures_cannot_be_given_at_creation(self):
        count = self.Snapshot.search_count([])
        for vals in ({"total_value": 1e9}, {"line_count": 3}, {"valuation_datetime": "2001-01-01 00:00:00"}):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                self._snapshot(**vals)
        with self.assertRaises(UserError):
            self._snapshot(line_ids=[Command.create({"company_id": self.env.company.id, "value": 5.0})])
        self.assertEqual(self.Snapshot.search_count([]), count)
        # hostile defaults in the context: the figures are still the valuation's
        snapshot = self.Snapshot.with_context(default_total_value=1e9, default_line_count=1).create(
            {"categ_ids": [Command.set(self.categories.ids)]}
        )
        self.assertAlmostEqual(snapshot.total_value, self._core_value(), places=2)
        self.assertEqual(snapshot.line_count, len(snapshot.line_ids))
        with self.assertRaises(UserError):
            self.Snapshot.with_context(
                default_line_ids=[Command.create({"company_id": self.env.company.id, "value": 5.0})]
            ).create({})

    def test_bad_dates_are_refused(self):
        count = self.Snapshot.search_count([])
        for value in ("0001-01-01", "9999-12-31", "garbage", 20260101):
            with self.subTest(value=value), self.assertRaises(UserError):
                self._snapshot(valuation_date=value)
        self.assertEqual(self.Snapshot.search_count([]), count)

    def test_only_stock_managers_delete_whole_snapshots(self):
        snapshot = self._snapshot(user=self.accountant)
        snapshot.with_user(self.accountant).action_keep_as_period_end()
        lines = snapshot.line_ids
        self.assertTrue(lines)
        with self.assertRaises(AccessError):
            snapshot.with_user(self.accountant).unlink()
        # letting a period end go makes it a working copy, deleted after a day: managers only
        with self.assertRaises(AccessError):
            snapshot.with_user(self.accountant).write({"is_period_end": False})
        self.assertTrue(snapshot.is_period_end)
        snapshot.with_user(self.stock_manager).unlink()
        self.assertFalse(snapshot.exists())
        self.assertFalse(lines.exists())

    def test_working_copies_are_deleted_after_a_day(self):
        kept = self._snapshot(is_period_end=True)
        working = self._snapshot()
        recent = self._snapshot()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE stock_lot_valuation_snapshot SET create_date = %s WHERE id IN %s",
            [fields.Datetime.now() - timedelta(days=2), (kept.id, working.id)],
        )
        self.Snapshot._gc_working_snapshots()
        self.assertEqual((kept | working | recent).exists(), kept | recent)

    # ------------------------------------------------------------------
    # Rights and companies
    # ------------------------------------------------------------------
    def test_rights(self):
        snapshot = self._snapshot()
        salesperson = new_test_user(self.env, login="lmc_snap_sales", groups="sales_team.group_sale_salesman")
        portal = new_test_user(self.env, login="lmc_snap_portal", groups="base.group_portal")
        for user in (self.lot_user, self.quality_manager, salesperson, portal):
            for model in ("stock.lot.valuation.snapshot", "stock.lot.valuation.snapshot.line"):
                with self.subTest(user=user.login, model=model), self.assertRaises(AccessError):
                    self.env[model].with_user(user).search_read([], ["id"])
            with self.assertRaises(AccessError):
                self._snapshot(user=user)
        for user in (self.accountant, self.stock_manager):
            made = self._snapshot(user=user)
            self.assertEqual(made.create_uid, user)
            lines = self.Line.with_user(user).search_read([("snapshot_id", "=", snapshot.id)], ["value"])
            self.assertAlmostEqual(sum(line["value"] for line in lines), snapshot.total_value, places=2)
            views = self.Line.with_user(user).get_views([(False, "pivot"), (False, "list"), (False, "graph")])
            self.assertIn('name="value"', views["views"]["list"]["arch"])
        menus = self.env["ir.ui.menu"].with_user(self.accountant)._visible_menu_ids()
        self.assertIn(self.env.ref("lot_margin_control.menu_lot_control_valuation_snapshots").id, menus)

    def test_companies(self):
        other = self.env["res.company"].create({"name": "LMC Snap Other"})
        other_accountant = new_test_user(
            self.env,
            login="lmc_snap_other_accountant",
            groups="account.group_account_readonly",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        ours = self._snapshot()
        theirs = self.Snapshot.with_user(other_accountant).create({"company_id": other.id})
        Snapshot = self.Snapshot.with_user(other_accountant)
        self.assertEqual(Snapshot.search([]), theirs)
        self.assertFalse(self.Line.with_user(other_accountant).search([("snapshot_id", "=", ours.id)]))
        with self.assertRaises(AccessError):
            ours.with_user(other_accountant).read(["total_value"])
        with self.assertRaises(AccessError):
            Snapshot.create({"company_id": self.env.company.id})
        # and an accountant of both companies sees each company's own figures
        self.assertEqual(theirs.line_count, 0)
        self.assertEqual(theirs.company_id, other)
