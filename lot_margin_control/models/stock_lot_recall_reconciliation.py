from odoo import api, fields, models
from odoo.tools import SQL


class StockLotRecallReconciliation(models.Model):
    """Where every unit of an affected lot went: in = out + on hand, or a gap to explain.

    In: received from vendors, produced, returned by customers. Out: shipped,
    returned to vendors, consumed, scrapped. Inventory adjustments are not an
    explanation: units they add or remove show in the unaccounted column, which
    the recall cannot be closed with unless someone writes why.

    One line per lot and company: each company's moves reconcile on their own,
    and a user reads only the lines of the companies they may read (record rule).
    """

    _name = "stock.lot.recall.reconciliation"
    _description = "Recall Reconciliation by Lot"
    _order = "recall_id, depth, lot_id"

    recall_id = fields.Many2one("stock.lot.recall", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, help="The company whose moves this line sums."
    )
    lot_id = fields.Many2one("stock.lot", string="Lot/Serial Number", required=True, index=True)
    product_id = fields.Many2one("product.product", required=True)
    uom_id = fields.Many2one("uom.uom", string="Unit")
    depth = fields.Integer()
    qty_received = fields.Float("Received", digits="Product Unit of Measure")
    qty_produced = fields.Float("Produced", digits="Product Unit of Measure")
    qty_customer_returns = fields.Float("Returned by Customers", digits="Product Unit of Measure")
    qty_shipped = fields.Float("Shipped", digits="Product Unit of Measure")
    qty_vendor_returns = fields.Float("Returned to Vendors", digits="Product Unit of Measure")
    qty_consumed = fields.Float("Consumed", digits="Product Unit of Measure")
    qty_scrapped = fields.Float("Scrapped", digits="Product Unit of Measure")
    qty_adjusted = fields.Float(
        "Inventory Adjustments", digits="Product Unit of Measure", help="Net units added (+) or removed (-) by counts."
    )
    qty_on_hand = fields.Float("On Hand", digits="Product Unit of Measure")
    qty_unaccounted = fields.Float(
        "Unaccounted",
        digits="Product Unit of Measure",
        help="In minus out minus on hand. Not zero: units that no shipment, consumption or scrap explains.",
    )
    is_reconciled = fields.Boolean(compute="_compute_is_reconciled", store=True)
    explanation = fields.Text(help="Why the unaccounted quantity is acceptable; required to close the recall.")

    @api.depends("qty_unaccounted", "uom_id")
    def _compute_is_reconciled(self):
        for line in self:
            rounding = line.uom_id.rounding or 0.001
            line.is_reconciled = abs(line.qty_unaccounted) < rounding / 2

    @api.model
    def _insert_from_trace_sql(self, recall, company_ids):
        """One INSERT … SELECT that sums the recall's trace lines of ``company_ids`` by lot and company."""
        return SQL(
            """
            INSERT INTO stock_lot_recall_reconciliation (
                recall_id, company_id, lot_id, product_id, uom_id, depth, qty_received, qty_produced,
                qty_customer_returns, qty_shipped, qty_vendor_returns, qty_consumed, qty_scrapped,
                qty_adjusted, qty_on_hand, qty_unaccounted, is_reconciled,
                create_uid, create_date, write_uid, write_date)
            SELECT recall_id, company_id, lot_id, product_id, uom_id, depth,
                   COALESCE(received, 0), COALESCE(produced, 0), COALESCE(customer_returns, 0),
                   COALESCE(shipped, 0), COALESCE(vendor_returns, 0), COALESCE(consumed, 0),
                   COALESCE(scrapped, 0), COALESCE(adjusted, 0), COALESCE(on_hand, 0), unaccounted,
                   ABS(unaccounted) < COALESCE(rounding, 0.001) / 2,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM (
                SELECT line.recall_id, line.company_id, line.lot_id, line.product_id, line.uom_id,
                       MIN(line.depth) AS depth, MIN(uom.rounding) AS rounding,
                       SUM(line.quantity) FILTER (WHERE event = 'receipt') AS received,
                       SUM(line.quantity) FILTER (WHERE event = 'production') AS produced,
                       SUM(line.quantity) FILTER (WHERE event = 'customer_return') AS customer_returns,
                       SUM(line.quantity) FILTER (WHERE event = 'delivery') AS shipped,
                       SUM(line.quantity) FILTER (WHERE event = 'vendor_return') AS vendor_returns,
                       SUM(line.quantity) FILTER (WHERE event = 'consumption') AS consumed,
                       SUM(CASE WHEN source.scrap_location THEN -line.quantity ELSE line.quantity END)
                           FILTER (WHERE event = 'scrap') AS scrapped,
                       SUM(CASE WHEN source.usage = 'inventory' THEN line.quantity ELSE -line.quantity END)
                           FILTER (WHERE event = 'adjustment') AS adjusted,
                       SUM(line.quantity) FILTER (WHERE event = 'on_hand') AS on_hand,
                       COALESCE(SUM(line.quantity) FILTER (
                           WHERE event IN ('receipt', 'production', 'customer_return')), 0)
                       - COALESCE(SUM(line.quantity) FILTER (
                           WHERE event IN ('delivery', 'vendor_return', 'consumption')), 0)
                       - COALESCE(SUM(CASE WHEN source.scrap_location THEN -line.quantity ELSE line.quantity END)
                           FILTER (WHERE event = 'scrap'), 0)
                       - COALESCE(SUM(line.quantity) FILTER (WHERE event = 'on_hand'), 0) AS unaccounted
                  FROM stock_lot_recall_line line
             LEFT JOIN stock_location source ON source.id = line.location_id
             LEFT JOIN uom_uom uom ON uom.id = line.uom_id
                 WHERE line.recall_id = %(recall)s AND line.company_id = ANY(%(company_ids)s)
              GROUP BY line.recall_id, line.company_id, line.lot_id, line.product_id, line.uom_id
              ) totals
            """,
            recall=recall.id,
            company_ids=list(company_ids),
            uid=self.env.uid,
            now=fields.Datetime.now(),
        )
