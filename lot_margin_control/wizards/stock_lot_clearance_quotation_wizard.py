from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare


class StockLotClearanceQuotationWizard(models.TransientModel):
    """Turn marked-down lots from the clearance list into one quotation for a customer.

    One line per lot, for the quantity of it still available (on hand, not
    reserved) in the warehouse; the line's lot gives its markdown discount (see
    sale.order.line ``_compute_discount``).
    """

    _name = "stock.lot.clearance.quotation.wizard"
    _description = "Quotation from Clearance Lots"
    _check_company_auto = True

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, check_company=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    warehouse_id = fields.Many2one("stock.warehouse", required=True, check_company=True)
    lot_ids = fields.Many2many("stock.lot", string="Lots", required=True, check_company=True)
    shelf_life_warning = fields.Text(compute="_compute_shelf_life_warning")

    @api.depends("partner_id", "lot_ids")
    def _compute_shelf_life_warning(self):
        # the quotation is delivered as soon as it is confirmed: the gate's rule, on today's date
        now = self.env["stock.lot"]._shelf_life_now()
        for wizard in self:
            customer = wizard.partner_id.commercial_partner_id
            short = []
            for lot in wizard.lot_ids.filtered("expiration_date"):
                shortfall = lot._get_shelf_life_shortfall(customer, now)
                if shortfall:
                    days_left, required = shortfall
                    short.append(
                        self.env._(
                            "%(lot)s: %(left)s days left, %(required)s required",
                            lot=lot.display_name,
                            left=days_left,
                            required=required,
                        )
                    )
            wizard.shelf_life_warning = (
                self.env._(
                    "These lots are too short-dated for %(customer)s and will not be reserved for the "
                    "delivery:\n%(lots)s",
                    customer=customer.display_name,
                    lots="\n".join(short),
                )
                if short
                else False
            )

    def _get_available_quantities(self):
        """Quantity of each lot on hand and not reserved in the warehouse (one grouped read)."""
        self.ensure_one()
        groups = self.env["stock.quant"]._read_group(
            [
                ("lot_id", "in", self.lot_ids.ids),
                ("location_id", "child_of", self.warehouse_id.view_location_id.id),
                ("location_id.usage", "=", "internal"),
            ],
            ["lot_id"],
            ["quantity:sum", "reserved_quantity:sum"],
        )
        return {lot: quantity - reserved for lot, quantity, reserved in groups}

    def action_create_quotation(self):
        self.ensure_one()
        available = self._get_available_quantities()
        lines = []
        for lot in self.lot_ids.sorted(lambda lot: (lot.expiration_date or fields.Datetime.now(), lot.name)):
            quantity = available.get(lot, 0.0)
            if float_compare(quantity, 0.0, precision_rounding=lot.product_id.uom_id.rounding) <= 0:
                continue
            lines.append(
                Command.create({"product_id": lot.product_id.id, "lot_id": lot.id, "product_uom_qty": quantity})
            )
        if not lines:
            raise UserError(
                self.env._(
                    "None of the selected lots has stock left to sell in %(warehouse)s: it is all reserved "
                    "or gone. Refresh the clearance list and choose other lots.",
                    warehouse=self.warehouse_id.name,
                )
            )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "warehouse_id": self.warehouse_id.id,
                "order_line": lines,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": order.id,
            "view_mode": "form",
            "target": "current",
        }
