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
    difference on the largest row, value without stock on a row of its own), so
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
        the present (current stock, every layer), as in the report. One statement
        whatever the number of instants and the size of the data. None where the
        report would have no row.
        """
        report = self.env["stock.lot.valuation.report"]
        resolved = [report._resolve_valuation_date(instant) for instant in instants]
        rows = {row[0]: row[1:] for row in self.env.execute_query(self._sql_valuations(resolved, company_ids))}
        result = []
        for index in range(len(instants)):
            count, total, expired, near, held = rows.get(index, (0, None, None, None, None))
            if not count:
                result.append((None, None, None, None))
            else:
                result.append((total or 0.0, expired or 0.0, near or 0.0, held or 0.0))
        return result

    @api.model
    def _sql_valuations(self, resolved, company_ids):
        """The statement of ``_get_valuations``: one row ``(idx, rows, total, expired, near, held)`` per
        instant that has rows; ``resolved``: ``(as_of, is_now)`` per instant (``_resolve_valuation_date``)."""
        as_of = SQL("instant.as_of")
        past = [instant for instant, is_now in resolved if not is_now]
        return SQL(
            """
            WITH instant(idx, as_of, is_now) AS (VALUES %(instants)s),
            valued_location AS (
                SELECT loc.id, loc.company_id, company.partner_id AS company_partner_id
                  FROM stock_location loc
                  JOIN res_company company ON company.id = loc.company_id
                 WHERE loc.usage IN ('internal', 'transit') AND loc.company_id = ANY(%(company_ids)s)
            ),
            by_product AS (
                -- products valued by product: their value is shared over their stock rows. A product
                -- valued by lot needs no rows: each lot's value is its own layers'
                SELECT product.id
                  FROM product_product product
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                 WHERE tmpl.is_storable AND NOT COALESCE(tmpl.lot_valuated, FALSE)
            ),
            movement AS (
                -- today's quants, at every instant
                SELECT instant.idx, quant.product_id, quant.lot_id, quant.location_id, quant.quantity,
                       quant.id * 4 + 3 AS code
                  FROM stock_quant quant
                  JOIN valued_location loc ON loc.id = quant.location_id
                 CROSS JOIN instant
                 WHERE (quant.owner_id IS NULL OR quant.owner_id = loc.company_partner_id)
                   AND quant.product_id IN (SELECT id FROM by_product)
                %(undo_later_lines)s
            ),
            on_hand AS (
                SELECT movement.idx, movement.product_id, movement.lot_id, movement.location_id,
                       SUM(movement.quantity) AS quantity, MIN(movement.code) AS code
                  FROM movement
                 GROUP BY movement.idx, movement.product_id, movement.lot_id, movement.location_id
                HAVING SUM(movement.quantity) <> 0
            ),
            layer_by_lot AS (
                -- every layer read once: its value up to each instant side by side
                SELECT svl.company_id, svl.product_id, svl.lot_id, %(layer_sums)s
                  FROM stock_valuation_layer svl
                 WHERE svl.company_id = ANY(%(company_ids)s)
                 GROUP BY svl.company_id, svl.product_id, svl.lot_id
            ),
            combined AS (
                -- stock rows and layer totals side by side (see the report: no join between the two),
                -- with what the tiles sum them by: expired, near expiry, held at the row's instant
                SELECT on_hand.idx, on_hand.code AS id, on_hand.product_id, loc.company_id, on_hand.quantity,
                       0 AS lot_key, 0 AS layer_value, FALSE AS is_layer, %(flags)s
                  FROM on_hand
                  JOIN instant ON instant.idx = on_hand.idx
                  JOIN valued_location loc ON loc.id = on_hand.location_id
                  JOIN product_product product ON product.id = on_hand.product_id
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
             LEFT JOIN product_category categ ON categ.id = tmpl.categ_id
             LEFT JOIN stock_lot lot ON lot.id = on_hand.lot_id
                 UNION ALL
                SELECT layer.idx, 0, layer.product_id, layer.company_id, 0, layer.lot_key, layer.value, TRUE,
                       %(flags)s
                  FROM (
                        SELECT at.idx, by_lot.company_id, by_lot.product_id, tmpl.id AS tmpl_id,
                               %(layer_lot_key)s AS lot_key, SUM(at.value) AS value
                          FROM layer_by_lot by_lot
                          JOIN product_product product ON product.id = by_lot.product_id
                          JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                         CROSS JOIN LATERAL (VALUES %(layer_columns)s) AS at(idx, value)
                         WHERE tmpl.is_storable AND at.value IS NOT NULL
                         GROUP BY at.idx, by_lot.company_id, by_lot.product_id, tmpl.id, %(layer_lot_key)s
                       ) layer
                  JOIN instant ON instant.idx = layer.idx
                  JOIN product_template tmpl ON tmpl.id = layer.tmpl_id
             LEFT JOIN product_category categ ON categ.id = tmpl.categ_id
             LEFT JOIN stock_lot lot ON lot.id = NULLIF(layer.lot_key, 0)
            ),
            partitioned AS (
                SELECT combined.*, currency.rounding,
                       SUM(combined.quantity) OVER partition_key AS partition_quantity,
                       ROUND(SUM(combined.layer_value) OVER partition_key / currency.rounding) * currency.rounding
                           AS partition_value,
                       ROW_NUMBER() OVER (
                           partition_key ORDER BY combined.is_layer, ABS(combined.quantity) DESC, combined.id
                       ) AS partition_rank
                  FROM combined
                  JOIN res_company company ON company.id = combined.company_id
                  JOIN res_currency currency ON currency.id = company.currency_id
                WINDOW partition_key AS (
                    PARTITION BY combined.idx, combined.company_id, combined.product_id, combined.lot_key)
            ),
            shared AS (
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
                SELECT shared.idx, shared.is_expired, shared.is_near_expiry, shared.is_held,
                       shared.share_value + CASE
                           WHEN NOT shared.is_layer AND shared.partition_rank = 1 AND shared.partition_quantity <> 0
                           THEN shared.partition_value - SUM(shared.share_value) OVER (
                                PARTITION BY shared.idx, shared.company_id, shared.product_id, shared.lot_key)
                           ELSE 0 END AS value
                  FROM shared
            )
            SELECT valued.idx, COUNT(*), SUM(valued.value),
                   SUM(valued.value) FILTER (WHERE valued.is_expired),
                   SUM(valued.value) FILTER (WHERE valued.is_near_expiry),
                   SUM(valued.value) FILTER (WHERE valued.is_held)
              FROM valued
             GROUP BY valued.idx
            """,
            instants=SQL(", ").join(
                SQL("(%s, %s::timestamp, %s)", index, instant, is_now)
                for index, (instant, is_now) in enumerate(resolved)
            ),
            company_ids=company_ids,
            undo_later_lines=self._sql_undo_later_lines(min(past)) if past else SQL(),
            layer_sums=SQL(", ").join(
                SQL(
                    "SUM(svl.value) FILTER (WHERE %s) AS %s",
                    SQL("TRUE") if is_now else SQL("svl.create_date <= %s", instant),
                    SQL.identifier(f"value_{index}"),
                )
                for index, (instant, is_now) in enumerate(resolved)
            ),
            layer_columns=SQL(", ").join(
                SQL("(%s, by_lot.%s)", index, SQL.identifier(f"value_{index}")) for index in range(len(resolved))
            ),
            flags=SQL(
                """%(expiry_bucket)s = 'expired' AS is_expired,
                   lot.id IS NOT NULL AND %(shelf_life_state)s = 'near_expiry' AS is_near_expiry,
                   COALESCE(lot.quality_state IN %(held)s, FALSE) AS is_held""",
                expiry_bucket=self.env["stock.lot.valuation.report"]._sql_expiry_bucket(as_of),
                shelf_life_state=self.env["stock.lot"]._sql_shelf_life_state(as_of),
                held=HELD_QUALITY_STATES,
            ),
            layer_lot_key=SQL(
                "CASE WHEN COALESCE(tmpl.lot_valuated, FALSE) THEN COALESCE(by_lot.lot_id, 0) ELSE 0 END"
            ),
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
                       AND ml.product_id IN (SELECT id FROM by_product)
                     GROUP BY instant.idx, ml.product_id, ml.lot_id, ml.location_id, ml.location_dest_id, ml.owner_id
                   ) later
             CROSS JOIN LATERAL (VALUES (later.location_dest_id, -1, 0), (later.location_id, 1, 2))
                   AS side(location_id, sign, code)
              JOIN valued_location loc ON loc.id = side.location_id
             WHERE later.owner_id IS NULL OR later.owner_id = loc.company_partner_id
            """,
            earliest=earliest,
        )
