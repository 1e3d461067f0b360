from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .stock_lot_valuation_movement import MOVEMENT_SOURCES

# The layer fields a month's sums depend on: writing one of them on a layer moves its value from one
# summary row to another (stock.valuation.layer.write).
LAYER_FIELDS = frozenset({"value", "quantity", "product_id", "lot_id", "company_id", "create_date"})


class StockLotValuationMonth(models.Model):
    """Valuation layers summed per company, product, lot and month of their creation (UTC): the
    value of a lot (or product) now is its rows here, up to a past instant its whole months' rows
    plus the layers of the instant's own month (``_sql_layer_sums``), instead of every layer since
    the first. The
    valuation by lot, its snapshots, the roll-forward and the overview read layers this way.

    Kept set-based by the layers themselves: each ``create`` of layers adds one row per key and
    month (one INSERT whatever their number), a write that changes a layer's value, quantity,
    product, lot, company or date takes the old figures out and puts the new ones in, a deletion
    takes them out; every module update rebuilds the table (``_rebuild``: installing on a database
    with history fills it). Code that writes layers by SQL (datasets, back-dating) calls
    ``_rebuild`` after. Append-only between compactions (``_compact``, run daily by its own cron,
    this month's rows included): ``stock.lot.kept.summary.mixin``. Rows adding up to nothing are
    kept: a key's first layer tells the valuation the key has layers at an instant.
    """

    _name = "stock.lot.valuation.month"
    _inherit = ["stock.lot.kept.summary.mixin"]
    _description = "Layer Value per Lot and Month"
    _log_access = False
    _order = "month desc, product_id, lot_id"
    _rec_name = "product_id"
    _summary_keys = ("company_id", "product_id", "lot_id", "month")
    _summary_nullable = ("lot_id",)
    _summary_period = "month"
    _summary_sums = {"value": "SUM", "quantity": "SUM", "first_layer_id": "MIN"}

    month = fields.Date(required=True, readonly=True, help="The first day of the month (UTC) the layers were made.")
    # a product or company can only go once its layers are gone (their rows then add up to nothing)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=False, ondelete="cascade")
    product_id = fields.Many2one("product.product", required=True, readonly=True, index=False, ondelete="cascade")
    lot_id = fields.Many2one("stock.lot", string="Lot/Serial", readonly=True, index="btree_not_null")
    value = fields.Float(digits=(16, 6), readonly=True, help="The sum of the layers' values.")
    quantity = fields.Float(digits=(16, 6), readonly=True, help="The sum of the layers' quantities.")
    first_layer_id = fields.Integer(readonly=True, help="The first of the layers (the valuation's row ids).")

    def init(self):
        # the layers of the months not summed yet, read by date: an index with what the sums need
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS stock_valuation_layer_lmc_create_date_index
                ON stock_valuation_layer (create_date) INCLUDE (company_id, product_id, lot_id, value)
            """
        )
        self._rebuild()

    # ------------------------------------------------------------------
    # Reading
    # ------------------------------------------------------------------
    @api.model
    def _sql_layer_sums(self, instants, company_ids=None, nearest_month_end=False):
        """SQL rows ``(company_id, product_id, lot_id, value_0, first_0, value_1, first_1, …)``: per
        company, product and lot (NULL: layers without lot), for each instant of ``instants``
        (``(as_of, is_now)`` pairs, naive UTC; "now" counts every layer) the sum of the layers made
        up to it and the first of them (both NULL when it has none, e.g. a key whose layers all came
        later: callers keep the keys they need by these columns).

        Now is every row of this table. A past instant is its whole months before its own here, and
        the layers of its own month up to it from ``stock_valuation_layer`` (by its date index). The
        same sums as reading every layer, except that a key whose layers all went to other keys
        (corrections) keeps rows adding up to 0 (no layer: NULL), and that the first layer of a key
        may be one deleted since. ``company_ids``: only those companies (None: all).

        ``nearest_month_end``: a past instant nearer the end of its month than its start is read back
        from that end instead (its whole months up to its own, minus the layers of its month made
        after it: the end of last week is four days of layers, not 27); its ``first`` is then a
        layer up to the end of its month (a key whose layers all came after the instant within its
        month has a first and a value of 0).
        """
        past = [as_of for as_of, is_now in instants if not is_now]
        columns, raw_ranges, month_bounds = [], [], []
        for index, (as_of, is_now) in enumerate(instants):
            if is_now:
                columns.append(
                    SQL(
                        "SUM(layer.value) FILTER (WHERE layer.whole) AS %s, "
                        "MIN(layer.first_id) FILTER (WHERE layer.whole) AS %s",
                        SQL.identifier(f"value_{index}"),
                        SQL.identifier(f"first_{index}"),
                    )
                )
                continue
            month_start = as_of.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            month_end = month_start + relativedelta(months=1)
            backward = nearest_month_end and month_end - as_of < as_of - month_start
            if backward:
                # the whole months up to its own, minus its month's layers made after it
                whole = SQL("layer.whole AND layer.at < %s", month_end)
                raw_ranges.append((index, SQL("svl.create_date > %s AND svl.create_date < %s", as_of, month_end)))
                value = SQL("CASE WHEN layer.whole THEN layer.value ELSE -layer.value END")
                first = whole
                month_bounds.append(month_end)
            else:
                whole = SQL("layer.whole AND layer.at < %s", month_start)
                raw_ranges.append((index, SQL("svl.create_date >= %s AND svl.create_date <= %s", month_start, as_of)))
                value = SQL("layer.value")
                first = SQL("%s OR layer.instant = %s", whole, index)
                month_bounds.append(month_start)
            condition = SQL("%s OR layer.instant = %s", whole, index)
            columns.append(
                SQL(
                    "SUM(%(value)s) FILTER (WHERE %(condition)s) AS %(value_column)s, "
                    "MIN(layer.first_id) FILTER (WHERE %(first)s) AS %(first_column)s",
                    value=value,
                    condition=condition,
                    first=first,
                    value_column=SQL.identifier(f"value_{index}"),
                    first_column=SQL.identifier(f"first_{index}"),
                )
            )
        row_company = SQL("AND month.company_id = ANY(%s)", list(company_ids)) if company_ids is not None else SQL()
        layer_company = SQL("AND svl.company_id = ANY(%s)", list(company_ids)) if company_ids is not None else SQL()
        if len(past) == len(instants):
            # only past instants: the months from the latest one needs on are not needed
            row_company = SQL("AND month.month < %s %s", max(month_bounds), row_company)
        # each past instant's layers read one by one (an instant's range each, by the date index)
        layers = SQL().join(
            SQL(
                """
                 UNION ALL
                SELECT svl.company_id, svl.product_id, svl.lot_id, svl.id, svl.value, svl.create_date, FALSE, %s
                  FROM stock_valuation_layer svl
                 WHERE %s %s
                """,
                index,
                condition,
                layer_company,
            )
            for index, condition in raw_ranges
        )
        return SQL(
            """
            SELECT layer.company_id, layer.product_id, layer.lot_id, %(columns)s
              FROM (
                    SELECT month.company_id, month.product_id, month.lot_id, month.first_layer_id AS first_id,
                           month.value, month.month::timestamp AS at, TRUE AS whole, NULL::integer AS instant
                      FROM stock_lot_valuation_month month
                     WHERE TRUE %(row_company)s
                    %(layers)s
                   ) layer
             GROUP BY layer.company_id, layer.product_id, layer.lot_id
            """,
            columns=SQL(", ").join(columns),
            row_company=row_company,
            layers=layers,
        )

    # ------------------------------------------------------------------
    # Keeping the sums
    # ------------------------------------------------------------------
    @api.model
    def _sql_summary_rows(self, condition):
        """The layers ``condition`` keeps (alias ``svl``) summed per key and month."""
        return SQL(
            """
            SELECT svl.company_id, svl.product_id, svl.lot_id, date_trunc('month', svl.create_date)::date AS month,
                   SUM(svl.value) AS value, SUM(svl.quantity) AS quantity, MIN(svl.id) AS first_layer_id
              FROM stock_valuation_layer svl
             WHERE %s
             GROUP BY 1, 2, 3, 4
            """,
            condition,
        )

    @api.model
    def _flush_summary_sources(self):
        self.env["stock.valuation.layer"].flush_model(list(LAYER_FIELDS))

    @api.model
    def _add_layers(self, layers, sign=1):
        """Add (``sign`` 1) or take out (-1) ``layers`` as they are in the database now: one INSERT."""
        if layers:
            self._add_summary(SQL("svl.id = ANY(%s)", layers.ids), sign)

    @api.model
    def _cron_compact(self):
        """Daily: each key's rows of every month, this month's included, summed into one."""
        self._compact(fields.Date.today() + relativedelta(days=1))


class StockValuationLayer(models.Model):
    """Layers keep their sums per lot and month (``stock.lot.valuation.month``) and their moves'
    movements (``stock.lot.valuation.movement``) as they are made, changed or deleted."""

    _inherit = "stock.valuation.layer"

    @api.model_create_multi
    def create(self, vals_list):
        layers = super().create(vals_list)
        self.env["stock.lot.valuation.month"]._add_layers(layers)
        self.env["stock.lot.valuation.movement"]._sync_moves(layers.stock_move_id)
        return layers

    def write(self, vals):
        if LAYER_FIELDS.isdisjoint(vals) and not set(MOVEMENT_SOURCES["stock.valuation.layer"]) & set(vals):
            return super().write(vals)
        months = self.env["stock.lot.valuation.month"]
        moves = self.stock_move_id
        months._add_layers(self, sign=-1)
        result = super().write(vals)
        months._add_layers(self)
        self.env["stock.lot.valuation.movement"]._sync_moves(moves | self.stock_move_id)
        return result

    def unlink(self):
        self.env["stock.lot.valuation.month"]._add_layers(self, sign=-1)
        moves = self.stock_move_id
        result = super().unlink()
        self.env["stock.lot.valuation.movement"]._sync_moves(moves.exists())
        return result
