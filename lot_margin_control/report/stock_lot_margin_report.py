from odoo import api, fields, models
from odoo.tools import SQL

# Report ids pack the lot and the company: (lot id << COMPANY_BITS) + company id. A lot belongs
# to one company, or is shared and then sold in several; the id stays computable from the
# grouped columns, so PostgreSQL pushes filters on ids and lots down into the aggregation.
COMPANY_BITS = 16
# Costs and stock values: accountants and inventory administrators, as core's valuation reports.
COST_READERS = "account.group_account_readonly,stock.group_stock_manager"


class StockLotMarginReport(models.Model):
    """What each lot earned: revenue, cost of goods sold, markdowns and write-offs, in company currency.

    Built in one SQL statement from done move lines and core valuation layers:

    - revenue: the lot's quantity on done deliveries of sale order lines (minus
      customer returns) at the line's net unit price (``price_subtotal`` over
      the ordered quantity, so discounts and included taxes are out), converted
      at the order's rate like the sales analysis does;
    - markdown: the discount given on those lines, ``price_unit * discount``,
      for the lot's quantity;
    - cost of goods sold: the value of the valuation layers of those moves (the
      lot's own layers for products valued by lot, else the move's layers
      shared by quantity), returns deducted;
    - write-off: the value that left stock for scrap or inventory-loss
      locations (``usage = 'inventory'``), the same way.

    The lot of a sale comes from what was delivered (the move lines), which
    also covers lots chosen on the order (OCA sale_order_lot_selection) since
    the delivery is restricted to them.
    """

    _name = "stock.lot.margin.report"
    _description = "Margin by Lot"
    _auto = False
    _rec_name = "lot_id"
    _order = "margin desc, lot_id"
    _depends = {
        "stock.move.line": ["state", "move_id", "lot_id", "quantity_product_uom"],
        "stock.move": [
            "state",
            "company_id",
            "product_id",
            "sale_line_id",
            "origin_returned_move_id",
            "location_id",
            "location_dest_id",
        ],
        "stock.location": ["usage"],
        "stock.valuation.layer": ["stock_move_id", "lot_id", "value"],
        "sale.order.line": ["order_id", "price_unit", "discount", "price_subtotal", "product_uom_qty", "product_uom"],
        "sale.order": ["currency_rate"],
        "uom.uom": ["factor"],
        "product.product": ["product_tmpl_id"],
        "product.template": ["lot_valuated", "categ_id", "uom_id"],
        "res.company": ["currency_id"],
    }

    lot_id = fields.Many2one("stock.lot", string="Lot/Serial", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    product_categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    uom_id = fields.Many2one("uom.uom", string="Unit", readonly=True)
    delivered_qty = fields.Float(
        string="Quantity Sold",
        digits="Product Unit of Measure",
        readonly=True,
        help="Delivered to customers on sale orders, minus returns.",
    )
    revenue = fields.Monetary(readonly=True)
    markdown_amount = fields.Monetary(
        string="Markdown Given",
        readonly=True,
        help="Discount given on the sale lines for this lot's quantity: list price on the line minus net price.",
    )
    cogs = fields.Monetary(string="Cost of Goods Sold", readonly=True, groups=COST_READERS)
    write_off_value = fields.Monetary(
        string="Scrap & Write-off",
        readonly=True,
        groups=COST_READERS,
        help="Value of this lot scrapped or lost in inventory adjustments, from its valuation layers.",
    )
    margin = fields.Monetary(
        readonly=True, groups=COST_READERS, help="Revenue minus cost of goods sold and write-offs."
    )
    margin_percent = fields.Float(
        string="Margin (%)",
        readonly=True,
        groups=COST_READERS,
        aggregator=None,
        digits=(16, 2),
        help="Margin over revenue.",
    )

    @api.model
    def _sql_revenue_per_unit(self, sale_line, sale_order, sale_uom, product_uom):
        """Revenue of one unit (of the product's unit of measure) sold on a sale line, in company currency.

        The line's untaxed price net of discount (``price_subtotal`` over the ordered
        quantity, as ``price_reduce_taxexcl``), per product unit, at the order's rate.
        The one definition of a lot's revenue: the margin report and the markdown
        recovery report both use it. Arguments are the SQL aliases of the sale order
        line, its order, its unit and the product's unit.
        """
        line, order = SQL.identifier(sale_line), SQL.identifier(sale_order)
        return SQL(
            """(CASE WHEN %(line)s.product_uom_qty <> 0 THEN %(line)s.price_subtotal / %(line)s.product_uom_qty
                     ELSE %(line)s.price_unit * (1 - COALESCE(%(line)s.discount, 0) / 100) END)
               * %(sale_uom)s.factor / %(product_uom)s.factor
               / COALESCE(NULLIF(%(order)s.currency_rate, 0), 1)""",
            line=line,
            order=order,
            sale_uom=SQL.identifier(sale_uom),
            product_uom=SQL.identifier(product_uom),
        )

    @property
    def _table_query(self):
        return SQL(
            """
            WITH lot_event AS (
                SELECT move.company_id, ml.lot_id, move.product_id, ml.quantity,
                       COALESCE(move.sale_line_id, origin.sale_line_id) AS sale_line_id,
                       CASE WHEN dest.usage = 'customer' THEN 1 WHEN src.usage = 'customer' THEN -1 ELSE 0 END
                           AS sale_sign,
                       dest.usage = 'inventory' AND src.usage IN ('internal', 'transit') AS is_write_off,
                       -- layers going the move's way: a dropship's receipt layer is not a cost.
                       -- lot_valuated is NULL on products that never set it (Odoo's default for
                       -- tracked products): valued by product, like core reads it.
                       CASE WHEN COALESCE(tmpl.lot_valuated, FALSE)
                            THEN (SELECT SUM(svl.value) FROM stock_valuation_layer svl
                                   WHERE svl.stock_move_id = move.id AND svl.lot_id = ml.lot_id
                                     AND (dest.usage <> 'customer' OR svl.quantity <= 0))
                            ELSE (SELECT SUM(svl.value) FROM stock_valuation_layer svl
                                   WHERE svl.stock_move_id = move.id
                                     AND (dest.usage <> 'customer' OR svl.quantity <= 0))
                                 * ml.quantity / NULLIF(move_total.quantity, 0)
                       END AS value
                  FROM (
                        SELECT line.move_id, line.lot_id, SUM(line.quantity_product_uom) AS quantity
                          FROM stock_move_line line
                         WHERE line.state = 'done' AND line.lot_id IS NOT NULL
                         GROUP BY line.move_id, line.lot_id
                       ) ml
                  JOIN stock_move move ON move.id = ml.move_id
                  JOIN stock_location src ON src.id = move.location_id
                  JOIN stock_location dest ON dest.id = move.location_dest_id
                  JOIN product_product product ON product.id = move.product_id
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
             LEFT JOIN stock_move origin ON origin.id = move.origin_returned_move_id
             LEFT JOIN LATERAL (
                        SELECT SUM(line.quantity_product_uom) AS quantity
                          FROM stock_move_line line
                         WHERE line.move_id = move.id AND line.state = 'done'
                       ) move_total ON NOT COALESCE(tmpl.lot_valuated, FALSE)
                 WHERE move.state = 'done'
                   AND (
                        (COALESCE(move.sale_line_id, origin.sale_line_id) IS NOT NULL
                         AND (dest.usage = 'customer') <> (src.usage = 'customer'))
                        OR (dest.usage = 'inventory' AND src.usage IN ('internal', 'transit'))
                   )
            ),
            priced AS (
                SELECT lot_event.*,
                       -- the lot's quantity in the sale line's unit, times the line's prices
                       lot_event.sale_sign * lot_event.quantity / product_uom.factor * line_uom.factor
                           / CASE COALESCE(sale.currency_rate, 0) WHEN 0 THEN 1.0 ELSE sale.currency_rate END
                           AS sold_qty_at_rate,
                       %(revenue_per_unit)s AS revenue_per_unit,
                       line.price_unit * COALESCE(line.discount, 0) / 100 AS discount_per_unit
                  FROM lot_event
                  JOIN product_product product ON product.id = lot_event.product_id
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                  JOIN uom_uom product_uom ON product_uom.id = tmpl.uom_id
             LEFT JOIN sale_order_line line ON line.id = lot_event.sale_line_id AND lot_event.sale_sign <> 0
             LEFT JOIN sale_order sale ON sale.id = line.order_id
             LEFT JOIN uom_uom line_uom ON line_uom.id = line.product_uom
            ),
            per_lot AS (
                SELECT priced.lot_id, priced.company_id,
                       SUM(priced.sale_sign * priced.quantity) AS delivered_qty,
                       COALESCE(SUM(priced.sale_sign * priced.quantity * priced.revenue_per_unit), 0) AS revenue,
                       COALESCE(SUM(priced.sold_qty_at_rate * priced.discount_per_unit), 0) AS markdown_amount,
                       COALESCE(-SUM(priced.value) FILTER (WHERE priced.sale_sign <> 0), 0) AS cogs,
                       COALESCE(-SUM(priced.value) FILTER (WHERE priced.is_write_off), 0) AS write_off_value
                  FROM priced
                 GROUP BY priced.lot_id, priced.company_id
            )
            SELECT (per_lot.lot_id::bigint << %(company_bits)s) + per_lot.company_id AS id,
                   per_lot.lot_id,
                   lot.product_id,
                   tmpl.categ_id AS product_categ_id,
                   per_lot.company_id,
                   company.currency_id,
                   tmpl.uom_id,
                   per_lot.delivered_qty,
                   per_lot.revenue,
                   per_lot.markdown_amount,
                   per_lot.cogs,
                   per_lot.write_off_value,
                   per_lot.revenue - per_lot.cogs - per_lot.write_off_value AS margin,
                   CASE WHEN per_lot.revenue <> 0
                        THEN 100 * (per_lot.revenue - per_lot.cogs - per_lot.write_off_value) / per_lot.revenue
                   END AS margin_percent
              FROM per_lot
              JOIN stock_lot lot ON lot.id = per_lot.lot_id
              JOIN product_product product ON product.id = lot.product_id
              JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
              JOIN res_company company ON company.id = per_lot.company_id
            """,
            company_bits=COMPANY_BITS,
            revenue_per_unit=self._sql_revenue_per_unit("line", "sale", "line_uom", "product_uom"),
        )
