"""The lot gate: which lots a stock move may take, as one immutable value.

``stock.move._get_lot_gate()`` builds it; ``stock.quant`` filters quants with
``domain()`` (any removal strategy), ``stock.move.line`` refuses hand-picked lots
with ``refusal(lot)``. It travels to the quant methods in the context under
``LOT_GATE_KEY``, and only an instance of this class counts there: a request can
send JSON (lists, strings, numbers) but never a ``LotGate``, so no RPC context
can loosen or forge the gate.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from odoo.osv import expression

LOT_GATE_KEY = "lot_gate"


@dataclass(frozen=True)
class LotGate:
    """Lots a move may take.

    ``allowed_states``: the lot quality statuses it accepts (released only, today).
    ``scheduled_date``: for a move that ends at a customer, the delivery's
    scheduled date; ``required_days`` the shelf life the customer must still get
    on that date. Lots expiring on or before ``expiry_limit`` are refused.
    """

    allowed_states: tuple = ("released",)
    scheduled_date: datetime | None = None
    required_days: int = 0

    @property
    def expiry_limit(self):
        """Lots must expire strictly after this instant (customer deliveries only)."""
        if not self.scheduled_date:
            return None
        return self.scheduled_date + timedelta(days=self.required_days)

    @classmethod
    def from_context(cls, context):
        """The gate in ``context``, or None: anything but a real ``LotGate`` is ignored."""
        gate = context.get(LOT_GATE_KEY)
        return gate if isinstance(gate, cls) else None

    def domain(self):
        """stock.quant domain of the quants this gate lets through: lot-less ones and allowed lots."""
        lot_domain = [("lot_quality_state", "in", list(self.allowed_states))]
        if self.expiry_limit:
            # expiration_date is product_expiry's stored copy of the lot's date on the quant
            lot_domain = expression.AND(
                [lot_domain, ["|", ("expiration_date", "=", False), ("expiration_date", ">", self.expiry_limit)]]
            )
        return expression.OR([[("lot_id", "=", False)], lot_domain])

    def refusal(self, lot):
        """Why this gate refuses ``lot`` (a translated phrase), or False."""
        lot.ensure_one()
        env = lot.env
        if lot.quality_state not in self.allowed_states:
            labels = dict(lot._fields["quality_state"]._description_selection(env))
            reason = labels[lot.quality_state]
            if lot.quality_state_reason:
                reason = f"{reason}: {lot.quality_state_reason}"
            return reason
        limit = self.expiry_limit
        if limit and lot.expiration_date and lot.expiration_date <= limit:
            if lot.expiration_date <= self.scheduled_date:
                return env._("expired on %(date)s", date=lot.expiration_date)
            return env._(
                "too short-dated: %(left)s days left on the scheduled date, %(required)s required",
                left=(lot.expiration_date - self.scheduled_date).days,
                required=self.required_days,
            )
        return False
