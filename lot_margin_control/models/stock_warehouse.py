from collections import defaultdict

from odoo import Command, api, fields, models


class StockWarehouse(models.Model):
    """A warehouse gets a quarantine location beside its stock, with a putaway rule to it.

    The location lies under the warehouse's view location, next to WH/Stock, as
    Odoo's own Input and Quality Control locations do: its goods count as the
    warehouse's stock (on hand, valuation, reports by warehouse) but deliveries,
    which take from WH/Stock and its children, do not reach them. A released lot
    goes back to WH/Stock (``_lot_quarantine_release_to_stock``).

    Created when it is first needed (a product or category asks for quarantine on
    receipt, or a recall contains stock), so that warehouses of companies that
    never quarantine keep the locations they had.
    """

    _inherit = "stock.warehouse"

    lot_quarantine_location_id = fields.Many2one(
        "stock.location",
        string="Quarantine Location",
        check_company=True,
        help="Receipts of quarantine-on-receipt products are put away here. It lies beside the "
        "stock location (under the warehouse), so that nothing in it can be reserved for a "
        "delivery; a released lot is moved back to stock.",
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
        for warehouse in self.filtered(
            lambda wh: not wh.lot_quarantine_location_id and wh.lot_stock_id and wh.view_location_id
        ):
            location = self.env["stock.location"].create(
                {
                    "name": self.env._("Quarantine"),
                    "location_id": warehouse.view_location_id.id,
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

    def _move_lot_quarantine_beside_stock(self):
        """Move quarantine locations that lie inside the stock location beside it (18.0.1.2.0).

        Lots already released in them go to the stock location, where they could be
        reserved before and still can.
        """
        moved = self.env["stock.location"]
        for warehouse in self.filtered("lot_quarantine_location_id"):
            location = warehouse.lot_quarantine_location_id
            if warehouse.lot_stock_id and location._child_of(warehouse.lot_stock_id):
                location.location_id = warehouse.view_location_id
                moved |= location
        if moved:
            released = (
                self.env["stock.quant"]
                .search([("location_id", "child_of", moved.ids), ("lot_id", "!=", False), ("quantity", ">", 0)])
                .lot_id.filtered(lambda lot: lot.quality_state == "released")
            )
            self._lot_quarantine_release_to_stock(released)
        return moved

    @api.model
    def _lot_quarantine_release_to_stock(self, lots):
        """Move the unreserved stock of released ``lots`` out of quarantine into their warehouse's stock.

        One done internal transfer per warehouse and company, so that the release is
        traceable and the lots become reservable for deliveries. Quantities already
        reserved in quarantine (a return to the vendor, a scrap) stay where they are.
        Returns the transfers.
        """
        lots = lots.filtered(lambda lot: lot.quality_state == "released")
        if not lots:
            return self.env["stock.picking"]
        quants = (
            self.env["stock.quant"]
            .sudo()
            .search([("lot_id", "in", lots.ids), ("quantity", ">", 0), ("location_id.usage", "=", "internal")])
        )
        by_warehouse = defaultdict(list)
        for quant in quants:
            available = quant.quantity - quant.reserved_quantity
            warehouse = quant.location_id.warehouse_id
            if (
                available > 0
                and warehouse.lot_stock_id
                and quant.location_id._is_lot_quarantine_location()
                and not quant.location_id._child_of(warehouse.lot_stock_id)
            ):
                by_warehouse[warehouse, quant.company_id].append((quant, available))
        pickings = self.env["stock.picking"].sudo()
        for (warehouse, company), entries in by_warehouse.items():
            picking = pickings.create(
                {
                    "picking_type_id": warehouse.int_type_id.id,
                    "location_id": warehouse.lot_quarantine_location_id.id or entries[0][0].location_id.id,
                    "location_dest_id": warehouse.lot_stock_id.id,
                    "origin": self.env._("Release from quarantine"),
                    "company_id": company.id,
                    "move_ids": [
                        Command.create(
                            {
                                "name": self.env._("Release from quarantine: %(lot)s", lot=quant.lot_id.name),
                                "product_id": quant.product_id.id,
                                "product_uom": quant.product_id.uom_id.id,
                                "product_uom_qty": available,
                                "location_id": quant.location_id.id,
                                "location_dest_id": warehouse.lot_stock_id.id,
                                "restrict_lot_id": quant.lot_id.id,
                                "company_id": company.id,
                                "move_line_ids": [
                                    Command.create(
                                        {
                                            "product_id": quant.product_id.id,
                                            "product_uom_id": quant.product_id.uom_id.id,
                                            "quantity": available,
                                            "lot_id": quant.lot_id.id,
                                            "package_id": quant.package_id.id,
                                            "result_package_id": quant.package_id.id,
                                            "owner_id": quant.owner_id.id,
                                            "location_id": quant.location_id.id,
                                            "location_dest_id": warehouse.lot_stock_id.id,
                                            "company_id": company.id,
                                            "picked": True,
                                        }
                                    )
                                ],
                            }
                        )
                        for quant, available in entries
                    ],
                }
            )
            picking.move_ids.picked = True
            picking.move_ids._action_done()
            pickings |= picking
        return pickings.sudo(False)
