from odoo import models

from .lot_gate import LOT_GATE_KEY, LotGate

# How far down a chain of moves (pick, pack, ship) to look for the customer delivery.
MAX_CHAIN_DEPTH = 4


class StockMove(models.Model):
    """Every reservation of a move passes through the lot gate.

    ``_get_lot_gate`` is the one place that says which lots a move may take;
    stock.quant applies it when gathering quants (any removal strategy) and
    stock.move.line when a lot is typed or scanned by hand, and again when the
    move is validated. Nothing a request sends (context, arguments) turns it off.
    """

    _inherit = "stock.move"

    def _action_done(self, cancel_backorder=False):
        """The lines validated now count in the daily demand (stock.lot.demand.day) and in the moves'
        movements (stock.lot.valuation.movement). A move valued now was synced as its layers were
        made (stock_account makes them once the lines are done); the others are synced here."""
        done_moves = super()._action_done(cancel_backorder=cancel_backorder)
        self.env["stock.lot.demand.day"]._add_lines(
            done_moves.move_line_ids.filtered(lambda line: line.state == "done")
        )
        self.env["stock.lot.valuation.movement"]._sync_moves(
            done_moves.filtered(lambda move: not move.sudo().stock_valuation_layer_ids)
        )
        return done_moves

    def write(self, vals):
        """A validated move whose places change: its movements again (its state changes through
        ``_action_done``)."""
        result = super().write(vals)
        if {"location_id", "location_dest_id"} & set(vals):
            self.env["stock.lot.valuation.movement"]._sync_moves(self.filtered(lambda move: move.state == "done"))
        return result

    def _get_lot_gate(self):
        """Lots this move may take, as a ``LotGate``; None means any lot.

        Any lot: moves that do not take goods out of an internal location
        (receipts, customer returns), scrap, moves into a quarantine location,
        returns to the vendor and inventory losses. Everything else leaving an
        internal location (deliveries, manufacturing, internal transfers and
        quant relocations) takes only released lots. When the goods go to a
        customer (directly or through pick/pack steps), only lots that still have
        the required shelf life on the delivery's scheduled date.
        """
        self.ensure_one()
        source, destination = self.location_id, self.location_dest_id
        if source.usage not in ("internal", "transit"):
            return None
        if (
            destination.usage in ("supplier", "inventory")
            or destination.scrap_location
            or destination._is_lot_quarantine_location()
        ):
            return None
        delivery = self._get_customer_delivery_move()
        if not delivery:
            return LotGate()
        customer = delivery.picking_id.partner_id or delivery.partner_id or delivery.group_id.partner_id
        return LotGate(
            scheduled_date=delivery.date,
            required_days=self.product_id._get_required_shelf_life_days(customer),
        )

    def _get_customer_delivery_move(self):
        """This move, or the move of its chain that delivers to a customer, or False.

        Odoo 18 creates the later steps of a multi-step delivery (pick, pack,
        ship) only when the first one is done: until then the first move's final
        location (``location_final_id``) is what says the goods go to a customer.
        """
        move = self
        for _depth in range(MAX_CHAIN_DEPTH):
            if move.location_dest_id.usage == "customer":
                return move
            if not move.move_dest_ids and move.location_final_id.usage == "customer":
                return move
            move = move.move_dest_ids[:1]
            if not move:
                break
        return False

    def _with_lot_gate(self):
        """This move with its own gate in the context, replacing whatever the caller put there."""
        return self.with_context(**{LOT_GATE_KEY: self._get_lot_gate()})

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
