from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lot_demand_window_days = fields.Integer(related="company_id.lot_demand_window_days", readonly=False)
