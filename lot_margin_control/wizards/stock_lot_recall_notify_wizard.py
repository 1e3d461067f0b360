from odoo import api, fields, models


class StockLotRecallNotifyWizard(models.TransientModel):
    """Preview of the recall notices: who gets one, at which address, for what."""

    _name = "stock.lot.recall.notify.wizard"
    _description = "Preview Recall Notices"

    recall_id = fields.Many2one("stock.lot.recall", required=True, readonly=True)
    preview_html = fields.Html(compute="_compute_preview_html", sanitize=False)

    @api.depends("recall_id")
    def _compute_preview_html(self):
        for wizard in self:
            customers = wizard.recall_id._get_customer_deliveries()
            wizard.preview_html = self.env["ir.qweb"]._render(
                "lot_margin_control.recall_notify_preview",
                {"recall": wizard.recall_id, "customers": customers},
            )

    def action_send(self):
        self.recall_id.action_notify()
        return {"type": "ir.actions.act_window_close"}
