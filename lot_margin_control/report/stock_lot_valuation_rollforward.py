from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..models.stock_lot_valuation_movement import FLOWS
from .stock_lot_margin_report import COMPANY_BITS, COST_READERS
from .stock_lot_valuation_report import VALUATION_BASES

# Every context key the rows depend on.
PERIOD = ("valuation_date_from", "valuation_date", "tz")


def last_month_end(day):
    """The last day of the month before ``day``'s: the default opening of a roll-forward."""
    return day + relativedelta(day=1, days=-1)


class StockLotValuationRollforward(models.Model):
    """How each lot's stock and value went from one instant to another: the roll-forward by lot.

    One row per lot (or per product for stock and value without lot) and
    company, for the period between the context keys ``valuation_date_from``
    (the opening; absent: the end of last month) and ``valuation_date`` (the
    closing; absent: now), each read
    like the valuation report's ``valuation_date`` (a date is the end of that
    day in the user's time zone, a datetime an instant, today or later is now).

    Opening and closing are the valuation by lot at those instants, per lot:
    quantities are the quants minus the done move lines after the instant in
    valued locations (``stock.lot.valuation.report``), values the layers up to
    the instant (a product valued by lot: the lot's own layers; otherwise the
    product's layers, spread over its lots by quantity, rounded to the currency
    with the difference on the largest lot, value without stock on a row
    without lot). An end at which a company keeps a month-end close (the
    accountant's month: ``stock.lot.valuation.snapshot._cron_keep_month_ends``)
    is that close's lines summed by lot instead: what was closed, read by the
    snapshot's index, and nothing of that end is computed for that company.

    Movements: the period's rows of ``stock.lot.valuation.movement`` (by its
    date index), where each stock move's done lines (quantities) and layers
    (values) are kept classified as they are made or changed. Each line side
    that enters or leaves the company's valued stock, and each layer with a
    quantity and a stock move, is classified by the location on the other
    side of the move (for a
    layer: the move's source when stock came in, its destination when it went
    out) — ``_sql_flow``:

    ============== ================================= ================================
    other side     stock came in                     stock went out
    ============== ================================= ================================
    supplier       receipt                           receipt (a return to the vendor,
                                                     negative)
    production     production                        consumption
    customer       customer return                   delivery (cost of goods sold)
    inventory      write-off (a count gain,          write-off (scrap, inventory
                   negative)                         loss)
    anything else  receipt (e.g. from another        delivery (e.g. to another
                   company)                          company)
    ============== ================================= ================================

    Moves inside the company's valued stock change nothing and are left out.
    Layers without quantity (landed costs, vendor price differences, FIFO and
    AVCO corrections) and layers without a stock move (revaluations, standard
    price changes) are revaluation. Every layer is thus counted once.

    A lot's movement values are its own layers when its product is valued by
    lot; otherwise each layer of a move is shared among the move's lots by
    quantity. Revaluation is then what makes each row add up: closing -
    opening - the other movements, to the cent. For products valued by lot it
    is exactly the lot's revaluation layers (and rounding); for products valued
    by product it also carries the change of the lot's share of its product's
    average cost, which adds up to nothing over the product, so that a
    product's (and a category's) revaluation is its revaluation layers. The
    closing total is core's valuation (the layers) at the closing instant.
    """

    _name = "stock.lot.valuation.rollforward"
    _inherit = ["stock.lot.bulk.read.mixin"]
    _description = "Valuation Roll-forward by Lot"
    _bulk_hash_joins = True
    _bulk_ranked_orders = ("company_id", "product_categ_id", "product_id", "lot_id")
    _auto = False
    _rec_name = "lot_id"
    _order = "company_id, product_categ_id, product_id, lot_id"
    # flushed before the query reads them (the movements are kept by their own hooks:
    # stock.lot.valuation.movement)
    _depends = {
        "stock.quant": ["product_id", "lot_id", "location_id", "quantity", "owner_id"],
        "stock.valuation.layer": ["create_date", "company_id", "product_id", "lot_id", "value"],
        "stock.location": ["usage", "company_id"],
        "product.product": ["product_tmpl_id"],
        "product.template": ["lot_valuated", "is_storable", "categ_id", "uom_id"],
        "res.company": ["currency_id", "partner_id"],
        "res.currency": ["rounding"],
        "stock.lot.valuation.snapshot": ["valuation_datetime", "is_period_end", "is_whole_company", "company_id"],
        "stock.lot.valuation.snapshot.line": ["snapshot_id", "company_id", "product_id", "lot_id", "quantity", "value"],
    }

    lot_id = fields.Many2one("stock.lot", string="Lot/Serial", readonly=True, depends_context=PERIOD)
    product_id = fields.Many2one("product.product", readonly=True, depends_context=PERIOD)
    product_categ_id = fields.Many2one(
        "product.category", string="Product Category", readonly=True, depends_context=PERIOD
    )
    company_id = fields.Many2one("res.company", readonly=True, depends_context=PERIOD)
    currency_id = fields.Many2one("res.currency", readonly=True, depends_context=PERIOD)
    uom_id = fields.Many2one("uom.uom", string="Unit", readonly=True, depends_context=PERIOD)
    valuation_basis = fields.Selection(VALUATION_BASES, readonly=True, depends_context=PERIOD)
    opening_qty = fields.Float(digits="Product Unit of Measure", readonly=True, depends_context=PERIOD)
    opening_value = fields.Monetary(readonly=True, depends_context=PERIOD, groups=COST_READERS)
    receipt_qty = fields.Float(
        string="Received Qty", digits="Product Unit of Measure", readonly=True, depends_context=PERIOD
    )
    receipt_value = fields.Monetary(string="Receipts", readonly=True, depends_context=PERIOD, groups=COST_READERS)
    production_qty = fields.Float(
        string="Produced Qty", digits="Product Unit of Measure", readonly=True, depends_context=PERIOD
    )
    production_value = fields.Monetary(string="Production", readonly=True, depends_context=PERIOD, groups=COST_READERS)
    return_qty = fields.Float(
        string="Returned Qty", digits="Product Unit of Measure", readonly=True, depends_context=PERIOD
    )
    return_value = fields.Monetary(
        string="Customer Returns", readonly=True, depends_context=PERIOD, groups=COST_READERS
    )
    delivery_qty = fields.Float(
        string="Delivered Qty", digits="Product Unit of Measure", readonly=True, depends_context=PERIOD
    )
    delivery_value = fields.Monetary(
        string="Deliveries (COGS)", readonly=True, depends_context=PERIOD, groups=COST_READERS
    )
    consumption_qty = fields.Float(
        string="Consumed Qty", digits="Product Unit of Measure", readonly=True, depends_context=PERIOD
    )
    consumption_value = fields.Monetary(
        string="Consumption", readonly=True, depends_context=PERIOD, groups=COST_READERS
    )
    writeoff_qty = fields.Float(
        string="Written-off Qty", digits="Product Unit of Measure", readonly=True, depends_context=PERIOD
    )
    writeoff_value = fields.Monetary(
        string="Scrap & Inventory Losses", readonly=True, depends_context=PERIOD, groups=COST_READERS
    )
    revaluation_value = fields.Monetary(
        string="Revaluation",
        readonly=True,
        depends_context=PERIOD,
        groups=COST_READERS,
        help="Revaluation, landed cost and price-difference layers; for products valued by product also the "
        "change of this lot's share of the product's average cost (nothing over the whole product).",
    )
    closing_qty = fields.Float(digits="Product Unit of Measure", readonly=True, depends_context=PERIOD)
    closing_value = fields.Monetary(readonly=True, depends_context=PERIOD, groups=COST_READERS)

    # ------------------------------------------------------------------
    # Period
    # ------------------------------------------------------------------
    @api.model
    def _get_period(self):
        """``(opening, closing, closing_is_now)`` of the context keys ``valuation_date_from`` (absent:
        the end of last month) and ``valuation_date`` (absent: now), naive UTC instants; a UserError when
        either is not a date in range (``stock.lot.valuation.report``'s rules) or the end is before the
        start."""
        report = self.env["stock.lot.valuation.report"]
        today = fields.Date.context_today(self)
        start = self.env.context.get("valuation_date_from") or last_month_end(today)
        end = self.env.context.get("valuation_date") or today
        if report._get_as_of_instant(start) > report._get_as_of_instant(end):
            raise UserError(
                self.env._(
                    "The roll-forward ends (%(end)s) before it starts (%(start)s): choose an end date on or after "
                    "the opening date.",
                    start=str(start)[:30],
                    end=str(end)[:30],
                )
            )
        opening, _opening_is_now = report._resolve_valuation_date(start)
        closing, closing_is_now = report._resolve_valuation_date(end)
        return opening, closing, closing_is_now

    # ------------------------------------------------------------------
    # SQL
    # ------------------------------------------------------------------
    @api.model
    def _get_kept_ends(self, opening, closing, closing_is_now):
        """``{company_id: (opening close, closing close)}`` for every company: the ids of the month-end
        closes kept at the period's ends (``stock.lot.valuation.snapshot._sql_kept_closes``), None where
        the company has none (the end is computed); the present (``closing_is_now``) has none."""
        instants = {0: opening} if closing_is_now else {0: opening, 1: closing}
        rows = self.env.execute_query(
            SQL(
                """
                WITH kept(idx, company_id, id) AS (%(kept)s)
                SELECT company.id, opening.id, closing.id
                  FROM res_company company
             LEFT JOIN kept opening ON opening.idx = 0 AND opening.company_id = company.id
             LEFT JOIN kept closing ON closing.idx = 1 AND closing.company_id = company.id
                """,
                kept=self.env["stock.lot.valuation.snapshot"]._sql_kept_closes(instants),
            )
        )
        return {company_id: (opening_close, closing_close) for company_id, opening_close, closing_close in rows}

    @property
    def _table_query(self):
        opening, closing, closing_is_now = self._get_period()
        kept_ends = self._get_kept_ends(opening, closing, closing_is_now)
        return self._rollforward_query(opening, closing, closing_is_now, kept_ends)

    @api.model
    def _sql_flow(self, inflow, counterpart_usage):
        """The movement (``FLOWS``) of stock that came in (``inflow``, SQL boolean) or went out, with the
        location usage ``counterpart_usage`` (SQL) on the other side: the table of the model's docstring."""
        return SQL(
            """CASE %(usage)s
                   WHEN 'supplier' THEN 'receipt'
                   WHEN 'production' THEN CASE WHEN %(inflow)s THEN 'production' ELSE 'consumption' END
                   WHEN 'customer' THEN CASE WHEN %(inflow)s THEN 'return' ELSE 'delivery' END
                   WHEN 'inventory' THEN 'writeoff'
                   ELSE CASE WHEN %(inflow)s THEN 'receipt' ELSE 'delivery' END
               END""",
            usage=counterpart_usage,
            inflow=inflow,
        )

    @api.model
    def _rollforward_query(self, opening, closing, closing_is_now, kept_ends=None):
        """The rows between the instants ``opening`` and ``closing`` (``closing_is_now``: every layer
        and line up to now). Ids pack the lot (or, without lot, the product) and the company.

        ``kept_ends``: ``_get_kept_ends`` (None: no close). A company's end that is a month-end close
        is that close's lines summed by lot (what was closed, read by the snapshot's index); the
        others are computed, and only for the companies and ends that need it: a month between two
        closes computes nothing but its movements."""
        ends = ("opening", "closing")
        kept_ends = kept_ends or {}
        closes = {end: sorted(ids[index] for ids in kept_ends.values() if ids[index]) for index, end in enumerate(ends)}
        computed = {
            end: sorted(company for company, ids in kept_ends.items() if not ids[index])
            for index, end in enumerate(ends)
        }

        def computes(end, company):
            """SQL: whether ``end`` of the company ``company`` (SQL) is computed (not read from a close)."""
            if not closes[end]:
                return SQL("TRUE")
            if not computed[end]:
                return SQL("FALSE")
            return SQL("%s = ANY(%s)", company, computed[end])

        # the layers' sums at each end computed for some company
        layer_instants = {}
        if not closes["opening"] or computed["opening"]:
            layer_instants["opening"] = (opening, False)
        if not closes["closing"] or computed["closing"]:
            layer_instants["closing"] = (closing, closing_is_now)
        if layer_instants:
            position = {end: index for index, end in enumerate(layer_instants)}
            layer_values = {
                end: SQL(
                    "CASE WHEN %s THEN COALESCE(sums.%s, 0) ELSE 0 END",
                    computes(end, SQL("sums.company_id")),
                    SQL.identifier(f"value_{position[end]}"),
                )
                if end in position
                else SQL("0")
                for end in ends
            }
            layer_by_lot = SQL(
                """SELECT sums.company_id, sums.product_id, sums.lot_id,
                          %(opening_value)s AS opening_value, %(closing_value)s AS closing_value
                     FROM (%(layer_sums)s) sums
                    WHERE sums.%(first)s IS NOT NULL""",
                opening_value=layer_values["opening"],
                closing_value=layer_values["closing"],
                layer_sums=self.env["stock.lot.valuation.month"]._sql_layer_sums(
                    list(layer_instants.values()),
                    company_ids=sorted(set(computed["opening"] + computed["closing"]))
                    if closes["opening"] or closes["closing"]
                    else None,
                    # the rows are kept by their values (keys without any are left out at the end)
                    nearest_month_end=True,
                ),
                # keys with a layer up to the latest computed end
                first=SQL.identifier(f"first_{len(layer_instants) - 1}"),
            )
        else:
            layer_by_lot = SQL(
                "SELECT NULL::integer AS company_id, NULL::integer AS product_id, NULL::integer AS lot_id, "
                "0 AS opening_value, 0 AS closing_value WHERE FALSE"
            )
        kept_rows = SQL()
        if closes["opening"] or closes["closing"]:
            kept_sums = SQL(", ").join(
                SQL(
                    "COALESCE(SUM(line.%(column)s) FILTER (WHERE line.snapshot_id = ANY(%(closes)s)), 0)",
                    column=SQL.identifier(column),
                    closes=closes[end],
                )
                for column in ("quantity", "value")
                for end in ends
            )
            kept_rows = SQL(
                """
                 UNION ALL
                SELECT line.company_id, line.product_id, line.lot_id, %(kept_sums)s
                  FROM stock_lot_valuation_snapshot_line line
                 WHERE line.snapshot_id = ANY(%(closes)s)
                 GROUP BY line.company_id, line.product_id, line.lot_id
                """,
                kept_sums=kept_sums,
                closes=closes["opening"] + closes["closing"],
            )
        until_closing = SQL("TRUE") if closing_is_now else SQL("movement.date <= %s", closing)
        lot_valuated = SQL("COALESCE(tmpl.lot_valuated, FALSE)")
        flow_sums = SQL(", ").join(
            SQL(
                "SUM(moved.quantity) FILTER (WHERE moved.flow = %(flow)s) AS %(qty)s, "
                "SUM(moved.value) FILTER (WHERE moved.flow = %(flow)s) AS %(value)s",
                flow=flow,
                qty=SQL.identifier(f"{flow}_qty"),
                value=SQL.identifier(f"{flow}_value"),
            )
            for flow, _label, _sign in FLOWS
        )
        # per lot with movements: each flow's quantity, and its value rounded to the currency (in units of
        # its rounding: divided once per flow and lot that moved, not per row and use)
        flow_rounded = SQL(", ").join(
            SQL(
                "sums.%(qty)s, ROUND(COALESCE(sums.%(value)s, 0) / currency.rounding) AS %(units)s",
                qty=SQL.identifier(f"{flow}_qty"),
                value=SQL.identifier(f"{flow}_value"),
                units=SQL.identifier(f"{flow}_units"),
            )
            for flow, _label, _sign in FLOWS
        )
        flow_keys = [SQL.identifier(f"{flow}_{kind}") for flow, _label, _sign in FLOWS for kind in ("qty", "units")]
        flow_columns = SQL(", ").join(
            SQL(
                "%(sign)s * COALESCE(by_key.%(qty)s, 0) AS %(qty)s, "
                "%(sign)s * COALESCE(by_key.%(units)s, 0) * currency.rounding AS %(value)s",
                sign=sign,
                qty=SQL.identifier(f"{flow}_qty"),
                units=SQL.identifier(f"{flow}_units"),
                value=SQL.identifier(f"{flow}_value"),
            )
            for flow, _label, sign in FLOWS
        )
        # the flows' sums are signed (in > 0, out < 0): their rounded sum is the net movement
        net_movement = SQL(" + ").join(
            SQL("COALESCE(by_key.%s, 0)", SQL.identifier(f"{flow}_units")) for flow, _label, _sign in FLOWS
        )
        # one window partition, no ordering: the rounding difference goes to the stock row holding the
        # most (the smallest lot id among equals), found with MAX and MIN ... FILTER instead of ranks
        instants = ("opening", "closing")
        partition_columns = SQL(", ").join(
            SQL(
                """SUM(combined.%(qty)s) OVER partition_key AS %(partition_qty)s,
                   ROUND(SUM(combined.%(layer)s) OVER partition_key / currency.rounding) * currency.rounding
                       AS %(partition_value)s,
                   MAX(ABS(combined.%(qty)s)) FILTER (WHERE NOT combined.is_layer) OVER partition_key
                       AS %(largest_qty)s""",
                qty=SQL.identifier(f"{instant}_qty"),
                layer=SQL.identifier(f"{instant}_layer"),
                partition_qty=SQL.identifier(f"partition_{instant}_qty"),
                partition_value=SQL.identifier(f"partition_{instant}_value"),
                largest_qty=SQL.identifier(f"largest_{instant}_qty"),
            )
            for instant in instants
        )
        share_columns = SQL(", ").join(
            SQL(
                """CASE WHEN partitioned.is_layer
                        THEN CASE WHEN partitioned.%(partition_qty)s = 0 THEN partitioned.%(partition_value)s
                                  ELSE 0 END
                        WHEN partitioned.%(partition_qty)s <> 0
                        THEN ROUND(partitioned.%(partition_value)s * partitioned.%(qty)s
                                   / partitioned.%(partition_qty)s / partitioned.rounding) * partitioned.rounding
                        ELSE 0 END AS %(share)s,
                   MIN(COALESCE(partitioned.lot_id, 0)) FILTER (
                       WHERE NOT partitioned.is_layer AND ABS(partitioned.%(qty)s) = partitioned.%(largest_qty)s
                   ) OVER partition_key AS %(largest_key)s""",
                qty=SQL.identifier(f"{instant}_qty"),
                partition_qty=SQL.identifier(f"partition_{instant}_qty"),
                partition_value=SQL.identifier(f"partition_{instant}_value"),
                largest_qty=SQL.identifier(f"largest_{instant}_qty"),
                share=SQL.identifier(f"{instant}_share"),
                largest_key=SQL.identifier(f"largest_{instant}_key"),
            )
            for instant in instants
        )
        value_columns = SQL(", ").join(
            SQL(
                """shared.%(share)s + CASE
                       WHEN NOT shared.is_layer AND shared.%(partition_qty)s <> 0
                            AND COALESCE(shared.lot_id, 0) = shared.%(largest_key)s
                       THEN shared.%(partition_value)s - SUM(shared.%(share)s) OVER partition_key
                       ELSE 0 END AS %(value)s""",
                share=SQL.identifier(f"{instant}_share"),
                largest_key=SQL.identifier(f"largest_{instant}_key"),
                partition_qty=SQL.identifier(f"partition_{instant}_qty"),
                partition_value=SQL.identifier(f"partition_{instant}_value"),
                value=SQL.identifier(f"{instant}_value"),
            )
            for instant in instants
        )
        return SQL(
            """
            WITH valued_location AS (%(valued_location)s),
            storable AS (
                -- the products with stock, and whether each is valued by lot (lot_valuated is NULL on
                -- tracked products that never set it: valued by product)
                SELECT product.id, COALESCE(tmpl.lot_valuated, FALSE) AS by_lot
                  FROM product_product product
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                 WHERE tmpl.is_storable
            ),
            moved AS (
                -- the movements after the opening (stock.lot.valuation.movement, by its date index) summed
                -- by lot and flow, read once: the period's flows (a layer's value by its own lot for
                -- products valued by lot, shared among its move's lots otherwise), and what moved after
                -- each end for the stock at the ends computed
                SELECT movement.company_id, movement.product_id, movement.lot_id, movement.flow,
                       %(until_closing)s AS in_period, SUM(movement.quantity) AS quantity,
                       SUM(movement.value) AS value
                  FROM stock_lot_valuation_movement movement
                  JOIN storable ON storable.id = movement.product_id
                 WHERE movement.date > %(opening)s
                   -- after the closing: only for the stock at an end computed (quants less what moved since)
                   AND (%(until_closing)s OR %(opening_movement)s OR %(closing_movement)s)
                   AND (movement.kind = 'quantity' OR (movement.kind = 'layer') = storable.by_lot)
                 GROUP BY 1, 2, 3, 4, 5  -- in_period by its position: a constant TRUE when the period ends now
            ),
            stock_qty AS (
                -- per company, product and lot: the quants, minus the lines after each instant
                SELECT part.company_id, part.product_id, part.lot_id,
                       SUM(part.opening_qty) AS opening_qty, SUM(part.closing_qty) AS closing_qty
                  FROM (
                        SELECT loc.company_id, quant.product_id, quant.lot_id,
                               CASE WHEN %(opening_location)s THEN quant.quantity ELSE 0 END AS opening_qty,
                               CASE WHEN %(closing_location)s THEN quant.quantity ELSE 0 END AS closing_qty
                          FROM stock_quant quant
                          JOIN valued_location loc ON loc.id = quant.location_id
                         WHERE (quant.owner_id IS NULL OR quant.owner_id = loc.company_partner_id)
                           AND (%(opening_location)s OR %(closing_location)s)
                         UNION ALL
                        SELECT moved.company_id, moved.product_id, moved.lot_id,
                               CASE WHEN %(opening_line)s THEN -moved.quantity ELSE 0 END,
                               CASE WHEN moved.in_period OR NOT %(closing_line)s THEN 0 ELSE -moved.quantity END
                          FROM moved
                         WHERE moved.quantity <> 0
                           AND (%(opening_line)s OR (%(closing_line)s AND NOT moved.in_period))
                       ) part
                 GROUP BY part.company_id, part.product_id, part.lot_id
            ),
            layer AS (
                -- the layers' value at both instants, summed by lot first (whole months kept summed)
                SELECT by_lot.company_id, by_lot.product_id, storable.by_lot,
                       CASE WHEN storable.by_lot THEN COALESCE(by_lot.lot_id, 0) ELSE 0 END AS lot_key,
                       SUM(by_lot.opening_value) AS opening_value, SUM(by_lot.closing_value) AS closing_value
                  FROM (%(layer_by_lot)s) by_lot
                  JOIN storable ON storable.id = by_lot.product_id
                 GROUP BY by_lot.company_id, by_lot.product_id, storable.by_lot,
                          CASE WHEN storable.by_lot THEN COALESCE(by_lot.lot_id, 0) ELSE 0 END
            ),
            stock AS (
                SELECT stock_qty.*, storable.by_lot
                  FROM stock_qty
                  JOIN storable ON storable.id = stock_qty.product_id
            ),
            combined AS (
                -- products valued by product: stock rows and layer totals side by side, spread by window
                -- functions (as the valuation report does per location, here per lot)
                SELECT stock.company_id, stock.product_id, stock.lot_id, 0 AS lot_key,
                       stock.opening_qty, stock.closing_qty,
                       0 AS opening_layer, 0 AS closing_layer, FALSE AS is_layer
                  FROM stock
                 WHERE NOT stock.by_lot
                 UNION ALL
                SELECT layer.company_id, layer.product_id, NULL, 0, 0, 0,
                       layer.opening_value, layer.closing_value, TRUE
                  FROM layer
                 WHERE NOT layer.by_lot
            ),
            partitioned AS (
                SELECT combined.*, currency.rounding, %(partition_columns)s
                  FROM combined
                  JOIN res_company company ON company.id = combined.company_id
                  JOIN res_currency currency ON currency.id = company.currency_id
                WINDOW partition_key AS (PARTITION BY combined.company_id, combined.product_id, combined.lot_key)
            ),
            shared AS (
                -- each stock row's share by quantity at each instant; the layer row keeps the value no stock
                -- holds at that instant
                SELECT partitioned.*, %(share_columns)s
                  FROM partitioned
                WINDOW partition_key AS (
                    PARTITION BY partitioned.company_id, partitioned.product_id, partitioned.lot_key)
            ),
            valued AS (
                -- the largest stock row of each partition takes the rounding difference
                SELECT shared.company_id, shared.product_id, shared.lot_id, shared.opening_qty, shared.closing_qty,
                       %(value_columns)s
                  FROM shared
                WINDOW partition_key AS (PARTITION BY shared.company_id, shared.product_id, shared.lot_key)
            ),
            ends AS (
                -- per lot: the stock and value at each end
                SELECT part.company_id, part.product_id, part.lot_id,
                       SUM(part.opening_qty) AS opening_qty, SUM(part.closing_qty) AS closing_qty,
                       SUM(part.opening_value) AS opening_value, SUM(part.closing_value) AS closing_value
                  FROM (
                        SELECT valued.company_id, valued.product_id, valued.lot_id, valued.opening_qty,
                               valued.closing_qty, valued.opening_value, valued.closing_value
                          FROM valued
                         UNION ALL
                        -- products valued by lot: each lot's stock, and its own layers (nothing to spread)
                        SELECT stock.company_id, stock.product_id, stock.lot_id, stock.opening_qty, stock.closing_qty,
                               0, 0
                          FROM stock
                         WHERE stock.by_lot
                         UNION ALL
                        SELECT layer.company_id, layer.product_id, NULLIF(layer.lot_key, 0), 0, 0,
                               ROUND(layer.opening_value / currency.rounding) * currency.rounding,
                               ROUND(layer.closing_value / currency.rounding) * currency.rounding
                          FROM layer
                          JOIN res_company company ON company.id = layer.company_id
                          JOIN res_currency currency ON currency.id = company.currency_id
                         WHERE layer.by_lot
                         %(kept_rows)s
                       ) part
                 GROUP BY part.company_id, part.product_id, part.lot_id
            ),
            flows AS (
                -- per lot: the period's movements by flow (values in units of the currency's rounding),
                -- and whether any of them is not nothing
                SELECT sums.company_id, sums.product_id, sums.lot_id, %(flow_rounded)s, %(any_flow)s AS any_flow
                  FROM (
                        SELECT moved.company_id, moved.product_id, moved.lot_id, %(flow_sums)s
                          FROM moved
                         WHERE moved.in_period
                         GROUP BY moved.company_id, moved.product_id, moved.lot_id
                       ) sums
                  JOIN res_company company ON company.id = sums.company_id
                  JOIN res_currency currency ON currency.id = company.currency_id
            ),
            by_key AS (
                -- one row per lot with stock, value or movements (lot NULL: stock and value without lot)
                SELECT COALESCE(ends.company_id, flows.company_id) AS company_id,
                       COALESCE(ends.product_id, flows.product_id) AS product_id,
                       COALESCE(ends.lot_id, flows.lot_id) AS lot_id,
                       COALESCE(ends.opening_qty, 0) AS opening_qty, COALESCE(ends.closing_qty, 0) AS closing_qty,
                       COALESCE(ends.opening_value, 0) AS opening_value,
                       COALESCE(ends.closing_value, 0) AS closing_value, %(flow_names)s
                  FROM ends
                  FULL JOIN flows
                    ON flows.company_id = ends.company_id AND flows.product_id = ends.product_id
                   AND COALESCE(flows.lot_id, 0) = COALESCE(ends.lot_id, 0)
            )
            SELECT CASE WHEN by_key.lot_id IS NULL
                        THEN (((by_key.product_id::bigint << %(company_bits)s) + by_key.company_id) << 1) + 1
                        ELSE ((by_key.lot_id::bigint << %(company_bits)s) + by_key.company_id) << 1 END AS id,
                   by_key.lot_id,
                   by_key.product_id,
                   tmpl.categ_id AS product_categ_id,
                   by_key.company_id,
                   currency.id AS currency_id,
                   tmpl.uom_id,
                   CASE WHEN %(lot_valuated)s THEN 'lot' ELSE 'product' END AS valuation_basis,
                   by_key.opening_qty,
                   by_key.opening_value,
                   %(flow_columns)s,
                   by_key.closing_value - by_key.opening_value
                       - (%(net_movement)s) * currency.rounding AS revaluation_value,
                   by_key.closing_qty,
                   by_key.closing_value
              FROM by_key
              JOIN product_product product ON product.id = by_key.product_id
              JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
              JOIN res_company company ON company.id = by_key.company_id
              JOIN res_currency currency ON currency.id = company.currency_id
             WHERE by_key.opening_qty <> 0 OR by_key.closing_qty <> 0
                OR by_key.opening_value <> 0 OR by_key.closing_value <> 0
                OR by_key.any_flow
            """,
            valued_location=self.env["stock.lot.valuation.report"]._sql_valued_location(),
            opening=opening,
            until_closing=until_closing,
            layer_by_lot=layer_by_lot,
            kept_rows=kept_rows,
            opening_location=computes("opening", SQL("loc.company_id")),
            closing_location=computes("closing", SQL("loc.company_id")),
            opening_line=computes("opening", SQL("moved.company_id")),
            closing_line=computes("closing", SQL("moved.company_id")),
            opening_movement=computes("opening", SQL("movement.company_id")),
            closing_movement=computes("closing", SQL("movement.company_id")),
            lot_valuated=lot_valuated,
            partition_columns=partition_columns,
            share_columns=share_columns,
            value_columns=value_columns,
            flow_sums=flow_sums,
            flow_names=SQL(", ").join([*(SQL("flows.%s", key) for key in flow_keys), SQL("flows.any_flow")]),
            flow_rounded=flow_rounded,
            flow_columns=flow_columns,
            net_movement=net_movement,
            any_flow=SQL(" OR ").join(
                SQL("COALESCE(sums.%s, 0) <> 0", SQL.identifier(f"{flow}_{kind}"))
                for flow, _label, _sign in FLOWS
                for kind in ("qty", "value")
            ),
            company_bits=COMPANY_BITS,
        )

    # ------------------------------------------------------------------
    # Export
    # ------------------------------------------------------------------
    @api.model
    def _read_export_rows(self, domain):
        """The rows matching ``domain`` for the spreadsheet, as dicts, by category, product and lot: one
        query with the names joined in SQL, one batched read of the product names."""
        self.check_access("read")
        query = self._search(domain)
        with self._bulk_statement():
            rows = self.env.execute_query_dict(
                SQL(
                    """
                    SELECT rollforward.*,
                           COALESCE(categ.complete_name, '') AS category,
                           COALESCE(lot.name, '') AS lot,
                           COALESCE(uom.name->>%(lang)s, uom.name->>'en_US') AS uom
                      FROM (%(rows)s) rollforward
                      JOIN product_product product ON product.id = rollforward.product_id
                      JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                 LEFT JOIN product_category categ ON categ.id = rollforward.product_categ_id
                 LEFT JOIN stock_lot lot ON lot.id = rollforward.lot_id
                 LEFT JOIN uom_uom uom ON uom.id = rollforward.uom_id
                     ORDER BY %(product_order)s, lot.name NULLS FIRST
                    """,
                    rows=query.select(SQL("%s.*", SQL.identifier(query.table))),
                    product_order=self.env["stock.lot.valuation.report"]._sql_product_order(),
                    lang=self.env.lang or "en_US",
                )
            )
        return self.env["stock.lot.valuation.report"]._set_product_names(rows)
