from odoo import api, fields, models
from odoo.tools import SQL

from ..report.stock_lot_margin_report import COST_READERS

# The figures of a lot, per warehouse holding it; the lot shows their sums (stock.lot, §9).
RISK_FIGURES = (
    "demand_daily_qty",
    "fefo_ahead_qty",
    "projected_unsold_qty",
    "expiry_value_at_risk",
)
# What a refresh writes besides the key (lot, warehouse) and its time.
RISK_COLUMNS = (
    "product_id",
    "categ_id",
    "company_id",
    "currency_id",
    "uom_id",
    "expiration_date",
    "quality_state",
    "quantity",
    "demand_daily_qty",
    "fefo_ahead_qty",
    "projected_unsold_qty",
    "projected_unsold_ratio",
    "projected_sellout_date",
    "unit_cost",
    "expiry_value_at_risk",
)


class StockLotExpiryRisk(models.Model):
    """Expiry risk of each lot on hand in each warehouse: the *Expiry Risk* report, and where the
    lot's risk fields (``stock.lot.projected_unsold_qty``…) read from.

    A narrow table refreshed set-based by ``_refresh`` (the daily cron and the *Refresh* button),
    instead of columns of ``stock_lot``: every refresh changes nearly every row (the sell-out date
    and the demand window move with the day), and rewriting 100,000 rows of the wide, heavily
    indexed lot table took longer than computing the figures (README, Performance). Nothing else
    writes it: the ORM may only read it (ir.model.access), the refresh writes it by SQL.

    Rows: one per lot and warehouse with a positive quantity in the warehouse's internal
    locations; lots no longer on hand have no row.
    """

    _name = "stock.lot.expiry.risk"
    _description = "Expiry Risk by Lot and Warehouse"
    _auto = False  # the table is made in init(): upserted by SQL, with the constraints it needs
    _log_access = False
    _order = "expiration_date, lot_id, warehouse_id"
    _rec_name = "lot_id"

    lot_id = fields.Many2one("stock.lot", string="Lot/Serial Number", readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    uom_id = fields.Many2one("uom.uom", string="Unit", readonly=True)
    expiration_date = fields.Datetime(readonly=True)
    quality_state = fields.Selection(
        selection=lambda self: self.env["stock.lot"]._fields["quality_state"].selection,
        readonly=True,
    )
    quantity = fields.Float(string="On Hand", digits="Product Unit of Measure", readonly=True)
    demand_daily_qty = fields.Float(string="Daily Demand", digits=(16, 4), readonly=True)
    fefo_ahead_qty = fields.Float(string="Sold Before (FEFO)", digits="Product Unit of Measure", readonly=True)
    projected_unsold_qty = fields.Float(string="At Risk", digits="Product Unit of Measure", readonly=True)
    projected_unsold_ratio = fields.Float(string="Share at Risk", digits=(16, 4), readonly=True, aggregator="avg")
    projected_sellout_date = fields.Date(string="Projected Sell-Out", readonly=True, aggregator="max")
    unit_cost = fields.Monetary(readonly=True, groups=COST_READERS, aggregator=None)
    expiry_value_at_risk = fields.Monetary(string="Value at Risk", readonly=True, groups=COST_READERS)
    refreshed_at = fields.Datetime(string="Projected At", readonly=True, aggregator="max")

    def init(self):
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS stock_lot_expiry_risk (
                id serial PRIMARY KEY,
                lot_id integer NOT NULL REFERENCES stock_lot (id) ON DELETE CASCADE,
                warehouse_id integer NOT NULL REFERENCES stock_warehouse (id) ON DELETE CASCADE,
                product_id integer NOT NULL,
                categ_id integer,
                company_id integer NOT NULL,
                currency_id integer,
                uom_id integer,
                expiration_date timestamp,
                quality_state varchar,
                quantity numeric NOT NULL,
                demand_daily_qty numeric NOT NULL,
                fefo_ahead_qty numeric NOT NULL,
                projected_unsold_qty numeric NOT NULL,
                projected_unsold_ratio numeric NOT NULL,
                projected_sellout_date date,
                unit_cost numeric NOT NULL,
                expiry_value_at_risk numeric NOT NULL,
                refreshed_at timestamp NOT NULL,
                UNIQUE (lot_id, warehouse_id)
            )
            """
        )
        # every refresh rewrites nearly every row in place: room on each page keeps the updates HOT
        # (no index to rewrite), and autovacuum reclaims the old versions day after day
        self.env.cr.execute("ALTER TABLE stock_lot_expiry_risk SET (fillfactor = 50)")

    def action_refresh(self):
        """The report's *Refresh* button: the lots' refresh (its rights), then the report again."""
        self.env["stock.lot"].action_refresh_expiry_risk()
        return {"type": "ir.actions.client", "tag": "reload"}

    @api.model
    def _sql_unit_cost(self):
        """SQL rows ``(product_id, company_id, lot_id, unit_cost)``: the value of a unit on hand,
        from core's valuation layers (what stock_account values the stock at).

        Per lot for products valued by lot (``lot_valuated``; NULL when never written counts as
        not), else per product and company (``lot_id`` NULL): the remaining value of the layers over
        their remaining quantity, i.e. the inventory value divided by the quantity on hand. The
        refresh takes the product's cost (``standard_price``) only where no layer holds a
        quantity (stock loaded without valuation).
        """
        return SQL(
            """
            SELECT layer.product_id, layer.company_id,
                   CASE WHEN COALESCE(tmpl.lot_valuated, FALSE) THEN layer.lot_id END AS lot_id,
                   SUM(layer.value) / NULLIF(SUM(layer.quantity), 0) AS unit_cost
              FROM stock_valuation_layer layer
              JOIN product_product product ON product.id = layer.product_id
              JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
             WHERE layer.product_id IN (SELECT DISTINCT lot.product_id
                                          FROM stock_quant quant
                                          JOIN stock_lot lot ON lot.id = quant.lot_id
                                         WHERE quant.quantity > 0)
             GROUP BY 1, 2, 3
            HAVING SUM(layer.quantity) > 0
            """
        )

    @api.model
    def _refresh(self, now):
        """Recompute every row at ``now`` (PRODUCT.md §9); returns the ids of the lots whose risk
        changed. Four queries whatever the data size:

        1. a lock that queues concurrent refreshes (readers are not blocked);
        2. the past days' demand summed into one row per key (``stock.lot.demand.day._compact``);
        3. no JIT and more sort memory for this transaction;
        4. one statement: the positions (lot, warehouse, quantity on hand) and their figures,
           joined in full to the stored rows (hash joins: 100,000 rows each side), then the rows
           whose figures moved updated in place (by their physical address, which no one else can
           change while the lock is held), new positions inserted, rows no longer on hand deleted.

        - on hand: the lot's quants in internal locations of a warehouse, per warehouse;
        - demand: the product's daily demand from that warehouse (``stock.lot._sql_daily_demand``);
        - ahead: released, unexpired lots of the product in the warehouse that come first in FEFO
          order (removal date, else expiration date; undated lots last; equal dates by lot id, a
          stand-in for the receipt order FEFO uses for ties);
        - unsold: ``qty - clamp(demand * days_left - ahead, 0, qty)`` for lots with an expiration
          date (all of it once expired or without demand), none for lots without one;
        - unit cost: from the valuation layers (``_sql_unit_cost``), in the company's currency.

        Quantities are computed in double precision, as the ORM holds them (a fifth of the time
        of numeric arithmetic over 100,000 rows); money is rounded in numeric, to the currency.
        """
        lot_model = self.env["stock.lot"]
        self.env.flush_all()
        cr = self.env.cr
        # LOCK takes no snapshot: a refresh that waited here reads what the one before it wrote
        cr.execute("LOCK TABLE stock_lot_expiry_risk IN SHARE ROW EXCLUSIVE MODE")
        self.env["stock.lot.demand.day"]._compact(now.date())
        self.env["stock.lot.bulk.read.mixin"]._tune_bulk_session()
        figures = SQL(", ").join(SQL.identifier(column) for column in RISK_COLUMNS)
        new_figures = SQL(", ").join(SQL.identifier("new", column) for column in RISK_COLUMNS)
        rows = self.env.execute_query(
            SQL(
                """
                WITH position AS (
                    -- joined before summing: the planner then knows it joins 100,000 rows
                    SELECT lot.id AS lot_id, location.warehouse_id, SUM(quant.quantity) AS quantity,
                           SUM(quant.quantity)::float8 AS qty, lot.product_id, warehouse.company_id,
                           lot.quality_state, lot.expiration_date,
                           COALESCE(lot.removal_date, lot.expiration_date) AS fefo_date,
                           %(days_left)s AS days_left
                      FROM stock_quant quant
                      JOIN stock_lot lot ON lot.id = quant.lot_id
                      JOIN stock_location location ON location.id = quant.location_id
                      JOIN stock_warehouse warehouse ON warehouse.id = location.warehouse_id
                     WHERE location.usage = 'internal'
                     GROUP BY lot.id, location.warehouse_id, warehouse.company_id
                    HAVING SUM(quant.quantity) > 0
                ), queue AS (
                    SELECT position.*, COALESCE(demand.daily_qty, 0) AS demand_daily_qty,
                           COALESCE(demand.daily_qty, 0)::float8 AS daily_qty,
                           COALESCE(SUM(CASE WHEN position.quality_state = 'released'
                                              AND (position.expiration_date IS NULL
                                                   OR position.expiration_date > %(now)s)
                                             THEN position.qty END)
                                    OVER (PARTITION BY position.product_id, position.warehouse_id
                                              ORDER BY position.fefo_date NULLS LAST, position.lot_id
                                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS ahead_qty
                      FROM position
                      LEFT JOIN (%(demand)s) demand ON demand.product_id = position.product_id
                                                   AND demand.warehouse_id = position.warehouse_id
                ), cost AS MATERIALIZED (
                    %(cost)s
                ), new AS (
                    SELECT queue.lot_id, queue.warehouse_id, queue.product_id, tmpl.categ_id, queue.company_id,
                           company.currency_id, tmpl.uom_id, queue.expiration_date, queue.quality_state,
                           queue.quantity, queue.demand_daily_qty,
                           -- stored as numeric: compared with the stored figures as they are stored
                           queue.ahead_qty::numeric AS fefo_ahead_qty,
                           unsold.qty::numeric AS projected_unsold_qty,
                           ROUND((unsold.qty / queue.qty)::numeric, 4) AS projected_unsold_ratio,
                           CASE WHEN queue.daily_qty > 0
                                THEN (%(now)s + make_interval(secs => (
                                         (queue.ahead_qty + queue.qty) / queue.daily_qty * 86400)))::date
                           END AS projected_sellout_date,
                           unit.cost AS unit_cost,
                           ROUND(unsold.qty::numeric * unit.cost / currency.rounding) * currency.rounding
                               AS expiry_value_at_risk
                      FROM queue
                      JOIN product_product product ON product.id = queue.product_id
                      JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                      JOIN res_company company ON company.id = queue.company_id
                      JOIN res_currency currency ON currency.id = company.currency_id
                      LEFT JOIN cost lot_cost ON lot_cost.lot_id = queue.lot_id
                                             AND lot_cost.company_id = queue.company_id
                      LEFT JOIN cost product_cost ON product_cost.lot_id IS NULL
                                                 AND product_cost.product_id = queue.product_id
                                                 AND product_cost.company_id = queue.company_id
                     CROSS JOIN LATERAL (
                          SELECT CASE WHEN queue.expiration_date IS NULL THEN 0::float8
                                      ELSE queue.qty - LEAST(GREATEST(queue.daily_qty * queue.days_left
                                                                      - queue.ahead_qty, 0), queue.qty)
                                 END AS qty
                      ) unsold
                     CROSS JOIN LATERAL (
                          SELECT COALESCE(lot_cost.unit_cost, product_cost.unit_cost,
                                          (product.standard_price ->> queue.company_id::text)::numeric, 0) AS cost
                      ) unit
                ), computed AS MATERIALIZED (
                    -- beside each position its stored row (none: a new position), and the stored
                    -- rows no longer on hand (lot_id NULL: to delete)
                    SELECT new.*, risk.ctid AS risk_ctid, risk.lot_id AS risk_lot_id,
                           new.lot_id IS NOT NULL AND risk.id IS NOT NULL
                           AND (%(old_figures)s) IS DISTINCT FROM (%(new_figures)s) AS moved
                      FROM new
                      FULL JOIN stock_lot_expiry_risk risk
                        ON risk.lot_id = new.lot_id AND risk.warehouse_id = new.warehouse_id
                ), updated AS (
                    UPDATE stock_lot_expiry_risk risk
                       SET (%(figures)s, refreshed_at) = (%(new_figures)s, %(now)s)
                      FROM computed new
                     WHERE new.moved AND risk.ctid = new.risk_ctid
                    RETURNING risk.lot_id
                ), inserted AS (
                    INSERT INTO stock_lot_expiry_risk (lot_id, warehouse_id, %(figures)s, refreshed_at)
                    SELECT new.lot_id, new.warehouse_id, %(new_figures)s, %(now)s
                      FROM computed new
                     WHERE new.risk_ctid IS NULL
                    RETURNING lot_id
                ), deleted AS (
                    DELETE FROM stock_lot_expiry_risk risk
                     USING computed gone
                     WHERE gone.lot_id IS NULL AND risk.ctid = gone.risk_ctid
                    RETURNING risk.lot_id
                )
                SELECT lot_id FROM updated UNION SELECT lot_id FROM inserted UNION SELECT lot_id FROM deleted
                """,
                now=now,
                days_left=lot_model._sql_days_left(now, "lot"),
                demand=lot_model._sql_daily_demand(now, SQL("TRUE")),
                cost=self._sql_unit_cost(),
                figures=figures,
                new_figures=new_figures,
                old_figures=SQL(", ").join(SQL.identifier("risk", column) for column in RISK_COLUMNS),
            )
        )
        self.invalidate_model()
        return [lot_id for (lot_id,) in rows]

    @api.model
    def _sql_lot_totals(self, lot_ids=None):
        """SQL rows ``(lot_id, <figures of RISK_FIGURES>, quantity, sellout_date, warehouse_id)``:
        a lot's risk summed over the warehouses holding it; its sell-out date is the latest one
        when every warehouse sells it (else NULL), its warehouse the one holding most of it."""
        return SQL(
            """
            SELECT risk.lot_id,
                   SUM(risk.demand_daily_qty) AS demand_daily_qty,
                   SUM(risk.fefo_ahead_qty) AS fefo_ahead_qty,
                   SUM(risk.projected_unsold_qty) AS projected_unsold_qty,
                   SUM(risk.expiry_value_at_risk) AS expiry_value_at_risk,
                   ROUND(SUM(risk.projected_unsold_qty) / SUM(risk.quantity), 4) AS projected_unsold_ratio,
                   CASE WHEN BOOL_AND(risk.projected_sellout_date IS NOT NULL)
                        THEN MAX(risk.projected_sellout_date) END AS projected_sellout_date,
                   (ARRAY_AGG(risk.warehouse_id ORDER BY risk.quantity DESC, risk.warehouse_id))[1] AS warehouse_id
              FROM stock_lot_expiry_risk risk
             WHERE %s
             GROUP BY risk.lot_id
            """,
            SQL("risk.lot_id = ANY(%s)", lot_ids) if lot_ids is not None else SQL("TRUE"),
        )
