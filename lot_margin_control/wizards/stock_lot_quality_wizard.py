from odoo import api, fields, models


class StockLotQualityWizard(models.TransientModel):
    """Release, quarantine or block one lot or many, with the reason quality gives."""

    _name = "stock.lot.quality.wizard"
    _description = "Change the Quality Status of Lots"

    lot_ids = fields.Many2many("stock.lot", string="Lots", required=True)
    new_state = fields.Selection(
        [("released", "Release"), ("quarantine", "Quarantine"), ("blocked", "Block")],
        string="Action",
        required=True,
        default="quarantine",
    )
    reason = fields.Char(help="Kept on the lot and in its history. Required to quarantine or block.")
    reason_required = fields.Boolean(compute="_compute_reason_required")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if "lot_ids" in fields_list and not values.get("lot_ids") and context.get("active_model") == "stock.lot":
            values["lot_ids"] = [fields.Command.set(context.get("active_ids") or [])]
        return values

    @api.depends("new_state")
    def _compute_reason_required(self):
        for wizard in self:
            wizard.reason_required = wizard.new_state in ("quarantine", "blocked")

    def action_confirm(self):
        self.ensure_one()
        self.lot_ids._set_quality_state(self.new_state, self.reason)
        return {"type": "ir.actions.act_window_close"}
