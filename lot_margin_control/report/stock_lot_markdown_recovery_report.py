from odoo import fields, models
from odoo.tools import SQL

from .stock_lot_margin_report import COST_READERS


class StockLotMarkdownRecoveryReport(models.Model):
    """What near-date markdowns saved: sales of marked-down lots before they expired vs writing them off.

    One row per done delivery line (or customer return, counted negative) of a
    lot sold on a sale line that carries a markdown (``markdown_rule_id``), with
    that lot. Deliveries count when done before the lot's expiration date.

    - Revenue: the quantity times the margin report's revenue per unit
      (``stock.lot.margin.report._sql_revenue_per_unit``): one definition of a
      lot's revenue for both reports.
    - Write-off avoided: the cost the goods would have been written off at: the
      delivery's own valuation layers going its way (the lot's, for products
      valued by lot), else the product's cost. Accountants and inventory
      administrators only, like every cost.
    - Recovered value: the revenue, i.e. what came in instead of a write-off
      (whose value would have been lost); ``stock.lot.markdown_recovered_value``
      sums it per lot.
    """

    _name = "stock.lot.markdown.recovery.report"
    _description = "Near-Date Markdown Recovery"
    _auto = False
    _rec_name = "lot_id"
    _order = "date desc, id desc"
    _depends = {
        "stock.move.line": [
            "move_id",
            "lot_id",
            "product_id",
            "company_id",
            "date",
            "state",
            "location_id",
            "location_dest_id",
            "quantity_product_uom",
        ],
        "stock.move": ["sale_line_id"],
        "stock.location": ["usage"],
        "stock.lot": ["expiration_date"],
        "sale.order.line": [
            "order_id",
            "lot_id",
            "markdown_rule_id",
            "price_subtotal",
            "product_uom_qty",
            "price_unit",
            "product_uom",
            "discount",
        ],
        "sale.order": ["partner_id", "currency_rate"],
        "stock.valuation.layer": ["stock_move_id", "lot_id", "value", "quantity"],
        "product.product": ["product_tmpl_id", "standard_price"],
        "product.template": ["categ_id", "uom_id", "lot_valuated"],
        "uom.uom": ["factor"],
        "res.company": ["currency_id"],
    }

    date = fields.Datetime(string="Delivered On", readonly=True)
    lot_id = fields.Many2one("stock.lot", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    order_id = fields.Many2one("sale.order", string="Sales Order", readonly=True)
    sale_line_id = fields.Many2one("sale.order.line", string="Sales Order Line", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    markdown_rule_id = fields.Many2one("stock.lot.markdown.rule", readonly=True)
    discount = fields.Float(string="Discount (%)", digits="Discount", readonly=True, aggregator="avg")
    quantity = fields.Float(digits="Product Unit of Measure", readonly=True)
    revenue = fields.Monetary(readonly=True)
    writeoff_cost = fields.Monetary(
        string="Write-off Avoided",
        readonly=True,
        groups=COST_READERS,
        help="What the goods would have cost if written off at expiry: their cost from the delivery's "
        "valuation layers.",
    )
    recovered_value = fields.Monetary(readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT line.id,
                   line.date,
                   line.lot_id,
                   line.product_id,
                   tmpl.categ_id,
                   line.company_id,
                   company.currency_id,
                   sale_line.order_id,
                   sale_line.id AS sale_line_id,
                   sale_order.partner_id,
                   sale_line.markdown_rule_id,
                   sale_line.discount,
                   direction.sign * line.quantity_product_uom AS quantity,
                   direction.sign * line.quantity_product_uom * price.unit_price AS revenue,
                   direction.sign * line.quantity_product_uom
                       * COALESCE(layer.unit_cost, (product.standard_price ->> line.company_id::text)::numeric, 0)
                       AS writeoff_cost,
                   direction.sign * line.quantity_product_uom * price.unit_price AS recovered_value
              FROM stock_move_line line
              JOIN stock_move move ON move.id = line.move_id
              JOIN sale_order_line sale_line ON sale_line.id = move.sale_line_id AND sale_line.lot_id = line.lot_id
              JOIN sale_order ON sale_order.id = sale_line.order_id
              JOIN stock_lot lot ON lot.id = line.lot_id
              JOIN stock_location source ON source.id = line.location_id
              JOIN stock_location destination ON destination.id = line.location_dest_id
              JOIN product_product product ON product.id = line.product_id
              JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
              JOIN uom_uom sale_uom ON sale_uom.id = sale_line.product_uom
              JOIN uom_uom product_uom ON product_uom.id = tmpl.uom_id
              JOIN res_company company ON company.id = line.company_id
             CROSS JOIN LATERAL (
                   SELECT CASE WHEN destination.usage = 'customer' THEN 1 ELSE -1 END AS sign
             ) direction
             CROSS JOIN LATERAL (SELECT %(revenue_per_unit)s AS unit_price) price
              LEFT JOIN LATERAL (
                   SELECT SUM(svl.value) / NULLIF(SUM(svl.quantity), 0) AS unit_cost
                     FROM stock_valuation_layer svl
                    WHERE svl.stock_move_id = move.id
                      -- products valued by lot: the lot's layers; others (lot_valuated false or
                      -- NULL, Odoo's default): the move's layers, at their average
                      AND (NOT COALESCE(tmpl.lot_valuated, FALSE) OR svl.lot_id = line.lot_id)
                      -- layers going the line's way: a dropship's receipt layer is not a cost
                      AND (destination.usage <> 'customer' OR svl.quantity <= 0)
             ) layer ON TRUE
             WHERE line.state = 'done'
               AND sale_line.markdown_rule_id IS NOT NULL
               AND lot.expiration_date IS NOT NULL
               AND ((destination.usage = 'customer' AND source.usage != 'customer'
                     AND line.date < lot.expiration_date)
                    OR (source.usage = 'customer' AND destination.usage != 'customer'))
            """,
            revenue_per_unit=self.env["stock.lot.margin.report"]._sql_revenue_per_unit(
                "sale_line", "sale_order", "sale_uom", "product_uom"
            ),
        )
