from odoo import api, fields, models


class ProductCategory(models.Model):
    """Category-wide lot policy, used by products that set none of their own."""

    _inherit = "product.category"

    lot_quarantine_on_receipt = fields.Boolean(
        string="Quarantine Lots on Receipt",
        help="Lots of products in this category received from vendors go to the warehouse's "
        "quarantine location in the Quarantine quality status, until quality releases them.",
    )
    lot_near_expiry_days = fields.Integer(
        string="Near Expiry Threshold (days)",
        help="A lot without an alert date is near expiry this many days before its expiration "
        "date. Products may set their own threshold.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if any(vals.get("lot_quarantine_on_receipt") for vals in vals_list):
            self.env["stock.warehouse"]._ensure_lot_quarantine_locations()
        return records

    def write(self, vals):
        result = super().write(vals)
        if vals.get("lot_quarantine_on_receipt"):
            self.env["stock.warehouse"]._ensure_lot_quarantine_locations()
        return result
