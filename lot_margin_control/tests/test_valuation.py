import io
from datetime import datetime, timedelta
from html import unescape

import openpyxl

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL
from odoo.tools.misc import format_amount

from ..report.stock_lot_valuation_report import EXPIRY_BUCKETS
from .valuation_common import ValuationCommon

# (costing method, valuation, lot_valuated) of each product under test
CONFIGS = [
    ("fifo", "real_time", False),
    ("fifo", "real_time", True),
    ("average", "manual_periodic", False),
    ("average", "real_time", True),
    ("standard", "real_time", False),
    ("standard", "manual_periodic", True),
]


@tagged("post_install", "-at_install")
class TestLotValuation(ValuationCommon):
    """Inventory value by lot as of a date ties out to core stock valuation, with its buckets and export."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        now = datetime.now()
        cls.past_instant = now - timedelta(days=20)
        cls.past_date = (now - timedelta(days=10)).date()
        cls.products = cls.env["product.product"]
        cls.lots = {}
        cls.deliveries = {}
        for cost_method, valuation, lot_valuated in CONFIGS:
            key = f"{cost_method}-{valuation}-{'lot' if lot_valuated else 'product'}"
            category = cls._valuation_category(f"LMC {key}", cost_method, valuation)
            product = cls._valued_product(f"LMC Val {key}", category, lot_valuated, standard_price=6.0)
            cls.products |= product
            lot_a = cls._lot(f"{key}-A", product=product, expires_in_days=25)
            lot_b = cls._lot(f"{key}-B", product=product, expires_in_days=200)
            lot_c = cls._lot(f"{key}-C", product=product, expires_in_days=45)
            cls.lots[key] = (lot_a, lot_b, lot_c)
            # the past: two receipts at different costs, a delivery, an internal move
            cls._receive(product, [(lot_a, 10)], 5.0)
            cls._receive(product, [(lot_b, 10)], 7.0)
            cls._deliver(product, [(lot_a, 4)])
            cls._move(product, cls.stock, cls.shelf, [(lot_a, 2)])
        # a lot that expired three days ago, received in the past
        cls.fifo_product = cls.products[0]
        cls.fifo_lot_product = cls.products[1]
        cls.expired_lot = cls._lot("EXPIRED", product=cls.fifo_lot_product, expires_in_days=-3)
        cls._receive(cls.fifo_lot_product, [(cls.expired_lot, 6)], 8.0)
        cls._backdate(cls.past_instant)
        # now: another receipt at another cost, a delivery partly returned, a scrap
        for key, (_lot_a, lot_b, lot_c) in cls.lots.items():
            product = lot_b.product_id
            cls._receive(product, [(lot_c, 5)], 9.0)
            cls.deliveries[key] = cls._deliver(product, [(lot_b, 3)])
            cls._return(cls.deliveries[key], lot_b, 1)
            cls._scrap(lot_c, 2)
        # a blocked lot, and a marked-down one
        cls.blocked_lot = cls._lot("BLOCKED", product=cls.fifo_lot_product, expires_in_days=300)
        cls._receive(cls.fifo_lot_product, [(cls.blocked_lot, 4)], 11.0)
        cls.blocked_lot.action_quality_block(reason="Broken seal")
        cls.markdown_lot = cls.lots["fifo-real_time-lot"][0]
        cls.markdown_lot.markdown_discount = 30.0
        cls.Report = cls.env["stock.lot.valuation.report"]

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _rows(self, valuation_date=None, domain=(), products=None):
        report = self.Report.with_context(valuation_date=valuation_date) if valuation_date else self.Report
        return report.search([("product_id", "in", (products or self.products).ids), *domain])

    def _core_value(self, products, instant=None):
        """Core's valuation of ``products``: the sum of their layers up to ``instant``."""
        domain = [("product_id", "in", products.ids), ("company_id", "=", self.env.company.id)]
        if instant:
            domain.append(("create_date", "<=", instant))
        return sum(self.env["stock.valuation.layer"].search(domain).mapped("value"))

    def _wizard(self, **values):
        return self.env["stock.lot.valuation.wizard"].create({"company_id": self.env.company.id, **values})

    def _opened_lines(self, wizard):
        """The rows Open Report shows: the lines of the snapshot it made."""
        action = wizard.action_open_report()
        return self.env[action["res_model"]].search(action["domain"])

    def _export(self, wizard):
        action = wizard.action_export_xlsx()
        self.assertEqual(action["type"], "ir.actions.act_url")
        attachment_id = int(action["url"].split("/web/content/")[1].split("?")[0])
        attachment = self.env["ir.attachment"].browse(attachment_id)
        self.assertTrue(action["url"].endswith("?download=true"))
        return openpyxl.load_workbook(io.BytesIO(attachment.raw), data_only=True)

    # ------------------------------------------------------------------
    # Tie-out
    # ------------------------------------------------------------------
    def test_tie_out_now_per_product_lot_and_quant(self):
        currency = self.env.company.currency_id
        rows = self._rows()
        for product in self.products:
            product_rows = rows.filtered(lambda row, product=product: row.product_id == product)
            self.assertAlmostEqual(
                sum(product_rows.mapped("value")), product.value_svl, delta=currency.rounding / 2, msg=product.name
            )
            self.assertAlmostEqual(sum(product_rows.mapped("value")), self._core_value(product), places=2)
            self.assertAlmostEqual(sum(product_rows.mapped("quantity")), product.qty_available, msg=product.name)
            basis = "lot" if product.lot_valuated else "product"
            self.assertEqual(set(product_rows.mapped("valuation_basis")), {basis}, product.name)
            if product.lot_valuated:
                for lot in product_rows.lot_id:
                    lot_rows = product_rows.filtered(lambda row, lot=lot: row.lot_id == lot)
                    self.assertAlmostEqual(sum(lot_rows.mapped("value")), lot.value_svl, places=2, msg=lot.name)
        quants = self.env["stock.quant"].search(
            [("product_id", "in", self.products.ids), ("location_id.usage", "=", "internal")]
        )
        self.assertAlmostEqual(sum(rows.mapped("value")), sum(quants.mapped("value")), places=2)
        self.assertAlmostEqual(sum(rows.mapped("value")), self._core_value(self.products), places=2)

    def test_tie_out_past_date(self):
        report = self.Report.with_context(valuation_date=fields.Date.to_string(self.past_date))
        instant, is_now = report._get_valuation_datetime()
        self.assertFalse(is_now)
        self.assertTrue(self.past_instant < instant < datetime.now() - timedelta(days=9))
        rows = self._rows(valuation_date=fields.Date.to_string(self.past_date))
        for product in self.products:
            product_rows = rows.filtered(lambda row, product=product: row.product_id == product)
            at_date = product.with_context(to_date=instant)
            self.assertAlmostEqual(sum(product_rows.mapped("value")), at_date.value_svl, places=2, msg=product.name)
            self.assertAlmostEqual(sum(product_rows.mapped("value")), self._core_value(product, instant), places=2)
            self.assertAlmostEqual(sum(product_rows.mapped("quantity")), at_date.qty_available, msg=product.name)
            if product.lot_valuated:
                for lot in product_rows.lot_id:
                    lot_rows = product_rows.filtered(lambda row, lot=lot: row.lot_id == lot)
                    self.assertAlmostEqual(
                        sum(lot_rows.mapped("value")), lot.with_context(to_date=instant).value_svl, places=2
                    )
        # what came later is not there yet
        later_lots = self.env["stock.lot"].browse([lot_c.id for _a, _b, lot_c in self.lots.values()])
        self.assertFalse(rows.filtered(lambda row: row.lot_id in later_lots | self.blocked_lot))
        self.assertAlmostEqual(sum(rows.mapped("value")), self._core_value(self.products, instant), places=2)
        # and the same report as of now is different: the date is really applied
        self.assertNotAlmostEqual(sum(rows.mapped("value")), sum(self._rows().mapped("value")), places=2)

    def test_costs_by_basis_and_location(self):
        lot_a, lot_b, _lot_c = self.lots["fifo-real_time-lot"]
        rows = self._rows()
        lot_a_rows = rows.filtered(lambda row: row.lot_id == lot_a)
        self.assertEqual(
            sorted((row.location_id, row.quantity) for row in lot_a_rows), [(self.stock, 4.0), (self.shelf, 2.0)]
        )
        self.assertEqual(set(lot_a_rows.mapped("unit_cost")), {5.0})
        self.assertEqual(set(rows.filtered(lambda row: row.lot_id == lot_b).mapped("unit_cost")), {7.0})
        # valued by product: every lot of the product carries the product's average
        product_rows = rows.filtered(lambda row: row.product_id == self.fifo_product)
        average = self.fifo_product.value_svl / self.fifo_product.quantity_svl
        for row in product_rows:
            self.assertAlmostEqual(row.unit_cost, average, delta=0.01)
        self.assertEqual(product_rows.warehouse_id, self.warehouse)
        self.assertEqual(product_rows.product_categ_id, self.fifo_product.categ_id)

    def test_value_without_stock_is_kept(self):
        """A layer left when no stock remains still counts, on a row without location."""
        category = self._valuation_category("LMC No Stock", "average", "manual_periodic")
        product = self._valued_product("LMC Sold Out", category)
        lot = self._lot("SOLD-OUT", product=product)
        self._receive(product, [(lot, 2)], 4.0)
        self._deliver(product, [(lot, 2)])
        self.env["stock.valuation.layer"].create(
            {
                "company_id": self.env.company.id,
                "product_id": product.id,
                "quantity": 0,
                "value": 3.5,
                "description": "Late landed cost",
            }
        )
        rows = self._rows(products=product)
        self.assertEqual(len(rows), 1)
        self.assertFalse(rows.location_id)
        self.assertEqual(rows.quantity, 0)
        self.assertAlmostEqual(rows.value, 3.5)
        self.assertAlmostEqual(rows.value, product.value_svl)

    # ------------------------------------------------------------------
    # Shelf life, buckets, provision
    # ------------------------------------------------------------------
    def test_expired_lot_bucket_as_of_dates(self):
        now_row = self._rows(domain=[("lot_id", "=", self.expired_lot.id)])
        self.assertEqual(now_row.expiry_bucket, "expired")
        self.assertEqual(now_row.shelf_life_state, "expired")
        # whole days, floored like the lot's own "days left"
        self.assertEqual(now_row.remaining_shelf_life_days, self.expired_lot.remaining_shelf_life_days)
        self.assertIn(now_row.remaining_shelf_life_days, (-4, -3))
        past_row = self._rows(
            valuation_date=fields.Date.to_string(self.past_date), domain=[("lot_id", "=", self.expired_lot.id)]
        )
        self.assertEqual(past_row.expiry_bucket, "days_30")
        self.assertIn(past_row.shelf_life_state, ("fresh", "near_expiry"))
        self.assertIn(past_row.remaining_shelf_life_days, (6, 7))
        # as of now, the report's state is the lot's own
        for row in self._rows():
            self.assertEqual(row.shelf_life_state, row.lot_id.shelf_life_state, row.lot_id.name)
            self.assertEqual(row.quality_state, row.lot_id.quality_state)

    def test_buckets_sum_to_total_and_provision(self):
        rows = self._rows()
        total = sum(rows.mapped("value"))
        groups = self.Report._read_group([("product_id", "in", self.products.ids)], ["expiry_bucket"], ["value:sum"])
        self.assertTrue({"expired", "days_30", "days_60", "later"} <= {bucket for bucket, _value in groups})
        self.assertAlmostEqual(sum(value for _bucket, value in groups), total, places=2)
        summary = self.Report.get_summary([("product_id", "in", self.products.ids)])
        self.assertAlmostEqual(sum(summary["buckets"].values()), total, places=2)
        self.assertAlmostEqual(summary["total"], total, places=2)
        expired = sum(rows.filtered(lambda row: row.lot_id == self.expired_lot).mapped("value"))
        blocked = sum(rows.filtered(lambda row: row.lot_id == self.blocked_lot).mapped("value"))
        self.assertAlmostEqual(expired, 48.0)  # 6 x 8, valued by lot
        self.assertAlmostEqual(blocked, 44.0)  # 4 x 11, valued by lot
        self.assertAlmostEqual(summary["buckets"]["expired"], expired, places=2)
        self.assertAlmostEqual(summary["quality"]["blocked"], blocked, places=2)
        markdown_rows = rows.filtered(lambda row: row.lot_id == self.markdown_lot)
        exposure = sum(markdown_rows.mapped("value")) * 0.3
        self.assertAlmostEqual(sum(markdown_rows.mapped("markdown_exposure")), exposure, places=2)
        self.assertAlmostEqual(summary["provision"], expired + blocked + exposure, places=2)

    def test_summary_ties_out_to_rows_core_and_xlsx(self):
        """One summary (``get_summary``) for the screen, RPC and the spreadsheet: its figures are the
        rows' values, core's valuation layers and the Summary sheet's, now and at a past date."""
        categories = self.products.categ_id
        for valuation_date in (None, self.past_date):
            context = {"valuation_date": fields.Date.to_string(valuation_date)} if valuation_date else {}
            report = self.Report.with_context(**context)
            domain = [("product_categ_id", "in", categories.ids)]
            rows = report.search(domain)
            summary = report.get_summary(domain)
            total = sum(rows.mapped("value"))
            instant = report._get_valuation_datetime()[0] if valuation_date else None
            self.assertEqual(summary["row_count"], len(rows))
            self.assertAlmostEqual(summary["total"], total, places=2)
            self.assertAlmostEqual(summary["total"], self._core_value(self.products, instant), places=2)
            self.assertAlmostEqual(sum(summary["buckets"].values()), total, places=2)
            for bucket, value in summary["buckets"].items():
                self.assertAlmostEqual(
                    value, sum(rows.filtered(lambda row, b=bucket: row.expiry_bucket == b).mapped("value")), places=2
                )
            self.assertAlmostEqual(summary["markdown_exposure"], sum(rows.mapped("markdown_exposure")), places=2)
            self.assertAlmostEqual(
                summary["provision"],
                summary["provision_expired"] + summary["provision_blocked"] + summary["provision_markdown"],
                places=2,
            )
            self.assertEqual(summary["currency_id"], self.env.company.currency_id.id)
            # the spreadsheet of the same scope shows the same figures
            dates = {"valuation_date": valuation_date} if valuation_date else {}
            wizard = self._wizard(categ_ids=[fields.Command.set(categories.ids)], **dates)
            sheet = {
                line[0]: line[1] for line in self._export(wizard)["Summary"].iter_rows(values_only=True) if line[0]
            }
            self.assertEqual(sheet["Rows"], summary["row_count"])
            bucket_labels = dict(self.Report._fields["expiry_bucket"]._description_selection(self.env))
            for bucket, value in summary["buckets"].items():
                self.assertAlmostEqual(sheet[bucket_labels[bucket]], value, places=2)
            self.assertAlmostEqual(sheet["Total Inventory Value"], summary["total"], places=2)
            self.assertAlmostEqual(sheet["Expired value"], summary["provision_expired"], places=2)
            self.assertAlmostEqual(
                sheet["Blocked and recalled value (not expired)"], summary["provision_blocked"], places=2
            )
            self.assertAlmostEqual(
                sheet["Expected markdown loss (other lots)"], summary["provision_markdown"], places=2
            )
            self.assertAlmostEqual(sheet["Provision Suggestion"], summary["provision"], places=2)
            self.assertAlmostEqual(sheet["Blocked"], summary["quality"]["blocked"], places=2)

    def test_summary_as_of_a_past_date(self):
        """Before the lot was blocked and the expired lot expired, nothing of them is provisioned."""
        report = self.Report.with_context(valuation_date=fields.Date.to_string(self.past_date))
        summary = report.get_summary([("product_id", "in", self.products.ids)])
        self.assertEqual(summary["buckets"]["expired"], 0.0)
        self.assertEqual(summary["provision_expired"], 0.0)
        # the blocked lot came later; the report shows the lots' current quality status
        self.assertEqual(summary["quality"]["blocked"], 0.0)
        self.assertGreater(summary["buckets"]["days_30"], 0.0)

    def test_summary_shown_on_screen(self):
        wizard = self._wizard(categ_ids=[fields.Command.set(self.products.categ_id.ids)])
        action = wizard.action_open_summary()
        self.assertEqual(action["res_model"], "stock.lot.valuation.wizard")
        self.assertEqual(action["res_id"], wizard.id)
        self.assertEqual(
            action["views"], [(self.env.ref("lot_margin_control.stock_lot_valuation_wizard_view_summary").id, "form")]
        )
        summary = self.Report.get_summary([("product_id", "in", self.products.ids)])
        currency = self.env.company.currency_id
        html = unescape(str(wizard.summary_html))
        for label in ("Value by Expiry", "Suggested Provision", "Provision Suggestion", "Expected markdown loss"):
            self.assertIn(label, html)
        self.assertIn(format_amount(self.env, summary["provision"], currency), html)
        self.assertIn(format_amount(self.env, summary["buckets"]["expired"], currency), html)
        # from the report's list: the rows on screen, or the selected ones
        past = self.Report.with_context(
            valuation_date=fields.Date.to_string(self.past_date),
            active_domain=[("product_id", "in", self.products.ids)],
        )
        action = past.action_open_provision_summary()
        shown = self.env["stock.lot.valuation.wizard"].browse(action["res_id"])
        self.assertEqual(shown.valuation_date, self.past_date)
        past_summary = past.get_summary([("product_id", "in", self.products.ids)])
        self.assertIn(format_amount(self.env, past_summary["total"], currency), unescape(str(shown.summary_html)))
        selected = self._rows(domain=[("lot_id", "=", self.blocked_lot.id)])
        action = selected.action_open_provision_summary()
        shown = self.env["stock.lot.valuation.wizard"].browse(action["res_id"])
        self.assertIn(format_amount(self.env, 44.0, currency), unescape(str(shown.summary_html)))
        list_arch = self.Report.get_views([(False, "list")])["views"]["list"]["arch"]
        self.assertIn('name="action_open_provision_summary"', list_arch)

    def test_summary_refuses_several_currencies(self):
        other = self.env["res.company"].create(
            {"name": "LMC Other Currency", "currency_id": self.env.ref("base.JPY").id}
        )
        self.env.ref("base.JPY").active = True
        category = self._valuation_category("LMC Yen", "fifo", "manual_periodic")
        product = self._valued_product("LMC Yen Tea", category)
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", other.id)], limit=1)
        lot = self._lot("YEN-1", product=product)
        self.env["stock.quant"].with_company(other)._update_available_quantity(
            product, warehouse.lot_stock_id, 3, lot_id=lot
        )
        report = self.Report.with_context(allowed_company_ids=[self.env.company.id, other.id])
        self.assertEqual(len(report.search([]).currency_id), 2)
        with self.assertRaises(UserError):
            report.get_summary([])
        self.assertEqual(report.get_summary([("company_id", "=", other.id)])["currency_id"], other.currency_id.id)

    def test_buckets_and_days_left_have_one_definition(self):
        """Each row's bucket follows ``EXPIRY_BUCKETS`` from its days to expiry, which is the lot's own
        days left (``stock.lot._sql_days_left``, twin of ``remaining_shelf_life_days``)."""
        limits = [(key, limit) for key, _label, limit in EXPIRY_BUCKETS if limit]
        rows = self._rows()
        self.assertTrue(rows.filtered("expiration_date"))
        for row in rows:
            if not row.expiration_date:
                expected = "no_expiry"
            elif row.expiration_date <= datetime.now():
                expected = "expired"
            else:
                expected = next((key for key, limit in limits if row.remaining_shelf_life_days < limit), "later")
            self.assertEqual(row.expiry_bucket, expected, row.lot_id.name)
            if row.lot_id.expiration_date:
                self.assertEqual(row.remaining_shelf_life_days, row.lot_id.remaining_shelf_life_days, row.lot_id.name)
        Lot = self.env["stock.lot"]
        lots = rows.lot_id
        now = Lot._shelf_life_now()
        days = dict(
            self.env.execute_query(
                SQL("SELECT lot.id, %s FROM stock_lot lot WHERE lot.id IN %s", Lot._sql_days_left(now), tuple(lots.ids))
            )
        )
        self.assertEqual(days, {lot.id: lot.remaining_shelf_life_days for lot in lots})
        selection = self.Report._fields["expiry_bucket"].selection
        self.assertEqual([key for key, _label in selection], [key for key, _label, _limit in EXPIRY_BUCKETS])

    # ------------------------------------------------------------------
    # Wizard
    # ------------------------------------------------------------------
    def test_wizard_action_gives_the_search_read_rows(self):
        """Open Report makes a snapshot whose lines are the rows a search_read with the wizard's context
        and domain gives."""
        wizard = self._wizard(valuation_date=self.past_date, categ_ids=[fields.Command.set(self.products.categ_id.ids)])
        action = wizard.action_open_report()
        self.assertEqual(action["res_model"], "stock.lot.valuation.snapshot.line")
        self.assertEqual([view_type for _id, view_type in action["views"]], ["pivot", "list", "graph"])
        lines = self.env[action["res_model"]].search(action["domain"])
        self.assertEqual(lines.snapshot_id.valuation_date, self.past_date)
        context = wizard._get_report_context()
        self.assertEqual(context["valuation_date"], fields.Date.to_string(self.past_date))
        rows = self.Report.with_context(**context).search_read(wizard._get_report_domain(), ["value", "lot_id"])
        expected = self._rows(valuation_date=fields.Date.to_string(self.past_date))
        self.assertEqual(sorted(row["id"] for row in rows), sorted(expected.ids))
        self.assertEqual(
            sorted((line.lot_id.id, line.location_id.id, line.value) for line in lines),
            sorted((row.lot_id.id, row.location_id.id, row.value) for row in expected),
        )
        export_rows = self.Report.with_context(**context)._read_export_rows(wizard._get_report_domain())
        self.assertAlmostEqual(sum(row["value"] for row in export_rows), sum(expected.mapped("value")), places=2)

    def test_wizard_filters(self):
        lot_product_categ = self.fifo_lot_product.categ_id
        wizard = self._wizard(categ_ids=[fields.Command.set(lot_product_categ.ids)], quality_filter="not_released")
        rows = self._opened_lines(wizard)
        self.assertEqual(rows.lot_id, self.blocked_lot)
        wizard = self._wizard(
            location_ids=[fields.Command.set(self.shelf.ids)],
            categ_ids=[fields.Command.set(self.products.categ_id.ids)],
        )
        rows = self._opened_lines(wizard)
        self.assertEqual(set(rows.location_id.ids), {self.shelf.id})
        self.assertEqual(len(rows), len(self.products))
        wizard = self._wizard(categ_ids=[fields.Command.set(self.products.categ_id.ids)], horizon_days=30)
        rows = self._opened_lines(wizard)
        self.assertEqual(set(rows.mapped("expiry_bucket")), {"expired", "days_30"})
        wizard = self._wizard(categ_ids=[fields.Command.set(self.products.categ_id.ids)], shelf_life_filter="expired")
        rows = self._opened_lines(wizard)
        self.assertEqual(rows.lot_id, self.expired_lot)

    def test_xlsx_reads_back_with_the_same_totals(self):
        wizard = self._wizard(categ_ids=[fields.Command.set(self.products.categ_id.ids)])
        rows = self._rows()
        total = sum(rows.mapped("value"))
        workbook = self._export(wizard)
        self.assertEqual(workbook.sheetnames, ["Summary", "By Lot", "By Category"])
        by_lot = workbook["By Lot"]
        self.assertEqual(by_lot.freeze_panes, "A2")
        self.assertTrue(by_lot.auto_filter.ref.startswith("A1:Q"))
        header = [cell.value for cell in by_lot[1]]
        value_col = header.index("Value")
        lines = list(by_lot.iter_rows(min_row=2, values_only=True))
        detail = [line for line in lines if line[1]]  # subtotal lines have no product
        self.assertEqual(len(detail), len(rows))
        grand_total = lines[-1]
        self.assertEqual(grand_total[0], "Grand Total")
        self.assertAlmostEqual(grand_total[value_col], total, places=2)
        self.assertAlmostEqual(sum(line[value_col] for line in detail), total, places=2)
        subtotals = [line for line in lines[:-1] if not line[1]]
        self.assertEqual(len(subtotals), len(self.products.categ_id))
        self.assertAlmostEqual(sum(line[value_col] for line in subtotals), total, places=2)
        self.assertTrue(all(line[0].startswith("Total ") for line in subtotals))
        expiry_col = header.index("Expiration Date")
        self.assertIsInstance(detail[0][expiry_col], datetime)
        by_category = workbook["By Category"]
        category_lines = list(by_category.iter_rows(min_row=2, values_only=True))
        self.assertEqual(category_lines[-1][0], "Grand Total")
        self.assertAlmostEqual(category_lines[-1][7], total, places=2)
        summary = {line[0]: line[1] for line in workbook["Summary"].iter_rows(values_only=True) if line[0]}
        self.assertAlmostEqual(summary["Total Inventory Value"], total, places=2)
        buckets = ("Expired", "Within 30 Days", "31-60 Days", "61-90 Days", "Over 90 Days", "No Expiry")
        self.assertAlmostEqual(sum(summary[bucket] for bucket in buckets), total, places=2)
        self.assertAlmostEqual(summary["Blocked"], 44.0, places=2)
        self.assertAlmostEqual(
            summary["Provision Suggestion"],
            summary["Expired value"]
            + summary["Blocked and recalled value (not expired)"]
            + summary["Expected markdown loss (other lots)"],
            places=2,
        )
        self.assertAlmostEqual(summary["Expired value"], 48.0, places=2)

    # ------------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------------
    def test_future_date_means_now_with_a_note(self):
        today = fields.Date.context_today(self.env.user)
        wizard = self._wizard(valuation_date=today + timedelta(days=30))
        self.assertIn("is in the future", wizard.note)
        action = wizard.action_open_report()
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]).snapshot_id.valuation_date, today)
        self.assertEqual(wizard._get_report_context()["valuation_date"], fields.Date.to_string(today))
        future = self._rows(valuation_date=fields.Date.to_string(today + timedelta(days=30)))
        self.assertEqual(future, self._rows())

    def test_date_before_first_move_gives_an_empty_report(self):
        wizard = self._wizard(valuation_date=fields.Date.to_date("2001-01-31"))
        self.assertIn("has no stock moves before", wizard.note)
        action = wizard.action_open_report()
        self.assertIn("has no stock moves before", action["help"])
        self.assertEqual(self.env[action["res_model"]].search_read(action["domain"]), [])
        self.assertEqual(
            self.Report.with_context(**wizard._get_report_context()).search_read(wizard._get_report_domain()), []
        )
        attachments = self.env["ir.attachment"].search_count([])
        workbook = self._export(wizard)
        self.assertEqual(self.env["ir.attachment"].search_count([]), attachments + 1)
        notes = [line[0] for line in workbook["Summary"].iter_rows(values_only=True) if line[0]]
        self.assertTrue(any("has no stock moves before" in note for note in notes))
        by_lot = workbook["By Lot"]
        value_col = [cell.value for cell in by_lot[1]].index("Value")
        lines = list(by_lot.iter_rows(min_row=2, values_only=True))
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines[-1][0], "Grand Total")
        self.assertEqual(lines[-1][value_col], 0)

    def test_empty_selection_gives_an_empty_report(self):
        empty_category = self.env["product.category"].create({"name": "LMC Nothing Here"})
        wizard = self._wizard(categ_ids=[fields.Command.set(empty_category.ids)])
        self.assertFalse(wizard.note)
        action = wizard.action_open_report()
        self.assertIn("No stock in this scope", action["help"])
        self.assertFalse(self.env[action["res_model"]].search(action["domain"]))
        workbook = self._export(wizard)
        notes = [line[0] for line in workbook["Summary"].iter_rows(values_only=True) if line[0]]
        self.assertTrue(any("No stock in this scope" in note for note in notes))

    def test_negative_horizon_is_refused(self):
        wizards = self.env["stock.lot.valuation.wizard"].search_count([])
        with self.assertRaises(ValidationError):
            self._wizard(horizon_days=-5)
        self.assertEqual(self.env["stock.lot.valuation.wizard"].search_count([]), wizards)

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------
    def test_plain_stock_user_sees_no_costs(self):
        for model in ("stock.lot.valuation.report", "stock.lot.margin.report", "stock.lot.valuation.wizard"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.lot_user).search_read([], ["id"])
        for user in (self.accountant, self.stock_manager):
            rows = self.Report.with_user(user).search_read([("product_id", "in", self.products.ids)], ["value"])
            self.assertAlmostEqual(sum(row["value"] for row in rows), self._core_value(self.products), places=2)
            wizard = self.env["stock.lot.valuation.wizard"].with_user(user).create({})
            self.assertEqual(wizard.action_export_xlsx()["type"], "ir.actions.act_url")

    def test_screens_load_for_accountants(self):
        report = self.Report.with_user(self.accountant)
        views = report.get_views([(False, "pivot"), (False, "list"), (False, "graph"), (False, "search")])["views"]
        self.assertIn('name="expiry_bucket"', views["pivot"]["arch"])
        self.assertIn('name="markdown_exposure"', views["list"]["arch"])
        self.assertIn('name="group_expiry"', views["search"]["arch"])
        wizard = self.env["stock.lot.valuation.wizard"].with_user(self.accountant)
        form = wizard.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="action_export_xlsx"', form)
        menus = self.env["ir.ui.menu"].with_user(self.accountant)._visible_menu_ids()
        self.assertIn(self.env.ref("lot_margin_control.menu_lot_control_valuation").id, menus)
        lot_user_menus = self.env["ir.ui.menu"].with_user(self.lot_user)._visible_menu_ids()
        self.assertNotIn(self.env.ref("lot_margin_control.menu_lot_control_valuation").id, lot_user_menus)
