from datetime import timedelta

from odoo import models

# How far down a chain of moves (pick, pack, ship) to look for the customer delivery.
MAX_CHAIN_DEPTH = 4


class StockMove(models.Model):
    """Every reservation of a move passes through the lot gate.

    ``_get_lot_gate`` is the one place that says which lots a move may take;
    stock.quant applies it when gathering quants (any removal strategy) and
    stock.move.line when a lot is typed or scanned by hand.
    """

    _inherit = "stock.move"

    def _get_lot_gate(self):
        """Lots this move may take: ``(allowed quality states, expiry limit, required days)``, or False.

        False means any lot: receipts and customer returns (the goods do not leave
        stock), scrap, moves into a quarantine location, returns to the vendor and
        inventory adjustments. Everything else leaving an internal location takes
        only released lots. When the goods go to a customer (directly or through
        pick/pack steps), only lots that still have the required shelf life on the
        delivery's scheduled date: the customer's or the product's minimum days
        left, whichever is stricter; at least not expired.
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
        delivery = self._get_customer_delivery_move()
        if not delivery:
            return (("released",), False, 0)
        required_days = self._get_required_shelf_life_days(delivery)
        return (("released",), delivery.date + timedelta(days=required_days), required_days)

    def _get_customer_delivery_move(self):
        """This move, or the move of its chain that delivers to a customer, or False."""
        move = self
        for _depth in range(MAX_CHAIN_DEPTH):
            if move.location_dest_id.usage == "customer":
                return move
            move = move.move_dest_ids[:1]
            if not move:
                break
        return False

    def _get_required_shelf_life_days(self, delivery):
        """Days of shelf life the customer of ``delivery`` must get: customer's or product's, the stricter."""
        customer = (delivery.picking_id.partner_id or delivery.partner_id).commercial_partner_id
        return max(
            customer.min_remaining_shelf_life_days or 0,
            self.product_id.product_tmpl_id.min_remaining_shelf_life_days or 0,
        )

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
