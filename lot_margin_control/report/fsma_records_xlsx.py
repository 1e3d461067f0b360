import xlsxwriter

from odoo import api, models

from .xlsx_rows import RecordRows


class FsmaRecordsXlsx(models.AbstractModel):
    """The FSMA 204 sortable spreadsheet of ``stock.lot.fsma.wizard`` (xlsxwriter, constant memory).

    Takes the plain rows of ``stock.lot.fsma.wizard._stream_record_rows`` (any
    iterable, consumed once) and writes them as they come into a file: one sheet of
    records (frozen header, autofilter over every row) and one saying what was asked
    (company, products, range, time zone) and what was left out. In xlsxwriter's
    ``constant_memory`` mode each row goes to disk once written, so memory does not
    grow with the records.
    """

    _name = "report.lot_margin_control.fsma_records_xlsx"
    _description = "FSMA 204 Records Spreadsheet"

    @api.model
    def _columns(self):
        return [
            (self.env._("Event"), 22),
            (self.env._("21 CFR"), 8),
            (self.env._("Event Date"), 18),
            (self.env._("Traceability Lot Code"), 20),
            (self.env._("Traceability Lot Code Source"), 40),
            (self.env._("Lot/Serial Number"), 16),
            (self.env._("Product Description"), 34),
            (self.env._("Quantity"), 12),
            (self.env._("Unit of Measure"), 12),
            (self.env._("Ship-From Location"), 40),
            (self.env._("Ship-To Location"), 40),
            (self.env._("Reference Document Type"), 20),
            (self.env._("Reference Document Number"), 20),
            (self.env._("Source Document"), 16),
            (self.env._("Input/Output Traceability Lot Codes"), 30),
        ]

    @api.model
    def _events(self):
        """Trace event -> (label, 21 CFR section, reference document type)."""
        return {
            "receipt": (self.env._("Receiving"), "1.1345", self.env._("Receiving record")),
            "customer_return": (self.env._("Receiving (customer return)"), "1.1345", self.env._("Return receipt")),
            "delivery": (self.env._("Shipping"), "1.1340", self.env._("Delivery order")),
            "vendor_return": (self.env._("Shipping (return to vendor)"), "1.1340", self.env._("Return to vendor")),
            "consumption": (self.env._("Transformation: input"), "1.1350", self.env._("Production record")),
            "production": (self.env._("Transformation: output"), "1.1350", self.env._("Production record")),
        }

    @api.model
    def _workbook_options(self):
        return {"constant_memory": True, "in_memory": False}

    @api.model
    def _write(self, stream, rows, header, notes=()):
        """Write the workbook into the binary file ``stream``; returns the number of records written.

        ``notes``: sentences for the reader (e.g. what was left out), on the request sheet.
        """
        workbook = xlsxwriter.Workbook(stream, self._workbook_options())
        bold = workbook.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True})
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        quantity_format = workbook.add_format({"num_format": "#,##0.###"})
        sheet = workbook.add_worksheet(self.env._("FSMA 204 records"))
        columns = self._columns()
        for column, (title, width) in enumerate(columns):
            sheet.set_column(column, column, width)
            sheet.write_string(0, column, title, bold)
        sheet.freeze_panes(1, 0)
        events = self._events()
        records = RecordRows(sheet, len(columns))
        row_number = 0
        for row_number, row in enumerate(rows, start=1):
            (
                event,
                moment,
                code,
                code_source,
                lot,
                product,
                quantity,
                uom,
                ship_from,
                ship_to,
                reference,
                origin,
                linked,
            ) = row
            label, section, document_type = events[event]
            texts = (
                (3, code),
                (4, code_source),
                (5, lot),
                (6, product),
                (8, uom),
                (9, ship_from),
                (10, ship_to),
                (11, document_type),
                (12, reference),
                (13, origin),
                (14, linked),
            )
            cells = [(0, "s", label, None), (1, "s", section, None), (2, "d", moment, date_format)]
            # empty cells stay empty (and cost nothing to write)
            cells += [(column, "s", value, None) for column, value in texts[:4] if value]
            cells.append((7, "n", quantity, quantity_format))
            cells += [(column, "s", value, None) for column, value in texts[4:] if value]
            records.add(row_number, cells)
        records.close()
        sheet.autofilter(0, 0, max(row_number, 1), len(columns) - 1)
        about = workbook.add_worksheet(self.env._("Request"))
        about.set_column(0, 0, 18)
        about.set_column(1, 1, 80)
        for index, (title, value) in enumerate(header):
            about.write_string(index, 0, title, bold)
            about.write_string(index, 1, value or "")
        about.write_string(len(header), 0, self.env._("Records"), bold)
        about.write_number(len(header), 1, row_number)
        for index, note in enumerate(notes, start=len(header) + 1):
            about.write_string(index, 0, self.env._("Note"), bold)
            about.write_string(index, 1, note)
        workbook.close()
        return row_number
