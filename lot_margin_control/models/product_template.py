from odoo import api, fields, models

from .lot_limits import check_day_counts


class ProductTemplate(models.Model):
    """Per-product lot policy: quarantine on receipt and near-expiry threshold."""

    _name = "product.template"
    _inherit = ["product.template", "lot.control.policy.mixin"]

    min_remaining_shelf_life_days = fields.Integer(
        string="Minimum Shelf Life on Delivery (days)",
        help="Customer deliveries only take lots with at least this many days left on the scheduled "
        "date. When the customer asks for more, the customer's term applies.",
    )

    @api.constrains("min_remaining_shelf_life_days")
    def _check_min_remaining_shelf_life_days(self):
        check_day_counts(self, "min_remaining_shelf_life_days")

    def _requires_lot_quarantine(self):
        """True when received lots of this product must wait for quality release."""
        self.ensure_one()
        return self.lot_quarantine_on_receipt or self.categ_id.lot_quarantine_on_receipt

    def _get_lot_near_expiry_days(self):
        self.ensure_one()
        return self.lot_near_expiry_days or self.categ_id.lot_near_expiry_days
