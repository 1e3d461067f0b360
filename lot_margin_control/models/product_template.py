from odoo import api, fields, models


class ProductTemplate(models.Model):
    """Per-product lot policy: quarantine on receipt and near-expiry threshold."""

    _inherit = "product.template"

    lot_quarantine_on_receipt = fields.Boolean(
        string="Quarantine Lots on Receipt",
        help="Lots received from vendors go to the warehouse's quarantine location in the "
        "Quarantine quality status, until quality releases them. Also applies when the product "
        "category asks for it.",
    )
    lot_near_expiry_days = fields.Integer(
        string="Near Expiry Threshold (days)",
        help="A lot without an alert date is near expiry this many days before its expiration "
        "date. 0 uses the product category's threshold.",
    )

    min_remaining_shelf_life_days = fields.Integer(
        string="Minimum Shelf Life on Delivery (days)",
        help="Customer deliveries only take lots with at least this many days left on the scheduled "
        "date. When the customer asks for more, the customer's term applies.",
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

    def _requires_lot_quarantine(self):
        """True when received lots of this product must wait for quality release."""
        self.ensure_one()
        return self.lot_quarantine_on_receipt or self.categ_id.lot_quarantine_on_receipt

    def _get_lot_near_expiry_days(self):
        self.ensure_one()
        return self.lot_near_expiry_days or self.categ_id.lot_near_expiry_days
