from odoo import api, fields, models

SCAN_RESULTS = [
    ("confirmed", "Confirmed"),
    ("switched", "Switched"),
    ("refused", "Refused"),
    ("created", "Received"),
]


class StockLotScan(models.Model):
    """One lot scanned on a transfer, and what the scan did (PRODUCT.md §13).

    Written by ``stock.picking.action_scan_lot`` for every scan it could read,
    also the refused ones: picking accuracy is the share of scans that confirmed
    the lot the transfer directed, scan coverage the share of lot lines that a
    scan confirmed. A record of what happened, so nobody edits it.
    """

    _name = "stock.lot.scan"
    _description = "Lot Scan"
    _order = "date desc, id desc"
    _rec_name = "barcode"

    picking_id = fields.Many2one("stock.picking", string="Transfer", readonly=True, index=True, ondelete="cascade")
    picking_type_id = fields.Many2one(related="picking_id.picking_type_id", string="Operation Type", store=True)
    picking_type_code = fields.Selection(related="picking_id.picking_type_code", string="Type of Operation")
    move_line_id = fields.Many2one("stock.move.line", string="Line", readonly=True, ondelete="set null")
    lot_id = fields.Many2one("stock.lot", string="Lot/Serial", readonly=True, index=True)
    directed_lot_id = fields.Many2one(
        "stock.lot",
        readonly=True,
        index="btree_not_null",
        help="The lot the line held before the scan switched it to the scanned one.",
    )
    product_id = fields.Many2one("product.product", readonly=True, index=True)
    quantity = fields.Float(digits="Product Unit of Measure", readonly=True)
    barcode = fields.Char(string="Scanned Code", readonly=True)
    result = fields.Selection(SCAN_RESULTS, required=True, readonly=True, index=True)
    reason = fields.Char(readonly=True, help="Why the scan was refused.")
    user_id = fields.Many2one("res.users", string="Scanned By", readonly=True, index=True)
    date = fields.Datetime(required=True, readonly=True, index=True, default=fields.Datetime.now)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    is_directed_lot = fields.Boolean(
        string="Directed Lot Scanned",
        compute="_compute_is_directed_lot",
        store=True,
        help="The scan confirmed the lot the transfer directed (picking accuracy counts these).",
    )
    accuracy_rate = fields.Float(
        string="Picking Accuracy (%)",
        compute="_compute_is_directed_lot",
        store=True,
        aggregator="avg",
        digits=(16, 1),
        help="100 for a scan that confirmed the directed lot, 0 for a switch or a refusal; "
        "its average is the picking accuracy.",
    )

    @api.depends("result")
    def _compute_is_directed_lot(self):
        for scan in self:
            scan.is_directed_lot = scan.result == "confirmed"
            scan.accuracy_rate = 100.0 if scan.result == "confirmed" else 0.0

    @api.model
    def _record(self, picking, result, barcode, lot=None, line=None, product=None, reason=False, directed_lot=None):
        """Keep one scan of ``picking``; the scanner need not be allowed to write the log itself."""
        values = self._values(picking, result, barcode, lot, line, product, reason, directed_lot)
        return self.sudo().create(values).sudo(False)

    @api.model
    def _values(self, picking, result, barcode, lot=None, line=None, product=None, reason=False, directed_lot=None):
        """The values of one scan of ``picking`` (``_record``; the demo history makes many at once)."""
        line = line or self.env["stock.move.line"]
        return {
            "picking_id": picking.id,
            "move_line_id": line.id,
            "lot_id": (lot or line.lot_id).id,
            "directed_lot_id": directed_lot.id if directed_lot else False,
            "product_id": (product or (lot and lot.product_id) or line.product_id).id,
            "quantity": line.quantity if line else 0.0,
            "barcode": (barcode or "")[:256],
            "result": result,
            "reason": reason,
            "user_id": self.env.uid,
            "company_id": picking.company_id.id,
        }
