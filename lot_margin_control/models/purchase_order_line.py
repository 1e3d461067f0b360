from odoo import api, models
from odoo.tools import formatLang


class PurchaseOrderLine(models.Model):
    """Expiry risk at purchase: warn (never block) before buying more than demand can sell in time."""

    _inherit = "purchase.order.line"

    def _get_expiry_risk_excess(self):
        """``(unsold, ordered, daily demand)`` in the product's unit when on hand + incoming + this
        line's quantity, in the order's warehouse, exceeds what the current daily demand
        (``stock.lot._get_daily_demand``) sells within the product's expiration time; else False.

        ``unsold`` is the part of this line projected to expire unsold (at most the line's quantity).
        """
        self.ensure_one()
        product = self.product_id
        warehouse = self.order_id.picking_type_id.warehouse_id
        if not (product.is_storable and product.use_expiration_date and product.expiration_time > 0 and warehouse):
            return False
        ordered = self.product_uom._compute_quantity(self.product_qty, product.uom_id)
        if ordered <= 0:
            return False
        daily = self.env["stock.lot"]._get_daily_demand(product, warehouse).get(product, 0.0)
        stocked = product.with_context(warehouse_id=warehouse.id)
        excess = stocked.qty_available + stocked.incoming_qty + ordered - daily * product.expiration_time
        if excess <= 0:
            return False
        return min(excess, ordered), ordered, daily

    @api.onchange("product_id", "product_qty", "product_uom")
    def _onchange_expiry_risk_warning(self):
        excess = self.product_id and self._get_expiry_risk_excess()
        if not excess:
            return None
        unsold, ordered, daily = excess
        return {
            "warning": {
                "title": self.env._("Expiry risk for %(product)s", product=self.product_id.display_name),
                "message": self.env._(
                    "At the last %(window)s days' demand (%(daily)s %(uom)s a day), about %(unsold)s of these "
                    "%(ordered)s %(uom)s would expire unsold: with what is on hand and incoming, it is more than "
                    "%(days)s days (the product's expiration time) of sales. Order less, or plan a markdown.",
                    window=self.order_id.picking_type_id.warehouse_id.company_id.lot_demand_window_days,
                    daily=formatLang(self.env, daily, dp="Product Unit of Measure"),
                    unsold=formatLang(self.env, unsold, dp="Product Unit of Measure"),
                    ordered=formatLang(self.env, ordered, dp="Product Unit of Measure"),
                    uom=self.product_id.uom_id.name,
                    days=self.product_id.expiration_time,
                ),
            }
        }
