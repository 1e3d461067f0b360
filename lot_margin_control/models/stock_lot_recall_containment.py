# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
from collections import defaultdict

from odoo import Command, fields, models


class StockLotRecall(models.Model):
    """Containment: affected lots set to Recalled and their stock proposed for quarantine.

    Each lot's quality status before containment is kept (``contained_lot_ids``,
    see stock_lot_recall_withdrawal.py) so that a recall contained by mistake can
    be withdrawn.
    """

    _inherit = "stock.lot.recall"

    containment_picking_ids = fields.Many2many(
        "stock.picking", string="Containment Transfers", readonly=True, copy=False
    )

    def _get_affected_lots(self):
        """Recalled lots and the lots made from them; not the components that went into them."""
        self.ensure_one()
        derived = self.line_ids.filtered(lambda line: line.lot_relation == "derived").lot_id
        return self.lot_ids | derived

    def action_contain(self):
        """Set affected lots to Recalled (which unreserves them) and propose transfers to quarantine.

        Each lot's status before the recall is kept (``contained_lot_ids``) for a
        withdrawal. A lot already recalled by another open recall keeps the status
        that recall recorded, so the last withdrawal restores the original one.
        """
        self._check_not_mock(self.env._("contained"))
        self._check_state(("traced",), self.env._("contained"))
        for recall in self:
            lots = recall._get_affected_lots()
            previous_states = lots._quality_recall(
                recall, self.env._("Recall %(recall)s: %(reason)s", recall=recall.name, reason=recall.reason)
            )
            held_elsewhere = {held.lot_id.id: held for held in recall._get_holds_of_other_recalls(lots)}
            pickings = recall._create_containment_transfers(lots)
            recall.write(
                {
                    "state": "contained",
                    "contained_date": fields.Datetime.now(),
                    "containment_picking_ids": [Command.link(picking.id) for picking in pickings],
                    "contained_lot_ids": [
                        Command.create(
                            {
                                "lot_id": lot.id,
                                "previous_quality_state": held_elsewhere[lot.id].previous_quality_state
                                if previous_states[lot.id] == "recalled" and lot.id in held_elsewhere
                                else previous_states[lot.id],
                            }
                        )
                        for lot in lots
                    ],
                }
            )
        return True

    def _create_containment_transfers(self, lots):
        """Draft internal transfers, one per warehouse, of the lots' stock into quarantine."""
        self.ensure_one()
        quants = self.env["stock.quant"].search(
            [
                ("lot_id", "in", lots.ids),
                ("quantity", ">", 0),
                ("location_id.usage", "=", "internal"),
                ("company_id", "=", self.company_id.id),
            ]
        )
        quants.location_id.warehouse_id._create_lot_quarantine_location()
        by_warehouse = defaultdict(lambda: self.env["stock.quant"])
        for quant in quants:
            warehouse = quant.location_id.warehouse_id
            if warehouse.lot_quarantine_location_id and not quant.location_id._is_lot_quarantine_location():
                by_warehouse[warehouse] |= quant
        pickings = self.env["stock.picking"]
        for warehouse, warehouse_quants in by_warehouse.items():
            destination = warehouse.lot_quarantine_location_id
            pickings |= self.env["stock.picking"].create(
                {
                    "picking_type_id": warehouse.int_type_id.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": destination.id,
                    "origin": self.name,
                    "company_id": self.company_id.id,
                    "move_ids": [
                        Command.create(
                            {
                                "name": self.env._(
                                    "Recall %(recall)s: %(lot)s", recall=self.name, lot=quant.lot_id.name
                                ),
                                "product_id": quant.product_id.id,
                                "product_uom": quant.product_id.uom_id.id,
                                "product_uom_qty": quant.quantity,
                                "location_id": quant.location_id.id,
                                "location_dest_id": destination.id,
                                "restrict_lot_id": quant.lot_id.id,
                                "company_id": self.company_id.id,
                            }
                        )
                        for quant in warehouse_quants
                    ],
                }
            )
        return pickings
