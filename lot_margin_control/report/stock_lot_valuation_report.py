from datetime import date, datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..models.lot_limits import MAX_DAYS
from ..models.stock_lot_quality import QUALITY_STATES
from ..models.stock_lot_shelf_life import SHELF_LIFE_STATES
from .stock_lot_margin_report import COST_READERS

# Every value depends on the as-of instant: the ORM caches one set of values per context.
AS_OF = ("valuation_date", "tz")
VALUATION_BASES = [("lot", "Lot Layers"), ("product", "Product Layers")]
# The expiry buckets, in their order on screen and in the spreadsheet: (key, label, limit). A lot
# with an expiration date at or before the as-of instant is "expired"; otherwise it falls in the
# first bucket whose limit its whole days left are under; "later" takes the rest. The report's SQL
# CASE is built from this list (``_sql_expiry_bucket``).
EXPIRY_BUCKETS = [
    ("expired", "Expired", None),
    ("days_30", "Within 30 Days", 30),
    ("days_60", "31-60 Days", 60),
    ("days_90", "61-90 Days", 90),
    ("later", "Over 90 Days", None),
    ("no_expiry", "No Expiry", None),
]
# How the summary groups the rows (``get_summary``), here and on a snapshot's lines.
SUMMARY_GROUPBY = ["currency_id", "expiry_bucket", "quality_state"]
SUMMARY_AGGREGATES = ["value:sum", "markdown_exposure:sum", "__count"]
# Quality states shown in the summary, and those whose whole value is provisioned.
SUMMARY_QUALITY_STATES = ("quarantine", "blocked", "recalled")
PROVISIONED_QUALITY_STATES = ("blocked", "recalled")
# The earliest as-of date: spreadsheets count dates from 1900, and no stock is older.
MIN_VALUATION_DATE = date(1900, 1, 1)


class StockLotValuationReport(models.Model):
    """Inventory value per lot, location and company as of a date, tied out to core stock valuation.

    Quantities are what the done moves left at the date in valued locations
    (internal, and company transit like stock_account values), consigned stock
    left out. Value comes from ``stock.valuation.layer`` up to
    the date (layers have no date of their own: their ``create_date`` is the
    accounting instant), never from a cost of our own:

    - products with ``lot_valuated``: each lot's own layers, spread over the
      locations holding the lot by quantity;
    - other products (``lot_valuated`` false, or NULL as Odoo leaves it on
      tracked products that never set it): the product's layers, spread over
      every lot and location holding the product by quantity.

    Unit cost, value and markdown exposure are for accountants and inventory
    administrators (``COST_READERS``), like the model itself.

    Each share is rounded to the currency and the rounding difference goes to
    the largest row, so that the rows of a product (or lot) add up exactly to
    its layer value. Value that no stock holds any more (e.g. a revaluation
    after the last unit left) is kept on a row without location, so the total
    is always the core valuation.

    The as-of instant comes from the context key ``valuation_date`` (see
    ``_get_valuation_datetime``); one SQL statement computes every row.
    """

    _name = "stock.lot.valuation.report"
    _inherit = ["stock.lot.bulk.read.mixin"]
    _description = "Inventory Valuation by Lot"
    _auto = False
    _rec_name = "lot_id"
    _order = "company_id, product_categ_id, product_id, lot_id, location_id"
    _bulk_ranked_orders = ("company_id", "product_categ_id", "product_id", "lot_id", "location_id")
    # flushed before the report's SQL reads them
    _depends = {
        "stock.move.line": [
            "state",
            "date",
            "quantity_product_uom",
            "owner_id",
            "location_id",
            "location_dest_id",
            "lot_id",
            "product_id",
        ],
        "stock.quant": ["product_id", "lot_id", "location_id", "quantity", "owner_id"],
        "stock.valuation.layer": ["create_date", "company_id", "product_id", "lot_id", "value"],
        "stock.location": ["usage", "company_id", "warehouse_id"],
        "stock.lot": ["expiration_date", "alert_date", "quality_state", "markdown_discount"],
        "product.product": ["product_tmpl_id"],
        "product.template": ["lot_valuated", "is_storable", "categ_id", "uom_id", "lot_near_expiry_days"],
        "product.category": ["lot_near_expiry_days"],
        "res.company": ["currency_id", "partner_id"],
        "res.currency": ["rounding"],
    }

    lot_id = fields.Many2one("stock.lot", string="Lot/Serial", readonly=True, depends_context=AS_OF)
    product_id = fields.Many2one("product.product", readonly=True, depends_context=AS_OF)
    product_categ_id = fields.Many2one(
        "product.category", string="Product Category", readonly=True, depends_context=AS_OF
    )
    location_id = fields.Many2one(
        "stock.location",
        readonly=True,
        depends_context=AS_OF,
        help="Empty on the row that carries value no stock holds any more at that date "
        "(e.g. a revaluation after the last unit left): core valuation counts it, so does this report.",
    )
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True, depends_context=AS_OF)
    company_id = fields.Many2one("res.company", readonly=True, depends_context=AS_OF)
    currency_id = fields.Many2one("res.currency", readonly=True, depends_context=AS_OF)
    quantity = fields.Float(digits="Product Unit of Measure", readonly=True, depends_context=AS_OF)
    uom_id = fields.Many2one("uom.uom", string="Unit", readonly=True, depends_context=AS_OF)
    unit_cost = fields.Monetary(readonly=True, depends_context=AS_OF, aggregator=None, groups=COST_READERS)
    value = fields.Monetary(readonly=True, depends_context=AS_OF, groups=COST_READERS)
    valuation_basis = fields.Selection(
        VALUATION_BASES,
        readonly=True,
        depends_context=AS_OF,
        help="Lot Layers: the product is valued by lot, the value is the lot's own valuation layers. "
        "Product Layers: the product's valuation layers, spread over its lots by quantity.",
    )
    expiration_date = fields.Datetime(readonly=True, depends_context=AS_OF)
    remaining_shelf_life_days = fields.Integer(
        string="Days to Expiry",
        readonly=True,
        depends_context=AS_OF,
        aggregator=None,
        help="Whole days from the valuation date to the expiration date (negative once expired).",
    )
    shelf_life_state = fields.Selection(
        SHELF_LIFE_STATES,
        string="Shelf Life",
        readonly=True,
        depends_context=AS_OF,
        help="The lot's shelf-life state as of the valuation date (same rules as on the lot).",
    )
    quality_state = fields.Selection(
        QUALITY_STATES,
        string="Quality Status",
        readonly=True,
        depends_context=AS_OF,
        help="The lot's current quality status: its history is in the lot's chatter, not valued here.",
    )
    expiry_bucket = fields.Selection(
        [(key, label) for key, label, _limit in EXPIRY_BUCKETS], string="Expiry", readonly=True, depends_context=AS_OF
    )
    markdown_discount = fields.Float(
        string="Markdown (%)", readonly=True, depends_context=AS_OF, aggregator=None, digits=(16, 2)
    )
    markdown_exposure = fields.Monetary(
        readonly=True,
        depends_context=AS_OF,
        groups=COST_READERS,
        help="Value times the lot's current markdown discount: the loss expected from selling it marked down.",
    )

    # ------------------------------------------------------------------
    # As-of instant
    # ------------------------------------------------------------------
    @api.model
    def _get_timezone(self):
        """The time zone days end in: the context's (or the user's); UTC when the name is unknown.

        An unknown name (``tz: "Mars/Olympus"`` from an RPC client) does not stop the report: like
        core's ``fields.Date.context_today``, the day is then the UTC day.
        """
        name = self.env.context.get("tz") or self.env.user.tz
        if isinstance(name, str) and name in pytz.all_timezones_set:
            return pytz.timezone(name)
        return pytz.utc

    @api.model
    def _resolve_valuation_date(self, value):
        """The as-of instant of ``value`` and whether it is "now": the one place that reads an as-of
        date and turns today or a future date into now (the wizard calls it too).

        ``value`` is a date (the end of that day in the user's time zone), a datetime (UTC), their
        string forms, or empty (now). Returns ``(instant, is_now)``, ``instant`` in naive UTC.
        Anything else, a date before 1900 or more than a century ahead, is a UserError.
        """
        now = fields.Datetime.now()
        if value is None or value is False or value == "":
            return now, True
        instant = self._get_as_of_instant(value)
        if instant >= now:
            return now, True
        return instant, False

    @api.model
    def _get_as_of_instant(self, value):
        """The instant (naive UTC) ``value`` names, not turned into now when it is later: the end of
        the day of a date in the user's time zone, a datetime as is. The checks of
        ``_resolve_valuation_date``: a UserError for anything that is not a date in range."""
        try:
            day, instant = self._parse_valuation_date(value)
        except (ValueError, OverflowError) as error:
            raise UserError(
                self.env._(
                    "The valuation date %(value)s is not a date. Give a date as YYYY-MM-DD, e.g. %(today)s.",
                    value=repr(value)[:60],
                    today=fields.Date.to_string(fields.Date.today()),
                )
            ) from error
        latest = fields.Date.today() + timedelta(days=MAX_DAYS)
        if not MIN_VALUATION_DATE <= (day or instant.date()) <= latest:
            raise UserError(
                self.env._(
                    "The valuation date %(value)s is out of range: choose a date between %(first)s and %(last)s "
                    "(a date after today means now).",
                    value=(day or instant.date()).isoformat(),
                    first=fields.Date.to_string(MIN_VALUATION_DATE),
                    last=fields.Date.to_string(latest),
                )
            )
        if day:
            end_of_day = self._get_timezone().localize(datetime.combine(day, time.max))
            instant = end_of_day.astimezone(pytz.utc).replace(tzinfo=None)
        return instant

    @api.model
    def _parse_valuation_date(self, value):
        """``(day, None)`` for a date or a date string, ``(None, instant)`` for a datetime (naive UTC)
        or a datetime string; ValueError for anything else."""
        if isinstance(value, datetime):
            if value.tzinfo:
                value = value.astimezone(pytz.utc).replace(tzinfo=None)
            return None, value
        if isinstance(value, date):
            return value, None
        if not isinstance(value, str):
            raise ValueError(value)
        if len(value) <= 10:
            return fields.Date.to_date(value), None
        return None, fields.Datetime.to_datetime(value)

    @api.model
    def _get_valuation_day(self, value):
        """The as-of date of ``value`` in the user's time zone: the date given, or today when it is
        today or later (see ``_resolve_valuation_date``)."""
        instant, _is_now = self._resolve_valuation_date(value)
        return pytz.utc.localize(instant).astimezone(self._get_timezone()).date()

    @api.model
    def _get_valuation_datetime(self):
        """The as-of instant (naive UTC) asked by the context key ``valuation_date``, and whether it is
        "now": ``(instant, is_now)``."""
        return self._resolve_valuation_date(self.env.context.get("valuation_date"))

    # ------------------------------------------------------------------
    # Summary
    # ------------------------------------------------------------------
    @api.model
    @api.readonly
    def get_summary(self, domain):
        """The summary of the rows matching ``domain`` as of the context's date, as plain data.

        Value by expiry bucket and by quality status, markdown exposure and the suggested provision:
        expired value + value of blocked and recalled lots not expired + expected markdown loss
        (markdown exposure) of the other lots, each value counted once. One grouped query: the
        screen, the spreadsheet and RPC clients show the same figures. Returns a dict of
        ``currency_id``, ``row_count``, ``total``, ``buckets`` and ``quality`` (value by key),
        ``markdown_exposure``, ``provision_expired``, ``provision_blocked``, ``provision_markdown``
        and ``provision``.
        """
        self.check_access("read")
        return self._summarize(self._read_group(domain, SUMMARY_GROUPBY, SUMMARY_AGGREGATES))

    @api.model
    def _summarize(self, groups):
        """The summary (``get_summary``) of ``groups``: ``_read_group`` results by ``SUMMARY_GROUPBY``
        and ``SUMMARY_AGGREGATES``, of this report or of a snapshot's lines."""
        currencies = self.env["res.currency"].union(*(currency for currency, *_rest in groups))
        if len(currencies) > 1:
            raise UserError(
                self.env._(
                    "These rows are valued in several currencies (%(currencies)s): filter on one company "
                    "to see their summary.",
                    currencies=", ".join(currencies.mapped("name")),
                )
            )
        currency = currencies or self.env.company.currency_id
        buckets = dict.fromkeys((key for key, _label, _limit in EXPIRY_BUCKETS), 0.0)
        quality = dict.fromkeys(SUMMARY_QUALITY_STATES, 0.0)
        provision = {"expired": 0.0, "blocked": 0.0, "markdown": 0.0}
        row_count = 0
        markdown_exposure = 0.0
        for _currency, bucket, quality_state, value, exposure, count in groups:
            row_count += count
            markdown_exposure += exposure
            buckets[bucket] += value
            if quality_state in quality:
                quality[quality_state] += value
            if bucket == "expired":
                provision["expired"] += value
            elif quality_state in PROVISIONED_QUALITY_STATES:
                provision["blocked"] += value
            else:
                provision["markdown"] += exposure
        provision = {key: currency.round(value) for key, value in provision.items()}
        return {
            "currency_id": currency.id,
            "row_count": row_count,
            "total": currency.round(sum(buckets.values())),
            "buckets": {key: currency.round(value) for key, value in buckets.items()},
            "quality": {key: currency.round(value) for key, value in quality.items()},
            "markdown_exposure": currency.round(markdown_exposure),
            "provision_expired": provision["expired"],
            "provision_blocked": provision["blocked"],
            "provision_markdown": provision["markdown"],
            "provision": currency.round(sum(provision.values())),
        }

    @api.model
    def _get_summary_sections(self, summary):
        """The summary as titled tables of ``(label, value)`` with an optional total label: the layout
        the screen and the spreadsheet share."""
        bucket_labels = dict(self._fields["expiry_bucket"]._description_selection(self.env))
        quality_labels = dict(self._fields["quality_state"]._description_selection(self.env))
        return [
            {
                "title": self.env._("Value by Expiry"),
                "lines": [(bucket_labels[key], value) for key, value in summary["buckets"].items()],
                "total_label": self.env._("Total Inventory Value"),
                "total": summary["total"],
            },
            {
                "title": self.env._("Value by Quality Status"),
                "lines": [(quality_labels[key], value) for key, value in summary["quality"].items()],
                "total_label": None,
                "total": None,
            },
            {
                "title": self.env._("Suggested Provision"),
                "lines": [
                    (self.env._("Expired value"), summary["provision_expired"]),
                    (self.env._("Blocked and recalled value (not expired)"), summary["provision_blocked"]),
                    (self.env._("Expected markdown loss (other lots)"), summary["provision_markdown"]),
                ],
                "total_label": self.env._("Provision Suggestion"),
                "total": summary["provision"],
            },
        ]

    def action_open_provision_summary(self):
        """The provision summary of the selected rows, or of every row the screen shows, in a dialog."""
        domain = [("id", "in", self.ids)] if self else self.env.context.get("active_domain") or []
        summary = self.get_summary(domain)
        wizard = self.env["stock.lot.valuation.wizard"].create(
            {
                "company_id": self.env.company.id,
                "valuation_date": self._get_valuation_day(self.env.context.get("valuation_date")),
            }
        )
        description = self.env._("The selected rows") if self else self.env._("The rows shown on screen")
        return wizard._show_summary(summary, description)

    # ------------------------------------------------------------------
    # SQL
    # ------------------------------------------------------------------
    @property
    def _table_query(self):
        as_of, is_now = self._get_valuation_datetime()
        return self._valuation_query(as_of, is_now)

    @api.model
    def _valuation_query(self, as_of, is_now, hashed=False):
        """The rows as of ``as_of`` (``is_now``: the current stock and every layer).

        ``hashed``: spread each partition's value with hash aggregates and joins
        (``_sql_hashed_partitions``) instead of window functions
        (``_sql_window_partitions``): the same rows, faster for a statement planned
        without nested loops (a snapshot); any other plan of those joins could be
        quadratic, so the report's own reads use the windows.

        Quantities are today's quants minus the done move lines after the date,
        the way core computes a quantity at a date (``qty_available`` with
        ``to_date``): a month-end report reads the month's moves, not the whole
        history. Ids are unique for a date: the smallest code of what makes the
        row (``quant id * 4 + 3``, ``line id * 4`` or ``* 4 + 2`` for the
        destination or source side of a later line, ``layer id * 4 + 1`` for
        value without stock).
        """
        undo_later_lines = SQL()
        if not is_now:
            undo_later_lines = SQL(
                """
                 UNION ALL
                -- the later lines, summed by lot and route first, undone on both sides
                SELECT later.product_id, later.lot_id, side.location_id, side.sign * later.quantity,
                       later.first_id * 4 + side.code
                  FROM (
                        SELECT ml.product_id, ml.lot_id, ml.location_id, ml.location_dest_id, ml.owner_id,
                               SUM(ml.quantity_product_uom) AS quantity, MIN(ml.id) AS first_id
                          FROM stock_move_line ml
                         WHERE ml.state = 'done' AND ml.date > %(as_of)s
                         GROUP BY ml.product_id, ml.lot_id, ml.location_id, ml.location_dest_id, ml.owner_id
                       ) later
                 CROSS JOIN LATERAL (VALUES (later.location_dest_id, -1, 0), (later.location_id, 1, 2))
                       AS side(location_id, sign, code)
                  JOIN valued_location loc ON loc.id = side.location_id
                 WHERE later.owner_id IS NULL OR later.owner_id = loc.company_partner_id
                """,
                as_of=as_of,
            )
        return SQL(
            """
            WITH valued_location AS (%(valued_location)s),
            movement AS (
                SELECT quant.product_id, quant.lot_id, quant.location_id, quant.quantity, quant.id * 4 + 3 AS code
                  FROM stock_quant quant
                  JOIN valued_location loc ON loc.id = quant.location_id
                 WHERE quant.owner_id IS NULL OR quant.owner_id = loc.company_partner_id
                %(undo_later_lines)s
            ),
            on_hand AS (
                SELECT movement.product_id, movement.lot_id, movement.location_id,
                       SUM(movement.quantity) AS quantity, MIN(movement.code) AS code
                  FROM movement
                 GROUP BY movement.product_id, movement.lot_id, movement.location_id
                HAVING SUM(movement.quantity) <> 0
            ),
            stock_row AS (
                SELECT on_hand.code AS id, on_hand.product_id, on_hand.lot_id, on_hand.location_id,
                       loc.warehouse_id, loc.company_id, on_hand.quantity,
                       -- lot_valuated is NULL on tracked products that never set it: valued by product
                       CASE WHEN COALESCE(tmpl.lot_valuated, FALSE) THEN COALESCE(on_hand.lot_id, 0) ELSE 0 END
                           AS lot_key,
                       COALESCE(tmpl.lot_valuated, FALSE) AS lot_valuated
                  FROM on_hand
                  JOIN valued_location loc ON loc.id = on_hand.location_id
                  JOIN product_product product ON product.id = on_hand.product_id
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                 WHERE tmpl.is_storable
            ),
            layer AS (
                -- summed by lot first (whole months kept summed), products joined on the sums
                SELECT by_lot.company_id, by_lot.product_id,
                       CASE WHEN COALESCE(tmpl.lot_valuated, FALSE) THEN COALESCE(by_lot.lot_id, 0) ELSE 0 END
                           AS lot_key,
                       BOOL_OR(COALESCE(tmpl.lot_valuated, FALSE)) AS lot_valuated,
                       SUM(by_lot.value) AS value, MIN(by_lot.first_id) * 4 + 1 AS code
                  FROM (
                        SELECT sums.company_id, sums.product_id, sums.lot_id, sums.value_0 AS value,
                               sums.first_0 AS first_id
                          FROM (%(layer_sums)s) sums
                         WHERE sums.first_0 IS NOT NULL
                       ) by_lot
                  JOIN product_product product ON product.id = by_lot.product_id
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                 WHERE tmpl.is_storable
                 GROUP BY by_lot.company_id, by_lot.product_id,
                          CASE WHEN COALESCE(tmpl.lot_valuated, FALSE) THEN COALESCE(by_lot.lot_id, 0) ELSE 0 END
            ),
            combined AS (
                -- stock rows and layer totals side by side, as the rows of their partition: the layers of
                -- a product, or of a lot when the product is valued by lot
                SELECT stock_row.id, stock_row.product_id, stock_row.lot_id, stock_row.location_id,
                       stock_row.warehouse_id, stock_row.company_id, stock_row.quantity, stock_row.lot_key,
                       stock_row.lot_valuated, 0 AS layer_value, FALSE AS is_layer
                  FROM stock_row
                 UNION ALL
                SELECT layer.code, layer.product_id, NULLIF(layer.lot_key, 0), NULL, NULL,
                       layer.company_id, 0, layer.lot_key, layer.lot_valuated, layer.value, TRUE
                  FROM layer
            ),
            %(partitions)s
            SELECT valued.id,
                   valued.lot_id,
                   valued.product_id,
                   tmpl.categ_id AS product_categ_id,
                   valued.location_id,
                   valued.warehouse_id,
                   valued.company_id,
                   valued.currency_id,
                   valued.quantity,
                   tmpl.uom_id,
                   CASE WHEN valued.quantity <> 0 THEN valued.value / valued.quantity ELSE 0 END AS unit_cost,
                   valued.value,
                   CASE WHEN valued.lot_valuated THEN 'lot' ELSE 'product' END AS valuation_basis,
                   lot.expiration_date,
                   %(days_left)s AS remaining_shelf_life_days,
                   CASE WHEN lot.id IS NULL THEN NULL ELSE %(shelf_life_state)s END AS shelf_life_state,
                   lot.quality_state,
                   %(expiry_bucket)s AS expiry_bucket,
                   COALESCE(lot.markdown_discount, 0) AS markdown_discount,
                   valued.value * COALESCE(lot.markdown_discount, 0) / 100 AS markdown_exposure
              FROM valued
              JOIN product_product product ON product.id = valued.product_id
              JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
         LEFT JOIN product_category categ ON categ.id = tmpl.categ_id
         LEFT JOIN stock_lot lot ON lot.id = valued.lot_id
            """,
            valued_location=self._sql_valued_location(),
            undo_later_lines=undo_later_lines,
            partitions=self._sql_hashed_partitions() if hashed else self._sql_window_partitions(),
            layer_sums=self.env["stock.lot.valuation.month"]._sql_layer_sums([(as_of, is_now)]),
            shelf_life_state=self.env["stock.lot"]._sql_shelf_life_state(as_of),
            days_left=self.env["stock.lot"]._sql_days_left(as_of, "lot"),
            expiry_bucket=self._sql_expiry_bucket(as_of),
        )

    @api.model
    def _sql_window_partitions(self):
        """The CTEs after ``combined`` up to ``valued`` of ``_valuation_query``, with window functions:
        safe in any plan."""
        return SQL(
            """
            partitioned AS (
                -- window functions spread the value without joining the rows to their partition (the
                -- planner cannot estimate that join, a nested loop would be quadratic)
                SELECT combined.*, currency.id AS currency_id, currency.rounding,
                       SUM(combined.quantity) OVER partition_key AS partition_quantity,
                       ROUND(SUM(combined.layer_value) OVER partition_key / currency.rounding) * currency.rounding
                           AS partition_value,
                       ROW_NUMBER() OVER (
                           partition_key ORDER BY combined.is_layer, ABS(combined.quantity) DESC, combined.id
                       ) AS partition_rank
                  FROM combined
                  JOIN res_company company ON company.id = combined.company_id
                  JOIN res_currency currency ON currency.id = company.currency_id
                WINDOW partition_key AS (PARTITION BY combined.company_id, combined.product_id, combined.lot_key)
            ),
            shared AS (
                -- each stock row's share of the value by quantity, rounded to the currency; the layer
                -- total stays as a row of its own only when no stock holds it at that date
                SELECT partitioned.*,
                       CASE WHEN partitioned.is_layer THEN partitioned.partition_value
                            WHEN partitioned.partition_quantity <> 0
                            THEN ROUND(partitioned.partition_value * partitioned.quantity
                                       / partitioned.partition_quantity / partitioned.rounding) * partitioned.rounding
                            ELSE 0 END AS share_value
                  FROM partitioned
                 WHERE NOT partitioned.is_layer
                    OR (partitioned.partition_quantity = 0 AND partitioned.partition_value <> 0)
            ),
            valued AS (
                -- the largest stock row of each partition takes the rounding difference
                SELECT shared.*,
                       shared.share_value + CASE
                           WHEN NOT shared.is_layer AND shared.partition_rank = 1 AND shared.partition_quantity <> 0
                           THEN shared.partition_value - SUM(shared.share_value) OVER (
                                PARTITION BY shared.company_id, shared.product_id, shared.lot_key)
                           ELSE 0 END AS value
                  FROM shared
            )
            """
        )

    @api.model
    def _sql_hashed_partitions(self):
        """The CTEs after ``combined`` up to ``valued`` of ``_valuation_query``, with hash aggregates and
        joins: the same rows as ``_sql_window_partitions``, for statements planned without nested loops
        only."""
        return SQL(
            """
            partition AS (
                -- per partition (hash aggregates and joins, no sort of every row: measured twice as fast as
                -- window functions): its stock, its value rounded to the currency, and the row that takes
                -- the rounding difference (the largest stock row, the first made among equals)
                SELECT combined.company_id, combined.product_id, combined.lot_key, currency.id AS currency_id,
                       currency.rounding, SUM(combined.quantity) AS quantity,
                       ROUND(SUM(combined.layer_value) / currency.rounding) * currency.rounding AS value,
                       (MIN(ARRAY[-ABS(combined.quantity), combined.id]) FILTER (WHERE NOT combined.is_layer))[2]
                           AS largest_id
                  FROM combined
                  JOIN res_company company ON company.id = combined.company_id
                  JOIN res_currency currency ON currency.id = company.currency_id
                 GROUP BY combined.company_id, combined.product_id, combined.lot_key, currency.id, currency.rounding
            ),
            shared AS (
                -- each stock row's share of the value by quantity, rounded to the currency; the layer
                -- total stays as a row of its own only when no stock holds it at that date
                SELECT combined.*, part.currency_id, part.quantity AS partition_quantity,
                       part.value AS partition_value, combined.id = part.largest_id AS is_largest,
                       CASE WHEN combined.is_layer THEN part.value
                            WHEN part.quantity <> 0
                            THEN ROUND(part.value * combined.quantity / part.quantity / part.rounding) * part.rounding
                            ELSE 0 END AS share_value
                  FROM combined
                  JOIN partition part ON part.company_id = combined.company_id
                                     AND part.product_id = combined.product_id AND part.lot_key = combined.lot_key
                 WHERE NOT combined.is_layer OR (part.quantity = 0 AND part.value <> 0)
            ),
            shared_total AS (
                SELECT shared.company_id, shared.product_id, shared.lot_key, SUM(shared.share_value) AS value
                  FROM shared
                 GROUP BY shared.company_id, shared.product_id, shared.lot_key
            ),
            valued AS (
                -- the largest stock row of each partition takes the rounding difference
                SELECT shared.*,
                       shared.share_value + CASE
                           WHEN NOT shared.is_layer AND shared.is_largest AND shared.partition_quantity <> 0
                           THEN shared.partition_value - total.value
                           ELSE 0 END AS value
                  FROM shared
                  JOIN shared_total total ON total.company_id = shared.company_id
                                         AND total.product_id = shared.product_id AND total.lot_key = shared.lot_key
            )
            """
        )

    @api.model
    def _sql_valued_location(self):
        """The locations whose stock a company values: internal ones and the company's transit, with
        the company's partner (stock it owns itself counts, consigned stock does not)."""
        return SQL(
            """
            SELECT loc.id, loc.company_id, loc.warehouse_id, company.partner_id AS company_partner_id
              FROM stock_location loc
              JOIN res_company company ON company.id = loc.company_id
             WHERE loc.usage = 'internal' OR loc.usage = 'transit'
            """
        )

    @api.model
    def _sql_expiry_bucket(self, as_of):
        """The expiry bucket (``EXPIRY_BUCKETS``) of the lot aliased ``lot`` as of ``as_of``."""
        days_left = self.env["stock.lot"]._sql_days_left(as_of, "lot")
        limits = SQL(" ").join(
            SQL("WHEN %s < %s THEN %s", days_left, limit, key) for key, _label, limit in EXPIRY_BUCKETS if limit
        )
        return SQL(
            """CASE WHEN lot.expiration_date IS NULL THEN 'no_expiry'
                    WHEN lot.expiration_date <= %(as_of)s THEN 'expired'
                    %(limits)s
                    ELSE 'later' END""",
            as_of=as_of,
            limits=limits,
        )

    # ------------------------------------------------------------------
    # Export
    # ------------------------------------------------------------------
    @api.model
    def _read_export_rows(self, domain):
        """The rows matching ``domain`` for the spreadsheet, as dicts, by category, product, lot, location.

        One query for the rows (names joined in SQL, expiration dates in the
        user's time zone) and one batched read for the product names, instead
        of reading 100k report records through the ORM cache.
        """
        self.check_access("read")
        self._tune_bulk_session()
        query = self._search(domain)
        return self._read_export_rows_of(query.select(SQL("%s.*", SQL.identifier(query.table))), self._sql_row_order())

    @api.model
    def _sql_row_order(self):
        """The order of the rows on paper: category, product, lot, location. Over the aliases ``categ``,
        ``product``, ``tmpl``, ``lot`` and ``location`` (a snapshot's lines are stored in this order).
        Lot names are codes, compared byte by byte: a locale's collation on 100,000 distinct names
        took longer than the valuation itself."""
        return SQL('%s, lot.name COLLATE "C", location.complete_name NULLS LAST', self._sql_product_order())

    @api.model
    def _sql_product_order(self):
        """The products' part of ``_sql_row_order`` (aliases ``categ``, ``product``, ``tmpl``)."""
        return SQL(
            "categ.complete_name, product.default_code, COALESCE(tmpl.name->>%(lang)s, tmpl.name->>'en_US'), "
            "product.id",
            lang=self.env.lang or "en_US",
        )

    @api.model
    def _read_export_rows_of(self, rows, order):
        """The spreadsheet's dicts of ``rows`` (SQL of rows with this report's columns, e.g. a snapshot's
        lines), ordered by ``order`` (SQL over the aliases of ``_sql_row_order`` and ``report``)."""
        lang = self.env.lang or "en_US"
        tz = self._get_timezone().zone
        rows = self.env.execute_query_dict(
            SQL(
                """
                SELECT report.product_id,
                       COALESCE(categ.complete_name, '') AS category,
                       COALESCE(lot.name, '') AS lot,
                       COALESCE(warehouse.name, '') AS warehouse,
                       COALESCE(location.complete_name, '') AS location,
                       report.expiration_date AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s AS expiration_date,
                       report.remaining_shelf_life_days, report.shelf_life_state, report.quality_state,
                       report.expiry_bucket, report.quantity,
                       COALESCE(uom.name->>%(lang)s, uom.name->>'en_US') AS uom,
                       report.unit_cost, report.value, report.valuation_basis,
                       report.markdown_discount, report.markdown_exposure
                  FROM (%(rows)s) report
                  JOIN product_product product ON product.id = report.product_id
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
             LEFT JOIN product_category categ ON categ.id = report.product_categ_id
             LEFT JOIN stock_lot lot ON lot.id = report.lot_id
             LEFT JOIN stock_warehouse warehouse ON warehouse.id = report.warehouse_id
             LEFT JOIN stock_location location ON location.id = report.location_id
             LEFT JOIN uom_uom uom ON uom.id = report.uom_id
                 ORDER BY %(order)s
                """,
                rows=rows,
                order=order,
                lang=lang,
                tz=tz,
            )
        )
        return self._set_product_names(rows)

    @api.model
    def _set_product_names(self, rows):
        """Put each row's product name under ``product`` (one batched read of the products)."""
        products = self.env["product.product"].browse({row["product_id"] for row in rows})
        names = dict(zip(products.ids, products.mapped("display_name"), strict=True))
        for row in rows:
            row["product"] = names[row["product_id"]]
        return rows
