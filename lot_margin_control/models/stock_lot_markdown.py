# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.tools import SQL

from .stock_lot_shelf_life import SHELF_LIFE_DATE_FIELDS


class StockLot(models.Model):
    """Near-date pricing: the markdown rule (stock.lot.markdown.rule) each lot meets, and its price.

    Refreshed set-based by ``_refresh_markdown``: daily (after the shelf-life
    refresh), when a lot is created or its dates change, and when a rule changes.
    """

    _inherit = "stock.lot"

    markdown_rule_id = fields.Many2one(
        "stock.lot.markdown.rule",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The first markdown rule (by sequence) this lot meets today. Expired lots and lots "
        "without an expiration date are never marked down.",
    )
    markdown_discount = fields.Float(
        string="Markdown (%)", digits="Discount", readonly=True, copy=False, aggregator="avg"
    )
    markdown_price = fields.Monetary(
        currency_field="markdown_currency_id",
        compute="_compute_markdown_price",
        store=True,
        readonly=True,
        copy=False,
        help="The product's sales price less the markdown, in the company currency. Empty when the "
        "lot is not marked down.",
    )
    markdown_currency_id = fields.Many2one("res.currency", compute="_compute_markdown_currency_id")
    markdown_recovered_value = fields.Monetary(
        string="Recovered by Markdown",
        currency_field="markdown_currency_id",
        compute="_compute_markdown_recovered_value",
        help="Revenue (untaxed, net of discounts, less returns) of this lot's sales at a markdown "
        "delivered before its expiry: value that would otherwise have been written off. See "
        "Lot Control > Reporting > Markdown Recovery.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        lots = super().create(vals_list)
        lots._refresh_markdown(lot_ids=lots.ids)
        return lots

    def write(self, vals):
        result = super().write(vals)
        if any(fname in vals for fname in SHELF_LIFE_DATE_FIELDS):
            self._refresh_markdown(lot_ids=self.ids)
        return result

    @api.model
    def _daily_refresh(self):
        """Markdowns follow the day's shelf life."""
        result = super()._daily_refresh()
        self._refresh_markdown()
        return result

    def _get_markdown_currency(self):
        """The lot's company currency; shared lots use the rule's, else the current company's."""
        self.ensure_one()
        company = self.company_id or self.markdown_rule_id.company_id or self.env.company
        return company.currency_id

    @api.depends("company_id", "markdown_rule_id")
    def _compute_markdown_currency_id(self):
        for lot in self:
            lot.markdown_currency_id = lot._get_markdown_currency()

    @api.depends("markdown_discount", "product_id.list_price", "product_id.price_extra", "company_id")
    def _compute_markdown_price(self):
        """Follows sales price changes; ``_refresh_markdown`` is its SQL twin when the markdown changes."""
        for lot in self:
            if not lot.markdown_discount:
                lot.markdown_price = 0.0
                continue
            sales_price = lot.product_id.list_price + lot.product_id.price_extra
            lot.markdown_price = lot._get_markdown_currency().round(sales_price * (100 - lot.markdown_discount) / 100)

    def _compute_markdown_recovered_value(self):
        """One grouped read of the recovery report for all the lots in ``self``."""
        recovered = dict(
            self.env["stock.lot.markdown.recovery.report"]
            .sudo()
            ._read_group([("lot_id", "in", self.ids)], ["lot_id"], ["recovered_value:sum"])
        )
        for lot in self:
            lot.markdown_recovered_value = recovered.get(lot._origin, 0.0)

    def _refresh_markdown(self, now=None, lot_ids=None):
        """Apply the markdown rules at ``now`` in one UPDATE: to every lot, or to ``lot_ids`` only.

        Each lot with an expiration date after ``now`` takes the first active rule
        (by sequence, then id) of its company (shared lots: of any company) that
        covers its product (listed, in a listed category or a subcategory of one,
        or no scope at all) and whose trigger it meets: days left (whole days, as
        ``remaining_shelf_life_days``) or shelf life left (as
        ``remaining_shelf_life_ratio``, rounded to its 4 digits, as the lot shows it)
        at most the threshold, or the share projected unsold (``projected_unsold_ratio``,
        as the last expiry risk refresh left it) at least the threshold. Other lots
        lose their markdown. ``markdown_price`` is the product's sales price (with its variant extra) less the discount,
        rounded in the company currency, as ``_compute_markdown_price`` gives it.
        The query count does not depend on the number of lots or rules. Returns
        the ids of the lots that changed.
        """
        if lot_ids is not None and not lot_ids:
            return []
        now = now or self._shelf_life_now()
        for model in (
            "stock.lot",
            "stock.lot.markdown.rule",
            "product.product",
            "product.template",
            "product.category",
            "product.template.attribute.value",
            "res.company",
            "res.currency",
        ):
            self.env[model].flush_model()
        only_lots = SQL("AND stock_lot.id = ANY(%s)", list(lot_ids)) if lot_ids is not None else SQL()
        # what every branch checks once its join has matched a rule's scope to a lot: company and trigger
        rule_applies = SQL(
            """(lot.company_id IS NULL OR lot.company_id = rule.company_id)
               AND CASE rule.trigger
                        WHEN 'remaining_days' THEN lot.days_left <= rule.threshold_days
                        WHEN 'remaining_ratio' THEN lot.ratio <= rule.threshold_ratio
                        ELSE lot.unsold_ratio >= rule.threshold_ratio END"""
        )
        rows = self.env.execute_query(
            SQL(
                """
                WITH rule AS (
                    -- rank: sequence then id in one bigint, so that the first rule of a lot is a MIN()
                    SELECT rule.id, rule.company_id, rule.trigger,
                           rule.threshold_days, rule.threshold_ratio::float8 AS threshold_ratio,
                           rule.sequence::bigint * 4294967296 + rule.id AS rank,
                           NOT EXISTS (SELECT 1 FROM stock_lot_markdown_rule_product_rel rel
                                        WHERE rel.rule_id = rule.id)
                           AND NOT EXISTS (SELECT 1 FROM stock_lot_markdown_rule_category_rel rel
                                            WHERE rel.rule_id = rule.id) AS for_all
                      FROM stock_lot_markdown_rule rule
                     WHERE rule.active
                ), lot AS (
                    -- unexpired lots that meet the loosest trigger of some rule
                    SELECT *
                      FROM (SELECT id, product_id, company_id,
                                   %(days_left)s AS days_left,
                                   ROUND((%(ratio)s)::numeric, 4)::float8 AS ratio,
                                   COALESCE(risk.unsold_ratio, 0)::float8 AS unsold_ratio
                              FROM stock_lot
                              LEFT JOIN (SELECT lot_id,
                                                ROUND(SUM(projected_unsold_qty) / SUM(quantity), 4) AS unsold_ratio
                                           FROM stock_lot_expiry_risk
                                          GROUP BY lot_id) risk ON risk.lot_id = stock_lot.id
                             WHERE expiration_date > %(now)s %(only_lots)s) lot
                     WHERE lot.days_left <= (SELECT MAX(threshold_days) FROM rule WHERE trigger = 'remaining_days')
                        OR lot.ratio <= (SELECT MAX(threshold_ratio) FROM rule WHERE trigger = 'remaining_ratio')
                        OR lot.unsold_ratio >= (SELECT MIN(threshold_ratio) FROM rule
                                                 WHERE trigger = 'projected_unsold')
                ), rule_category AS (
                    -- every category with the rules that cover it, itself or through a parent
                    SELECT DISTINCT categ.id AS categ_id, rel.rule_id
                      FROM stock_lot_markdown_rule_category_rel rel
                      JOIN product_category scope ON scope.id = rel.category_id
                      JOIN product_category categ ON categ.parent_path LIKE scope.parent_path || %(any)s
                ), candidate AS (
                    SELECT lot.id AS lot_id, rule.rank
                      FROM lot
                      JOIN stock_lot_markdown_rule_product_rel rel ON rel.product_id = lot.product_id
                      JOIN rule ON rule.id = rel.rule_id
                     WHERE %(rule_applies)s
                    UNION ALL
                    SELECT lot.id, rule.rank
                      FROM lot
                      JOIN product_product product ON product.id = lot.product_id
                      JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                      JOIN rule_category ON rule_category.categ_id = tmpl.categ_id
                      JOIN rule ON rule.id = rule_category.rule_id
                     WHERE %(rule_applies)s
                    UNION ALL
                    SELECT lot.id, rule.rank
                      FROM lot
                      JOIN rule ON rule.for_all
                     WHERE %(rule_applies)s
                ), matched AS (
                    SELECT lot_id, MIN(rank) & 4294967295 AS rule_id
                      FROM candidate
                     GROUP BY lot_id
                ), priced AS (
                    SELECT matched.lot_id, rule.id AS rule_id, rule.discount,
                           ROUND((tmpl.list_price + COALESCE(extra.price_extra, 0)) * (100 - rule.discount) / 100
                                 / currency.rounding) * currency.rounding AS price
                      FROM matched
                      JOIN stock_lot_markdown_rule rule ON rule.id = matched.rule_id
                      JOIN lot ON lot.id = matched.lot_id
                      JOIN product_product product ON product.id = lot.product_id
                      JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                      JOIN res_company company ON company.id = COALESCE(lot.company_id, rule.company_id)
                      JOIN res_currency currency ON currency.id = company.currency_id
                      LEFT JOIN LATERAL (
                          SELECT SUM(ptav.price_extra) AS price_extra
                            FROM product_variant_combination combination
                            JOIN product_template_attribute_value ptav
                              ON ptav.id = combination.product_template_attribute_value_id
                           WHERE combination.product_product_id = product.id
                      ) extra ON TRUE
                ), target AS (
                    SELECT COALESCE(priced.lot_id, stale.id) AS lot_id, priced.rule_id,
                           COALESCE(priced.discount, 0) AS discount, COALESCE(priced.price, 0) AS price
                      FROM priced
                      FULL JOIN (SELECT id FROM stock_lot
                                  WHERE (markdown_rule_id IS NOT NULL OR markdown_discount != 0) %(only_lots)s) stale
                        ON stale.id = priced.lot_id
                )
                UPDATE stock_lot lot
                   SET markdown_rule_id = target.rule_id,
                       markdown_discount = target.discount,
                       markdown_price = target.price
                  FROM target
                 WHERE lot.id = target.lot_id
                   AND (lot.markdown_rule_id IS DISTINCT FROM target.rule_id
                        OR lot.markdown_discount IS DISTINCT FROM target.discount
                        OR lot.markdown_price IS DISTINCT FROM target.price)
             RETURNING lot.id
                """,
                ratio=self._sql_remaining_ratio(now),
                days_left=self._sql_days_left(now, "stock_lot"),
                now=now,
                only_lots=only_lots,
                rule_applies=rule_applies,
                any="%",
            )
        )
        self.env["stock.lot"].invalidate_model(["markdown_rule_id", "markdown_discount", "markdown_price"])
        return [lot_id for (lot_id,) in rows]
