import hashlib
import io
import zipfile
from datetime import date, datetime, timedelta

import openpyxl
import xlsxwriter

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..report.streaming import stream_rows
from ..report.xlsx_rows import RecordRows
from .test_recall import RecallCommon


@tagged("post_install", "-at_install")
class TestFsmaRecords(RecallCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.tz = "UTC"
        cls.vendor.write({"street": "1 Dairy Road", "city": "Lyon", "zip": "69001"})
        cls.warehouse.partner_id.write({"street": "9 Cold Street", "city": "Paris"})
        cls._build_life_of_lot()
        # everything happened on 2026-03-10, except one late delivery on 2026-04-20 (outside the range)
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE stock_move_line SET date = '2026-03-10 10:00:00' WHERE lot_id = ANY(%s)",
            [[cls.lot_a.id, cls.lot_b1.id, cls.lot_b2.id]],
        )
        cls.late = cls._done_move(
            cls.product, cls.lot_a, 3, cls.shelf, cls.customers, cls.customer_3, cls.warehouse.out_type_id
        )
        cls.env.flush_all()
        cls.env.cr.execute("UPDATE stock_move_line SET date = '2026-04-20 10:00:00' WHERE id = %s", [cls.late.id])
        cls.env.invalidate_all()

    def _wizard(self, user=None, **values):
        values = {
            "product_ids": [(6, 0, (self.product | self.cups).ids)],
            "date_from": date(2026, 3, 1),
            "date_to": date(2026, 3, 31),
            **values,
        }
        return self.env["stock.lot.fsma.wizard"].with_user(user or self.lot_user).create(values)

    def _sheet(self, action):
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        workbook = openpyxl.load_workbook(io.BytesIO(attachment.raw))
        return workbook.worksheets[0], workbook.worksheets[1]

    def test_sheet_lists_every_event_in_range_and_none_outside(self):
        sheet, request = self._sheet(self._wizard().action_export_xlsx())
        self.assertEqual(sheet.freeze_panes, "A2")
        self.assertTrue(sheet.auto_filter.ref)
        rows = list(sheet.iter_rows(values_only=True))
        header, records = rows[0], rows[1:]
        column = {title: index for index, title in enumerate(header)}
        events = sorted(
            (row[column["Event"]], row[column["Lot/Serial Number"]], row[column["Quantity"]]) for row in records
        )
        self.assertEqual(
            events,
            sorted(
                [
                    ("Receiving", "RC-A", 100),
                    ("Transformation: input", "RC-A", 40),
                    ("Transformation: output", "RC-B1", 20),
                    ("Transformation: output", "RC-B2", 20),
                    ("Shipping", "RC-A", 30),
                    ("Shipping", "RC-B1", 15),
                    ("Shipping", "RC-B2", 10),
                    ("Receiving (customer return)", "RC-A", 5),
                ]
            ),
        )  # no internal move, no scrap, not the delivery of April
        receipt = next(row for row in records if row[column["Event"]] == "Receiving")
        self.assertEqual(receipt[column["Traceability Lot Code"]], "VEND-9")  # the vendor's code
        self.assertEqual(receipt[column["Traceability Lot Code Source"]], "LMC Vendor, 1 Dairy Road, Lyon, 69001")
        self.assertEqual(receipt[column["Ship-From Location"]], "LMC Vendor, 1 Dairy Road, Lyon, 69001")
        self.assertIn("9 Cold Street", receipt[column["Ship-To Location"]])
        self.assertEqual(receipt[column["21 CFR"]], "1.1345")
        self.assertEqual(receipt[column["Event Date"]], datetime(2026, 3, 10, 10, 0))
        self.assertEqual(receipt[column["Reference Document Type"]], "Receiving record")
        self.assertTrue(receipt[column["Reference Document Number"]].startswith("WH/IN/"))
        output = next(
            row for row in records if row[column["Lot/Serial Number"]] == "RC-B1" and row[0].startswith("Trans")
        )
        self.assertEqual(output[column["Traceability Lot Code"]], "RC-B1")
        self.assertIn("9 Cold Street", output[column["Traceability Lot Code Source"]])  # assigned where produced
        self.assertEqual(output[column["Input/Output Traceability Lot Codes"]], "VEND-9")
        shop_two = next(row for row in records if row[column["Lot/Serial Number"]] == "RC-B1" and row[0] == "Shipping")
        self.assertEqual(shop_two[column["Ship-To Location"]], "Shop Two")
        self.assertEqual(request.cell(row=len(list(request.iter_rows())), column=2).value, len(records))

    def test_typed_source_wins_and_range_is_in_the_users_time_zone(self):
        self.lot_a.traceability_lot_code_source = "Dairy Coop Packhouse, GLN 0614141000012"
        self.lot_user.tz = "America/New_York"  # 2026-04-20 10:00 UTC is still 2026-04-20 there
        wizard = self._wizard(date_from=date(2026, 4, 20), date_to=date(2026, 4, 20))
        sheet, _request = self._sheet(wizard.action_export_xlsx())
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[1][4], "Dairy Coop Packhouse, GLN 0614141000012")
        self.assertEqual(rows[1][2], datetime(2026, 4, 20, 6, 0))  # local time
        self.lot_user.tz = "Pacific/Kiritimati"  # UTC+14: 10:00 UTC is the 21st there
        with self.assertRaises(UserError):
            self._wizard(date_from=date(2026, 4, 20), date_to=date(2026, 4, 20)).action_export_xlsx()

    def test_bad_input_is_refused_and_nothing_is_written(self):
        attachments = self.env["ir.attachment"].search_count([])
        untracked = self.env["product.product"].create({"name": "Loose Salt", "is_storable": True})
        cases = [
            {"date_from": date(2026, 3, 31), "date_to": date(2026, 3, 1)},  # end before start
            {"product_ids": [(5, 0, 0)]},  # no product
            {"product_ids": [(6, 0, untracked.ids)]},
            {"date_from": date(1800, 1, 1)},
            {"date_to": date(2999, 1, 1)},
            {"date_from": date(2001, 1, 1)},  # 25 years at once
            {"date_from": date(2025, 1, 1), "date_to": date(2025, 1, 31)},  # no event
        ]
        for values in cases:
            with self.subTest(values=values), self.assertRaises(UserError):
                self._wizard(**values).action_export_xlsx()
        self.assertEqual(self.env["ir.attachment"].search_count([]), attachments)

    def test_who_may_export(self):
        stock_user = new_test_user(self.env, login="lmc_fsma_stock", groups="stock.group_stock_user")
        salesperson = new_test_user(self.env, login="lmc_fsma_sales", groups="sales_team.group_sale_salesman")
        portal = new_test_user(self.env, login="lmc_fsma_portal", groups="base.group_portal")
        for user in (stock_user, salesperson, portal):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self._wizard(user=user).action_export_xlsx()
        self._wizard(user=self.quality_manager).action_export_xlsx()

    def test_other_company_is_neither_chosen_nor_shown(self):
        other_company = self.env["res.company"].create({"name": "LMC FSMA Other"})
        with self.assertRaises(AccessError):
            self._wizard(company_id=other_company.id)
        self.env.user.company_ids |= other_company
        # the superuser may choose it: the other company has no event of these products
        with self.assertRaises(UserError):
            self._wizard(user=self.env.user, company_id=other_company.id).action_export_xlsx()

    def test_opened_from_the_lot_list_takes_their_products(self):
        wizard = (
            self.env["stock.lot.fsma.wizard"]
            .with_user(self.lot_user)
            .with_context(active_model="stock.lot", active_ids=self.lot_b1.ids)
            .create({"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)})
        )
        self.assertEqual(wizard.product_ids, self.cups)
        hostile = (
            self.env["stock.lot.fsma.wizard"]
            .with_user(self.lot_user)
            .with_context(active_model="stock.lot", active_ids="1; DROP TABLE stock_lot")
            .create({"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)})
        )
        self.assertFalse(hostile.product_ids)

    def test_query_count_does_not_grow_with_the_records(self):
        wizard = self._wizard()

        def count():
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            rows = wizard._get_record_rows()
            return self.env.cr.sql_log_count - before, len(rows)

        count()  # warm caches
        small, small_rows = count()
        for index in range(12):
            customer = self.env["res.partner"].create({"name": f"Extra {index}"})
            line = self._done_move(
                self.cups, self.lot_b1, 0.25, self.stock, self.customers, customer, self.warehouse.out_type_id
            )
            line.date = datetime(2026, 3, 11) + timedelta(hours=index)
        count()
        big, big_rows = count()
        self.assertEqual(big_rows, small_rows + 12)
        self.assertEqual(big, small)

    def _add_deliveries(self, count, day=11):
        for index in range(count):
            customer = self.env["res.partner"].create({"name": f"Extra {day}-{index}"})
            line = self._done_move(
                self.cups, self.lot_b1, 0.25, self.stock, self.customers, customer, self.warehouse.out_type_id
            )
            line.date = datetime(2026, 3, day) + timedelta(hours=index % 24, minutes=index // 24)

    def test_export_query_count_is_the_same_for_10_and_100_events(self):
        """The whole export (checks, note, statement, attachment) costs as many queries at 10 events as at 100."""
        wizard = self._wizard()

        def export():
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            sheet, _request = self._sheet(wizard.action_export_xlsx())
            queries = self.env.cr.sql_log_count - before
            return queries, sheet.max_row - 1

        self._add_deliveries(2)
        export()  # warm caches
        small, small_rows = export()
        self.assertEqual(small_rows, 10)
        self._add_deliveries(90, day=12)
        big, big_rows = export()
        self.assertEqual(big_rows, 100)
        self.assertEqual(big, small)

    def test_rows_stream_in_batches_from_one_statement(self):
        """Fetched three at a time, the rows are those of the list, in order, for one counted statement."""
        wizard = self._wizard()
        expected = wizard._get_record_rows()
        self.assertGreater(len(expected), 3 * 2)
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        streamed = stream_rows(self.env, wizard._record_rows_sql(), fetch_size=3)
        first = next(streamed)  # nothing is read before the first row is asked for
        self.assertEqual(self.env.cr.sql_log_count - before, 1)
        self.assertEqual([first, *streamed], expected)
        self.assertEqual(self.env.cr.sql_log_count - before, 1)
        # a stream left half-read releases its cursor: the transaction goes on
        streamed = stream_rows(self.env, wizard._record_rows_sql(), fetch_size=2)
        next(streamed)
        streamed.close()
        self.assertEqual(wizard._get_record_rows(), expected)

    def test_spreadsheet_is_written_in_constant_memory_and_stored_from_its_file(self):
        """xlsxwriter's constant_memory mode, and the attachment's stored file is exactly the workbook."""
        self.assertTrue(self.env["report.lot_margin_control.fsma_records_xlsx"]._workbook_options()["constant_memory"])
        action = self._wizard().action_export_xlsx()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        content = attachment.raw
        self.assertTrue(attachment.store_fname)
        self.assertEqual(attachment.checksum, hashlib.sha1(content).hexdigest())
        self.assertEqual(attachment.file_size, len(content))
        self.assertEqual(attachment.res_model, "stock.lot.fsma.wizard")
        self.assertEqual(attachment.mimetype, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        openpyxl.load_workbook(io.BytesIO(content))  # a valid workbook
        # attachments kept in the database: the same file, through Python
        self.env["ir.config_parameter"].sudo().set_param("ir_attachment.location", "db")
        action = self._wizard().action_export_xlsx()
        in_db = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        self.assertFalse(in_db.store_fname)
        self.assertEqual(in_db.checksum, hashlib.sha1(in_db.raw).hexdigest())
        self.assertEqual(self._sheet(action)[0].max_row, 1 + 8)

    def test_hostile_values_are_refused(self):
        """Absurd dates, and dates as strings (what RPC sends), are refused like any bad range."""
        for values in ({"date_from": date(1, 1, 1)}, {"date_to": date(9999, 12, 31)}, {"date_from": "2026-03-01"}):
            with self.subTest(values=values):
                wizard = self._wizard(**{"date_to": date(2026, 2, 1), **values})
                with self.assertRaises(UserError):
                    wizard.action_export_xlsx()

    def test_record_rows_are_written_exactly_as_xlsxwriter_writes_cells(self):
        """The fast row writer gives the very XML of xlsxwriter's own cells, hostile text included."""
        texts = [
            'A & <B> "c"',
            " leading space",
            "trailing space ",
            "_x0041_ is literal",
            "bell\x07 and escape\x1b",
            "tab\tnew\nline",
            "Crème brûlée 中",
            "non-character \ufffe",
            "=1+1",
        ]
        moment = datetime(2026, 3, 10, 10, 30, 15)

        def sheet_xml(fast):
            output = io.BytesIO()
            workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": False})
            date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
            quantity_format = workbook.add_format({"num_format": "#,##0.###"})
            sheet = workbook.add_worksheet("records")
            sheet.write_string(0, 0, "header")
            last = len(texts)
            if fast:
                rows = RecordRows(sheet, last + 3)
                for row in (1, 2):
                    cells = [(column, "s", text, None) for column, text in enumerate(texts)]
                    cells += [(last, "d", moment, date_format), (last + 1, "n", 1234.5678, quantity_format)]
                    cells += [(last + 2, "n", row / 3, None)]
                    rows.add(row, cells)
                rows.close()
            else:
                for row in (1, 2):
                    for column, text in enumerate(texts):
                        sheet.write_string(row, column, text)
                    sheet.write_datetime(row, last, moment, date_format)
                    sheet.write_number(row, last + 1, 1234.5678, quantity_format)
                    sheet.write_number(row, last + 2, row / 3)
            sheet.autofilter(0, 0, 2, last + 2)
            workbook.close()
            return zipfile.ZipFile(output).read("xl/worksheets/sheet1.xml")

        self.assertEqual(sheet_xml(fast=True), sheet_xml(fast=False))
