from odoo import api, fields, models
from odoo.tools import SQL

# The movements between a roll-forward's opening and closing, in their order on screen and on
# paper: (flow, label, sign in closing = opening + receipts + production + returns - deliveries -
# consumption - write-offs + revaluation). Outflows are shown as positive numbers.
FLOWS = [
    ("receipt", "Receipts", 1),
    ("production", "Production", 1),
    ("return", "Customer Returns", 1),
    ("delivery", "Deliveries (COGS)", -1),
    ("consumption", "Consumption", -1),
    ("writeoff", "Scrap & Inventory Losses", -1),
]

# What the kept movements are read from, per model, flushed before each sync. Writing one of these
# fields on layers or done lines syncs their moves again (``_sync_moves``), on locations or companies
# rebuilds the table; a move syncs when it changes places or is validated (its state changes there).
MOVEMENT_SOURCES = {
    "stock.move": ("state", "location_id", "location_dest_id"),
    "stock.move.line": (
        "state",
        "date",
        "quantity",
        "quantity_product_uom",
        "product_uom_id",
        "product_id",
        "lot_id",
        "owner_id",
        "location_id",
        "location_dest_id",
        "move_id",
    ),
    "stock.valuation.layer": (
        "create_date",
        "company_id",
        "product_id",
        "lot_id",
        "value",
        "quantity",
        "stock_move_id",
    ),
    "stock.location": ("usage", "company_id"),
    "res.company": ("partner_id",),
}


class StockLotValuationMovement(models.Model):
    """The roll-forward's movements, classified once per stock move instead of at every read.

    Per move, its done lines' quantities entering or leaving a company's valued stock
    (``kind`` "quantity", dated by the line) and its layers with a quantity (dated by the
    layer) twice: by the layer's own lot ("layer", what a product valued by lot reads) and
    shared among the move's lots by quantity ("spread", what a product valued by product
    reads) — each classified into a flow (``FLOWS``) by ``_sql_movement_rows``, the one
    definition the roll-forward reads (``stock.lot.valuation.rollforward``: the rows of the
    period, by the date index, instead of classifying every line and layer of it).

    Kept by the moves: a move's rows are deleted and made again from its lines and layers as
    they are now (``_sync_moves``) whenever one of them is made, changed (``MOVEMENT_SOURCES``)
    or deleted, and when the move is validated. Syncing is idempotent: a layer made inside a
    line's write (core's correction layers) is synced again when the write ends, with the
    line's new quantity. A location whose type or company changes, or a company's partner (the
    stock a company owns), rebuilds the table (``_rebuild``, also run at every module update;
    code that writes lines or layers by SQL calls it after). Done lines always belong to a move
    (core makes one for a line without); a line without move is not a movement here.
    """

    _name = "stock.lot.valuation.movement"
    _description = "Valuation Movement per Move and Lot"
    _log_access = False
    _order = "date desc, id desc"
    _rec_name = "flow"

    move_id = fields.Many2one("stock.move", required=True, readonly=True, index=True, ondelete="cascade")
    date = fields.Datetime(required=True, readonly=True, help="The line's date, or the layer's creation.")
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    product_id = fields.Many2one("product.product", required=True, readonly=True, ondelete="cascade")
    lot_id = fields.Many2one(
        "stock.lot", string="Lot/Serial", readonly=True, index="btree_not_null", ondelete="cascade"
    )
    flow = fields.Selection([(flow, label) for flow, label, _sign in FLOWS], required=True, readonly=True)
    kind = fields.Selection(
        [("quantity", "Quantity"), ("layer", "Value by the layer's lot"), ("spread", "Value shared by quantity")],
        required=True,
        readonly=True,
    )
    quantity = fields.Float(digits=(16, 6), readonly=True, help="Into the valued stock (> 0) or out of it (< 0).")
    value = fields.Float(digits=(16, 6), readonly=True)

    def init(self):
        # the roll-forward reads a period's rows by date, with all it needs
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS stock_lot_valuation_movement_date_index
                ON stock_lot_valuation_movement (date)
                INCLUDE (company_id, product_id, lot_id, flow, kind, quantity, value)
            """
        )
        self._rebuild()

    # ------------------------------------------------------------------
    # The movements
    # ------------------------------------------------------------------
    @api.model
    def _sql_movement_rows(self, move_condition):
        """SQL rows of the table's columns (but ``id``) for the moves ``move_condition`` keeps (alias
        ``move``), from their lines and layers as they are now."""
        rollforward = self.env["stock.lot.valuation.rollforward"]
        return SQL(
            """
            WITH move AS (
                SELECT move.id, move.location_id, move.location_dest_id FROM stock_move move WHERE %(move_condition)s
            ),
            valued_location AS (%(valued_location)s),
            layer AS (
                SELECT svl.stock_move_id AS move_id, svl.create_date AS date, svl.company_id, svl.product_id,
                       svl.lot_id, svl.value, %(layer_flow)s AS flow
                  FROM stock_valuation_layer svl
                  JOIN move ON move.id = svl.stock_move_id
                  JOIN stock_location src ON src.id = move.location_id
                  JOIN stock_location dest ON dest.id = move.location_dest_id
                 WHERE svl.quantity <> 0
            ),
            move_lot AS (
                -- the lots of the moves, by quantity
                SELECT ml.move_id, ml.lot_id, SUM(ml.quantity_product_uom) AS quantity,
                       SUM(SUM(ml.quantity_product_uom)) OVER (PARTITION BY ml.move_id) AS move_quantity
                  FROM stock_move_line ml
                  JOIN move ON move.id = ml.move_id
                 WHERE ml.state = 'done'
                 GROUP BY ml.move_id, ml.lot_id
            )
            -- each done line on each side in a company's valued stock, unless the other side is in the
            -- same company's valued stock (stock moved inside the company)
            SELECT ml.move_id, ml.date, loc.company_id, ml.product_id, ml.lot_id, %(line_flow)s AS flow,
                   'quantity' AS kind, SUM(side.sign * ml.quantity_product_uom) AS quantity, 0 AS value
              FROM stock_move_line ml
              JOIN move ON move.id = ml.move_id
             CROSS JOIN LATERAL (VALUES (ml.location_dest_id, ml.location_id, 1),
                                        (ml.location_id, ml.location_dest_id, -1))
                   AS side(location_id, other_id, sign)
              JOIN valued_location loc ON loc.id = side.location_id
              JOIN stock_location other ON other.id = side.other_id
             WHERE ml.state = 'done'
               AND (ml.owner_id IS NULL OR ml.owner_id = loc.company_partner_id)
               AND NOT (other.company_id = loc.company_id AND other.usage IN ('internal', 'transit'))
             GROUP BY 1, 2, 3, 4, 5, 6
             UNION ALL
            SELECT layer.move_id, layer.date, layer.company_id, layer.product_id, layer.lot_id, layer.flow,
                   'layer', 0, SUM(layer.value)
              FROM layer
             GROUP BY 1, 2, 3, 4, 5, 6
             UNION ALL
            SELECT layer.move_id, layer.date, layer.company_id, layer.product_id, move_lot.lot_id, layer.flow,
                   'spread', 0,
                   SUM(CASE WHEN move_lot.move_id IS NULL THEN layer.value
                            ELSE layer.value * move_lot.quantity / move_lot.move_quantity END)
              FROM layer
         LEFT JOIN move_lot ON move_lot.move_id = layer.move_id AND move_lot.move_quantity <> 0
             GROUP BY 1, 2, 3, 4, 5, 6
            """,
            move_condition=move_condition,
            valued_location=self.env["stock.lot.valuation.report"]._sql_valued_location(),
            line_flow=rollforward._sql_flow(SQL("side.sign > 0"), SQL("other.usage")),
            layer_flow=rollforward._sql_flow(
                SQL("svl.quantity > 0"), SQL("CASE WHEN svl.quantity > 0 THEN src.usage ELSE dest.usage END")
            ),
        )

    @api.model
    def _sql_insert(self, move_condition):
        return SQL(
            "INSERT INTO stock_lot_valuation_movement "
            "(move_id, date, company_id, product_id, lot_id, flow, kind, quantity, value) %s",
            self._sql_movement_rows(move_condition),
        )

    @api.model
    def _flush_sources(self):
        """Write what the movements read (only that: flushing everything in the middle of a validation
        would post other models' tracking messages early)."""
        for model, field_names in MOVEMENT_SOURCES.items():
            self.env[model].flush_model(field_names)

    # ------------------------------------------------------------------
    # Keeping them
    # ------------------------------------------------------------------
    @api.model
    def _sync_moves(self, moves):
        """Make the rows of ``moves`` again from their lines and layers as they are now (one DELETE, one
        INSERT whatever their number)."""
        move_ids = sorted(set(moves.ids))
        if not move_ids:
            return
        self._flush_sources()
        self.env.cr.execute(SQL("DELETE FROM stock_lot_valuation_movement WHERE move_id = ANY(%s)", move_ids))
        self.env.cr.execute(self._sql_insert(SQL("move.id = ANY(%s)", move_ids)))
        self.invalidate_model()

    @api.model
    def _rebuild_if_written(self, model_name, vals):
        """``_rebuild`` when ``vals`` written on ``model_name`` change what every move's movements are."""
        if set(MOVEMENT_SOURCES[model_name]) & set(vals):
            self._rebuild()

    @api.model
    def _rebuild(self):
        """Make the whole table again from every move (one DELETE, one INSERT)."""
        self._flush_sources()
        self.env.cr.execute(SQL("DELETE FROM stock_lot_valuation_movement"))
        self.env.cr.execute(self._sql_insert(SQL("TRUE")))
        self.invalidate_model()
