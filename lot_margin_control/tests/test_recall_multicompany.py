import io
from contextlib import contextmanager
from datetime import timedelta

import openpyxl

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .test_recall import RecallCommon


@tagged("post_install", "-at_install")
class TestRecallCompanyBoundaries(RecallCommon):
    """A company-A recall of a lot (shared by both companies) that also moved in company B.

    A: 10 received from a vendor, 4 shipped to an A customer, 6 on hand.
    B: 6 received from a B vendor, 2 shipped to a B customer, 4 on hand.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "LMC Bravo Foods"})
        cls.warehouse_b = cls.env["stock.warehouse"].search([("company_id", "=", cls.company_b.id)], limit=1)
        cls.stock_b = cls.warehouse_b.lot_stock_id
        cls.customer_a = cls.customer_1
        cls.vendor_b, cls.customer_b = cls.env["res.partner"].create(
            [
                {"name": "Bravo Vendor", "company_id": cls.company_b.id, "is_company": True},
                {"name": "Bravo Customer", "company_id": cls.company_b.id, "is_company": True},
            ]
        )
        # a product and a lot of no company: both companies stock and ship them
        cls.lot = cls._lot("MC-SHARED")
        assert not (cls.lot.company_id or cls.product.company_id)
        in_a, out_a = cls.warehouse.in_type_id, cls.warehouse.out_type_id
        cls._done_move(cls.product, cls.lot, 10, cls.suppliers, cls.stock, cls.vendor, in_a)
        cls._done_move(cls.product, cls.lot, 4, cls.stock, cls.customers, cls.customer_a, out_a)
        with cls._in_company_b():
            in_b, out_b = cls.warehouse_b.in_type_id, cls.warehouse_b.out_type_id
            cls.receipt_b = cls._done_move(cls.product, cls.lot, 6, cls.suppliers, cls.stock_b, cls.vendor_b, in_b)
            cls.delivery_b = cls._done_move(cls.product, cls.lot, 2, cls.stock_b, cls.customers, cls.customer_b, out_b)
        assert cls.delivery_b.company_id == cls.company_b
        manager_groups = "lot_margin_control.group_lot_control_quality_manager,stock.group_stock_user"
        cls.user_both = new_test_user(
            cls.env,
            login="lmc_mc_both",
            groups=manager_groups,
            company_id=cls.company_a.id,
            company_ids=[(6, 0, (cls.company_a | cls.company_b).ids)],
        )
        cls.user_a = new_test_user(
            cls.env,
            login="lmc_mc_a_only",
            groups=manager_groups,
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.recall = cls.env["stock.lot.recall"].create(
            {"company_id": cls.company_a.id, "lot_ids": [(6, 0, cls.lot.ids)], "reason": "Supplier notice"}
        )
        # traced by a user working in both companies, with both selected
        cls.recall.with_user(cls.user_both).with_context(
            allowed_company_ids=(cls.company_a | cls.company_b).ids
        ).action_trace()
        cls.b_texts = ("Bravo Vendor", "Bravo Customer", cls.stock_b.complete_name, cls.delivery_b.reference)

    @classmethod
    @contextmanager
    def _in_company_b(cls):
        """Moves made by the class's helpers (which use ``cls.env``) while in company B."""
        env_a = cls.env
        cls.env = env_a(context=dict(env_a.context, allowed_company_ids=cls.company_b.ids))
        try:
            yield
        finally:
            cls.env = env_a

    def _as(self, user, companies):
        # x2many values are cached per transaction, not per user: read them afresh as each user would
        self.env.invalidate_all()
        return self.recall.with_user(user).with_context(allowed_company_ids=companies.ids)

    def _sheet_cells(self, recall):
        action = recall.action_export_xlsx()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        sheet = openpyxl.load_workbook(io.BytesIO(attachment.raw)).active
        return [row for row in sheet.iter_rows(values_only=True)]

    def test_trace_lines_carry_the_company_of_their_move(self):
        lines = self.recall.line_ids
        by_company = {
            company.name: sorted(
                lines.filtered(lambda line, company=company: line.company_id == company).mapped("event")
            )
            for company in (self.company_a, self.company_b)
        }
        self.assertEqual(
            by_company,
            {
                self.company_a.name: ["delivery", "on_hand", "receipt"],
                self.company_b.name: ["delivery", "on_hand", "receipt"],
            },
        )
        b_on_hand = lines.filtered(lambda line: line.event == "on_hand" and line.company_id == self.company_b)
        self.assertEqual((b_on_hand.location_id, b_on_hand.quantity), (self.stock_b, 4))
        self.assertEqual(lines.filtered(lambda line: line.move_line_id == self.delivery_b).company_id, self.company_b)

    def test_user_of_company_a_reads_only_company_a_lines_and_quantities(self):
        recall = self._as(self.user_a, self.company_a)
        lines = recall.line_ids
        self.assertEqual(lines.company_id, self.company_a)
        self.assertEqual(len(lines), 3)
        # every field of every line is readable: nothing points into company B
        for line in lines:
            line.read(["partner_id", "location_id", "location_dest_id", "picking_id", "reference", "lot_id"])
            self.assertNotEqual(line.partner_id.name, "Bravo Customer")
        self.assertEqual(recall.customer_count, 1)
        reconciliation = recall.reconciliation_ids
        self.assertEqual(
            [(rec.qty_received, rec.qty_shipped, rec.qty_on_hand) for rec in reconciliation],
            [(10, 4, 6)],
        )
        self.assertEqual(recall.other_company_line_count, 3)
        # the user of both companies, with both selected, sees both companies' quantities
        both = self._as(self.user_both, self.company_a | self.company_b)
        self.assertEqual(len(both.line_ids), 6)
        self.assertEqual(
            sorted(
                (rec.company_id.name, rec.qty_received, rec.qty_shipped, rec.qty_on_hand)
                for rec in both.reconciliation_ids
            ),
            sorted([(self.company_a.name, 10, 4, 6), (self.company_b.name, 6, 2, 4)]),
        )
        self.assertEqual(both.other_company_line_count, 0)

    def test_xlsx_export_of_a_company_a_user_has_no_company_b_data_and_says_what_is_left_out(self):
        rows = self._sheet_cells(self._as(self.user_a, self.company_a))
        texts = [str(cell) for row in rows for cell in row if cell is not None]
        for b_text in self.b_texts:
            self.assertFalse([text for text in texts if b_text in text], b_text)
        header = rows[0]
        events = [row for row in rows[1:] if row[header.index("Traceability Lot Code")] == "MC-SHARED"]
        self.assertEqual(sorted(row[header.index("Quantity")] for row in events), [4, 10])
        self.assertIn("3 trace lines of other companies are not shown", " ".join(texts))
        # the user of both companies exports everything, with no note
        rows = self._sheet_cells(self._as(self.user_both, self.company_a | self.company_b))
        texts = [str(cell) for row in rows for cell in row if cell is not None]
        self.assertIn("Bravo Customer", " ".join(texts))
        self.assertFalse([text for text in texts if "not shown" in text])
        self.assertEqual(len(rows) - 1, 4)

    def test_pdf_report_of_a_company_a_user_has_no_company_b_data_and_says_what_is_left_out(self):
        self.env.invalidate_all()
        html, _report_type = (
            self.env["ir.actions.report"]
            .with_user(self.user_a)
            .with_context(allowed_company_ids=self.company_a.ids)
            ._render_qweb_html("lot_margin_control.report_recall", self.recall.ids)
        )
        html = html.decode()
        for b_text in self.b_texts:
            self.assertNotIn(b_text, html)
        self.assertIn("3 trace lines of other companies are not shown", html)
        self.assertIn("Shop One", html)

    def test_retrace_by_a_company_a_user_keeps_company_b_lines(self):
        """A user who cannot read B replaces A's part of the trace only."""
        before_b = self.recall.line_ids.filtered(lambda line: line.company_id == self.company_b)
        self._as(self.user_a, self.company_a).action_trace()
        self.env.invalidate_all()
        lines = self.recall.line_ids
        self.assertEqual(lines.filtered(lambda line: line.company_id == self.company_b), before_b)
        self.assertEqual(len(lines), 6)
        self.assertEqual(len(self.recall.reconciliation_ids), 2)

    def test_a_gap_in_company_b_blocks_closing_for_a_user_who_cannot_read_it(self):
        inventory_loss = self.env["stock.location"].search(
            [
                ("usage", "=", "inventory"),
                ("scrap_location", "=", False),
                ("company_id", "=", self.company_b.id),
            ],
            limit=1,
        )
        with self._in_company_b():
            self._done_move(
                self.product, self.lot, 1, self.stock_b, inventory_loss, picking_type=self.warehouse_b.int_type_id
            )
        self._as(self.user_both, self.company_a | self.company_b).action_trace()
        recall = self._as(self.user_a, self.company_a)
        self.assertTrue(recall.is_reconciled)  # the gap is in company B, which this user cannot read
        with self.assertRaisesRegex(UserError, "companies you may not read"):
            recall.action_close()
        self.assertEqual(self.recall.state, "traced")
        # a user of company B explains it; then the company-A user may close
        self.env.invalidate_all()
        gap = self.recall.reconciliation_ids.filtered(lambda rec: rec.company_id == self.company_b)
        self.assertEqual(gap.qty_unaccounted, 1)
        gap.with_user(self.user_both).with_context(allowed_company_ids=self.company_b.ids).explanation = "Broken jar"
        self._as(self.user_a, self.company_a).action_close()
        self.assertEqual(self.recall.state, "closed")

    def test_a_company_a_user_notifies_only_the_customers_of_the_lines_they_read(self):
        self.customer_b.email = "bravo@customer.example.com"
        recall = self._as(self.user_a, self.company_a)
        recall.action_notify()
        self.assertEqual(recall.sudo().notice_ids.partner_id, self.customer_a)
        notices = self.recall.message_ids.filtered(lambda message: message.message_type == "comment")
        self.assertEqual(notices.partner_ids, self.customer_a)
        for text in self.b_texts:
            self.assertNotIn(text, notices.body)

    def _fsma_cells(self, user, company):
        self.env.invalidate_all()
        today = fields.Date.context_today(self.env.user)
        wizard = (
            self.env["stock.lot.fsma.wizard"]
            .with_user(user)
            .with_context(allowed_company_ids=company.ids)
            .create(
                {
                    "product_ids": [(6, 0, self.product.ids)],
                    "company_id": company.id,
                    "date_from": today - timedelta(days=2),
                    "date_to": today + timedelta(days=2),
                }
            )
        )
        action = wizard.action_export_xlsx()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        workbook = openpyxl.load_workbook(io.BytesIO(attachment.raw))
        return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets]

    def test_fsma_records_of_company_a_hold_no_company_b_data_and_say_what_is_left_out(self):
        records, request = self._fsma_cells(self.user_a, self.company_a)
        header = records[0]
        self.assertEqual(sorted(row[header.index("Quantity")] for row in records[1:]), [4, 10])
        texts = " ".join(str(cell) for sheet in (records, request) for row in sheet for cell in row if cell)
        for b_text in self.b_texts:
            self.assertNotIn(b_text, texts)
        self.assertIn("2 events of these products in this range belong to other companies", texts)
        # company B's records, by the user of both: B's two events, A's two said to be left out
        records, request = self._fsma_cells(self.user_both, self.company_b)
        self.assertEqual(sorted(row[records[0].index("Quantity")] for row in records[1:]), [2, 6])
        self.assertIn("2 events of these products", " ".join(str(cell) for row in request for cell in row if cell))

    def test_fsma_records_refuse_a_product_of_a_company_the_user_cannot_read(self):
        product_b = self.env["product.product"].create(
            {"name": "Bravo Only Cheese", "is_storable": True, "tracking": "lot", "company_id": self.company_b.id}
        )
        wizards = (
            self.env["stock.lot.fsma.wizard"]
            .with_user(self.user_a)
            .with_context(allowed_company_ids=self.company_a.ids)
        )
        attachments = self.env["ir.attachment"].search_count([])
        with self.assertRaises(UserError):  # incompatible companies
            wizards.create(
                {"product_ids": [(6, 0, product_b.ids)], "company_id": self.company_a.id}
            ).action_export_xlsx()
        self.assertEqual(self.env["ir.attachment"].search_count([]), attachments)

    def test_traceability_lot_code_source_never_names_a_company_the_reader_cannot_see(self):
        """A shared lot first received in B from B's vendor, then in A: A's papers name A's vendor."""
        lot = self._lot("MC-B-FIRST", supplier_lot_name="BRAVO-77")
        with self._in_company_b():
            self._done_move(
                self.product, lot, 3, self.suppliers, self.stock_b, self.vendor_b, self.warehouse_b.in_type_id
            )
        self._done_move(self.product, lot, 5, self.suppliers, self.stock, self.vendor, self.warehouse.in_type_id)
        records, _request = self._fsma_cells(self.user_a, self.company_a)
        header = records[0]
        row = next(row for row in records[1:] if row[header.index("Lot/Serial Number")] == "MC-B-FIRST")
        self.assertEqual(row[header.index("Traceability Lot Code")], "BRAVO-77")
        self.assertIn("LMC Vendor", row[header.index("Traceability Lot Code Source")])
        self.assertEqual(lot._get_traceability_lot_code_sources(self.company_a.ids)[lot.id], row[4])
        self.assertIn("Bravo Vendor", lot._get_traceability_lot_code_sources(self.company_b.ids)[lot.id])
        recall = self.env["stock.lot.recall"].create(
            {"company_id": self.company_a.id, "lot_ids": [(6, 0, lot.ids)], "reason": "Supplier notice"}
        )
        recall.with_user(self.user_both).with_context(
            allowed_company_ids=(self.company_a | self.company_b).ids
        ).action_trace()
        self.env.invalidate_all()
        action = recall.with_user(self.user_a).with_context(allowed_company_ids=self.company_a.ids).action_export_xlsx()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        cells = [
            cell
            for row in openpyxl.load_workbook(io.BytesIO(attachment.raw)).active.iter_rows(values_only=True)
            for cell in row
            if cell
        ]
        self.assertIn("BRAVO-77", cells)
        self.assertFalse([cell for cell in cells if "Bravo" in str(cell)])
