from odoo import models


class StockMove(models.Model):
    """Every reservation of a move passes through the lot gate.

    ``_get_lot_gate`` is the one place that says which lots a move may take;
    stock.quant applies it when gathering quants (any removal strategy) and
    stock.move.line when a lot is typed or scanned by hand.
    """

    _inherit = "stock.move"

    def _get_lot_gate(self):
        """Lots this move may take: ``(allowed quality states, expiry limit)`` or False.

        False means any lot: receipts and customer returns (the goods do not leave
        stock), scrap, moves into a quarantine location, returns to the vendor and
        inventory adjustments. Everything else leaving an internal location takes
        only released lots, and a customer delivery only lots that expire after the
        move's scheduled date.
        """
        self.ensure_one()
        if self.env.context.get("skip_lot_gate"):
            return False
        source, destination = self.location_id, self.location_dest_id
        if source.usage not in ("internal", "transit"):
            return False
        if (
            self.is_inventory
            or destination.usage in ("supplier", "inventory")
            or destination.scrap_location
            or destination._is_lot_quarantine_location()
        ):
            return False
        expiry_limit = self.date if destination.usage == "customer" else False
        return (("released",), expiry_limit)

    def _with_lot_gate(self):
        gate = self._get_lot_gate()
        return self.with_context(lot_gate=gate) if gate else self

    def _update_reserved_quantity(self, need, location_id, lot_id=None, package_id=None, owner_id=None, strict=True):
        return super(StockMove, self._with_lot_gate())._update_reserved_quantity(
            need, location_id, lot_id=lot_id, package_id=package_id, owner_id=owner_id, strict=strict
        )

    def _get_available_quantity(
        self, location_id, lot_id=None, package_id=None, owner_id=None, strict=False, allow_negative=False
    ):
        return super(StockMove, self._with_lot_gate())._get_available_quantity(
            location_id,
            lot_id=lot_id,
            package_id=package_id,
            owner_id=owner_id,
            strict=strict,
            allow_negative=allow_negative,
        )
