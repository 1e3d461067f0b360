from odoo import api, fields, models
from odoo.osv import expression


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

    @api.model
    def _get_lot_gate_domain(self, gate):
        """Quants a lot gate lets through: lot-less ones, and lots it allows."""
        allowed_states, expiry_limit, _required_days = gate
        lot_domain = [("lot_quality_state", "in", list(allowed_states))]
        if expiry_limit:
            # expiration_date is product_expiry's stored copy of the lot's date
            lot_domain = expression.AND(
                [lot_domain, ["|", ("expiration_date", "=", False), ("expiration_date", ">", expiry_limit)]]
            )
        return expression.OR([[("lot_id", "=", False)], lot_domain])

    def _get_gather_domain(self, product_id, location_id, lot_id=None, package_id=None, owner_id=None, strict=False):
        domain = super()._get_gather_domain(product_id, location_id, lot_id, package_id, owner_id, strict)
        gate = self.env.context.get("lot_gate")
        if gate:
            domain = expression.AND([domain, self._get_lot_gate_domain(gate)])
        return domain

    def _gather(self, product_id, location_id, lot_id=None, package_id=None, owner_id=None, strict=False, qty=0):
        quants = super()._gather(product_id, location_id, lot_id, package_id, owner_id, strict, qty)
        gate = self.env.context.get("lot_gate")
        if gate and strict and self.env.context.get("quants_cache") is not None:
            # Chained moves read a quants cache that skips the domain: filter it here.
            quants = quants.filtered(lambda quant: not quant.lot_id or not quant.lot_id._get_lot_gate_refusal(gate))
        return quants
