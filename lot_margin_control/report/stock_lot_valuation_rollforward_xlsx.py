import io

import xlsxwriter

from odoo import api, models

from .stock_lot_valuation_rollforward import FLOWS

# (key, width, kind) of the "Roll-forward" sheet: the list view's columns.
TEXT_COLUMNS = [("category", 26, "text"), ("product", 34, "text"), ("lot", 18, "text"), ("uom", 8, "text")]
AMOUNT_COLUMNS = [
    ("opening_qty", 11, "quantity"),
    ("opening_value", 15, "money"),
    *(
        column
        for flow, _label, _sign in FLOWS
        for column in ((f"{flow}_qty", 11, "quantity"), (f"{flow}_value", 15, "money"))
    ),
    ("revaluation_value", 15, "money"),
    ("closing_qty", 11, "quantity"),
    ("closing_value", 15, "money"),
]
COLUMNS = [*TEXT_COLUMNS, ("valuation_basis", 14, "selection"), *AMOUNT_COLUMNS]
MONEY_KEYS = [key for key, _width, kind in AMOUNT_COLUMNS if kind == "money"]


class StockLotValuationRollforwardXlsx(models.AbstractModel):
    """The roll-forward workbook, formatted as the valuation by lot's.

    - Summary: the period and scope, then opening value, each movement and the
      closing value, with the check that they add up;
    - Roll-forward: every row (the list view), subtotals of the values per
      product category and the grand total as SUBTOTAL formulas (values cached),
      frozen header, autofilter, detail rows grouped under each subtotal;
    - By Category: one row per category (the pivot view).

    Written with xlsxwriter in constant-memory mode, rows streamed in order.
    """

    _name = "report.lot_margin_control.rollforward_xlsx"
    _description = "Valuation Roll-forward Spreadsheet"

    @api.model
    def _generate(self, rows, header, currency, notes):
        """The workbook (bytes) of ``rows`` (``stock.lot.valuation.rollforward._read_export_rows``),
        ``header`` (``(label, value)`` pairs of the scope), in ``currency``, with ``notes`` for the reader."""
        valuation_xlsx = self.env["report.lot_margin_control.valuation_xlsx"]
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": False})
        formats = valuation_xlsx._formats(workbook, currency)
        summary_sheet = workbook.add_worksheet(self.env._("Summary"))
        lot_sheet = workbook.add_worksheet(self.env._("Roll-forward"))
        category_sheet = workbook.add_worksheet(self.env._("By Category"))
        totals = self._write_rows(lot_sheet, rows, formats)
        self._write_categories(category_sheet, rows, formats)
        self._write_summary(summary_sheet, header, notes, totals, len(rows), formats)
        workbook.close()
        return output.getvalue()

    @api.model
    def _titles(self):
        model = self.env["stock.lot.valuation.rollforward"]
        titles = {
            "category": model._fields["product_categ_id"]._description_string(self.env),
            "product": model._fields["product_id"]._description_string(self.env),
            "lot": model._fields["lot_id"]._description_string(self.env),
            "uom": model._fields["uom_id"]._description_string(self.env),
        }
        for key, _width, _kind in COLUMNS:
            if key not in titles:
                titles[key] = model._fields[key]._description_string(self.env)
        basis = dict(model._fields["valuation_basis"]._description_selection(self.env))
        return titles, basis

    @api.model
    def _write_header(self, sheet, columns, titles, formats):
        for col, (_key, width, _kind) in enumerate(columns):
            sheet.set_column(col, col, width)
        sheet.set_row(0, 30)
        for col, (key, _width, _kind) in enumerate(columns):
            sheet.write_string(0, col, titles[key], formats["header"])
        sheet.freeze_panes(1, len(TEXT_COLUMNS) - 1)

    @api.model
    def _write_rows(self, sheet, rows, formats):
        """Every row, subtotals per category, the grand total; returns the grand totals by money key."""
        valuation_xlsx = self.env["report.lot_margin_control.valuation_xlsx"]
        titles, basis = self._titles()
        self._write_header(sheet, COLUMNS, titles, formats)
        money = {col: key for col, (key, _width, kind) in enumerate(COLUMNS) if kind == "money"}

        def cells_of(data):
            cells = []
            for col, (key, _width, kind) in enumerate(COLUMNS):
                value = data[key]
                if kind == "text":
                    if value:
                        cells.append((col, "s", value, None))
                elif kind == "selection":
                    cells.append((col, "s", basis[value], None))
                elif value:
                    cells.append((col, "n", value, formats[kind]))
            return cells

        grand = valuation_xlsx._write_rows_by_category(sheet, rows, len(COLUMNS), cells_of, money, formats)
        return {key: grand[col] for col, key in money.items()}

    @api.model
    def _write_categories(self, sheet, rows, formats):
        """One row per product category with its values (the pivot view), and the grand total."""
        valuation_xlsx = self.env["report.lot_margin_control.valuation_xlsx"]
        titles, _basis = self._titles()
        columns = [("category", 30, "text"), *((key, 15, "money") for key in MONEY_KEYS)]
        by_category = {}
        for data in rows:
            values = by_category.setdefault(data["category"], dict.fromkeys(MONEY_KEYS, 0.0))
            for key in MONEY_KEYS:
                values[key] += data[key]
        self._write_header(sheet, columns, titles, formats)
        sheet.freeze_panes(1, 1)
        row = 0
        for category in sorted(by_category):
            row += 1
            sheet.write_string(row, 0, category)
            for col, key in enumerate(MONEY_KEYS, start=1):
                sheet.write_number(row, col, by_category[category][key], formats["money"])
        last_row = row
        sheet.autofilter(0, 0, max(last_row, 1), len(columns) - 1)
        row += 1
        sheet.write_string(row, 0, self.env._("Grand Total"), formats["total_label"])
        for col, key in enumerate(MONEY_KEYS, start=1):
            total = sum(values[key] for values in by_category.values())
            valuation_xlsx._write_subtotal(sheet, row, col, 1, max(last_row, 1), total, formats)

    @api.model
    def _write_summary(self, sheet, header, notes, totals, row_count, formats):
        """The period and scope, then opening + movements = closing, each movement with its sign."""
        titles, _basis = self._titles()
        sheet.set_column(0, 0, 44)
        sheet.set_column(1, 1, 18)
        sheet.write_string(0, 0, self.env._("Valuation Roll-forward by Lot"), formats["title"])
        row = 0
        for label, value in [*header, (self.env._("Rows"), row_count)]:
            row += 1
            sheet.write(row, 0, label, formats["bold"])
            sheet.write(row, 1, value)
        for note in notes:
            row += 1
            sheet.write_string(row, 0, note, formats["note"])
        row += 2
        sheet.write_string(row, 0, self.env._("Movement"), formats["header"])
        sheet.write_string(row, 1, self.env._("Value"), formats["header"])
        first = row + 1
        signs = {f"{flow}_value": sign for flow, _label, sign in FLOWS}
        for key in MONEY_KEYS[:-1]:
            row += 1
            sign = signs.get(key, 1)
            sheet.write_string(row, 0, ("- " if sign < 0 else "+ " if key != "opening_value" else "") + titles[key])
            sheet.write_number(row, 1, sign * totals[key], formats["money"])
        top = xlsxwriter.utility.xl_rowcol_to_cell(first, 1)
        bottom = xlsxwriter.utility.xl_rowcol_to_cell(row, 1)
        row += 1
        sheet.write_string(row, 0, titles["closing_value"], formats["total_label"])
        sheet.write_formula(row, 1, f"=SUM({top}:{bottom})", formats["money_bold"], totals["closing_value"])
