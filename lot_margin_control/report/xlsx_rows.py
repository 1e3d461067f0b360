"""Rows of many records written straight into a constant-memory xlsxwriter worksheet.

xlsxwriter's per-cell path (``write_string`` → the row buffer → ``_write_cell``)
costs some 10 µs a cell: 15 s of a 100,000-record FSMA export and 45 s of a
100,000-row valuation (17 columns) on a loaded 2-core machine. ``RecordRows``
writes a row as one string, its cells exactly as xlsxwriter writes them (inline
strings with its escapes, numbers as ``%.16G``, datetimes as Excel serials, the
formats' indexes, the row's outline level), and keeps the sheet's dimensions and
row bookkeeping as its own writes would. Rows written the usual way (subtotals,
formulas) can come in between (``before_usual_row``). This uses xlsxwriter
internals (``_write_single_row``, ``_check_dimensions``, ``fh``, ``previous_row``,
``outline_row_level``, ``Format._get_xf_index``) of the version Odoo pins (3.0.2);
tests compare the XML with xlsxwriter's own and read the files back with openpyxl.
"""

import re

from xlsxwriter.utility import datetime_to_excel_datetime, xl_col_to_name

# What xlsxwriter escapes in an inline string (worksheet._write_cell): a literal _xHHHH_, control characters.
LITERAL_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
CONTROL_CHARACTERS = re.compile(r"([\x00-\x08\x0b-\x1f])")

# Distinct texts and dates whose XML is remembered (categories, products, places, labels and expiry
# dates repeat; lot names and event times do not): memory stays bounded whatever the row count.
CACHE_SIZE = 20000


def _inline_text(value):
    """The ``<is>`` element of a text cell."""
    if "_x" in value or not value.isprintable():
        value = LITERAL_ESCAPE.sub(r"_x005F\1", value)
        value = CONTROL_CHARACTERS.sub(lambda match: f"_x{ord(match.group(1)):04X}_", value)
        value = value.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    if "&" in value or "<" in value or ">" in value:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    preserve = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f"<is><t{preserve}>{value}</t></is>"


class RecordRows:
    """Writes records as XML rows into a constant_memory worksheet's row data, from ``first_row`` on.

    Rows must come in increasing order. Before a row written the usual way (``write_*``),
    call ``before_usual_row(row)``; after the last record, ``close()``.
    """

    def __init__(self, sheet, column_count, first_row=1):
        self.sheet = sheet
        self.letters = [xl_col_to_name(column) for column in range(column_count)]
        self.last_row = None
        self.usual_row_pending = False
        self.styles = {None: ""}
        self.texts = {}
        self.serials = {}
        sheet._write_single_row(first_row)  # the rows before go out: the records follow them

    def add(self, row_number, cells, outline_level=0):
        """``cells``: (column, kind, value, format) for the non-empty cells, in column order.

        ``kind``: ``"s"`` text, ``"n"`` number, ``"d"`` date or datetime.
        """
        sheet = self.sheet
        if self.usual_row_pending:
            sheet._write_single_row(row_number)  # the row written the usual way goes out first
            self.usual_row_pending = False
        if self.last_row is None:
            sheet._check_dimensions(row_number, len(self.letters) - 1)
        self.last_row = row_number
        if outline_level:
            line = [f'<row r="{row_number + 1}" outlineLevel="{outline_level}">']
            sheet.outline_row_level = max(sheet.outline_row_level, outline_level)
        else:
            line = [f'<row r="{row_number + 1}">']
        row = row_number + 1
        letters, styles, texts, serials = self.letters, self.styles, self.texts, self.serials
        for column, kind, value, cell_format in cells:
            if kind == "s":
                text = texts.get(value)
                if text is None:
                    text = _inline_text(value)
                    if len(texts) < CACHE_SIZE:
                        texts[value] = text
                line.append(f'<c r="{letters[column]}{row}" t="inlineStr">{text}</c>')
            else:
                if kind == "d":
                    serial = serials.get(value)
                    if serial is None:
                        serial = datetime_to_excel_datetime(value, False, False)
                        if len(serials) < CACHE_SIZE:
                            serials[value] = serial
                    value = serial
                style = styles.get(cell_format)
                if style is None:
                    style = styles[cell_format] = f' s="{cell_format._get_xf_index()}"'
                line.append(f'<c r="{letters[column]}{row}"{style}><v>{value:.16G}</v></c>')
        line.append("</row>")
        sheet.fh.write("".join(line))

    def _settle(self):
        """The sheet's dimensions and current row as if the records had been written cell by cell."""
        if self.last_row is not None:
            self.sheet._check_dimensions(self.last_row, len(self.letters) - 1)
            self.sheet.previous_row = self.last_row
            self.last_row = None

    def before_usual_row(self, row_number):
        """``row_number`` (after the records so far) is about to be written with xlsxwriter's ``write_*``."""
        self._settle()
        self.sheet.previous_row = row_number
        self.usual_row_pending = True

    def close(self):
        self._settle()
