# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.exceptions import AccessError


class StockMoveLine(models.Model):
    """A lot line knows whether its lot was scanned (PRODUCT.md §13).

    Only a scan sets ``lot_scanned`` (``stock.picking.action_scan_lot``, which
    writes it as superuser after its checks): a request that writes it itself
    is refused, and changing the lot of a line by hand clears it. So an
    operation type that requires scans cannot be satisfied without scanning.
    """

    _inherit = "stock.move.line"

    lot_scanned = fields.Boolean(
        readonly=True,
        copy=False,
        help="The lot on this line was scanned on the transfer (Scan button).",
    )

    def _check_lot_scanned_write(self, values_list):
        if not self.env.su and any(values.get("lot_scanned") for values in values_list):
            raise AccessError(
                self.env._("Only a scan marks a lot line as scanned: use the Scan button of the transfer.")
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_lot_scanned_write(vals_list)
        if not self.env.su:
            # (and no default_lot_scanned from the context either)
            vals_list = [dict(values, lot_scanned=False) for values in vals_list]
        return super().create(vals_list)

    def write(self, vals):
        self._check_lot_scanned_write([vals])
        relotted = self.env["stock.move.line"]
        if "lot_id" in vals and "lot_scanned" not in vals:
            lot_id = vals["lot_id"].id if isinstance(vals["lot_id"], models.BaseModel) else vals["lot_id"]
            relotted = self.filtered(lambda line: line.lot_scanned and line.lot_id.id != lot_id)
        result = super().write(vals)
        if relotted:
            super(StockMoveLine, relotted).write({"lot_scanned": False})
        return result
