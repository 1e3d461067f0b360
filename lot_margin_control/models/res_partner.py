from odoo import api, fields, models

from .lot_limits import check_day_counts


class ResPartner(models.Model):
    """Customers' minimum remaining shelf life, agreed on the commercial partner."""

    _inherit = "res.partner"

    min_remaining_shelf_life_days = fields.Integer(
        string="Minimum Shelf Life on Delivery (days)",
        help="Deliveries to this customer only take lots with at least this many days left before "
        "their expiration date on the scheduled date. Set on the company; its contacts follow. "
        "A product may ask for more.",
    )

    @api.constrains("min_remaining_shelf_life_days")
    def _check_min_remaining_shelf_life_days(self):
        check_day_counts(self, "min_remaining_shelf_life_days")

    def unlink(self):
        # recall trace lines keep their partner without a foreign key (stock.lot.recall.line)
        self.env["stock.lot.recall.line"]._replace_partners(self)
        return super().unlink()

    @api.model
    def _commercial_fields(self):
        return [*super()._commercial_fields(), "min_remaining_shelf_life_days"]
