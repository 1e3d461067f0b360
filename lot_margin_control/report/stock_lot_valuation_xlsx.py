import io
import re

import xlsxwriter

from odoo import api, models

from .stock_lot_valuation_report import EXPIRY_BUCKETS
from .xlsx_rows import RecordRows

# (key, width, kind) of the "By Lot" sheet, the report's list view.
LOT_COLUMNS = [
    ("category", 26, "text"),
    ("product", 34, "text"),
    ("lot", 18, "text"),
    ("warehouse", 14, "text"),
    ("location", 24, "text"),
    ("expiration_date", 12, "date"),
    ("remaining_shelf_life_days", 9, "integer"),
    ("shelf_life_state", 12, "selection"),
    ("quality_state", 12, "selection"),
    ("expiry_bucket", 14, "selection"),
    ("quantity", 12, "quantity"),
    ("uom", 8, "text"),
    ("unit_cost", 12, "money"),
    ("value", 15, "money"),
    ("valuation_basis", 14, "selection"),
    ("markdown_discount", 10, "percent"),
    ("markdown_exposure", 15, "money"),
]
BUCKETS = tuple(key for key, _label, _limit in EXPIRY_BUCKETS)


class StockLotValuationXlsx(models.AbstractModel):
    """The valuation-by-lot workbook: one sheet per view of the report, plus the summary.

    - Summary: the parameters, the value by expiry bucket and by quality status,
      and the suggested provision, with a chart of the buckets (graph view);
    - By Lot: every row (list view), subtotals per product category and the
      grand total as SUBTOTAL formulas (their values cached, so any reader sees
      them), frozen header, autofilter, detail rows grouped under each subtotal;
    - By Category: product category against expiry bucket (pivot view).

    Written with xlsxwriter in constant-memory mode, rows streamed in order.
    """

    _name = "report.lot_margin_control.valuation_xlsx"
    _description = "Valuation by Lot Spreadsheet"

    # ------------------------------------------------------------------
    # Workbook
    # ------------------------------------------------------------------
    @api.model
    def _generate(self, rows, summary, header, currency, notes):
        """The workbook (bytes) of plain data.

        ``rows``: the report rows (``stock.lot.valuation.report._read_export_rows``); ``summary``:
        their summary (``get_summary`` of the same domain and date); ``header``: ``(label, value)``
        pairs describing the scope (company, date, filters); ``currency``: the ``res.currency`` of
        the amounts; ``notes``: messages for the reader.
        """
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": False})
        formats = self._formats(workbook, currency)
        summary_sheet = workbook.add_worksheet(self.env._("Summary"))
        lot_sheet = workbook.add_worksheet(self.env._("By Lot"))
        category_sheet = workbook.add_worksheet(self.env._("By Category"))
        self._write_lots(lot_sheet, rows, formats)
        categories = self._write_categories(category_sheet, rows, formats)
        self._write_summary(workbook, summary_sheet, summary, header, notes, formats, categories)
        workbook.close()
        return output.getvalue()

    @api.model
    def _download(self, record, prefix, day, content):
        """Attach the workbook ``content`` to ``record`` as ``<prefix>_<company>_<day>.xlsx`` and return
        the action that downloads it (``record`` has a ``company_id``)."""
        company = re.sub(r"[^\w-]+", "_", record.company_id.name or "").strip("_")
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{prefix}_{company}_{day}.xlsx",
                "raw": content,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "res_model": record._name,
                "res_id": record.id,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "download",
        }

    @api.model
    def _formats(self, workbook, currency):
        decimals = "." + "0" * currency.decimal_places if currency.decimal_places else ""
        symbol = currency.symbol.replace('"', "")
        number = f"#,##0{decimals}"
        money = f'"{symbol}" {number}' if currency.position == "before" else f'{number} "{symbol}"'
        return {
            "header": workbook.add_format(
                {"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True, "valign": "top"}
            ),
            "title": workbook.add_format({"bold": True, "font_size": 14}),
            "bold": workbook.add_format({"bold": True}),
            "note": workbook.add_format({"italic": True, "font_color": "#9C5700"}),
            "text": None,
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "integer": workbook.add_format({"num_format": "0"}),
            "quantity": workbook.add_format({"num_format": "#,##0.###"}),
            "money": workbook.add_format({"num_format": money}),
            "money_bold": workbook.add_format({"num_format": money, "bold": True, "top": 1}),
            "percent": workbook.add_format({"num_format": "0.00"}),
            "share": workbook.add_format({"num_format": "0.0%"}),
            "total_label": workbook.add_format({"bold": True, "top": 1}),
        }

    @api.model
    def _labels(self):
        report = self.env["stock.lot.valuation.report"]
        labels = {
            fname: dict(report._fields[fname]._description_selection(self.env))
            for fname in ("shelf_life_state", "quality_state", "expiry_bucket", "valuation_basis")
        }
        titles = {
            "category": report._fields["product_categ_id"]._description_string(self.env),
            "product": report._fields["product_id"]._description_string(self.env),
            "lot": report._fields["lot_id"]._description_string(self.env),
            "warehouse": report._fields["warehouse_id"]._description_string(self.env),
            "location": report._fields["location_id"]._description_string(self.env),
            "uom": report._fields["uom_id"]._description_string(self.env),
        }
        for key, _width, _kind in LOT_COLUMNS:
            if key not in titles:
                titles[key] = report._fields[key]._description_string(self.env)
        return labels, titles

    @api.model
    def _write_lots(self, sheet, rows, formats):
        labels, titles = self._labels()
        value_col = next(i for i, (key, _w, _k) in enumerate(LOT_COLUMNS) if key == "value")
        exposure_col = next(i for i, (key, _w, _k) in enumerate(LOT_COLUMNS) if key == "markdown_exposure")
        for col, (_key, width, _kind) in enumerate(LOT_COLUMNS):
            sheet.set_column(col, col, width)
        sheet.set_row(0, 30)
        for col, (key, _width, _kind) in enumerate(LOT_COLUMNS):
            sheet.write_string(0, col, titles[key], formats["header"])
        sheet.freeze_panes(1, 0)
        columns = [(col, key, kind, labels.get(key)) for col, (key, _width, kind) in enumerate(LOT_COLUMNS)]
        number_formats = {kind: formats[kind] for kind in ("integer", "quantity", "money", "percent")}
        date_format = formats["date"]

        def cells_of(data):
            cells = []  # empty cells left out
            for col, key, kind, field_labels in columns:
                value = data[key]
                if kind == "text":
                    if value:
                        cells.append((col, "s", value, None))
                elif kind == "selection":
                    if value:
                        cells.append((col, "s", field_labels[value], None))
                elif kind == "date":
                    if value:
                        cells.append((col, "d", value, date_format))
                elif value is not None and (value or kind != "percent"):
                    cells.append((col, "n", value, number_formats[kind]))
            return cells

        self._write_rows_by_category(
            sheet, rows, len(LOT_COLUMNS), cells_of, {value_col: "value", exposure_col: "markdown_exposure"}, formats
        )

    @api.model
    def _write_rows_by_category(self, sheet, rows, column_count, cells_of, money, formats):
        """The detail rows (``cells_of(row)``: its non-empty cells, see xlsx_rows.RecordRows), grouped under
        a SUBTOTAL row per category (``row["category"]``, rows in category order) of each money column
        (``money``: ``{column: row key}``), the autofilter, and the grand total. Returns the grand totals
        ``{column: value}``. The valuation's and the roll-forward's lot sheets."""
        records = RecordRows(sheet, column_count)
        row_index = 0
        group_start = 1
        totals = dict.fromkeys(money, 0.0)
        grand = dict.fromkeys(money, 0.0)
        for position, data in enumerate(rows):
            row_index += 1
            records.add(row_index, cells_of(data), outline_level=1)
            for col, key in money.items():
                totals[col] += data[key]
            last_of_category = position + 1 == len(rows) or rows[position + 1]["category"] != data["category"]
            if last_of_category:
                row_index += 1
                records.before_usual_row(row_index)
                sheet.write_string(
                    row_index,
                    0,
                    self.env._("Total %(category)s", category=data["category"] or ""),
                    formats["total_label"],
                )
                for col in money:
                    self._write_subtotal(sheet, row_index, col, group_start, row_index - 1, totals[col], formats)
                    grand[col] += totals[col]
                    totals[col] = 0.0
                group_start = row_index + 1
        records.close()
        sheet.autofilter(0, 0, max(row_index, 1), column_count - 1)
        row_index += 1
        sheet.write_string(row_index, 0, self.env._("Grand Total"), formats["total_label"])
        for col in money:
            self._write_subtotal(sheet, row_index, col, 1, max(row_index - 1, 1), grand[col], formats)
        return grand

    @api.model
    def _write_subtotal(self, sheet, row, col, first_row, last_row, value, formats):
        """SUBTOTAL(9, ...) of a column, its value cached; SUBTOTAL ignores nested subtotals."""
        first = xlsxwriter.utility.xl_rowcol_to_cell(first_row, col)
        last = xlsxwriter.utility.xl_rowcol_to_cell(last_row, col)
        sheet.write_formula(row, col, f"=SUBTOTAL(9,{first}:{last})", formats["money_bold"], value)

    @api.model
    def _write_categories(self, sheet, rows, formats):
        """Category x expiry bucket (the pivot view). Returns the sheet's layout for the chart."""
        labels, titles = self._labels()
        bucket_labels = labels["expiry_bucket"]
        by_category = {}
        for data in rows:
            values = by_category.setdefault(data["category"] or "", dict.fromkeys((*BUCKETS, "markdown_exposure"), 0.0))
            values[data["expiry_bucket"]] += data["value"]
            values["markdown_exposure"] += data["markdown_exposure"]
        headers = [
            titles["category"],
            *(bucket_labels[bucket] for bucket in BUCKETS),
            self.env._("Total"),
            titles["markdown_exposure"],
        ]
        sheet.set_column(0, 0, 30)
        sheet.set_column(1, len(headers) - 1, 15)
        sheet.set_row(0, 30)
        for col, title in enumerate(headers):
            sheet.write_string(0, col, title, formats["header"])
        sheet.freeze_panes(1, 1)
        row = 0
        for category in sorted(by_category):
            values = by_category[category]
            row += 1
            sheet.write_string(row, 0, category)
            for col, bucket in enumerate(BUCKETS, start=1):
                sheet.write_number(row, col, values[bucket], formats["money"])
            total_col = len(BUCKETS) + 1
            first = xlsxwriter.utility.xl_rowcol_to_cell(row, 1)
            last = xlsxwriter.utility.xl_rowcol_to_cell(row, len(BUCKETS))
            sheet.write_formula(
                row, total_col, f"=SUM({first}:{last})", formats["money"], sum(values[b] for b in BUCKETS)
            )
            sheet.write_number(row, total_col + 1, values["markdown_exposure"], formats["money"])
        last_row = row
        sheet.autofilter(0, 0, max(last_row, 1), len(headers) - 1)
        row += 1
        sheet.write_string(row, 0, self.env._("Grand Total"), formats["total_label"])
        for col in range(1, len(headers)):
            if col <= len(BUCKETS):
                value = sum(values[BUCKETS[col - 1]] for values in by_category.values())
            elif col == len(BUCKETS) + 1:
                value = sum(sum(values[b] for b in BUCKETS) for values in by_category.values())
            else:
                value = sum(values["markdown_exposure"] for values in by_category.values())
            self._write_subtotal(sheet, row, col, 1, max(last_row, 1), value, formats)
        return {"name": sheet.name, "last_row": last_row, "bucket_labels": bucket_labels}

    @api.model
    def _write_summary(self, workbook, sheet, summary, header, notes, formats, categories):
        sheet.set_column(0, 0, 44)
        sheet.set_column(1, 2, 18)
        lines = [
            (self.env._("Inventory Valuation by Lot"), None, "title"),
            *((label, value, None) for label, value in header),
            (self.env._("Rows"), summary["row_count"], None),
        ]
        row = -1
        for label, value, style in lines:
            row += 1
            sheet.write(row, 0, label, formats["title"] if style else formats["bold"])
            if value is not None:
                sheet.write(row, 1, value)
        for note in notes:
            row += 1
            sheet.write_string(row, 0, note, formats["note"])

        bucket_first = None
        for section in self.env["stock.lot.valuation.report"]._get_summary_sections(summary):
            row += 2
            sheet.write_string(row, 0, section["title"], formats["header"])
            sheet.write_string(row, 1, self.env._("Value"), formats["header"])
            sheet.write_string(row, 2, self.env._("Share of Total"), formats["header"])
            first = row + 1
            bucket_first = first if bucket_first is None else bucket_first
            for label, value in section["lines"]:
                row += 1
                sheet.write_string(row, 0, label)
                sheet.write_number(row, 1, value, formats["money"])
                sheet.write_number(row, 2, value / summary["total"] if summary["total"] else 0, formats["share"])
            if section["total_label"]:
                row += 1
                sheet.write_string(row, 0, section["total_label"], formats["total_label"])
                top = xlsxwriter.utility.xl_rowcol_to_cell(first, 1)
                bottom = xlsxwriter.utility.xl_rowcol_to_cell(row - 1, 1)
                sheet.write_formula(row, 1, f"=SUM({top}:{bottom})", formats["money_bold"], section["total"])
        chart = workbook.add_chart({"type": "column"})
        chart.add_series(
            {
                "name": self.env._("Value by Expiry"),
                "categories": [sheet.name, bucket_first, 0, bucket_first + len(BUCKETS) - 1, 0],
                "values": [sheet.name, bucket_first, 1, bucket_first + len(BUCKETS) - 1, 1],
            }
        )
        chart.set_legend({"none": True})
        chart.set_title({"name": self.env._("Inventory Value by Expiry")})
        sheet.insert_chart(0, 4, chart)
        if categories["last_row"]:
            by_category = workbook.add_chart({"type": "bar", "subtype": "stacked"})
            for col, bucket in enumerate(BUCKETS, start=1):
                by_category.add_series(
                    {
                        "name": categories["bucket_labels"][bucket],
                        "categories": [categories["name"], 1, 0, categories["last_row"], 0],
                        "values": [categories["name"], 1, col, categories["last_row"], col],
                    }
                )
            by_category.set_title({"name": self.env._("Value by Category and Expiry")})
            sheet.insert_chart(16, 4, by_category)
