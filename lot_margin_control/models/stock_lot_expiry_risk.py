# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..report.stock_lot_margin_report import COST_READERS

# Who may refresh the risk on demand: it only recomputes figures the daily cron recomputes anyway.
RISK_REFRESHERS = ("lot_margin_control.group_lot_control_user", "stock.group_stock_manager")


class StockLot(models.Model):
    """Expiry risk: how much of each lot on hand will still be on the shelf when it expires.

    Per lot and warehouse holding it: the product's daily demand from that
    warehouse (customer deliveries net of customer returns over the company's
    ``lot_demand_window_days``, in the product's unit), the released quantity FEFO
    takes first (``fefo_ahead_qty``) and the quantity left unsold at expiry
    ``qty - clamp(demand * days_left - ahead, 0, qty)`` (PRODUCT.md §9). A lot
    held in several warehouses sums its warehouses' figures (each warehouse sells
    its own stock to its own customers); its sell-out date is the latest one.

    Stored and refreshed set-based by ``_refresh_expiry_risk`` (one UPDATE): by
    the daily cron, before the markdown refresh (this module is imported before
    ``stock_lot_markdown``, whose cron override therefore runs this one first), and
    by ``action_refresh_expiry_risk``.
    """

    _inherit = "stock.lot"

    demand_daily_qty = fields.Float(
        string="Daily Demand",
        digits="Product Unit of Measure",
        readonly=True,
        copy=False,
        help="Average quantity of the product delivered per day to customers from the warehouse(s) "
        "holding this lot, net of customer returns, over the company's demand window.",
    )
    fefo_ahead_qty = fields.Float(
        string="Sold Before (FEFO)",
        digits="Product Unit of Measure",
        readonly=True,
        copy=False,
        help="On-hand quantity of released lots of the same product in the same warehouse that FEFO takes "
        "before this one (earlier removal date, or expiration date without one).",
    )
    projected_unsold_qty = fields.Float(
        string="At Risk",
        digits="Product Unit of Measure",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="On-hand quantity projected to be left when the lot expires, at the current demand.",
    )
    projected_unsold_ratio = fields.Float(
        string="Share at Risk",
        digits=(16, 4),
        readonly=True,
        copy=False,
        aggregator="avg",
        help="Projected unsold quantity divided by the quantity on hand (what markdown rules on "
        "projected unsold compare with their ratio).",
    )
    projected_sellout_date = fields.Date(
        string="Projected Sell-Out",
        readonly=True,
        copy=False,
        help="When the current demand sells the last unit of this lot (after the lots sold before it). "
        "Empty without demand.",
    )
    expiry_value_at_risk = fields.Monetary(
        string="Value at Risk",
        currency_field="expiry_risk_currency_id",
        readonly=True,
        copy=False,
        groups=COST_READERS,
        help="Projected unsold quantity at the product's cost, in the company currency.",
    )
    expiry_risk_currency_id = fields.Many2one("res.currency", compute="_compute_expiry_risk_currency_id")
    risk_warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Warehouse",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The warehouse holding this lot (the one holding most of it when there are several).",
    )

    @api.depends("company_id")
    @api.depends_context("company")
    def _compute_expiry_risk_currency_id(self):
        for lot in self:
            lot.expiry_risk_currency_id = (lot.company_id or self.env.company).currency_id

    @api.model
    def _cron_refresh_shelf_life_state(self):
        """Expiry risk follows the day's shelf life; the markdown refresh (an override imported after
        this one) runs next and sees fresh risk."""
        result = super()._cron_refresh_shelf_life_state()
        self._refresh_expiry_risk()
        return result

    def action_refresh_expiry_risk(self):
        """Refresh every lot's expiry risk now, then the markdowns that follow it.

        For Lot Control users (quality managers included) and inventory
        administrators: the figures are the ones the nightly cron computes.
        """
        if not any(self.env.user.has_group(group) for group in RISK_REFRESHERS):
            raise AccessError(
                self.env._(
                    "Only Lot Control users and inventory administrators may refresh the expiry risk. "
                    "It is also refreshed every night."
                )
            )
        self.sudo()._refresh_expiry_risk()
        self.sudo()._refresh_markdown()
        return True

    @api.model
    def _sql_daily_demand(self, now, product_condition):
        """SQL rows ``(product_id, warehouse_id, daily_qty)``: each product's daily demand from each
        warehouse at ``now``, for the products ``product_condition`` keeps (on alias ``line``).

        Done move lines from the warehouse's internal locations to customer locations, less those
        back from customers, dated in ``(now - lot_demand_window_days of the warehouse's company,
        now]``, in the product's unit (``quantity_product_uom``), divided by the window, never
        below zero. The one definition of demand, for the risk refresh and the purchase warning.
        """
        return SQL(
            """
            SELECT line.product_id, warehouse.id AS warehouse_id,
                   GREATEST(SUM(CASE WHEN source.usage = 'internal' THEN line.quantity_product_uom
                                     ELSE -line.quantity_product_uom END), 0)
                   / MAX(company.lot_demand_window_days) AS daily_qty
              FROM stock_move_line line
              JOIN stock_location source ON source.id = line.location_id
              JOIN stock_location destination ON destination.id = line.location_dest_id
              JOIN stock_warehouse warehouse
                ON warehouse.id = CASE WHEN source.usage = 'internal' THEN source.warehouse_id
                                       ELSE destination.warehouse_id END
              JOIN res_company company ON company.id = warehouse.company_id
             WHERE line.state = 'done'
               AND ((source.usage = 'internal' AND destination.usage = 'customer')
                    OR (source.usage = 'customer' AND destination.usage = 'internal'))
               AND line.date > %(now)s - make_interval(days => company.lot_demand_window_days)
               AND line.date <= %(now)s
               AND %(product_condition)s
             GROUP BY line.product_id, warehouse.id
            """,
            now=now,
            product_condition=product_condition,
        )

    @api.model
    @api.readonly
    def _get_daily_demand(self, products, warehouse):
        """``{product: daily quantity}`` of ``products`` from ``warehouse`` now (see ``_sql_daily_demand``)."""
        self.env["stock.move.line"].flush_model(["state", "quantity_product_uom", "date", "product_id"])
        self.env["res.company"].flush_model(["lot_demand_window_days"])
        rows = self.env.execute_query(
            SQL(
                "SELECT product_id, daily_qty FROM (%s) demand WHERE warehouse_id = %s",
                self._sql_daily_demand(self._shelf_life_now(), SQL("line.product_id = ANY(%s)", products.ids)),
                warehouse.id,
            )
        )
        return {products.browse(product_id): float(daily_qty) for product_id, daily_qty in rows}

    @api.model
    def _refresh_expiry_risk(self, now=None):
        """Recompute the expiry risk of every lot at ``now`` in one UPDATE (PRODUCT.md §9).

        - on hand: the lot's quants in internal locations of a warehouse, per warehouse;
        - demand: the product's daily demand from that warehouse (``_sql_daily_demand``);
        - ahead: released, unexpired lots of the product in the warehouse that come first in
          FEFO order (removal date, else expiration date; undated lots last; equal dates by lot
          id, a stand-in for the receipt order FEFO uses for ties);
        - unsold: ``qty - clamp(demand * days_left - ahead, 0, qty)`` for lots with an expiration
          date (all of it once expired or without demand), none for lots without one;
        - unit cost: the product's cost (``standard_price``) in the warehouse's company, the
          figure stock_account values standard and average-cost stock at (the FIFO layers would
          need one more pass over the valuation layers for a projection).

        Lots in several warehouses sum their quantities and value; ``risk_warehouse_id`` is the
        warehouse holding most of the lot. Lots not on hand are reset. The query count does
        not depend on the number of lots. Returns the ids of the lots that changed.
        """
        now = now or self._shelf_life_now()
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                WITH on_hand AS (
                    SELECT lot.id AS lot_id, lot.product_id, warehouse.id AS warehouse_id, warehouse.company_id,
                           lot.quality_state, lot.expiration_date,
                           COALESCE(lot.removal_date, lot.expiration_date) AS fefo_date,
                           %(days_left)s AS days_left, SUM(quant.quantity) AS qty
                      FROM stock_quant quant
                      JOIN stock_location location ON location.id = quant.location_id
                      JOIN stock_warehouse warehouse ON warehouse.id = location.warehouse_id
                      JOIN stock_lot lot ON lot.id = quant.lot_id
                     WHERE location.usage = 'internal'
                     GROUP BY lot.id, warehouse.id
                    HAVING SUM(quant.quantity) > 0
                ), demand AS (
                    %(demand)s
                ), queue AS (
                    SELECT on_hand.*,
                           COALESCE(demand.daily_qty, 0) AS daily_qty,
                           COALESCE(SUM(CASE WHEN on_hand.quality_state = 'released'
                                              AND (on_hand.expiration_date IS NULL OR on_hand.expiration_date > %(now)s)
                                             THEN on_hand.qty END)
                                    OVER (PARTITION BY on_hand.product_id, on_hand.warehouse_id
                                              ORDER BY on_hand.fefo_date NULLS LAST, on_hand.lot_id
                                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS ahead_qty
                      FROM on_hand
                      LEFT JOIN demand ON demand.product_id = on_hand.product_id
                                      AND demand.warehouse_id = on_hand.warehouse_id
                ), projected AS (
                    SELECT queue.*,
                           CASE WHEN queue.expiration_date IS NULL THEN 0
                                ELSE queue.qty - LEAST(GREATEST(queue.daily_qty * queue.days_left - queue.ahead_qty, 0),
                                                       queue.qty)
                           END AS unsold_qty
                      FROM queue
                ), per_lot AS (
                    SELECT projected.lot_id,
                           SUM(projected.daily_qty) AS daily_qty,
                           SUM(projected.ahead_qty) AS ahead_qty,
                           SUM(projected.unsold_qty) AS unsold_qty,
                           -- rounded as the lot shows it, for the markdown trigger
                           ROUND(SUM(projected.unsold_qty) / SUM(projected.qty), 4) AS unsold_ratio,
                           CASE WHEN BOOL_AND(projected.daily_qty > 0)
                                THEN MAX(%(now)s + make_interval(secs => (
                                         (projected.ahead_qty + projected.qty) / NULLIF(projected.daily_qty, 0) * 86400
                                     )::float8))::date
                           END AS sellout_date,
                           SUM(projected.unsold_qty * COALESCE(
                               (product.standard_price ->> projected.company_id::text)::numeric, 0)) AS value,
                           MIN(currency.rounding) AS rounding,
                           (ARRAY_AGG(projected.warehouse_id ORDER BY projected.qty DESC, projected.warehouse_id))[1]
                               AS warehouse_id
                      FROM projected
                      JOIN product_product product ON product.id = projected.product_id
                      JOIN res_company company ON company.id = projected.company_id
                      JOIN res_currency currency ON currency.id = company.currency_id
                     GROUP BY projected.lot_id
                ), target AS (
                    SELECT lot.id AS lot_id,
                           COALESCE(per_lot.daily_qty, 0) AS daily_qty,
                           COALESCE(per_lot.ahead_qty, 0) AS ahead_qty,
                           COALESCE(per_lot.unsold_qty, 0) AS unsold_qty,
                           COALESCE(per_lot.unsold_ratio, 0) AS unsold_ratio,
                           per_lot.sellout_date,
                           COALESCE(ROUND(per_lot.value / per_lot.rounding) * per_lot.rounding, 0) AS value,
                           per_lot.warehouse_id
                      FROM stock_lot lot
                      LEFT JOIN per_lot ON per_lot.lot_id = lot.id
                )
                UPDATE stock_lot lot
                   SET demand_daily_qty = target.daily_qty,
                       fefo_ahead_qty = target.ahead_qty,
                       projected_unsold_qty = target.unsold_qty,
                       projected_unsold_ratio = target.unsold_ratio,
                       projected_sellout_date = target.sellout_date,
                       expiry_value_at_risk = target.value,
                       risk_warehouse_id = target.warehouse_id
                  FROM target
                 WHERE lot.id = target.lot_id
                   AND (lot.demand_daily_qty IS DISTINCT FROM target.daily_qty
                        OR lot.fefo_ahead_qty IS DISTINCT FROM target.ahead_qty
                        OR lot.projected_unsold_qty IS DISTINCT FROM target.unsold_qty
                        OR lot.projected_unsold_ratio IS DISTINCT FROM target.unsold_ratio
                        OR lot.projected_sellout_date IS DISTINCT FROM target.sellout_date
                        OR lot.expiry_value_at_risk IS DISTINCT FROM target.value
                        OR lot.risk_warehouse_id IS DISTINCT FROM target.warehouse_id)
             RETURNING lot.id
                """,
                now=now,
                days_left=self._sql_days_left(now, "lot"),
                demand=self._sql_daily_demand(now, SQL("TRUE")),
            )
        )
        self.env["stock.lot"].invalidate_model(
            [
                "demand_daily_qty",
                "fefo_ahead_qty",
                "projected_unsold_qty",
                "projected_unsold_ratio",
                "projected_sellout_date",
                "expiry_value_at_risk",
                "risk_warehouse_id",
            ]
        )
        return [lot_id for (lot_id,) in rows]
