from odoo import fields, models


class StockPutawayRule(models.Model):
    """A warehouse's quarantine rule applies to quarantine-on-receipt products only."""

    _inherit = "stock.putaway.rule"

    lot_quarantine = fields.Boolean(
        string="Quarantine on Receipt",
        help="Receipts from vendors of products set to 'Quarantine Lots on Receipt' (on the "
        "product or its category) go to this rule's location, before any other rule.",
    )

    near_expiry_location_out_id = fields.Many2one(
        "stock.location",
        string="Near Expiry Lots To",
        check_company=True,
        domain="[('usage', '=', 'internal')]",
        help="Lots that are near expiry or expired, when the rule applies, go here instead "
        "(e.g. a clearance zone), as soon as the lot is known on the operation.",
    )

    def _get_near_expiry_rule(self, product):
        """Among these rules, the one that sends ``product``'s near-expiry lots elsewhere, if any.

        Same precedence as core putaway: product rules first, then the closest category.
        """
        categories = product.categ_id
        while categories[-1:].parent_id:
            categories |= categories[-1].parent_id
        rules = self.filtered(
            lambda rule: rule.near_expiry_location_out_id
            and (not rule.product_id or rule.product_id == product)
            and (not rule.category_id or rule.category_id in categories)
        )
        return rules.sorted(
            lambda rule: (bool(rule.product_id), rule.category_id == product.categ_id, bool(rule.category_id)),
            reverse=True,
        )[:1]

    def _get_putaway_location(self, product, quantity=0, package=None, packaging=None, qty_by_location=None):
        # Quarantine rules are applied first by stock.location for the products they
        # concern; they never act as generic rules.
        rules = self.filtered(lambda rule: not rule.lot_quarantine)
        if not rules:
            return None
        return super(StockPutawayRule, rules)._get_putaway_location(
            product, quantity=quantity, package=package, packaging=packaging, qty_by_location=qty_by_location
        )
