# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
from odoo import api, models
from odoo.tools import SQL

from .stock_lot_kpi import HELD_QUALITY_STATES


class StockLotKpi(models.AbstractModel):
    """The overview's values at dates: the valuation by lot at several instants, in one pass.

    The value tiles (inventory, expired, near-expiry and held value, and the
    denominators of obsolescence and shrinkage) are the sums of the valuation by
    lot (``stock.lot.valuation.report``) at each period end. Running the report's
    query once per instant read every valuation layer once per instant; here the
    same rows are made for every instant at once: the layers are read in one
    pass with one conditional sum per instant, today's quants are paired with
    each instant, and the move lines after each past instant are undone. The
    rows are then valued exactly like the report's (each product's value
    rounded to the currency and shared over its stock by quantity, the rounding
    difference on the largest row, value without stock on a row of its own),
    summed by bucket per product instead of row by row, so
    the sums are the report's to the cent (tests compare them at several
    dates). Products valued by lot need no stock rows at all: all of a lot's
    value is its own, whatever locations hold it, so its rounded layer total
    goes to the lot's buckets directly. (The one difference: stock of a product
    valued by lot that is worth exactly nothing, alone in the company, gives
    "no data" where the report shows rows of 0.)
    """

    _inherit = "stock.lot.kpi"

    @api.model
    def _get_valuations(self, instants, company_ids):
        """``[(total, expired, near expiry, held) or Nones]`` per instant, from the valuation by lot.

        ``instants``: naive UTC datetimes (a period's end); one at or after now is
        the present (current stock, every layer), as in the report. A past instant
        at which every company has a month-end close (``_sql_kept_valuations``) is read
        from it; the others are computed in one statement whatever their number and
        the size of the data. None where the report would have no row.
        """
        report = self.env["stock.lot.valuation.report"]
        resolved = [report._resolve_valuation_date(instant) for instant in instants]
        past = {index: instant for index, (instant, is_now) in enumerate(resolved) if not is_now}
        rows = {}
        kept = set()
        if past:
            for index, *figures in self.env.execute_query(self._sql_kept_valuations(past, company_ids)):
                kept.add(index)
                rows[index] = tuple(figures)
        computed = [index for index in range(len(instants)) if index not in kept]
        if computed:
            query = self._sql_valuations([resolved[index] for index in computed], company_ids)
            for position, *figures in self.env["stock.lot.bulk.read.mixin"]._execute_hashed(query):
                rows[computed[position]] = tuple(figures)
        result = []
        for index in range(len(instants)):
            count, total, expired, near, held = rows.get(index, (0, None, None, None, None))
            if not count:
                result.append((None, None, None, None))
            else:
                result.append((total or 0.0, expired or 0.0, near or 0.0, held or 0.0))
        return result

    @api.model
    def _get_kept_closes(self, instant, companies):
        """The month-end closes ``_get_valuations`` reads at ``instant`` for ``companies`` (the latest
        kept whole-company snapshot of each, ``stock.lot.valuation.snapshot._sql_kept_closes``), or none
        when one of the companies has none there or the instant is not past."""
        snapshots = self.env["stock.lot.valuation.snapshot"]
        instant, is_now = self.env["stock.lot.valuation.report"]._resolve_valuation_date(instant)
        if is_now:
            return snapshots
        kept = snapshots.sudo()._get_kept_closes({0: instant}, companies.ids).get(0, {})
        if set(kept) != set(companies.ids):
            return snapshots
        return snapshots.browse(snapshot.id for snapshot in kept.values())

    @api.model
    def _sql_kept_valuations(self, past, company_ids):
        """The sums of the month-end closes: one row ``(idx, rows, total, expired, near, held)`` per
        instant of ``past`` (``{idx: instant}``) at which each of the companies has a whole-company
        snapshot kept as a period end (the latest made, when several): the valuation by lot's rows at
        that instant, as they stood when the snapshot was made (later changes of a lot's status or
        dates do not rewrite a closed month). Instants without a close for every company have no row.
        """
        return SQL(
            """
            WITH kept(idx, company_id, id) AS (%(kept)s),
            covered AS (
                SELECT kept.idx, ARRAY_AGG(kept.id) AS snapshot_ids
                  FROM kept
                 GROUP BY kept.idx
                HAVING COUNT(*) = %(company_count)s
            )
            SELECT covered.idx, COUNT(line.id),
                   SUM(line.value),
                   SUM(line.value) FILTER (WHERE line.expiry_bucket = 'expired'),
                   SUM(line.value) FILTER (WHERE line.lot_id IS NOT NULL AND line.shelf_life_state = 'near_expiry'),
                   SUM(line.value) FILTER (WHERE line.quality_state IN %(held)s)
              FROM covered
         LEFT JOIN stock_lot_valuation_snapshot_line line ON line.snapshot_id = ANY(covered.snapshot_ids)
             GROUP BY covered.idx
            """,
            kept=self.env["stock.lot.valuation.snapshot"]._sql_kept_closes(past, company_ids),
            company_count=len(set(company_ids)),
            held=HELD_QUALITY_STATES,
        )

    @api.model
    def _sql_valuations(self, resolved, company_ids):
        """The statement of ``_get_valuations``: one row ``(idx, rows, total, expired, near, held)`` per
        instant that has rows; ``resolved``: ``(as_of, is_now)`` per instant (``_resolve_valuation_date``).

        Three kinds of rows make the report's sums. A product valued by lot: each lot's rounded layer
        total, in that lot's buckets (``by_lot``). A product valued by product: its rounded layer
        total shared over its stock rows at the instant by quantity, the rounding difference on the
        largest row (``by_product``), or, when no stock holds it at the instant, the total alone on a
        row without lot (``unheld``). Only hash aggregates and joins to a handful of rows per product
        and instant: no window over the stock rows (a sort of every row at every instant), and no
        join between two large sets (the planner cannot estimate the stock rows: a nested loop over
        both would be quadratic).
        """
        as_of = SQL("instant.as_of")
        past = [instant for instant, is_now in resolved if not is_now]
        flags = SQL(
            """%(expiry_bucket)s = 'expired' AS is_expired,
               lot.id IS NOT NULL AND %(shelf_life_state)s = 'near_expiry' AS is_near_expiry,
               COALESCE(lot.quality_state IN %(held)s, FALSE) AS is_held""",
            expiry_bucket=self.env["stock.lot.valuation.report"]._sql_expiry_bucket(as_of),
            shelf_life_state=self.env["stock.lot"]._sql_shelf_life_state(as_of),
            held=HELD_QUALITY_STATES,
        )
        return SQL(
            """
            WITH instant(idx, as_of, is_now) AS (VALUES %(instants)s),
            valued_location AS (
                SELECT loc.id, loc.company_id, company.partner_id AS company_partner_id
                  FROM stock_location loc
                  JOIN res_company company ON company.id = loc.company_id
                 WHERE loc.usage IN ('internal', 'transit') AND loc.company_id = ANY(%(company_ids)s)
            ),
            basis AS (
                -- storable products, valued by lot or by product (lot_valuated is NULL on products that
                -- never set it: by product)
                SELECT product.id AS product_id, COALESCE(tmpl.lot_valuated, FALSE) AS lot_valuated
                  FROM product_product product
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                 WHERE tmpl.is_storable
            ),
            layer_sum AS (
                -- the layers summed by lot up to each instant (whole months kept summed), then by
                -- partition: each one's value up to each instant side by side
                SELECT by_lot.company_id, by_lot.product_id, basis.lot_valuated,
                       CASE WHEN basis.lot_valuated THEN COALESCE(by_lot.lot_id, 0) ELSE 0 END AS lot_key,
                       %(partition_sums)s
                  FROM (%(layer_sums)s) by_lot
                  JOIN basis ON basis.product_id = by_lot.product_id
                 GROUP BY by_lot.company_id, by_lot.product_id, basis.lot_valuated,
                          CASE WHEN basis.lot_valuated THEN COALESCE(by_lot.lot_id, 0) ELSE 0 END
            ),
            partition_value AS (
                -- the value of each product valued by product at each instant, rounded to the company's
                -- currency as the report rounds each partition
                SELECT at.idx, layer_sum.company_id, layer_sum.product_id,
                       ROUND(at.value / currency.rounding) * currency.rounding AS value
                  FROM layer_sum
                  JOIN res_company company ON company.id = layer_sum.company_id
                  JOIN res_currency currency ON currency.id = company.currency_id
                 CROSS JOIN LATERAL (VALUES %(layer_columns)s) AS at(idx, value)
                 WHERE NOT layer_sum.lot_valuated AND at.value IS NOT NULL
            ),
            by_lot AS (
                -- all of a lot's value is its own, whatever locations hold it; each lot read once for
                -- every instant
                SELECT at.idx, at.value, %(flags)s
                  FROM layer_sum
                  JOIN res_company company ON company.id = layer_sum.company_id
                  JOIN res_currency currency ON currency.id = company.currency_id
                  JOIN product_product product ON product.id = layer_sum.product_id
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
             LEFT JOIN product_category categ ON categ.id = tmpl.categ_id
             LEFT JOIN stock_lot lot ON lot.id = NULLIF(layer_sum.lot_key, 0)
                 CROSS JOIN LATERAL (VALUES %(rounded_columns)s) AS at(idx, value)
                  JOIN instant ON instant.idx = at.idx
                 WHERE layer_sum.lot_valuated AND at.value <> 0
            ),
            movement AS (
                -- today's quants of products valued by product, at every instant
                SELECT instant.idx, quant.product_id, quant.lot_id, quant.location_id, quant.quantity,
                       quant.id * 4 + 3 AS code
                  FROM stock_quant quant
                  JOIN valued_location loc ON loc.id = quant.location_id
                  JOIN basis ON basis.product_id = quant.product_id AND NOT basis.lot_valuated
                 CROSS JOIN instant
                 WHERE quant.owner_id IS NULL OR quant.owner_id = loc.company_partner_id
                %(undo_later_lines)s
            ),
            stock_row AS MATERIALIZED (
                SELECT on_hand.idx, on_hand.code, on_hand.product_id, loc.company_id, on_hand.quantity,
                       currency.rounding, %(flags)s
                  FROM (
                        SELECT movement.idx, movement.product_id, movement.lot_id, movement.location_id,
                               SUM(movement.quantity) AS quantity, MIN(movement.code) AS code
                          FROM movement
                         GROUP BY movement.idx, movement.product_id, movement.lot_id, movement.location_id
                        HAVING SUM(movement.quantity) <> 0
                       ) on_hand
                  JOIN instant ON instant.idx = on_hand.idx
                  JOIN valued_location loc ON loc.id = on_hand.location_id
                  JOIN res_company company ON company.id = loc.company_id
                  JOIN res_currency currency ON currency.id = company.currency_id
                  JOIN product_product product ON product.id = on_hand.product_id
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
             LEFT JOIN product_category categ ON categ.id = tmpl.categ_id
             LEFT JOIN stock_lot lot ON lot.id = on_hand.lot_id
            ),
            stock_partition AS (
                -- per product valued by product and instant (a handful of rows): its stock, its largest row
                -- and its value; the big sets are only ever joined to these
                SELECT part.*, COALESCE(partition_value.value, 0) AS value
                  FROM (
                        SELECT stock_row.idx, stock_row.company_id, stock_row.product_id,
                               SUM(stock_row.quantity) AS quantity,
                               -- the row that takes the rounding difference: the largest, the first made
                               -- among equals (no join back to the rows: one aggregate)
                               (MIN(ARRAY[-ABS(stock_row.quantity), stock_row.code]))[2] AS largest_code
                          FROM stock_row
                         GROUP BY stock_row.idx, stock_row.company_id, stock_row.product_id
                       ) part
             LEFT JOIN partition_value ON partition_value.idx = part.idx
                                      AND partition_value.company_id = part.company_id
                                      AND partition_value.product_id = part.product_id
            ),
            by_product AS (
                -- each stock row's share of its product's value by quantity, rounded to the currency,
                -- summed by bucket per product; the largest row's buckets are marked for the difference
                SELECT stock_row.idx, part.quantity, part.value,
                       COUNT(*) AS row_count, SUM(share.value) AS shared,
                       COALESCE(SUM(share.value) FILTER (WHERE stock_row.is_expired), 0) AS expired,
                       COALESCE(SUM(share.value) FILTER (WHERE stock_row.is_near_expiry), 0) AS near,
                       COALESCE(SUM(share.value) FILTER (WHERE stock_row.is_held), 0) AS held,
                       BOOL_OR(stock_row.code = part.largest_code AND stock_row.is_expired) AS largest_expired,
                       BOOL_OR(stock_row.code = part.largest_code AND stock_row.is_near_expiry) AS largest_near,
                       BOOL_OR(stock_row.code = part.largest_code AND stock_row.is_held) AS largest_held
                  FROM stock_row
                  JOIN stock_partition part ON part.idx = stock_row.idx AND part.company_id = stock_row.company_id
                                           AND part.product_id = stock_row.product_id
                 CROSS JOIN LATERAL (
                        SELECT CASE WHEN part.quantity <> 0
                                    THEN ROUND(part.value * stock_row.quantity
                                               / part.quantity / stock_row.rounding) * stock_row.rounding
                                    ELSE 0 END AS value
                       ) share
                 GROUP BY stock_row.idx, stock_row.company_id, stock_row.product_id, part.quantity, part.value
            ),
            by_product_total AS (
                SELECT by_product.idx, by_product.row_count,
                       by_product.shared + difference.value AS total,
                       by_product.expired + CASE WHEN by_product.largest_expired THEN difference.value ELSE 0 END
                           AS expired,
                       by_product.near + CASE WHEN by_product.largest_near THEN difference.value ELSE 0 END
                           AS near,
                       by_product.held + CASE WHEN by_product.largest_held THEN difference.value ELSE 0 END
                           AS held
                  FROM by_product
                 CROSS JOIN LATERAL (
                        SELECT CASE WHEN by_product.quantity <> 0 THEN by_product.value - by_product.shared
                                    ELSE 0 END AS value
                       ) difference
            ),
            unheld AS (
                -- a product's value that no stock holds at the instant: a row without lot
                SELECT partition_value.idx, partition_value.value
                  FROM partition_value
             LEFT JOIN stock_partition part ON part.idx = partition_value.idx
                                           AND part.company_id = partition_value.company_id
                                           AND part.product_id = partition_value.product_id
                 WHERE partition_value.value <> 0 AND COALESCE(part.quantity, 0) = 0
            ),
            valued AS (
                SELECT idx, row_count, total, expired, near, held
                  FROM by_product_total
                 UNION ALL
                SELECT by_lot.idx, 1, by_lot.value,
                       CASE WHEN by_lot.is_expired THEN by_lot.value ELSE 0 END,
                       CASE WHEN by_lot.is_near_expiry THEN by_lot.value ELSE 0 END,
                       CASE WHEN by_lot.is_held THEN by_lot.value ELSE 0 END
                  FROM by_lot
                 UNION ALL
                SELECT unheld.idx, 1, unheld.value, 0, 0, 0
                  FROM unheld
            )
            SELECT valued.idx, SUM(valued.row_count), SUM(valued.total), SUM(valued.expired), SUM(valued.near),
                   SUM(valued.held)
              FROM valued
             GROUP BY valued.idx
            """,
            instants=SQL(", ").join(
                SQL("(%s, %s::timestamp, %s)", index, instant, is_now)
                for index, (instant, is_now) in enumerate(resolved)
            ),
            company_ids=company_ids,
            undo_later_lines=self._sql_undo_later_lines(min(past)) if past else SQL(),
            layer_sums=self.env["stock.lot.valuation.month"]._sql_layer_sums(resolved, company_ids),
            partition_sums=SQL(", ").join(
                SQL("SUM(by_lot.%s) AS %s", SQL.identifier(f"value_{index}"), SQL.identifier(f"value_{index}"))
                for index in range(len(resolved))
            ),
            rounded_columns=SQL(", ").join(
                SQL(
                    "(%s, ROUND(layer_sum.%s / currency.rounding) * currency.rounding)",
                    index,
                    SQL.identifier(f"value_{index}"),
                )
                for index in range(len(resolved))
            ),
            layer_columns=SQL(", ").join(
                SQL("(%s, layer_sum.%s)", index, SQL.identifier(f"value_{index}")) for index in range(len(resolved))
            ),
            flags=flags,
        )

    @api.model
    def _sql_undo_later_lines(self, earliest):
        """The ``movement`` rows that take back, at each past instant, the done lines dated after it
        (summed by lot and route first, undone on both sides: as the report does for one date)."""
        return SQL(
            """
             UNION ALL
            SELECT later.idx, later.product_id, later.lot_id, side.location_id, side.sign * later.quantity,
                   later.first_id * 4 + side.code
              FROM (
                    SELECT instant.idx, ml.product_id, ml.lot_id, ml.location_id, ml.location_dest_id, ml.owner_id,
                           SUM(ml.quantity_product_uom) AS quantity, MIN(ml.id) AS first_id
                      FROM stock_move_line ml
                      JOIN instant ON NOT instant.is_now AND ml.date > instant.as_of
                     WHERE ml.state = 'done' AND ml.date > %(earliest)s
                       AND ml.product_id IN (SELECT product_id FROM basis WHERE NOT lot_valuated)
                     GROUP BY instant.idx, ml.product_id, ml.lot_id, ml.location_id, ml.location_dest_id, ml.owner_id
                   ) later
             CROSS JOIN LATERAL (VALUES (later.location_dest_id, -1, 0), (later.location_id, 1, 2))
                   AS side(location_id, sign, code)
              JOIN valued_location loc ON loc.id = side.location_id
             WHERE later.owner_id IS NULL OR later.owner_id = loc.company_partner_id
            """,
            earliest=earliest,
        )
