# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
import operator as py_operator

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..report.stock_lot_expiry_risk_report import RISK_FIGURES
from ..report.stock_lot_margin_report import COST_READERS

COMPARISONS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
COMPARE_WITH_ZERO = {
    "=": py_operator.eq,
    "!=": py_operator.ne,
    "<": py_operator.lt,
    "<=": py_operator.le,
    ">": py_operator.gt,
    ">=": py_operator.ge,
}


def _risk_search(figure):
    """The search method of the lot's expiry risk figure ``figure`` (see _search_expiry_risk_figure)."""

    def search(self, operator, value):
        return self._search_expiry_risk_figure(figure, operator, value)

    search.__name__ = f"_search_{figure}"
    return search


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

    The figures per warehouse are stored in ``stock.lot.expiry.risk`` (the report's
    table), refreshed set-based by ``_refresh_expiry_risk``: by the daily cron, before
    the markdown refresh (this module is imported before ``stock_lot_markdown``,
    whose cron override therefore runs this one first), and by
    ``action_refresh_expiry_risk``. The lot's fields sum them (computed, searchable).
    """

    _inherit = "stock.lot"

    demand_daily_qty = fields.Float(
        string="Daily Demand",
        digits=(16, 4),  # a rate: finer than the unit's rounding
        compute="_compute_expiry_risk",
        search="_search_demand_daily_qty",
        help="Average quantity of the product delivered per day to customers from the warehouse(s) "
        "holding this lot, net of customer returns, over the company's demand window.",
    )
    fefo_ahead_qty = fields.Float(
        string="Sold Before (FEFO)",
        digits="Product Unit of Measure",
        compute="_compute_expiry_risk",
        search="_search_fefo_ahead_qty",
        help="On-hand quantity of released lots of the same product in the same warehouse that FEFO takes "
        "before this one (earlier removal date, or expiration date without one).",
    )
    projected_unsold_qty = fields.Float(
        string="At Risk",
        digits="Product Unit of Measure",
        compute="_compute_expiry_risk",
        search="_search_projected_unsold_qty",
        help="On-hand quantity projected to be left when the lot expires, at the current demand.",
    )
    projected_unsold_ratio = fields.Float(
        string="Share at Risk",
        digits=(16, 4),
        compute="_compute_expiry_risk",
        search="_search_projected_unsold_ratio",
        help="Projected unsold quantity divided by the quantity on hand (what markdown rules on "
        "projected unsold compare with their ratio).",
    )
    projected_sellout_date = fields.Date(
        string="Projected Sell-Out",
        compute="_compute_expiry_risk",
        help="When the current demand sells the last unit of this lot (after the lots sold before it). "
        "Empty without demand.",
    )
    expiry_value_at_risk = fields.Monetary(
        string="Value at Risk",
        currency_field="expiry_risk_currency_id",
        compute="_compute_expiry_risk",
        search="_search_expiry_value_at_risk",
        groups=COST_READERS,
        help="Projected unsold quantity at its cost on hand (valuation layers), in the company currency.",
    )
    expiry_risk_currency_id = fields.Many2one("res.currency", compute="_compute_expiry_risk_currency_id")
    risk_warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Warehouse",
        compute="_compute_expiry_risk",
        search="_search_risk_warehouse_id",
        help="The warehouse holding this lot (the one holding most of it when there are several).",
    )

    @api.depends("company_id")
    @api.depends_context("company")
    def _compute_expiry_risk_currency_id(self):
        for lot in self:
            lot.expiry_risk_currency_id = (lot.company_id or self.env.company).currency_id

    def _compute_expiry_risk(self):
        """The lot's rows of ``stock.lot.expiry.risk`` summed (one query per batch of lots)."""
        risk_model = self.env["stock.lot.expiry.risk"]
        risk_model.flush_model()
        totals = {
            row["lot_id"]: row
            for row in self.env.execute_query_dict(risk_model._sql_lot_totals([lot.id for lot in self if lot.id]))
        }
        for lot in self:
            row = totals.get(lot.id, {})
            for name in (*RISK_FIGURES, "projected_unsold_ratio"):
                lot[name] = float(row.get(name) or 0.0)
            lot.projected_sellout_date = row.get("projected_sellout_date") or False
            lot.risk_warehouse_id = row.get("warehouse_id") or False

    def _search_expiry_risk_figure(self, figure, operator, value):
        """Lots whose ``figure`` (summed over their warehouses) compares with ``value`` as asked; a
        lot without a row (not on hand, or never refreshed) counts as 0, the figure it shows.
        Searching a cost figure needs the right to read it."""
        self.check_field_access_rights("read", [figure])
        if operator not in COMPARISONS:
            raise UserError(
                self.env._(
                    "Expiry risk figures can be compared with a number (=, !=, <, <=, >, >=), not with '%s'.", operator
                )
            )
        if value is False or value is None:
            value = 0.0
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UserError(self.env._("Expiry risk figures are compared with a number, not with %r.", value))
        totals = self.env["stock.lot.expiry.risk"]._sql_lot_totals()
        condition = SQL("totals.%s %s %s", SQL.identifier(figure), SQL(COMPARISONS[operator]), value)
        if COMPARE_WITH_ZERO[operator](0.0, value):
            # lots without a row match too: exclude those whose total does not
            failing = SQL("(SELECT totals.lot_id FROM (%s) totals WHERE NOT (%s))", totals, condition)
            return [("id", "not in", failing)]
        return [("id", "in", SQL("(SELECT totals.lot_id FROM (%s) totals WHERE %s)", totals, condition))]

    def _search_risk_warehouse_id(self, operator, value):
        """``risk_warehouse_id``: set (``!= False``) for lots on hand in a warehouse; otherwise the
        lots with a row in the warehouse(s) given by id."""
        held = SQL("(SELECT DISTINCT risk.lot_id FROM stock_lot_expiry_risk risk)")
        if operator in ("=", "!=") and not value:
            return [("id", "in" if operator == "!=" else "not in", held)]
        warehouse_ids = value if isinstance(value, list | tuple) else [value]
        if operator not in ("=", "in", "!=", "not in") or not all(
            isinstance(warehouse_id, int) and not isinstance(warehouse_id, bool) for warehouse_id in warehouse_ids
        ):
            raise UserError(self.env._("Search the lots at risk by warehouse with the warehouse's id."))
        in_warehouses = SQL(
            "(SELECT risk.lot_id FROM stock_lot_expiry_risk risk WHERE risk.warehouse_id = ANY(%s))",
            list(warehouse_ids),
        )
        return [("id", "in" if operator in ("=", "in") else "not in", in_warehouses)]

    _search_demand_daily_qty = _risk_search("demand_daily_qty")
    _search_fefo_ahead_qty = _risk_search("fefo_ahead_qty")
    _search_projected_unsold_qty = _risk_search("projected_unsold_qty")
    _search_projected_unsold_ratio = _risk_search("projected_unsold_ratio")
    _search_expiry_value_at_risk = _risk_search("expiry_value_at_risk")

    @api.model
    def _daily_refresh(self):
        """Expiry risk follows the day's shelf life; the markdown refresh (an override imported after
        this one) runs next and sees fresh risk."""
        result = super()._daily_refresh()
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
        if not self._try_lock_daily_refresh():
            raise UserError(
                self.env._(
                    "The expiry risk is being refreshed right now (by the nightly refresh or another user). "
                    "Try again in a minute."
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
        back from customers, dated in ``(now - lot_demand_window_days of their company, now]``, in
        the product's unit (``quantity_product_uom``), divided by the window of the warehouse's
        company, never below zero. The one definition of demand, for the risk refresh and the
        purchase warning.

        The window's whole days are read from their daily sums (``stock.lot.demand.day``), its
        partial first and last days from the move lines themselves (an index range of a day each):
        the same figure as summing every line of the window, without reading them all.
        """
        return SQL(
            """
            SELECT flow.product_id, flow.warehouse_id,
                   GREATEST(SUM(flow.qty), 0) / MAX(company.lot_demand_window_days) AS daily_qty
              FROM (
                    -- the whole days after the window's first one and before today's
                    SELECT line.product_id, line.warehouse_id, line.qty
                      FROM stock_lot_demand_day line
                      JOIN res_company line_company ON line_company.id = line.company_id
                     WHERE line.day > (%(now)s - make_interval(days => line_company.lot_demand_window_days))::date
                       AND line.day < %(now)s::date
                       AND %(product_condition)s
                    UNION ALL
                    -- the rest of the window's first day, and today up to now, from the lines
                    SELECT line.product_id, line.warehouse_id, line.qty
                      FROM (%(line_flows)s) line
                      JOIN res_company line_company ON line_company.id = line.company_id
                     CROSS JOIN LATERAL (
                         SELECT %(now)s - make_interval(days => line_company.lot_demand_window_days) AS start
                     ) window_
                     WHERE (line.date > window_.start AND line.date < window_.start::date + 1)
                        OR (line.date >= %(now)s::date AND line.date <= %(now)s)
                   ) flow
              JOIN stock_warehouse warehouse ON warehouse.id = flow.warehouse_id
              JOIN res_company company ON company.id = warehouse.company_id
             GROUP BY flow.product_id, flow.warehouse_id
            """,
            now=now,
            product_condition=product_condition,
            line_flows=self.env["stock.lot.demand.day"]._sql_line_flows(
                SQL(
                    """/* every company's partial first day (its bounds on the index), and today */
                       ((line.date > %(now)s - make_interval(
                             days => (SELECT MAX(lot_demand_window_days) FROM res_company))
                         AND line.date < (%(now)s - make_interval(
                             days => (SELECT MIN(lot_demand_window_days) FROM res_company)))::date + 1)
                        OR (line.date >= %(now)s::date AND line.date <= %(now)s))
                       AND %(product_condition)s""",
                    now=now,
                    product_condition=product_condition,
                )
            ),
        )

    @api.model
    @api.readonly
    def _get_daily_demand(self, products, warehouse):
        """``{product: daily quantity}`` of ``products`` from ``warehouse`` now (see ``_sql_daily_demand``)."""
        self.env.flush_all()
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
        """Recompute the expiry risk of every lot on hand at ``now`` (PRODUCT.md §9), set-based
        (``stock.lot.expiry.risk._refresh``: a constant number of queries). Returns the ids of the
        lots whose risk changed."""
        changed = self.env["stock.lot.expiry.risk"]._refresh(now or self._shelf_life_now())
        self.invalidate_model([*RISK_FIGURES, "projected_unsold_ratio", "projected_sellout_date", "risk_warehouse_id"])
        return changed
