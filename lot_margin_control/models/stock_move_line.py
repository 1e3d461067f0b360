from odoo import api, fields, models
from odoo.exceptions import UserError


class StockMoveLine(models.Model):
    """Lots typed or scanned on operations obey the same gate as automatic reservation."""

    _inherit = "stock.move.line"

    lot_quality_state = fields.Selection(related="lot_id.quality_state", string="Quality Status")
    lot_shelf_life_state = fields.Selection(related="lot_id.shelf_life_state", string="Shelf Life")

    def _check_lot_gate(self):
        for line in self:
            if not line.lot_id or not line.move_id or line.state in ("done", "cancel"):
                continue
            refusal = line.lot_id._get_lot_gate_refusal(line.move_id._get_lot_gate())
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
        return lines

    def write(self, vals):
        result = super().write(vals)
        if {"lot_id", "move_id", "location_id"} & set(vals):
            self._check_lot_gate()
        return result

    def _apply_putaway_strategy(self):
        """Receipts from vendors may be sent to quarantine (see stock.location)."""
        receipts = self.filtered(lambda line: line.move_id.location_id.usage == "supplier")
        super(StockMoveLine, receipts.with_context(lot_quarantine_receipt=True))._apply_putaway_strategy()
        return super(StockMoveLine, self - receipts)._apply_putaway_strategy()

    def _action_done(self):
        self._check_lot_gate()
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
