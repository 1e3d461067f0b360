from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .lot_limits import check_day_counts


class ResCompany(models.Model):
    """The company's demand window: how far back expiry risk looks to measure each product's demand."""

    _inherit = "res.company"

    lot_demand_window_days = fields.Integer(
        string="Demand Window (days)",
        default=90,
        required=True,
        help="Expiry risk averages each product's customer deliveries (net of customer returns) over "
        "this many past days to project which lots will not sell before they expire.",
    )

    @api.constrains("lot_demand_window_days")
    def _check_lot_demand_window_days(self):
        for company in self:
            if company.lot_demand_window_days < 1:
                raise ValidationError(
                    self.env._(
                        "The demand window of %(company)s is %(days)s days: it must be at least 1 day "
                        "(90 days averages the last quarter's deliveries).",
                        company=company.display_name,
                        days=company.lot_demand_window_days,
                    )
                )
            check_day_counts(company, "lot_demand_window_days")
