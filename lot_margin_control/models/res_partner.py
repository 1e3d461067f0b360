from odoo import api, fields, models


class ResPartner(models.Model):
    """Customers' minimum remaining shelf life, agreed on the commercial partner."""

    _inherit = "res.partner"

    min_remaining_shelf_life_days = fields.Integer(
        string="Minimum Shelf Life on Delivery (days)",
        help="Deliveries to this customer only take lots with at least this many days left before "
        "their expiration date on the scheduled date. Set on the company; its contacts follow. "
        "A product may ask for more.",
    )

    @api.model
    def _commercial_fields(self):
        return [*super()._commercial_fields(), "min_remaining_shelf_life_days"]
