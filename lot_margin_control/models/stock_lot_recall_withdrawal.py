# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .stock_lot_quality import QUALITY_MANAGER_GROUP, QUALITY_STATES

WITHDRAW_REASON_MAX_LENGTH = 400


class StockLotRecall(models.Model):
    """Withdrawal of a recall contained by mistake (the lab result came back clean).

    Containment records each lot's quality status before the recall
    (``contained_lot_ids``); a withdrawal puts it back, unless another contained
    recall still holds the lot, and cancels the draft transfers to quarantine.
    """

    _inherit = "stock.lot.recall"

    contained_lot_ids = fields.One2many(
        "stock.lot.recall.contained.lot", "recall_id", string="Contained Lots", readonly=True, copy=False
    )
    withdraw_reason = fields.Text(readonly=True, copy=False, tracking=True)
    withdrawn_date = fields.Datetime(readonly=True, copy=False)

    def action_withdraw(self, reason=None):
        """Withdraw a contained recall: lots back to their status before it, its open transfers cancelled.

        Quality managers only, with a reason (without one, the wizard asks for
        it). Refused once customers were notified: close the recall instead. A
        lot also held by another contained recall stays Recalled; the last
        withdrawal restores it.
        """
        if not self.env.su and not self.env.user.has_group(QUALITY_MANAGER_GROUP):
            raise AccessError(self.env._("Only a Lot Control Quality Manager may withdraw a recall."))
        if reason is None:
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Withdraw Recall"),
                "res_model": "stock.lot.recall.withdraw.wizard",
                "view_mode": "form",
                "target": "new",
                "context": {"default_recall_id": self.ensure_one().id},
            }
        reason = self._check_withdraw_reason(reason)
        self._check_withdrawable()
        for recall in self:
            recall._withdraw(reason)
        return True

    @api.model
    def _check_withdraw_reason(self, reason):
        if not isinstance(reason, str) or not reason.strip():
            raise UserError(self.env._("Say why the recall is withdrawn (for instance the clean lab result)."))
        if len(reason) > WITHDRAW_REASON_MAX_LENGTH:
            raise UserError(
                self.env._(
                    "The reason is %(length)s characters long; keep it under %(max)s and attach the full report "
                    "to the recall.",
                    length=len(reason),
                    max=WITHDRAW_REASON_MAX_LENGTH,
                )
            )
        return reason.strip()

    def _check_withdrawable(self):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for recall in self:
            if recall.is_mock:
                message = self.env._(
                    "%(recall)s is a mock recall: it never contained stock, so there is nothing to withdraw. "
                    "Close it instead.",
                    recall=recall.name,
                )
            elif recall.state in ("notified", "closed"):
                message = self.env._(
                    "Customers were notified of recall %(recall)s: it cannot be withdrawn any more. Close it "
                    "instead, explaining the outcome, and tell the customers.",
                    recall=recall.name,
                )
            elif recall.state in ("draft", "traced"):
                message = self.env._(
                    "Recall %(recall)s never contained stock: there is nothing to withdraw. Cancel it instead.",
                    recall=recall.name,
                )
            elif recall.state != "contained":
                message = self.env._(
                    "Recall %(recall)s is %(state)s: it cannot be withdrawn.",
                    recall=recall.name,
                    state=labels[recall.state],
                )
            else:
                continue
            raise UserError(message)

    def _withdraw(self, reason):
        self.ensure_one()
        holds = self.contained_lot_ids
        held_elsewhere = self._get_holds_of_other_recalls(holds.lot_id)
        to_restore = holds.filtered(lambda hold: hold.lot_id not in held_elsewhere.lot_id)
        lot_reason = self.env._("Recall %(recall)s withdrawn: %(reason)s", recall=self.name, reason=reason)
        to_restore.lot_id._restore_quality_after_recall(
            {hold.lot_id.id: hold.previous_quality_state for hold in to_restore}, lot_reason
        )
        transfers = self.containment_picking_ids
        to_cancel = transfers.filtered(lambda picking: picking.state not in ("done", "cancel"))
        to_cancel.action_cancel()
        self.write({"state": "withdrawn", "withdrawn_date": fields.Datetime.now(), "withdraw_reason": reason})
        for lot in holds.lot_id:
            lot.message_post(body=lot_reason)
        self.message_post(body=self._withdrawal_summary(reason, holds, held_elsewhere, to_cancel, transfers))

    def _withdrawal_summary(self, reason, holds, held_elsewhere, cancelled, transfers):
        """The chatter note of a withdrawal: why, each lot's status now, the transfers."""
        labels = dict(self.env["stock.lot"]._fields["quality_state"]._description_selection(self.env))
        readable_recalls = held_elsewhere.recall_id.with_env(self.env)._filtered_access("read")
        items = []
        for hold in holds:
            lot = hold.lot_id
            status = labels[lot.quality_state]
            other_holds = held_elsewhere.filtered(lambda held, lot=lot: held.lot_id == lot)
            if other_holds:
                names = [
                    recall.name if recall in readable_recalls else self.env._("a recall of another company")
                    for recall in other_holds.recall_id
                ]
                status = self.env._("%(status)s, still held by %(recalls)s", status=status, recalls=", ".join(names))
            items.append(Markup("<li>%s: %s</li>") % (lot.display_name, status))
        done = transfers.filtered(lambda picking: picking.state == "done")
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("Recall withdrawn: %(reason)s", reason=reason),
            Markup().join(items),
        )
        if cancelled:
            body += Markup("<p>%s</p>") % self.env._(
                "Quarantine transfers cancelled: %(transfers)s", transfers=", ".join(cancelled.mapped("name"))
            )
        if done:
            body += Markup("<p>%s</p>") % self.env._(
                "Already done, move the stock back by hand if needed: %(transfers)s",
                transfers=", ".join(done.mapped("name")),
            )
        return body

    def _get_holds_of_other_recalls(self, lots):
        """The holds on ``lots`` of other recalls, of any company, that were contained and not withdrawn."""
        self.ensure_one()
        return (
            self.env["stock.lot.recall.contained.lot"]
            .sudo()
            .search(
                [("lot_id", "in", lots.ids), ("recall_id", "!=", self.id), ("recall_id.state", "!=", "withdrawn")],
                order="id",
            )
        )


class StockLotRecallContainedLot(models.Model):
    """A lot that a recall's containment set to Recalled, and its quality status before.

    Written by ``stock.lot.recall.action_contain``; read by ``action_withdraw`` to
    put each lot back, and to keep Recalled the lots another open recall holds.
    """

    _name = "stock.lot.recall.contained.lot"
    _description = "Lot Contained by a Recall"
    _order = "recall_id, id"

    recall_id = fields.Many2one("stock.lot.recall", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="recall_id.company_id", store=True)
    lot_id = fields.Many2one("stock.lot", string="Lot/Serial Number", required=True, index=True, readonly=True)
    product_id = fields.Many2one(related="lot_id.product_id")
    previous_quality_state = fields.Selection(
        QUALITY_STATES,
        string="Status Before the Recall",
        required=True,
        readonly=True,
        help="Restored when the recall is withdrawn, unless another open recall still holds the lot.",
    )
    current_quality_state = fields.Selection(related="lot_id.quality_state", string="Status Now")
