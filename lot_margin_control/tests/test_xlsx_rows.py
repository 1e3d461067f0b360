import io
import zipfile
from datetime import date

import openpyxl
import xlsxwriter

from odoo.tests import TransactionCase, tagged

from ..report.xlsx_rows import RecordRows


@tagged("post_install", "-at_install")
class TestRecordRows(TransactionCase):
    """The valuation's layout: detail rows grouped (outline level 1) between subtotal rows with formulas."""

    GROUPS = [
        [("Cheese", " Brie ", date(2026, 12, 1), 12.5, 1234.5678), ("Cheese", "A & <B>", None, 0.0, 0.1)],
        [("Milk", "_x0041_ lot\x07", date(2027, 1, 31), 3.0, 2 / 3)],
    ]

    def _sheet(self, fast):
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": False})
        header = workbook.add_format({"bold": True})
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        money = workbook.add_format({"num_format": "#,##0.00"})
        sheet = workbook.add_worksheet("By Lot")
        for col, title in enumerate(("Category", "Lot", "Expiry", "Quantity", "Value")):
            sheet.write_string(0, col, title, header)
        sheet.freeze_panes(1, 0)
        records = RecordRows(sheet, 5) if fast else None
        row = 0
        for group in self.GROUPS:
            first = row + 1
            for category, lot, expiry, quantity, value in group:
                row += 1
                cells = [(0, "s", category, None), (1, "s", lot, None)]
                if expiry:
                    cells.append((2, "d", expiry, day))
                cells += [(3, "n", quantity, None), (4, "n", value, money)]
                if fast:
                    records.add(row, cells, outline_level=1)
                else:
                    sheet.set_row(row, None, None, {"level": 1})
                    for col, kind, cell_value, cell_format in cells:
                        write = {"s": sheet.write_string, "d": sheet.write_datetime, "n": sheet.write_number}[kind]
                        write(row, col, cell_value, cell_format)
            row += 1
            if fast:
                records.before_usual_row(row)
            sheet.write_string(row, 0, f"Total {group[0][0]}", header)
            total = sum(line[4] for line in group)
            sheet.write_formula(row, 4, f"=SUBTOTAL(9,E{first + 1}:E{row})", money, total)
        if fast:
            records.close()
        sheet.autofilter(0, 0, row, 4)
        workbook.close()
        return output.getvalue()

    def test_rows_are_written_exactly_as_xlsxwriter_writes_them(self):
        fast, usual = self._sheet(fast=True), self._sheet(fast=False)
        for part in ("xl/worksheets/sheet1.xml", "xl/styles.xml"):
            self.assertEqual(
                zipfile.ZipFile(io.BytesIO(fast)).read(part), zipfile.ZipFile(io.BytesIO(usual)).read(part)
            )
        sheet = openpyxl.load_workbook(io.BytesIO(fast))["By Lot"]
        self.assertEqual(sheet["B2"].value, " Brie ")
        self.assertEqual(sheet["B3"].value, "A & <B>")
        self.assertEqual(sheet["E4"].value, "=SUBTOTAL(9,E2:E3)")
        self.assertEqual(sheet.row_dimensions[2].outline_level, 1)
        self.assertEqual(sheet.row_dimensions[4].outline_level, 0)
        self.assertEqual(sheet.max_row, 6)
        self.assertEqual(sheet.max_column, 5)
