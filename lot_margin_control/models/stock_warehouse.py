from odoo import api, fields, models


class StockWarehouse(models.Model):
    """Each warehouse has a quarantine location under its stock, with a putaway rule to it."""

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
        warehouses._create_lot_quarantine_location()
        return warehouses

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
