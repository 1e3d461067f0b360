from odoo import api, fields, models


class StockWarehouseOrderpoint(models.Model):
    """Replenishment with expiry risk: the most the current demand sells within the product's shelf life."""

    _inherit = "stock.warehouse.orderpoint"

    expiry_sellable_qty = fields.Float(
        string="Sellable in Shelf Life",
        digits="Product Unit of Measure",
        compute="_compute_expiry_sellable_qty",
        help="The product's daily demand from this warehouse (customer deliveries net of returns over the "
        "company's demand window) times its expiration time: stock beyond this, on hand, incoming and "
        "ordered together, is projected to expire unsold. 0 for products without expiration dates.",
    )

    @api.depends("product_id", "warehouse_id")
    def _compute_expiry_sellable_qty(self):
        """One demand query per warehouse, whatever the number of orderpoints."""
        self.expiry_sellable_qty = 0.0
        perishable = self.filtered(
            lambda orderpoint: orderpoint.product_id.use_expiration_date and orderpoint.product_id.expiration_time > 0
        )
        for warehouse, orderpoints in perishable.grouped("warehouse_id").items():
            demand = self.env["stock.lot"]._get_daily_demand(orderpoints.product_id._origin, warehouse._origin)
            for orderpoint in orderpoints:
                product = orderpoint.product_id._origin
                orderpoint.expiry_sellable_qty = demand.get(product, 0.0) * product.expiration_time
