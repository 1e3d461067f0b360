from odoo import fields, models


class StockLotRecallWithdrawWizard(models.TransientModel):
    """Ask for the reason before withdrawing a recall contained by mistake (see stock.lot.recall.action_withdraw)."""

    _name = "stock.lot.recall.withdraw.wizard"
    _description = "Withdraw a Lot Recall"

    recall_id = fields.Many2one("stock.lot.recall", required=True, readonly=True)
    reason = fields.Text(required=True)

    def action_withdraw(self):
        self.ensure_one()
        self.recall_id.action_withdraw(self.reason)
        return {"type": "ir.actions.act_window_close"}
