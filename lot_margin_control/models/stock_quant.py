from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

from .lot_gate import LotGate


class StockQuant(models.Model):
    """Quants show their lot's states, and gathering honours the move's lot gate."""

    _inherit = "stock.quant"

    # Stored so that the lot gate filters quants on their own column: a condition on
    # stock_lot would make PostgreSQL scan the lot table for every quant search.
    lot_quality_state = fields.Selection(related="lot_id.quality_state", string="Quality Status", store=True)
    lot_shelf_life_state = fields.Selection(related="lot_id.shelf_life_state", string="Shelf Life")
    production_date = fields.Datetime(related="lot_id.production_date", store=True)

    @api.model
    def _get_removal_strategy_order(self, removal_strategy):
        """FMFO: oldest production first; strict FEFO: earliest expiration (not removal) date first.

        Quants without the date come last (PostgreSQL sorts NULL last in ascending
        order); ties go to the oldest receipt, then the oldest quant.
        """
        if removal_strategy == "fmfo":
            return "production_date, in_date, id"
        if removal_strategy == "fefo_strict":
            return "expiration_date, in_date, id"
        return super()._get_removal_strategy_order(removal_strategy)

    def _get_gather_domain(self, product_id, location_id, lot_id=None, package_id=None, owner_id=None, strict=False):
        domain = super()._get_gather_domain(product_id, location_id, lot_id, package_id, owner_id, strict)
        gate = LotGate.from_context(self.env.context)
        if gate:
            domain = expression.AND([domain, gate.domain()])
        return domain

    def _gather(self, product_id, location_id, lot_id=None, package_id=None, owner_id=None, strict=False, qty=0):
        quants = super()._gather(product_id, location_id, lot_id, package_id, owner_id, strict, qty)
        gate = LotGate.from_context(self.env.context)
        if gate and strict and self.env.context.get("quants_cache") is not None:
            # Chained moves read a quants cache that skips the domain: filter it here.
            quants = quants.filtered(lambda quant: not quant.lot_id or not gate.refusal(quant.lot_id))
        return quants

    # ------------------------------------------------------------------
    # Reservation under concurrency
    # ------------------------------------------------------------------
    def _lock_for_reservation(self):
        """Lock these quants (in id order, waiting for other transactions) before reserving on them.

        Core locks one quant at a time with SKIP LOCKED and, when another
        transaction holds it, creates a new zero-quantity quant to carry the
        reservation: two workers then both reserve the same units. Waiting on the
        lock instead makes the second transaction fail with a serialization error
        once the first commits (PostgreSQL, repeatable read), and Odoo replays
        the request on fresh data: a lot is never reserved beyond its quantity,
        and a lot blocked meanwhile (which rewrites its quants' quality column,
        see stock.lot ``_lock_quants_for_quality_change``) is seen as blocked.
        """
        if self.ids:
            self.env.execute_query(
                SQL("SELECT id FROM stock_quant WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", self.ids)
            )

    @api.model
    def _get_reserve_quantity(
        self,
        product_id,
        location_id,
        quantity,
        product_packaging_id=None,
        uom_id=None,
        lot_id=None,
        package_id=None,
        owner_id=None,
        strict=False,
    ):
        """Lock the quants core chose to reserve on, and only those.

        A quant changed by a transaction committed after this one began (reserved,
        consumed, its lot blocked) fails the lock with a serialization error and the
        request is replayed on fresh data. Quants not taken are left alone: deliveries
        reserving, cancelling or validating other lots of the product do not collide.
        """
        reserved_quants = super()._get_reserve_quantity(
            product_id,
            location_id,
            quantity,
            product_packaging_id=product_packaging_id,
            uom_id=uom_id,
            lot_id=lot_id,
            package_id=package_id,
            owner_id=owner_id,
            strict=strict,
        )
        if quantity > 0:
            taken = [quant.id for quant, reserved in reserved_quants if reserved > 0]
            self.sudo().browse(taken)._lock_for_reservation()
        return reserved_quants

    @api.model
    def _update_reserved_quantity(
        self, product_id, location_id, quantity, lot_id=None, package_id=None, owner_id=None, strict=True
    ):
        """Wait for the quants of this lot and place, to reserve or to unreserve.

        Core takes the first quant no other transaction holds (SKIP LOCKED) and, when
        all are held, creates a new one: for an unreservation, a quant with a negative
        reservation that core's clamping at zero later loses, leaving the lot more
        reserved on its quants than on its move lines.
        """
        if quantity and not location_id.should_bypass_reservation():
            self.sudo()._gather(
                product_id, location_id, lot_id=lot_id, package_id=package_id, owner_id=owner_id, strict=True
            )._lock_for_reservation()
        return super()._update_reserved_quantity(
            product_id, location_id, quantity, lot_id=lot_id, package_id=package_id, owner_id=owner_id, strict=strict
        )

    # ------------------------------------------------------------------
    # Physical inventory: every applied count of a lot is kept
    # ------------------------------------------------------------------
    def _apply_inventory(self):
        """Record each lot's count (``stock.lot.count``, also when it matched) before core applies it."""
        self.env["stock.lot.count"]._record_from_quants(self)
        return super()._apply_inventory()
