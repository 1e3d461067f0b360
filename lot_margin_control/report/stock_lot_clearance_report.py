from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL


class StockLotClearanceReport(models.Model):
    """Clearance list: marked-down lots that can still be sold, per warehouse, with what they could bring in.

    A lot appears while it has stock in internal locations of a warehouse, is
    released and has not expired (at query time, not only at the last markdown
    refresh). Read-only SQL query (``_table_query``), so it is always current.
    """

    _name = "stock.lot.clearance.report"
    _description = "Clearance: Marked-Down Lots on Hand"
    _auto = False
    _rec_name = "lot_id"
    _order = "expiration_date, lot_id, id"
    _depends = {
        "stock.quant": ["lot_id", "location_id", "company_id", "quantity", "reserved_quantity"],
        "stock.location": ["usage", "warehouse_id"],
        "stock.lot": [
            "product_id",
            "expiration_date",
            "quality_state",
            "markdown_rule_id",
            "markdown_discount",
            "markdown_price",
        ],
        "product.product": ["product_tmpl_id"],
        "product.template": ["categ_id", "uom_id"],
        "res.company": ["currency_id"],
    }

    lot_id = fields.Many2one("stock.lot", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    uom_id = fields.Many2one("uom.uom", string="Unit", readonly=True)
    quantity = fields.Float(string="On Hand", digits="Product Unit of Measure", readonly=True)
    available_quantity = fields.Float(
        string="Available", digits="Product Unit of Measure", readonly=True, help="On hand and not reserved."
    )
    expiration_date = fields.Datetime(readonly=True)
    remaining_shelf_life_days = fields.Integer(string="Days Left", readonly=True, aggregator="min")
    markdown_rule_id = fields.Many2one("stock.lot.markdown.rule", readonly=True)
    markdown_discount = fields.Float(string="Markdown (%)", digits="Discount", readonly=True, aggregator="avg")
    markdown_price = fields.Monetary(readonly=True, aggregator=None)
    potential_revenue = fields.Monetary(readonly=True, help="Quantity on hand at the markdown price.")

    @property
    def _table_query(self):
        now = self.env["stock.lot"]._shelf_life_now()
        return SQL(
            """
            SELECT MIN(quant.id) AS id,
                   lot.id AS lot_id,
                   lot.product_id,
                   tmpl.categ_id,
                   quant.company_id,
                   location.warehouse_id,
                   company.currency_id,
                   tmpl.uom_id,
                   SUM(quant.quantity) AS quantity,
                   SUM(quant.quantity - quant.reserved_quantity) AS available_quantity,
                   lot.expiration_date,
                   %(days_left)s AS remaining_shelf_life_days,
                   lot.markdown_rule_id,
                   lot.markdown_discount,
                   lot.markdown_price,
                   SUM(quant.quantity) * lot.markdown_price AS potential_revenue
              FROM stock_quant quant
              JOIN stock_location location ON location.id = quant.location_id AND location.usage = 'internal'
              JOIN stock_lot lot ON lot.id = quant.lot_id
              JOIN product_product product ON product.id = lot.product_id
              JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
              JOIN res_company company ON company.id = quant.company_id
             WHERE lot.markdown_rule_id IS NOT NULL
               AND lot.quality_state = 'released'
               AND lot.expiration_date > %(now)s
             GROUP BY lot.id, tmpl.id, quant.company_id, location.warehouse_id, company.id
            HAVING SUM(quant.quantity) > 0
            """,
            now=now,
            days_left=self.env["stock.lot"]._sql_days_left(now, "lot"),
        )

    def action_create_quotation(self):
        """Open the quotation wizard for the selected lots: one warehouse and one company at a time."""
        if not self:
            raise UserError(self.env._("Select the lots to put on a quotation."))
        if len(self.company_id) > 1 or len(self.warehouse_id) > 1 or not self.warehouse_id:
            raise UserError(
                self.env._(
                    "Select lots of one warehouse: a quotation ships from a single warehouse. "
                    "Group the list by warehouse to choose them."
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Create Quotation"),
            "res_model": "stock.lot.clearance.quotation.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_lot_ids": self.lot_id.ids,
                "default_warehouse_id": self.warehouse_id.id,
                "default_company_id": self.company_id.id,
            },
        }
