from odoo import api, fields, models
from odoo.tools import SQL


class StockLotCount(models.Model):
    """One applied physical count of a lot in a location: what the system held and what was counted.

    Written by ``stock.quant._apply_inventory`` for every lot-tracked quant it
    applies, also when the count matched (difference zero): lot-level inventory
    accuracy (the overview's ``lot_accuracy``) is the share of counts without a
    difference. A record of what happened, so nobody edits it.
    """

    _name = "stock.lot.count"
    _description = "Lot Count"
    _order = "date desc, id desc"
    _rec_name = "lot_id"

    lot_id = fields.Many2one("stock.lot", string="Lot/Serial", required=True, readonly=True, index=True)
    product_id = fields.Many2one("product.product", required=True, readonly=True, index=True)
    location_id = fields.Many2one("stock.location", required=True, readonly=True, index=True)
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    system_qty = fields.Float(
        string="System Quantity",
        digits="Product Unit of Measure",
        readonly=True,
        help="What the system held when the count was applied.",
    )
    counted_qty = fields.Float(string="Counted Quantity", digits="Product Unit of Measure", readonly=True)
    difference_qty = fields.Float(
        string="Difference", digits="Product Unit of Measure", readonly=True, help="Counted minus system quantity."
    )
    is_accurate = fields.Boolean(
        string="Matched",
        readonly=True,
        help="The counted quantity equalled the system quantity (to the unit's rounding).",
    )
    user_id = fields.Many2one("res.users", string="Applied By", readonly=True)
    date = fields.Datetime(required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)

    @api.model
    def _record_from_quants(self, quants):
        """Record the counts being applied on ``quants`` (those with a lot), in one INSERT … SELECT.

        Reads the quants' stored quantity and counted difference before core
        applies them (and clears the count): what the inventory move will fix.
        """
        if not quants:
            return
        self.env.flush_all()
        now = fields.Datetime.now()
        uid = self.env.uid
        self.env.execute_query(
            SQL(
                """
                INSERT INTO stock_lot_count (
                    lot_id, product_id, location_id, system_qty, counted_qty, difference_qty, is_accurate,
                    user_id, date, company_id, create_uid, create_date, write_uid, write_date)
                SELECT quant.lot_id, quant.product_id, quant.location_id, quant.quantity,
                       quant.quantity + COALESCE(quant.inventory_diff_quantity, 0),
                       COALESCE(quant.inventory_diff_quantity, 0),
                       ABS(COALESCE(quant.inventory_diff_quantity, 0)) < uom.rounding / 2,
                       %(uid)s, %(now)s, location.company_id, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM stock_quant quant
                  JOIN stock_location location ON location.id = quant.location_id
                  JOIN product_product product ON product.id = quant.product_id
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                  JOIN uom_uom uom ON uom.id = tmpl.uom_id
                 WHERE quant.id = ANY(%(ids)s)
                   AND quant.lot_id IS NOT NULL
                   AND location.company_id IS NOT NULL
                """,
                ids=quants.ids,
                uid=uid,
                now=now,
            )
        )
        self.invalidate_model()
