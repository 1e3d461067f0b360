from odoo import api, fields, models


class StockWarehouse(models.Model):
    """A warehouse gets a quarantine location under its stock, with a putaway rule to it.

    Created when it is first needed (a product or category asks for quarantine on
    receipt, or a recall contains stock), so that warehouses of companies that
    never quarantine keep the locations they had.
    """

    _inherit = "stock.warehouse"

    lot_quarantine_location_id = fields.Many2one(
        "stock.location",
        string="Quarantine Location",
        check_company=True,
        help="Receipts of quarantine-on-receipt products are put away here. It lies under the "
        "stock location, so that a released lot is reserved where it is, without a transfer.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        warehouses = super().create(vals_list)
        if self._lot_quarantine_is_used():
            warehouses._create_lot_quarantine_location()
        return warehouses

    @api.model
    def _lot_quarantine_is_used(self):
        """Whether any product or category asks for quarantine on receipt."""
        return bool(
            self.env["product.template"].sudo().search_count([("lot_quarantine_on_receipt", "=", True)], limit=1)
            or self.env["product.category"].sudo().search_count([("lot_quarantine_on_receipt", "=", True)], limit=1)
        )

    @api.model
    def _ensure_lot_quarantine_locations(self):
        """Give every warehouse its quarantine location once quarantine on receipt is in use."""
        if self._lot_quarantine_is_used():
            self.sudo().search([("lot_quarantine_location_id", "=", False)])._create_lot_quarantine_location()

    def _create_lot_quarantine_location(self):
        for warehouse in self.filtered(lambda wh: not wh.lot_quarantine_location_id and wh.lot_stock_id):
            location = self.env["stock.location"].create(
                {
                    "name": self.env._("Quarantine"),
                    "location_id": warehouse.lot_stock_id.id,
                    "usage": "internal",
                    "lot_quarantine_location": True,
                    "company_id": warehouse.company_id.id,
                }
            )
            self.env["stock.putaway.rule"].create(
                {
                    "location_in_id": warehouse.lot_stock_id.id,
                    "location_out_id": location.id,
                    "lot_quarantine": True,
                    "company_id": warehouse.company_id.id,
                }
            )
            warehouse.lot_quarantine_location_id = location
