from odoo import api, fields, models
from odoo.tools import SQL

# The move line fields a day's demand depends on: writing one of them on a done line moves its
# quantity from one summary row to another (stock.move.line.write).
DEMAND_LINE_FIELDS = frozenset(
    {"quantity", "product_uom_id", "product_id", "location_id", "location_dest_id", "date", "company_id"}
)


class StockLotDemandDay(models.Model):
    """Customer demand per day: what each warehouse shipped of a product to customers on a day,
    net of customer returns, in the product's unit — the done move lines summed once, when they
    are done, instead of at every expiry-risk refresh (``stock.lot._sql_daily_demand`` reads the
    window's whole days here and only its partial first and last days from the move lines).

    Kept set-based by the moves: ``stock.move._action_done`` adds the lines it validates, a write
    to a done line that changes its quantity, product, places, date or company takes the old
    figures out and puts the new ones in, a location whose type or parent changes rebuilds the
    table (``_rebuild``, also run at every module update: the table always equals the move lines).

    Append-only between refreshes (``stock.lot.kept.summary.mixin``): each validation inserts its
    own rows (no row shared by two deliveries of a product, so concurrent validations never wait
    for each other here); ``_compact`` sums the rows of past days into one per key (the daily risk
    refresh runs it).
    """

    _name = "stock.lot.demand.day"
    _inherit = ["stock.lot.kept.summary.mixin"]
    _description = "Customer Demand per Day"
    _log_access = False
    _order = "day desc, product_id, warehouse_id"
    _rec_name = "product_id"
    _summary_keys = ("company_id", "product_id", "warehouse_id", "day")
    _summary_period = "day"
    _summary_sums = {"qty": "SUM"}
    _summary_drop_zero = True

    day = fields.Date(required=True, readonly=True, help="The day (UTC) the lines were done.")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=False)
    product_id = fields.Many2one("product.product", required=True, readonly=True, index=False)
    warehouse_id = fields.Many2one("stock.warehouse", required=True, readonly=True, index=False)
    qty = fields.Float(
        string="Net Shipped",
        digits="Product Unit of Measure",
        readonly=True,
        help="Shipped to customers from the warehouse, less returned by customers to it, in the product's unit.",
    )

    def init(self):
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS stock_lot_demand_day_day_index
                ON stock_lot_demand_day (day) INCLUDE (company_id, product_id, warehouse_id, qty)
            """
        )
        self._rebuild()

    @api.model
    def _sql_line_flows(self, line_condition):
        """SQL rows ``(company_id, product_id, warehouse_id, date, qty)``, one per done move line
        ``line_condition`` keeps (alias ``line``) that is a customer flow: a delivery from a
        warehouse (positive) or a customer return to one (negative), in the product's unit. The
        one definition of a flow, summed by day here and read line by line for the demand
        window's partial days (``stock.lot._sql_daily_demand``)."""
        return SQL(
            """
            SELECT line.company_id, line.product_id,
                   CASE WHEN source.usage = 'internal' THEN source.warehouse_id
                        ELSE destination.warehouse_id END AS warehouse_id,
                   line.date,
                   CASE WHEN source.usage = 'internal' THEN line.quantity_product_uom
                        ELSE -line.quantity_product_uom END AS qty
              FROM stock_move_line line
              JOIN stock_location source ON source.id = line.location_id
              JOIN stock_location destination ON destination.id = line.location_dest_id
             WHERE line.state = 'done'
               AND ((source.usage = 'internal' AND destination.usage = 'customer' AND source.warehouse_id IS NOT NULL)
                    OR (source.usage = 'customer' AND destination.usage = 'internal'
                        AND destination.warehouse_id IS NOT NULL))
               AND %s
            """,
            line_condition,
        )

    @api.model
    def _sql_summary_rows(self, condition):
        """The flows of ``_sql_line_flows`` summed per key and UTC day."""
        return SQL(
            """
            SELECT flow.company_id, flow.product_id, flow.warehouse_id, flow.date::date AS day, SUM(flow.qty) AS qty
              FROM (%s) flow
             GROUP BY 1, 2, 3, 4
            """,
            self._sql_line_flows(condition),
        )

    @api.model
    def _flush_summary_sources(self):
        """Write what the flows read (only that: flushing everything in the middle of a validation
        would post other models' tracking messages early)."""
        self.env["stock.move"].flush_model(["state"])
        self.env["stock.move.line"].flush_model(
            ["state", "quantity_product_uom", "date", "product_id", "location_id", "location_dest_id", "company_id"]
        )
        self.env["stock.location"].flush_model(["usage", "warehouse_id"])

    @api.model
    def _add_lines(self, lines, sign=1):
        """Add (``sign`` 1) or take out (-1) the done customer flows of move ``lines`` as they are
        in the database now: one INSERT whatever their number."""
        if lines:
            self._add_summary(SQL("line.id = ANY(%s)", lines.ids), sign)
