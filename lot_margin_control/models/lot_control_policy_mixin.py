from odoo import api, fields, models

from .lot_limits import check_day_counts


class LotControlPolicyMixin(models.AbstractModel):
    """The lot policy a product or a product category sets: quarantine on receipt, near-expiry threshold.

    A product follows its category: quarantine when either asks for it, the
    product's threshold unless it is 0. Turning quarantine on gives every
    warehouse its quarantine location (see stock.warehouse).
    """

    _name = "lot.control.policy.mixin"
    _description = "Lot Control Policy"

    lot_quarantine_on_receipt = fields.Boolean(
        string="Quarantine Lots on Receipt",
        help="Lots received from vendors go to the warehouse's quarantine location in the "
        "Quarantine quality status, until quality releases them. A product also follows its category.",
    )
    lot_near_expiry_days = fields.Integer(
        string="Near Expiry Threshold (days)",
        help="A lot without an alert date is near expiry this many days before its expiration "
        "date. A product without its own threshold (0) uses its category's.",
    )

    @api.constrains("lot_near_expiry_days")
    def _check_lot_near_expiry_days(self):
        check_day_counts(self, "lot_near_expiry_days")

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
