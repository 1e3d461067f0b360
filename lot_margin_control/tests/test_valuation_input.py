"""Bad input to the valuation by lot gets a clear error and changes nothing (issue 11, point 7).

The as-of date comes from the wizard's field or from the context key ``valuation_date`` of an
RPC ``search_read``; the time zone from the context key ``tz``. Dates before 1900 or more than a
century ahead, text that is not a date, a list or a number are refused (UserError from the
report, ValidationError from the wizard's field); an unknown time zone falls back to UTC, like
core's ``fields.Date.context_today``, and the report still works.
"""

from datetime import date, timedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .valuation_common import ValuationCommon

WATCHED_MODELS = ("stock.lot.valuation.wizard", "ir.attachment")


@tagged("post_install", "-at_install")
class TestValuationInput(ValuationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        category = cls._valuation_category("LMC Input", "fifo", "real_time")
        cls.valued_product = cls._valued_product("LMC Input Cheese", category, lot_valuated=True)
        cls.input_lot = cls._lot("INPUT-1", product=cls.valued_product, expires_in_days=20)
        cls._receive(cls.valued_product, [(cls.input_lot, 5)], 4.0)
        cls._backdate(cls._days_ago(5))
        cls.Report = cls.env["stock.lot.valuation.report"]
        cls.domain = [("product_id", "=", cls.valued_product.id)]
        cls.wizard = cls.env["stock.lot.valuation.wizard"].create(
            {"company_id": cls.env.company.id, "categ_ids": [fields.Command.set(category.ids)]}
        )

    def _counts(self):
        self.env.flush_all()
        return {model: self.env[model].sudo().search_count([]) for model in WATCHED_MODELS}

    def assertRefused(self, error_class, call):
        """``call`` raises exactly ``error_class`` (not a subclass, not another error) and changes nothing."""
        before = self._counts()
        wizard_before = self.wizard.read(["valuation_date", "horizon_days"])
        with self.assertRaises(Exception) as caught:
            call()
        self.assertIs(type(caught.exception), error_class, caught.exception)
        self.assertTrue(str(caught.exception.args[0]).strip())
        self.env.invalidate_all()
        self.assertEqual(self._counts(), before)
        self.assertEqual(self.wizard.read(["valuation_date", "horizon_days"]), wizard_before)

    def _search_read(self, valuation_date, **context):
        return self.Report.with_context(valuation_date=valuation_date, **context).search_read(
            self.domain, ["quantity", "value"]
        )

    # ------------------------------------------------------------------
    # The wizard's fields
    # ------------------------------------------------------------------
    def test_wizard_date_in_year_one_is_refused(self):
        def create():
            return self.env["stock.lot.valuation.wizard"].create(
                {"company_id": self.env.company.id, "valuation_date": date(1, 1, 1)}
            )

        self.assertRefused(ValidationError, create)
        self.assertRefused(ValidationError, lambda: self.wizard.write({"valuation_date": "0001-01-01"}))

    def test_wizard_date_in_year_9999_is_refused(self):
        self.assertRefused(ValidationError, lambda: self.wizard.write({"valuation_date": date(9999, 12, 31)}))

    def test_wizard_horizon_out_of_range_is_refused(self):
        self.assertRefused(ValidationError, lambda: self.wizard.write({"horizon_days": -1}))
        self.assertRefused(ValidationError, lambda: self.wizard.write({"horizon_days": 1_000_000}))

        def create():
            return self.env["stock.lot.valuation.wizard"].create(
                {"company_id": self.env.company.id, "horizon_days": 1_000_000}
            )

        self.assertRefused(ValidationError, create)

    def test_wizard_note_tells_an_out_of_range_date(self):
        """The form shows the problem while typing, before saving refuses it."""
        with self.env.cr.savepoint():
            draft = self.env["stock.lot.valuation.wizard"].new({"company_id": self.env.company.id})
            draft.valuation_date = date(1, 1, 1)
            self.assertIn("out of range", draft.note)

    # ------------------------------------------------------------------
    # The context of an RPC search_read
    # ------------------------------------------------------------------
    def test_context_date_in_year_one_is_refused(self):
        self.assertRefused(UserError, lambda: self._search_read("0001-01-01"))
        self.assertRefused(UserError, lambda: self._search_read(date(1, 1, 1)))
        self.assertRefused(UserError, lambda: self._search_read("0001-01-01 00:00:00"))

    def test_context_date_in_year_9999_is_refused(self):
        self.assertRefused(UserError, lambda: self._search_read("9999-12-31"))
        self.assertRefused(UserError, lambda: self._search_read("9999-12-31 23:59:59", tz="America/New_York"))

    def test_context_date_as_garbage_text_is_refused(self):
        self.assertRefused(UserError, lambda: self._search_read("yesterday"))
        self.assertRefused(UserError, lambda: self._search_read("2026-02-30"))
        self.assertRefused(UserError, lambda: self._search_read("not a date at all, surely"))

    def test_context_date_of_the_wrong_type_is_refused(self):
        self.assertRefused(UserError, lambda: self._search_read(["2026-01-01"]))
        self.assertRefused(UserError, lambda: self._search_read({"date": "2026-01-01"}))
        self.assertRefused(UserError, lambda: self._search_read(20260101))
        self.assertRefused(UserError, lambda: self._search_read(True))

    def test_summary_and_export_rows_refuse_a_bad_context_date(self):
        report = self.Report.with_context(valuation_date="garbage")
        self.assertRefused(UserError, lambda: report.get_summary(self.domain))
        self.assertRefused(UserError, lambda: report._read_export_rows(self.domain))

    # ------------------------------------------------------------------
    # Time zone: unknown names fall back to UTC
    # ------------------------------------------------------------------
    def test_unknown_time_zone_means_utc(self):
        yesterday = fields.Date.to_string(fields.Date.today() - timedelta(days=1))
        utc_rows = self._search_read(yesterday, tz="UTC")
        self.assertEqual(len(utc_rows), 1)
        self.assertAlmostEqual(utc_rows[0]["value"], 20.0)
        self.assertEqual(self._search_read(yesterday, tz="Mars/Olympus"), utc_rows)
        self.assertEqual(self._search_read(yesterday, tz=["Europe/Brussels"]), utc_rows)
        export_rows = self.Report.with_context(valuation_date=yesterday, tz="Mars/Olympus")._read_export_rows(
            self.domain
        )
        self.assertEqual([row["value"] for row in export_rows], [20.0])
        summary = self.Report.with_context(valuation_date=yesterday, tz="Mars/Olympus").get_summary(self.domain)
        self.assertAlmostEqual(summary["total"], 20.0)

    def test_unknown_time_zone_still_opens_and_exports(self):
        wizard = self.wizard.with_context(tz="Mars/Olympus")
        action = wizard.action_open_report()
        rows = self.env[action["res_model"]].search_read(action["domain"], ["value"])
        self.assertAlmostEqual(sum(row["value"] for row in rows), 20.0)
        before = self._counts()
        self.assertEqual(wizard.action_export_xlsx()["type"], "ir.actions.act_url")
        self.assertEqual(self._counts()["ir.attachment"], before["ir.attachment"] + 1)

    def test_a_date_in_1900_still_works(self):
        """The earliest accepted date: an empty report, not an error."""
        self.assertEqual(self._search_read("1900-01-01"), [])
        wizard = self.env["stock.lot.valuation.wizard"].create(
            {"company_id": self.env.company.id, "valuation_date": date(1900, 1, 1)}
        )
        self.assertIn("has no stock moves before", wizard.note)
        self.assertEqual(wizard.action_export_xlsx()["type"], "ir.actions.act_url")
