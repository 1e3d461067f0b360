from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .lot_limits import check_day_counts

MARKDOWN_TRIGGERS = [
    ("remaining_days", "Days Left"),
    ("remaining_ratio", "Shelf Life Left (ratio)"),
    ("projected_unsold", "Projected Unsold (ratio)"),
]
# the triggers whose threshold is threshold_ratio, a share in (0, 1]
RATIO_TRIGGERS = ("remaining_ratio", "projected_unsold")


class StockLotMarkdownRule(models.Model):
    """A near-date price cut: lots close to their expiry sell at a discount instead of going to waste.

    Each lot takes the first active rule (by sequence) of its company whose
    scope covers its product and whose trigger it meets; ``stock.lot``
    ``_refresh_markdown`` applies the rules to every lot in one statement, daily
    with the shelf-life refresh and at once when a rule or a lot's dates change.
    """

    _name = "stock.lot.markdown.rule"
    _description = "Lot Markdown Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(
        default=10, help="Rules are tried in this order; a lot takes the first one that matches it."
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    product_ids = fields.Many2many(
        "product.product",
        "stock_lot_markdown_rule_product_rel",
        "rule_id",
        "product_id",
        string="Products",
        check_company=True,
        domain="[('tracking', '!=', 'none')]",
        help="Lots of these products. With neither products nor categories, the rule applies to all products.",
    )
    categ_ids = fields.Many2many(
        "product.category",
        "stock_lot_markdown_rule_category_rel",
        "rule_id",
        "category_id",
        string="Product Categories",
        help="Lots of products in these categories or their subcategories. A rule with both products "
        "and categories applies to either.",
    )
    trigger = fields.Selection(
        MARKDOWN_TRIGGERS,
        required=True,
        default="remaining_days",
        help="Days Left: the lot has at most this many whole days before its expiration date. "
        "Shelf Life Left: what is left of the lot's total shelf life (from its production date, or "
        "the date it was recorded) is at most this ratio. Projected Unsold: the share of the lot "
        "on hand projected to be left unsold at expiry, at the current demand (Expiry Risk), is at "
        "least this ratio.",
    )
    threshold_days = fields.Integer(string="Days Left at Most", default=7)
    threshold_ratio = fields.Float(
        string="Ratio",
        digits=(16, 4),
        default=0.25,
        help="Shelf Life Left: at most this share of the shelf life left. Projected Unsold: at least this "
        "share of the lot projected to be left unsold.",
    )
    discount = fields.Float(
        string="Discount (%)", digits="Discount", required=True, help="Taken off the product's sales price."
    )
    lot_count = fields.Integer(string="Lots Marked Down", compute="_compute_lot_count")

    def _compute_lot_count(self):
        counts = dict(
            self.env["stock.lot"]._read_group([("markdown_rule_id", "in", self.ids)], ["markdown_rule_id"], ["__count"])
        )
        for rule in self:
            rule.lot_count = counts.get(rule, 0)

    @api.constrains("discount")
    def _check_discount(self):
        for rule in self:
            if not 0 < rule.discount < 100:
                raise ValidationError(
                    self.env._(
                        "The discount of markdown rule %(rule)s is %(discount)s%%: it must be more than 0%% "
                        "and less than 100%%. To give lots away, scrap them instead.",
                        rule=rule.name,
                        discount=rule.discount,
                    )
                )

    @api.constrains("trigger", "threshold_days", "threshold_ratio", "product_ids")
    def _check_rule_can_match(self):
        """Refuse thresholds below zero and rules that no lot could ever meet."""
        for rule in self:
            check_day_counts(rule, "threshold_days")
            if rule.threshold_days < 0 or rule.threshold_ratio < 0:
                raise ValidationError(
                    self.env._(
                        "Markdown rule %(rule)s has a negative threshold. Days and shelf life left "
                        "must be 0 or more.",
                        rule=rule.name,
                    )
                )
            if rule.trigger in RATIO_TRIGGERS and not 0 < rule.threshold_ratio <= 1:
                why = {
                    "remaining_ratio": self.env._(
                        "shelf life left is a ratio between 0 and 1 and only lots that have not expired are "
                        "marked down (0.25 = the last quarter of the shelf life)"
                    ),
                    "projected_unsold": self.env._(
                        "the share of a lot projected to expire unsold is a ratio between 0 and 1, and a lot "
                        "without risk is not marked down (0.5 = half the lot is projected to expire unsold)"
                    ),
                }[rule.trigger]
                raise ValidationError(
                    self.env._(
                        "Markdown rule %(rule)s can never match: %(why)s, so the threshold must be more than 0 "
                        "and at most 1.",
                        rule=rule.name,
                        why=why,
                    )
                )
            if rule.product_ids and not any(rule.product_ids.mapped("use_expiration_date")):
                raise ValidationError(
                    self.env._(
                        "Markdown rule %(rule)s can never match: none of its products (%(products)s) has "
                        "expiration dates, and lots without an expiration date are never marked down. "
                        "Enable expiration dates on the products or choose other products.",
                        rule=rule.name,
                        products=", ".join(rule.product_ids.mapped("display_name")),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        self.env["stock.lot"]._refresh_markdown()
        return rules

    def write(self, vals):
        result = super().write(vals)
        if vals.keys() - {"name"}:
            self.env["stock.lot"]._refresh_markdown()
        return result

    def unlink(self):
        result = super().unlink()
        self.env["stock.lot"]._refresh_markdown()
        return result

    @api.readonly
    def action_view_lots(self):
        """The lots this rule marks down now."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("stock.action_production_lot_form")
        action.update(
            {
                "domain": [("markdown_rule_id", "=", self.id)],
                "context": {"search_default_group_by_product": 1},
                "name": self.env._("Lots marked down by %(rule)s", rule=self.name),
            }
        )
        return action
