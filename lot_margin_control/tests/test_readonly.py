"""Read paths marked read-only the Odoo 18 way (issue 18).

``@api.readonly`` sets ``_readonly`` on a method; the web client's ``call_kw`` route then opens
its cursor on the read replica (``db_replica_host``), and in tests on a read-only transaction.
A method so marked that writes fails there and is retried on the primary with a warning.
tests/test_replica.py shows the same calls served by a real streaming replica.
"""

import inspect
from datetime import date, timedelta

from odoo.tests import HttpCase, tagged

from .common import LotControlCommon

# The screens read through core's read-only web_search_read / web_read_group: no report may
# write (a temporary table, a refresh) while it is read, or a standby could not serve it.
REPORT_MODELS = [
    "stock.lot.clearance.report",
    "stock.lot.expiry.risk",
    "stock.lot.margin.report",
    "stock.lot.markdown.recovery.report",
    "stock.lot.valuation.report",
    "stock.lot.valuation.rollforward",
    "stock.lot.recall.line",
]

# Every public method of the addon that runs on the replica. Not on the list, on purpose:
# the provision summaries (they create the wizard that shows them), the exports (they store
# an attachment), the wizards' buttons (the wizard was saved a moment before, on the primary:
# the replica may not have it yet) and the refresh/trace/quality actions (they write).
READONLY_METHODS = {
    ("stock.lot", "action_open_genealogy"),
    ("stock.lot", "get_genealogy"),
    ("stock.lot", "parse_gs1_barcode"),
    ("stock.lot.kpi", "get_kpi_trend"),
    ("stock.lot.kpi", "get_kpis"),
    ("stock.lot.markdown.rule", "action_view_lots"),
    ("stock.lot.recall", "action_view_trace"),
    ("stock.lot.recall", "get_genealogy"),
    ("stock.lot.valuation.report", "get_summary"),
    ("stock.lot.valuation.snapshot", "action_open_lines"),
    ("stock.lot.valuation.snapshot.line", "action_open_snapshot"),
    ("stock.lot.valuation.snapshot.line", "get_summary"),
    ("stock.picking", "get_lot_scan_lines"),
    # the bulk reports' search_read (stock.lot.bulk.read.mixin): one read query, as the ORM's
    ("stock.lot.bulk.read.mixin", "search_read"),
    ("stock.lot.valuation.report", "search_read"),
    ("stock.lot.valuation.rollforward", "search_read"),
    ("stock.lot.valuation.snapshot.line", "search_read"),
    # and their list pages with the count from one statement (SQL views; the lines go to the ORM's)
    ("stock.lot.bulk.read.mixin", "web_search_read"),
    ("stock.lot.valuation.report", "web_search_read"),
    ("stock.lot.valuation.rollforward", "web_search_read"),
    ("stock.lot.valuation.snapshot.line", "web_search_read"),
}


def _addon_readonly_methods(env):
    """(model, method) of the public methods the addon defines that the replica may serve."""
    found = set()
    for model_name in env.registry:
        model_class = type(env[model_name])
        for cls in model_class.__mro__:
            if not cls.__module__.startswith("odoo.addons.lot_margin_control."):
                continue
            for name, member in vars(cls).items():
                if name.startswith("_") or not inspect.isfunction(member):
                    continue
                # the method as the registry resolves it (call_kw's rule, web's _call_kw_readonly)
                if getattr(getattr(model_class, name), "_readonly", False) and getattr(member, "_readonly", False):
                    found.add((model_name, name))
    return found


@tagged("post_install", "-at_install")
class TestReadonlyMethods(LotControlCommon):
    def test_readonly_methods_are_exactly_the_audited_set(self):
        """A read path losing its mark, or a writing method gaining it, fails here."""
        self.assertEqual(_addon_readonly_methods(self.env), READONLY_METHODS)


@tagged("post_install", "-at_install")
class TestReadonlyCalls(LotControlCommon, HttpCase):
    """Each marked method through the web client's route, on a read-only transaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lot = cls._lot("LMC-RO-1")
        cls._put_in_stock(cls.lot, 5)
        cls.rule = cls.env["stock.lot.markdown.rule"].create(
            {"name": "LMC RO rule", "threshold_days": 3, "discount": 20}
        )
        cls.recall = cls.env["stock.lot.recall"].create({"lot_ids": [(6, 0, cls.lot.ids)], "reason": "LMC RO"})
        cls.recall.action_trace()
        cls.product.barcode = "9506000134352"

    def _call(self, model, method, args, kwargs=None):
        with self.assertNoLogs("odoo.http", "WARNING"):
            return self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
            )

    def test_marked_methods_run_on_a_read_only_transaction(self):
        self.authenticate("admin", "admin")
        today = date.today()
        kpis = self._call("stock.lot.kpi", "get_kpis", [str(today - timedelta(days=30)), str(today)])
        self.assertTrue(kpis and all("code" in tile for tile in kpis))
        for model in ("stock.lot.valuation.report", "stock.lot.valuation.rollforward"):
            rows = self._call(
                model, "search_read", [[], ["product_id", "closing_value" if "roll" in model else "value"]]
            )
            self.assertTrue(rows, model)
        trend = self._call("stock.lot.kpi", "get_kpi_trend", [str(today)])
        self.assertEqual(len(trend["months"]), 6)
        self.assertTrue(self._call("stock.lot", "get_genealogy", [self.lot.ids]))
        self.assertTrue(self._call("stock.lot.recall", "get_genealogy", [self.recall.ids]))
        self.assertEqual(self._call("stock.lot", "action_open_genealogy", [self.lot.ids])["type"], "ir.actions.client")
        self.assertIn(
            ("markdown_rule_id", "=", self.rule.id),
            map(tuple, self._call("stock.lot.markdown.rule", "action_view_lots", [self.rule.ids])["domain"]),
        )
        self.assertEqual(
            self._call("stock.lot.recall", "action_view_trace", [self.recall.ids])["res_model"], "stock.lot.recall.line"
        )
        summary = self._call("stock.lot.valuation.report", "get_summary", [[("lot_id", "=", self.lot.id)]])
        self.assertIn("total", summary)
        self.assertIn("total", self._call("stock.lot.valuation.snapshot.line", "get_summary", [[]]))
        parsed = self._call("stock.lot", "parse_gs1_barcode", ["(01)09506000134352(10)L1(17)270131"])
        self.assertEqual((parsed["product_id"], parsed["lot_name"]), (self.product.id, "L1"))

    def test_report_screens_read_on_a_read_only_transaction(self):
        self.authenticate("admin", "admin")
        for model in REPORT_MODELS:
            with self.subTest(model=model):
                page = self._call(model, "web_search_read", [[]], {"specification": {"id": {}}, "limit": 5})
                self.assertIn("length", page)
                groups = self._call(model, "web_read_group", [[], ["__count"], ["company_id"]])
                self.assertIn("groups", groups)
