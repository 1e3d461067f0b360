import io

import xlsxwriter

from odoo import api, models

# FSMA 204 key data elements, one row per critical tracking event of the trace.
COLUMNS = [
    ("Event", 18),
    ("Traceability Lot Code", 20),
    ("Traceability Lot Code Source", 28),
    ("Lot/Serial Number", 16),
    ("Product Description", 34),
    ("Quantity", 12),
    ("Unit of Measure", 14),
    ("Ship-From / Origin", 30),
    ("Ship-To / Destination", 30),
    ("Event Date", 18),
    ("Reference Document Type", 22),
    ("Reference Document Number", 24),
    ("Direction", 12),
    ("Depth", 8),
]
DOCUMENT_TYPES = {
    "receipt": "Receiving record",
    "vendor_return": "Return to vendor",
    "delivery": "Delivery order",
    "customer_return": "Customer return",
    "scrap": "Scrap order",
    "adjustment": "Inventory adjustment",
    "production": "Production record",
    "consumption": "Production record",
    "internal": "Internal transfer",
}


class RecallFsmaXlsx(models.AbstractModel):
    """The FSMA 204 sortable spreadsheet of a recall's trace (xlsxwriter, constant memory).

    Written with the exporting user's rights: the trace lines of companies they may
    not read are left out, and a note under the table says how many. Lots are named
    by their traceability lot code and its source (``stock.lot.traceability_lot_code``,
    ``_get_traceability_lot_code_sources``), as in the FSMA 204 records and on
    delivery slips.
    """

    _name = "report.lot_margin_control.recall_fsma_xlsx"
    _description = "Recall FSMA 204 Spreadsheet"

    @api.model
    def _place(self, location, partner):
        """Partner name and address for vendors/customers, else the location's full name."""
        if partner:
            address = ", ".join(filter(None, [partner.street, partner.city, partner.country_id.name]))
            return f"{partner.name} ({address})" if address else partner.name
        return location.complete_name or ""

    @api.model
    def _generate(self, recall):
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": False})
        header = workbook.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True})
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        quantity_format = workbook.add_format({"num_format": "#,##0.###"})
        note_format = workbook.add_format({"italic": True})
        sheet = workbook.add_worksheet("KDE events")
        for column, (title, width) in enumerate(COLUMNS):
            sheet.set_column(column, column, width)
            sheet.write(0, column, title, header)
        sheet.freeze_panes(1, 0)
        events = recall.line_ids.filtered(lambda line: line.event != "on_hand").sorted(
            lambda line: (line.date, line.id)
        )
        # the same traceability lot code and source as the FSMA 204 records and the delivery slips
        # (sources looked for in the exporting user's companies only)
        sources = events.lot_id._get_traceability_lot_code_sources(self.env.companies.ids)
        event_labels = dict(events._fields["event"]._description_selection(self.env))
        direction_labels = dict(events._fields["direction"]._description_selection(self.env))
        row = 0
        for line in events:
            row += 1
            origin_partner = line.partner_id if line.event in ("receipt", "customer_return") else False
            destination_partner = line.partner_id if line.event in ("delivery", "vendor_return") else False
            sheet.write_string(row, 0, event_labels[line.event])
            sheet.write_string(row, 1, line.lot_id.traceability_lot_code)
            sheet.write_string(row, 2, sources.get(line.lot_id.id) or "")
            sheet.write_string(row, 3, line.lot_id.name)
            sheet.write_string(row, 4, line.product_id.display_name)
            sheet.write_number(row, 5, line.quantity, quantity_format)
            sheet.write_string(row, 6, line.uom_id.name or "")
            sheet.write_string(row, 7, self._place(line.location_id, origin_partner))
            sheet.write_string(row, 8, self._place(line.location_dest_id, destination_partner))
            if line.date:
                sheet.write_datetime(row, 9, line.date, date_format)
            sheet.write_string(row, 10, DOCUMENT_TYPES.get(line.event, ""))
            sheet.write_string(row, 11, line.reference or "")
            sheet.write_string(row, 12, direction_labels[line.direction])
            sheet.write_number(row, 13, line.depth)
        sheet.autofilter(0, 0, max(row, 1), len(COLUMNS) - 1)
        if recall.other_company_note:
            # below the table, outside the filtered range: sorting never moves it into the data
            sheet.write_string(row + 2, 0, recall.other_company_note, note_format)
        workbook.close()
        return output.getvalue()
