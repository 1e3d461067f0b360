from odoo import fields, models

# Put in the context by stock.move.line when it puts away vendor receipts. Only this very
# object counts: a request's context (JSON) cannot send it, so no client can route other
# moves through the quarantine putaway.
QUARANTINE_RECEIPT_PUTAWAY = ("lot_quarantine_receipt", object())


class StockLocation(models.Model):
    """Quarantine locations: blocked lots may move into them; receipts may be put away there."""

    _inherit = "stock.location"

    lot_quarantine_location = fields.Boolean(
        string="Quarantine Location",
        help="Lots that are not released may be moved here (and into its sublocations). "
        "Each warehouse gets one beside its stock location (under the warehouse), so that "
        "deliveries from stock never reach what it holds.",
    )

    def write(self, vals):
        """A location that changes type or parent may carry past deliveries and returns (its own and
        its sublocations') to another warehouse or out of demand: the daily demand is summed again
        from the move lines (stock.lot.demand.day; a rare administrator's change). A new type or
        company changes which movements enter or leave valued stock and how they are classified:
        every move's movements are made again (stock.lot.valuation.movement)."""
        result = super().write(vals)
        if {"usage", "location_id"} & set(vals):
            self.env["stock.lot.demand.day"]._rebuild()
        self.env["stock.lot.valuation.movement"]._rebuild_if_written(self._name, vals)
        return result

    def _is_lot_quarantine_location(self):
        """True when this location or one of its parents is a quarantine location."""
        self.ensure_one()
        parent_ids = [int(part) for part in (self.parent_path or "").split("/") if part]
        return any(self.browse(parent_ids).mapped("lot_quarantine_location"))

    def _get_putaway_strategy(self, product, quantity=0, package=None, packaging=None, additional_qty=None):
        if (
            self.env.context.get(QUARANTINE_RECEIPT_PUTAWAY[0]) is QUARANTINE_RECEIPT_PUTAWAY[1]
            and product
            and product.product_tmpl_id._requires_lot_quarantine()
        ):
            rule = self.putaway_rule_ids.filtered(
                lambda rule: rule.lot_quarantine and rule.company_id in (self.company_id, self.env.company)
            )[:1]
            if rule:
                return rule.location_out_id
        return super()._get_putaway_strategy(
            product, quantity=quantity, package=package, packaging=packaging, additional_qty=additional_qty
        )
