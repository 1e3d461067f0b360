from odoo import api, fields, models
from odoo.tools import SQL

# The columns of a trace line that _trace_sql yields, in its order, with their stored types.
TRACE_COLUMNS = [
    ("company_id", "integer"),
    ("direction", "varchar"),
    ("event", "varchar"),
    ("lot_id", "integer"),
    ("product_id", "integer"),
    ("partner_id", "integer"),
    ("picking_id", "integer"),
    ("move_line_id", "integer"),
    ("location_id", "integer"),
    ("location_dest_id", "integer"),
    ("quantity", "numeric"),
    ("uom_id", "integer"),
    ("date", "timestamp"),
    ("depth", "integer"),
    ("reference", "varchar"),
    ("lot_relation", "varchar"),
]


class SnapshotMany2one(fields.Many2one):
    """A many2one of a trace line, stored without a foreign key.

    PostgreSQL checks a foreign key with one trigger call per row and key: at
    10,000 trace lines and twelve keys that was 120,000 calls, four fifths of the
    trace's time. The records these columns point to are kept alive by core's own
    keys on the done move lines and quants the trace is read from (lots, products,
    units, transfers, move lines, locations, companies cannot be deleted while a
    done move uses them; users are archived, not deleted), and every trace rewrites
    its lines; a recall deletes its lines itself (``stock.lot.recall.unlink``).
    Partners can be deleted or merged: ``res.partner.unlink`` clears them from
    the lines (what ``ON DELETE SET NULL`` did) and the merge wizard's
    ``_update_foreign_keys`` moves the lines to the kept contact (its key was
    another 10,000 trigger calls at 10,000 customers: a third of the trace).
    """

    def update_db_foreign_key(self, model, column):
        return


DIRECTIONS = [
    ("upstream", "Upstream"),
    ("internal", "Internal"),
    ("downstream", "Downstream"),
    ("on_hand", "On Hand"),
]
EVENTS = [
    ("receipt", "Receipt from Vendor"),
    ("vendor_return", "Return to Vendor"),
    ("production", "Produced"),
    ("consumption", "Consumed"),
    ("delivery", "Delivery to Customer"),
    ("customer_return", "Return from Customer"),
    ("scrap", "Scrap"),
    ("adjustment", "Inventory Adjustment"),
    ("internal", "Internal Transfer"),
    ("on_hand", "On Hand"),
]


class StockLotRecallLine(models.Model):
    """One event of a recall's trace: a done move of an affected lot, or stock still on hand.

    Lines are written in bulk by ``stock.lot.recall.action_trace`` (one INSERT …
    SELECT); they are a snapshot of the trace at that time, replaced by the next
    trace. A line belongs to the company of the move (or quant) it comes from, not
    to the recall's: a lot shared by several companies is traced in each company
    the tracing user works in, and each user reads only the lines of the companies
    they may read (record rule).
    """

    _name = "stock.lot.recall.line"
    _description = "Recall Trace Line"
    _order = "recall_id, depth, date, id"

    # deleted with the recall by stock.lot.recall.unlink() (no foreign key, see SnapshotMany2one)
    recall_id = SnapshotMany2one("stock.lot.recall", required=True, ondelete="cascade", index=True)
    company_id = SnapshotMany2one(
        "res.company",
        required=True,
        readonly=True,
        help="The company of the move or stock this event comes from (may differ from the recall's).",
    )
    direction = fields.Selection(DIRECTIONS, required=True)
    event = fields.Selection(EVENTS, required=True)
    lot_id = SnapshotMany2one("stock.lot", string="Lot/Serial Number", required=True, index=True)
    product_id = SnapshotMany2one("product.product", required=True)
    # index: deleting or merging a partner finds its lines (see SnapshotMany2one)
    partner_id = SnapshotMany2one("res.partner", index=True)
    picking_id = SnapshotMany2one("stock.picking", string="Transfer")
    move_line_id = SnapshotMany2one("stock.move.line")
    location_id = SnapshotMany2one("stock.location", string="From")
    location_dest_id = SnapshotMany2one("stock.location", string="To")
    quantity = fields.Float(digits="Product Unit of Measure", help="In the product's unit of measure.")
    uom_id = SnapshotMany2one("uom.uom", string="Unit")
    date = fields.Datetime()
    lot_relation = fields.Selection(
        [
            ("recalled", "Recalled Lot"),
            ("derived", "Made from a Recalled Lot"),
            ("component", "Went into a Recalled Lot"),
        ],
        required=True,
    )
    depth = fields.Integer(
        help="0 for the recalled lots; 1, 2, … for lots made from them (downstream) or that went "
        "into them (upstream)."
    )
    reference = fields.Char(help="The document behind the event: transfer, scrap or inventory reference.")
    create_uid = SnapshotMany2one("res.users", string="Created by", automatic=True, readonly=True)
    write_uid = SnapshotMany2one("res.users", string="Last Updated by", automatic=True, readonly=True)

    def init(self):
        """Drop what earlier versions made that slows the trace down: foreign keys of snapshot columns, indexes."""
        snapshot_columns = [name for name, field in self._fields.items() if isinstance(field, SnapshotMany2one)]
        rows = self.env.execute_query(
            SQL(
                """
                SELECT constraint_row.conname
                  FROM pg_constraint constraint_row
                  JOIN pg_attribute attribute ON attribute.attrelid = constraint_row.conrelid
                                             AND attribute.attnum = ANY(constraint_row.conkey)
                 WHERE constraint_row.contype = 'f'
                   AND constraint_row.conrelid = %s::regclass
                   AND attribute.attname = ANY(%s)
                """,
                self._table,
                snapshot_columns,
            )
        )
        for (name,) in rows:
            self.env.execute_query(
                SQL("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s", SQL.identifier(self._table), SQL.identifier(name))
            )
        # lines are always read by recall: indexes on company and direction only slowed every trace down
        for column in ("company_id", "direction"):
            self.env.execute_query(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(f"{self._table}__{column}_index")))

    @api.model
    def _replace_partners(self, partners, new_partner=None):
        """Point the lines of ``partners`` at ``new_partner`` (or at no one): their partner is going away.

        One statement on the partner index, whatever the companies and rights of the
        user deleting or merging the partners: lines have no foreign key to do it.
        """
        if partners:
            self.env.execute_query(
                SQL(
                    "UPDATE stock_lot_recall_line SET partner_id = %s WHERE partner_id = ANY(%s)",
                    new_partner.id if new_partner else None,
                    partners.ids,
                )
            )
            self.invalidate_model(["partner_id"])

    @api.model
    def _line_key_sql(self, alias):
        """A line's content as one text (ROW(...)::text: NULLs and empty strings kept apart), typed as stored.

        Byte-wise collation: the key is only compared for equality, and sorting 10,000 keys by the
        database's language rules took longer than the trace.
        """
        return SQL(
            'ROW(%s)::text COLLATE "C"',
            SQL(", ").join(
                SQL("%s::%s", SQL.identifier(alias, column), SQL(column_type)) for column, column_type in TRACE_COLUMNS
            ),
        )

    @api.model
    def _sql_event(self, source_usage, destination_usage, scrap):
        """The ``event`` of a done move line, from its locations' usages and whether either is a scrap location.

        The one classification of moves into trace events (``EVENTS``), shared by
        the trace and the traceability exports.
        """
        return SQL(
            """
            CASE
                WHEN %(source)s = 'supplier' THEN 'receipt'
                WHEN %(destination)s = 'supplier' THEN 'vendor_return'
                WHEN %(source)s = 'production' THEN 'production'
                WHEN %(destination)s = 'production' THEN 'consumption'
                WHEN %(destination)s = 'customer' THEN 'delivery'
                WHEN %(source)s = 'customer' THEN 'customer_return'
                WHEN %(scrap)s THEN 'scrap'
                WHEN %(source)s = 'inventory' OR %(destination)s = 'inventory' THEN 'adjustment'
                ELSE 'internal'
            END
            """,
            source=source_usage,
            destination=destination_usage,
            scrap=scrap,
        )

    @api.model
    def _affected_lots_sql(self, roots):
        """The common table expressions ``down``, ``up`` and ``affected`` of a trace from ``roots``.

        ``affected`` holds ``(lot_id, depth, upstream)``: the lots made from the
        roots (downstream, ``upstream`` false) and the lots that went into them
        (upstream), with their distance to the roots. Used after ``WITH
        RECURSIVE`` by the trace (``_trace_sql``) and by the traceability
        exports of lots (``stock.lot.action_export_epcis``).
        """
        return SQL(
            """
            down(lot_id, depth) AS (
                SELECT id, 0 FROM stock_lot WHERE id = ANY(%(roots)s)
                UNION ALL
                SELECT finished.lot_id, down.depth + 1
                  FROM down
                  JOIN stock_move_line component ON component.lot_id = down.lot_id AND component.state = 'done'
                  JOIN stock_move_line_consume_rel rel ON rel.produce_line_id = component.id
                  JOIN stock_move_line finished ON finished.id = rel.consume_line_id
                                               AND finished.lot_id IS NOT NULL AND finished.state = 'done'
            ) CYCLE lot_id SET down_cycle USING down_path,
            up(lot_id, depth) AS (
                SELECT id, 0 FROM stock_lot WHERE id = ANY(%(roots)s)
                UNION ALL
                SELECT component.lot_id, up.depth + 1
                  FROM up
                  JOIN stock_move_line finished ON finished.lot_id = up.lot_id AND finished.state = 'done'
                  JOIN stock_move_line_consume_rel rel ON rel.consume_line_id = finished.id
                  JOIN stock_move_line component ON component.id = rel.produce_line_id
                                                AND component.lot_id IS NOT NULL AND component.state = 'done'
            ) CYCLE lot_id SET up_cycle USING up_path,
            affected AS (
                -- a lot both downstream and upstream (rework loop) counts as downstream
                SELECT lot_id, MIN(depth) AS depth, FALSE AS upstream FROM down GROUP BY lot_id
                UNION ALL
                SELECT lot_id, MIN(depth), TRUE FROM up
                 WHERE lot_id NOT IN (SELECT lot_id FROM down) GROUP BY lot_id
            )
            """,
            roots=list(roots),
        )

    @api.model
    def _insert_trace_sql(self, recall, roots, company_ids):
        """One statement that brings the stored trace of ``recall`` up to date with ``_trace_sql``.

        Lines of ``company_ids`` that the new trace no longer has are deleted, lines
        it adds are inserted, and lines it still has are kept as they are (same
        id, so customer notices keep pointing at them). A first trace inserts every
        line; tracing again an unchanged recall writes nothing.
        """
        now = fields.Datetime.now()
        columns = SQL(", ").join(SQL.identifier(column) for column, _type in TRACE_COLUMNS)
        trace = self._trace_sql(roots, company_ids, now)
        if not recall.traced_date:
            # a first trace: nothing stored to compare with
            return SQL(
                """
                INSERT INTO stock_lot_recall_line (
                    recall_id, %(columns)s, create_uid, create_date, write_uid, write_date)
                SELECT %(recall)s, trace.*, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM (%(trace)s) trace
                """,
                columns=columns,
                trace=trace,
                recall=recall.id,
                uid=self.env.uid,
                now=now,
            )
        # Both sides in one list grouped by content with a window (a sort), not joined: the planner
        # cannot estimate the trace's size and chose a nested loop (n² key comparisons) for a join.
        return SQL(
            """
            WITH trace AS MATERIALIZED (%(trace)s),
            combined AS (
                SELECT %(trace_columns)s, %(trace_key)s AS line_key, NULL::integer AS stored_id FROM trace
                UNION ALL
                SELECT %(null_columns)s, %(line_key)s, line.id
                  FROM stock_lot_recall_line line
                 WHERE line.recall_id = %(recall)s AND line.company_id = ANY(%(company_ids)s)
            ),
            marked AS (
                SELECT combined.*, COUNT(stored_id) OVER by_content AS stored,
                       COUNT(*) OVER by_content - COUNT(stored_id) OVER by_content AS traced
                  FROM combined
                WINDOW by_content AS (PARTITION BY line_key)
            ),
            removed AS (
                DELETE FROM stock_lot_recall_line
                 WHERE id IN (SELECT stored_id FROM marked WHERE stored_id IS NOT NULL AND traced = 0)
            )
            INSERT INTO stock_lot_recall_line (recall_id, %(columns)s, create_uid, create_date, write_uid, write_date)
            SELECT %(recall)s, %(columns)s, %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM marked
             WHERE stored_id IS NULL AND stored = 0
            """,
            trace=trace,
            trace_key=self._line_key_sql("trace"),
            line_key=self._line_key_sql("line"),
            columns=columns,
            trace_columns=SQL(", ").join(
                SQL("%s::%s AS %s", SQL.identifier("trace", column), SQL(column_type), SQL.identifier(column))
                for column, column_type in TRACE_COLUMNS
            ),
            null_columns=SQL(", ").join(SQL("NULL::%s", SQL(column_type)) for _column, column_type in TRACE_COLUMNS),
            recall=recall.id,
            company_ids=list(company_ids),
            uid=self.env.uid,
            now=now,
        )

    @api.model
    def _trace_sql(self, roots, company_ids, now):
        """The whole trace of ``roots`` as one SELECT of the line's columns, from company_id to lot_relation.

        The genealogy is a recursive walk over the consumed/produced relation of
        move lines (``stock_move_line_consume_rel``: ``consume_line_id`` is the
        finished line, ``produce_line_id`` the component line), with PostgreSQL's
        CYCLE clause so that rework loops end. Downstream lots (made from the
        recalled ones) and upstream lots (that went into them) are then joined to
        their done move lines and current quants. The number of queries does not
        depend on the size of the trace. Only moves and quants of ``company_ids``
        are traced, and each line takes the company of its move or quant.
        """
        return SQL(
            """
            WITH RECURSIVE %(affected_lots)s,
            events AS (
                SELECT affected.lot_id, affected.depth, affected.upstream, line.id AS move_line_id,
                       line.company_id,
                       line.picking_id, line.location_id, line.location_dest_id, line.date,
                       line.product_id, product_uom.id AS uom_id,
                       ROUND((line.quantity / line_uom.factor * product_uom.factor)::numeric,
                             6)::double precision AS quantity,
                       COALESCE(picking.name, line.reference) AS reference,
                       COALESCE(commercial.id, partner.id) AS partner_id,
                       source.usage AS source_usage, destination.usage AS destination_usage,
                       destination.scrap_location AS to_scrap, source.scrap_location AS from_scrap
                  FROM affected
                  JOIN stock_move_line line ON line.lot_id = affected.lot_id AND line.state = 'done'
                  JOIN stock_location source ON source.id = line.location_id
                  JOIN stock_location destination ON destination.id = line.location_dest_id
                  JOIN product_product product ON product.id = line.product_id
                  JOIN product_template template ON template.id = product.product_tmpl_id
                  JOIN uom_uom product_uom ON product_uom.id = template.uom_id
                  JOIN uom_uom line_uom ON line_uom.id = line.product_uom_id
             LEFT JOIN stock_move move ON move.id = line.move_id
             LEFT JOIN stock_picking picking ON picking.id = line.picking_id
             LEFT JOIN res_partner partner ON partner.id = COALESCE(picking.partner_id, move.partner_id)
             LEFT JOIN res_partner commercial ON commercial.id = partner.commercial_partner_id
                 WHERE line.company_id = ANY(%(company_ids)s)
            ),
            classified AS (
                SELECT events.*, %(event)s AS event
                  FROM events
            )
            SELECT company_id,
                   CASE
                       WHEN upstream OR event IN ('receipt', 'vendor_return')
                            OR (event = 'production' AND depth = 0) THEN 'upstream'
                       WHEN event IN ('internal', 'adjustment') THEN 'internal'
                       ELSE 'downstream'
                   END AS direction,
                   event, lot_id, product_id,
                   CASE WHEN event IN ('receipt', 'vendor_return', 'delivery', 'customer_return')
                        THEN partner_id END AS partner_id,
                   picking_id, move_line_id, location_id, location_dest_id, quantity, uom_id, date,
                   depth, reference,
                   CASE WHEN depth = 0 THEN 'recalled' WHEN upstream THEN 'component' ELSE 'derived'
                   END AS lot_relation
              FROM classified
            UNION ALL
            SELECT quant.company_id, 'on_hand', 'on_hand', quant.lot_id, quant.product_id, NULL, NULL,
                   NULL, quant.location_id, NULL, SUM(quant.quantity), template.uom_id, %(now)s,
                   affected.depth, NULL,
                   CASE WHEN affected.depth = 0 THEN 'recalled'
                        WHEN affected.upstream THEN 'component' ELSE 'derived' END
              FROM affected
              JOIN stock_quant quant ON quant.lot_id = affected.lot_id
              JOIN stock_location location ON location.id = quant.location_id
                                          AND location.usage IN ('internal', 'transit')
              JOIN product_product product ON product.id = quant.product_id
              JOIN product_template template ON template.id = product.product_tmpl_id
             WHERE quant.company_id = ANY(%(company_ids)s)
          GROUP BY quant.company_id, quant.lot_id, quant.product_id, quant.location_id, template.uom_id,
                   affected.depth,
                   affected.upstream
            HAVING SUM(quant.quantity) <> 0
            """,
            affected_lots=self._affected_lots_sql(roots),
            event=self._sql_event(SQL("source_usage"), SQL("destination_usage"), SQL("(to_scrap OR from_scrap)")),
            company_ids=list(company_ids),
            now=now,
        )
