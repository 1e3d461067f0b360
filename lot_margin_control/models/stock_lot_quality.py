# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
from dataclasses import dataclass

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

QUALITY_STATES = [
    ("quarantine", "Quarantine"),
    ("released", "Released"),
    ("blocked", "Blocked"),
    ("recalled", "Recalled"),
]
QUALITY_MANAGER_GROUP = "lot_margin_control.group_lot_control_quality_manager"
LOT_CONTROL_USER_GROUP = "lot_margin_control.group_lot_control_user"
# (from, to) -> the group that may make the change. Recalled is entered and left only
# through a recall (see RecallTransition); every other pair is refused.
QUALITY_TRANSITIONS = {
    ("released", "quarantine"): LOT_CONTROL_USER_GROUP,
    ("released", "blocked"): QUALITY_MANAGER_GROUP,
    ("quarantine", "released"): QUALITY_MANAGER_GROUP,
    ("quarantine", "blocked"): QUALITY_MANAGER_GROUP,
    ("blocked", "released"): QUALITY_MANAGER_GROUP,
    ("blocked", "quarantine"): QUALITY_MANAGER_GROUP,
}
STATES_NEEDING_REASON = ("quarantine", "blocked", "recalled")
QUALITY_REASON_MAX_LENGTH = 500
RECALL_TRANSITION_KEY = "lot_quality_recall_transition"


@dataclass(frozen=True)
class RecallTransition:
    """Carried in the context by a recall's containment or withdrawal, the only ways in and out of Recalled.

    Only an instance of this class counts: a request can send JSON in its
    context, never a Python object, so no client can forge it.
    """

    recall_id: int


class StockLot(models.Model):
    """Quality status: whether quality lets a lot move, with who changed it, when and why.

    Every way to set ``quality_state`` (create, write, import, RPC, the actions and
    the wizard) goes through ``_check_quality_change``: the transition table
    above, the user's group, a reason where one is needed, and the companies
    that hold stock of the lot. Leaving Released takes the lot out of every
    reservation its new status forbids.
    """

    _inherit = "stock.lot"

    quality_state = fields.Selection(
        QUALITY_STATES,
        string="Quality Status",
        default="released",
        required=True,
        index=True,
        tracking=True,
        copy=False,
        help="Only Released lots are reserved for deliveries, manufacturing and internal "
        "transfers. Quarantined, blocked and recalled lots may only go to scrap, to a "
        "quarantine location or back to the vendor.",
    )
    quality_state_reason = fields.Char(string="Quality Reason", tracking=True, copy=False)

    # ------------------------------------------------------------------
    # Create and write: the one gate for every change of status
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        """A new lot starts Released, or in Quarantine when its product asks for it.

        Asking for another status at creation is a change from that one, with
        the same rights and reason as on an existing lot.
        """
        products = (
            self.env["product.product"]
            .browse({vals["product_id"] for vals in vals_list if isinstance(vals.get("product_id"), int)})
            .exists()
        )
        quarantine_products = products.filtered(lambda p: p.product_tmpl_id._requires_lot_quarantine())
        for vals in vals_list:
            initial = "quarantine" if vals.get("product_id") in quarantine_products.ids else "released"
            wanted = vals.get("quality_state") or initial
            if wanted != initial:
                self._check_quality_change(
                    [(vals.get("name") or "?", initial)], wanted, vals.get("quality_state_reason")
                )
            elif "quality_state_reason" in vals:
                self._check_quality_reason(wanted, vals["quality_state_reason"])
            vals["quality_state"] = wanted
            if wanted == "quarantine" and not vals.get("quality_state_reason"):
                vals["quality_state_reason"] = self.env._("Quarantine on receipt")
        return super().create(vals_list)

    def write(self, vals):
        if "quality_state_reason" in vals and "quality_state" not in vals:
            raise UserError(
                self.env._(
                    "The quality reason is given with a change of quality status: use Release, "
                    "Quarantine or Block on the lot."
                )
            )
        changing = self.browse()
        if "quality_state" in vals:
            changing = self.filtered(lambda lot: lot.quality_state != vals["quality_state"])
            changing._check_quality_change(
                [(lot.display_name, lot.quality_state) for lot in changing],
                vals["quality_state"],
                vals.get("quality_state_reason"),
            )
            changing._check_quality_companies()
            changing._lock_quants_for_quality_change()
        result = super().write(vals)
        if changing and vals["quality_state"] != "released":
            changing._unreserve_blocked_lots()
        elif changing:
            # released goods leave the quarantine location (beside WH/Stock) for the stock
            self.env["stock.warehouse"]._lot_quarantine_release_to_stock(changing)
        return result

    @api.model
    def _check_quality_reason(self, new_state, reason):
        """The reason: text, of a sane length, and given when the status needs one."""
        if reason and not isinstance(reason, str):
            raise UserError(self.env._("The quality reason must be text."))
        if reason and len(reason) > QUALITY_REASON_MAX_LENGTH:
            raise UserError(
                self.env._(
                    "The quality reason is %(length)s characters long; keep it under %(max)s and attach "
                    "longer reports to the lot.",
                    length=len(reason),
                    max=QUALITY_REASON_MAX_LENGTH,
                )
            )
        if new_state in STATES_NEEDING_REASON and not (reason or "").strip():
            labels = dict(self._fields["quality_state"]._description_selection(self.env))
            raise UserError(self.env._("Give a reason to set a lot to %(new)s.", new=labels.get(new_state, new_state)))

    @api.model
    def _check_quality_change(self, lots_from, new_state, reason):
        """Refuse what the workflow or the user's rights do not allow.

        ``lots_from``: ``(lot name, current status)`` pairs of the lots that change.
        """
        labels = dict(self._fields["quality_state"]._description_selection(self.env))
        if new_state not in labels:
            raise UserError(
                self.env._(
                    "Unknown quality status %(state)s; use one of: %(states)s.",
                    state=new_state,
                    states=", ".join(labels.values()),
                )
            )
        if not lots_from:
            return
        self._check_quality_reason(new_state, reason)
        by_recall = isinstance(self.env.context.get(RECALL_TRANSITION_KEY), RecallTransition)
        for name, current in lots_from:
            if "recalled" in (current, new_state):
                if by_recall:
                    continue
                raise UserError(
                    self.env._(
                        "Lot %(lot)s cannot go from %(current)s to %(new)s by hand: a lot becomes Recalled "
                        "when a recall containing it is contained, and returns to stock only when that "
                        "recall is withdrawn.",
                        lot=name,
                        current=labels[current],
                        new=labels[new_state],
                    )
                )
            group = QUALITY_TRANSITIONS.get((current, new_state))
            if not group:
                raise UserError(
                    self.env._(
                        "Lot %(lot)s is %(current)s and cannot be set to %(new)s.",
                        lot=name,
                        current=labels[current],
                        new=labels[new_state],
                    )
                )
            if not self.env.su and not self.env.user.has_group(group):
                raise AccessError(
                    self.env._(
                        "Only a Lot Control %(role)s may set lot %(lot)s from %(current)s to %(new)s.",
                        role=self.env._("Quality Manager") if group == QUALITY_MANAGER_GROUP else self.env._("User"),
                        lot=name,
                        current=labels[current],
                        new=labels[new_state],
                    )
                )

    def _check_quality_companies(self):
        """A user changes a lot's status only if allowed in every company that holds stock of it."""
        if self.env.su or not self:
            return
        holders = (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("lot_id", "in", self.ids),
                    ("quantity", "!=", 0),
                    ("location_id.usage", "in", ("internal", "transit")),
                ],
                ["lot_id", "company_id"],
            )
        )
        allowed = self.env.user.company_ids
        companies_of = {}
        for lot, company in holders:
            companies_of.setdefault(lot, self.env["res.company"])
            companies_of[lot] |= company
        for lot in self:
            others = (companies_of.get(lot, self.env["res.company"]) | lot.sudo().company_id) - allowed
            if others:
                raise AccessError(
                    self.env._(
                        "Lot %(lot)s is held by %(companies)s, where you may not work: its quality status "
                        "can only be changed by a user allowed in every company that holds it.",
                        lot=lot.sudo().display_name,
                        companies=", ".join(others.sudo().mapped("name")),
                    )
                )

    def _lock_quants_for_quality_change(self):
        """Lock the lots' quants and rewrite their quality column, so that reservations in flight collide.

        A reservation that already read these quants then fails to lock them
        (serialization error, Odoo replays it and sees the new status); a
        reservation that holds them makes this change wait, then replay, and find
        its move lines to unreserve. See stock.quant ``_lock_for_reservation``.
        """
        self.env.execute_query(
            SQL(
                """
                UPDATE stock_quant quant
                   SET lot_quality_state = lot.quality_state
                  FROM stock_lot lot
                 WHERE lot.id = quant.lot_id AND quant.lot_id = ANY(%s)
                """,
                self.ids,
            )
        )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def _set_quality_state(self, new_state, reason=None):
        self.write({"quality_state": new_state, "quality_state_reason": reason or False})
        return True

    def action_quality_release(self, reason=None):
        """Release the lots: they may be reserved again. Quality managers only."""
        return self._set_quality_state("released", reason)

    def action_quality_quarantine(self, reason=None):
        """Put the lots in quarantine; without a reason, open the wizard that asks for one."""
        if not reason:
            return self._open_quality_wizard("quarantine")
        return self._set_quality_state("quarantine", reason)

    def action_quality_block(self, reason=None):
        """Block the lots; without a reason, open the wizard that asks for one."""
        if not reason:
            return self._open_quality_wizard("blocked")
        return self._set_quality_state("blocked", reason)

    def _open_quality_wizard(self, new_state):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Change Quality Status"),
            "res_model": "stock.lot.quality.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lot_ids": self.ids, "default_new_state": new_state},
        }

    # ------------------------------------------------------------------
    # Recalls: the only way into and out of Recalled
    # ------------------------------------------------------------------
    def _quality_recall(self, recall, reason):
        """Set the lots Recalled for ``recall`` (its containment). Returns their previous status by lot id."""
        previous = {lot.id: lot.quality_state for lot in self}
        if len(reason) > QUALITY_REASON_MAX_LENGTH:
            reason = reason[: QUALITY_REASON_MAX_LENGTH - 1] + "…"
        self.filtered(lambda lot: lot.quality_state != "recalled").with_context(
            **{RECALL_TRANSITION_KEY: RecallTransition(recall.id)}
        ).write({"quality_state": "recalled", "quality_state_reason": reason})
        return previous

    def _restore_quality_after_recall(self, previous_state_by_lot_id, reason):
        """Put recalled lots back to the status they had before containment (a withdrawn recall)."""
        for state in ("released", "quarantine", "blocked"):
            lots = self.filtered(
                lambda lot, state=state: lot.quality_state == "recalled"
                and previous_state_by_lot_id.get(lot.id, "released") == state
            )
            if lots:
                lots.with_context(**{RECALL_TRANSITION_KEY: RecallTransition(0)}).write(
                    {"quality_state": state, "quality_state_reason": reason if state != "released" else False}
                )
        return True

    # ------------------------------------------------------------------
    # Reservations the new status forbids
    # ------------------------------------------------------------------
    def _unreserve_blocked_lots(self):
        """Take these lots out of every reservation their quality status now forbids.

        The moves then try to reserve other lots, and each picking says why.
        """
        lines = (
            self.env["stock.move.line"]
            .sudo()
            .search([("lot_id", "in", self.ids), ("state", "not in", ("done", "cancel")), ("move_id", "!=", False)])
        )
        refusals = {}
        for line in lines:
            gate = line.move_id._get_lot_gate()
            refusal = gate and gate.refusal(line.lot_id)
            if refusal:
                refusals[line] = refusal
        if not refusals:
            return
        refused = lines.browse([line.id for line in refusals])
        moves = refused.move_id
        messages = {}
        for line, refusal in refusals.items():
            if line.picking_id:
                messages.setdefault(line.picking_id, []).append(
                    self.env._(
                        "%(qty)s %(uom)s of %(product)s, lot %(lot)s: %(reason)s",
                        qty=line.quantity,
                        uom=line.product_uom_id.name,
                        product=line.product_id.display_name,
                        lot=line.lot_id.name,
                        reason=refusal,
                    )
                )
        refused.unlink()
        moves._recompute_state()
        moves._action_assign()
        for picking, notes in messages.items():
            picking.message_post(
                body=Markup("<p>%s</p><ul>%s</ul>")
                % (
                    self.env._("Reservation removed by a quality status change:"),
                    Markup().join(Markup("<li>%s</li>") % note for note in notes),
                )
            )
