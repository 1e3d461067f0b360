from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import index_exists

from .stock_location import QUARANTINE_RECEIPT_PUTAWAY
from .stock_lot_demand_day import DEMAND_LINE_FIELDS
from .stock_lot_valuation_movement import MOVEMENT_SOURCES


class StockMoveLine(models.Model):
    """Lots typed or scanned on operations obey the same gate as automatic reservation."""

    _inherit = "stock.move.line"

    lot_quality_state = fields.Selection(related="lot_id.quality_state", string="Quality Status")
    lot_shelf_life_state = fields.Selection(related="lot_id.shelf_life_state", string="Shelf Life")
    # FEFO compliance, written once when a customer delivery line is validated.
    fefo_checked = fields.Boolean(string="FEFO Checked", readonly=True, copy=False)
    fefo_compliant = fields.Boolean(
        string="FEFO Compliant",
        readonly=True,
        copy=False,
        help="Set when the line was validated: no released lot of the product that expired earlier "
        "and still had the customer's shelf life was available in the warehouse.",
    )
    fefo_compliance_rate = fields.Float(
        string="FEFO Compliance (%)", readonly=True, copy=False, aggregator="avg", digits=(16, 1)
    )
    fefo_earlier_lot_id = fields.Many2one(
        "stock.lot",
        string="Earlier Lot Available",
        readonly=True,
        copy=False,
        # deleting a lot sets it to NULL here: without an index, one scan of every move line per lot
        index="btree_not_null",
        help="The earliest-expiring eligible lot that was on hand when this line shipped a later one.",
    )
    fefo_warehouse_id = fields.Many2one("stock.warehouse", string="FEFO Warehouse", readonly=True, copy=False)
    fefo_user_id = fields.Many2one("res.users", string="Validated By", readonly=True, copy=False)

    def init(self):
        result = super().init()
        # Demand (stock.lot._sql_daily_demand) reads the done lines of the last weeks by date: an
        # index-only range scan of this instead of a scan of the whole table (README, Performance).
        if not index_exists(self.env.cr, "stock_move_line_lmc_done_date_index"):
            self.env.cr.execute(
                """
                CREATE INDEX stock_move_line_lmc_done_date_index ON stock_move_line (date)
                INCLUDE (product_id, location_id, location_dest_id, company_id, quantity_product_uom)
                WHERE state = 'done'
                """
            )
        # The overview's FEFO compliance reads the checked lines of its periods: a tenth of the lines
        # (measured at 1,000,000 lines: 14 ms instead of 150 ms for two months)
        if not index_exists(self.env.cr, "stock_move_line_lmc_fefo_date_index"):
            self.env.cr.execute(
                """
                CREATE INDEX stock_move_line_lmc_fefo_date_index ON stock_move_line (date)
                INCLUDE (fefo_compliant, company_id) WHERE fefo_checked AND state = 'done'
                """
            )
        return result

    def _check_lot_gate(self):
        """Refuse lines whose lot their move's gate does not let through (see stock.move ``_get_lot_gate``).

        Also for done lines: changing the lot of a validated delivery moves stock
        of the new lot out, which is shipping it.
        """
        for line in self:
            if not line.lot_id or not line.move_id or line.state == "cancel":
                continue
            gate = line.move_id._get_lot_gate()
            refusal = gate and gate.refusal(line.lot_id)
            if refusal:
                raise UserError(
                    self.env._(
                        "Lot %(lot)s of %(product)s cannot be used on %(operation)s: it is %(reason)s. "
                        "Choose a released lot, or move this one to scrap, to quarantine or back "
                        "to the vendor.",
                        lot=line.lot_id.name,
                        product=line.product_id.display_name,
                        operation=line.picking_id.name or line.move_id.reference or line.move_id.name,
                        reason=refusal,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._check_lot_gate()
        # a line added to a validated operation is done at once (stock.move._action_done counts the others)
        done = lines.filtered(lambda line: line.state == "done")
        self.env["stock.lot.demand.day"]._add_lines(done)
        self.env["stock.lot.valuation.movement"]._sync_moves(done.move_id)
        return lines

    def write(self, vals):
        # a done line whose quantity, product, places, date or company change: its old figures go out
        # of the daily demand, its new ones come in
        done = self.filtered(lambda line: line.state == "done") if DEMAND_LINE_FIELDS & set(vals) else self.browse()
        demand = self.env["stock.lot.demand.day"]
        demand._add_lines(done, sign=-1)
        # and the movements of their moves, before and after, made again (core makes correction layers
        # inside this write, before the new quantity is written)
        moving = set(MOVEMENT_SOURCES["stock.move.line"]) & set(vals)
        moves = self.filtered(lambda line: line.state == "done").move_id if moving else self.env["stock.move"]
        result = super().write(vals)
        demand._add_lines(done.exists())
        if moving:
            moves |= self.filtered(lambda line: line.state == "done").move_id
            self.env["stock.lot.valuation.movement"]._sync_moves(moves)
        if {"lot_id", "move_id", "location_id", "location_dest_id"} & set(vals):
            self._check_lot_gate()
        if vals.get("lot_id"):
            self._apply_near_expiry_putaway()
        return result

    def unlink(self):
        moves = self.filtered(lambda line: line.state == "done").move_id
        result = super().unlink()
        self.env["stock.lot.valuation.movement"]._sync_moves(moves.exists())
        return result

    def _apply_putaway_strategy(self):
        """Receipts from vendors may be sent to quarantine (see stock.location)."""
        receipts = self.filtered(lambda line: line.move_id.location_id.usage == "supplier")
        key, token = QUARANTINE_RECEIPT_PUTAWAY
        super(StockMoveLine, receipts.with_context(**{key: token}))._apply_putaway_strategy()
        result = super(StockMoveLine, self - receipts)._apply_putaway_strategy()
        self._apply_near_expiry_putaway()
        return result

    def _apply_near_expiry_putaway(self):
        """Direct near-expiry and expired lots to their putaway rule's clearance location.

        Core putaway runs before the lot is known (no lot is passed to it), so this
        runs again whenever a lot is set on a line that is not done yet.
        """
        for line in self.filtered(
            lambda line: line.lot_id.shelf_life_state in ("near_expiry", "expired")
            and line.move_id
            and line.state not in ("done", "cancel")
            and line.lot_id.quality_state == "released"
        ):
            rule = line.move_id.location_dest_id.putaway_rule_ids._get_near_expiry_rule(line.product_id)
            if rule and line.location_dest_id != rule.near_expiry_location_out_id:
                line.location_dest_id = rule.near_expiry_location_out_id

    def _record_fefo_compliance(self):
        """Record, before stock moves, whether each customer line shipped the earliest eligible lot.

        Eligible: a released lot of the same product with free (unreserved) stock in
        an internal location of the same warehouse, still meeting the delivery's
        shelf-life requirement. Lines are grouped by (product, warehouse, first
        acceptable expiry); each group's earliest eligible lot is found once, and a
        line that shipped a lot expiring later than it is not compliant. One SELECT
        and one UPDATE whatever the number of lines (plus the reads of their few
        moves and locations).
        """
        if not self:
            return
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT line.id, line.product_id, line.location_id, line.move_id, lot.expiration_date
                  FROM stock_move_line line
                  JOIN stock_lot lot ON lot.id = line.lot_id
                  JOIN stock_location destination ON destination.id = line.location_dest_id
                 WHERE line.id = ANY(%s)
                   AND destination.usage = 'customer'
                   AND lot.expiration_date IS NOT NULL
                   AND line.fefo_checked IS NOT TRUE
                """,
                self.ids,
            )
        )
        if not rows:
            return
        now = fields.Datetime.now()
        warehouse_of = {
            location.id: location.warehouse_id
            for location in self.env["stock.location"].browse({row[2] for row in rows})
        }
        eligible_after = {}
        for move in self.env["stock.move"].browse({row[3] for row in rows if row[3]}):
            gate = move._get_lot_gate()
            eligible_after[move.id] = (gate and gate.expiry_limit) or now
        values = [
            SQL(
                "(%s, %s, %s, %s, %s::timestamp, %s::timestamp)",
                line_id,
                product_id,
                warehouse_of[location_id].id,
                warehouse_of[location_id].view_location_id.parent_path + "%",
                expiry,
                eligible_after.get(move_id, now),
            )
            for line_id, product_id, location_id, move_id, expiry in rows
            if warehouse_of[location_id]
        ]
        if not values:
            return
        self.env.execute_query(
            SQL(
                """
                WITH line(id, product_id, warehouse_id, warehouse_pattern, expiration_date, eligible_after) AS (
                    VALUES %(values)s
                ), grp AS (
                    SELECT DISTINCT product_id, warehouse_pattern, eligible_after FROM line
                ), earliest AS (
                    SELECT DISTINCT ON (grp.product_id, grp.warehouse_pattern, grp.eligible_after)
                           grp.product_id, grp.warehouse_pattern, grp.eligible_after,
                           other.id AS lot_id, other.expiration_date
                      FROM grp
                      JOIN stock_quant quant ON quant.product_id = grp.product_id
                                            AND quant.quantity - quant.reserved_quantity > 0
                      JOIN stock_location location ON location.id = quant.location_id
                                                  AND location.usage = 'internal'
                                                  AND location.parent_path LIKE grp.warehouse_pattern
                      JOIN stock_lot other ON other.id = quant.lot_id
                     WHERE other.expiration_date > grp.eligible_after
                       AND other.quality_state = 'released'
                  ORDER BY grp.product_id, grp.warehouse_pattern, grp.eligible_after, other.expiration_date, other.id
                )
                UPDATE stock_move_line move_line
                   SET fefo_checked = TRUE,
                       fefo_compliant = earlier.lot_id IS NULL,
                       fefo_compliance_rate = CASE WHEN earlier.lot_id IS NULL THEN 100.0 ELSE 0.0 END,
                       fefo_earlier_lot_id = earlier.lot_id,
                       fefo_warehouse_id = line.warehouse_id,
                       fefo_user_id = %(user_id)s
                  FROM line
             LEFT JOIN earliest earlier ON earlier.product_id = line.product_id
                                       AND earlier.warehouse_pattern = line.warehouse_pattern
                                       AND earlier.eligible_after = line.eligible_after
                                       AND earlier.expiration_date < line.expiration_date
                 WHERE move_line.id = line.id
                """,
                values=SQL(", ").join(values),
                user_id=self.env.user.id,
            )
        )
        self.invalidate_recordset(
            [
                "fefo_checked",
                "fefo_compliant",
                "fefo_compliance_rate",
                "fefo_earlier_lot_id",
                "fefo_warehouse_id",
                "fefo_user_id",
            ]
        )

    def _action_done(self):
        self._check_lot_gate()
        self._record_fefo_compliance()
        result = super()._action_done()
        # (the lines' state is the move's, which becomes done only after this)
        received = self.exists().filtered(
            lambda line: line.lot_id
            and line.location_id.usage == "supplier"
            and line.product_id.product_tmpl_id._requires_lot_quarantine()
        )
        lots = received.lot_id.filtered(lambda lot: lot.quality_state == "released")
        if lots:
            lots.sudo().write(
                {"quality_state": "quarantine", "quality_state_reason": self.env._("Quarantine on receipt")}
            )
        return result
