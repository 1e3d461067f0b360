from odoo import fields, models


class StockPutawayRule(models.Model):
    """A warehouse's quarantine rule applies to quarantine-on-receipt products only."""

    _inherit = "stock.putaway.rule"

    lot_quarantine = fields.Boolean(
        string="Quarantine on Receipt",
        help="Receipts from vendors of products set to 'Quarantine Lots on Receipt' (on the "
        "product or its category) go to this rule's location, before any other rule.",
    )

    def _get_putaway_location(self, product, quantity=0, package=None, packaging=None, qty_by_location=None):
        if self.lot_quarantine:
            # Applied first by stock.location for the products it concerns; never a generic rule.
            return None
        return super()._get_putaway_location(
            product, quantity=quantity, package=package, packaging=packaging, qty_by_location=qty_by_location
        )
