from markupsafe import Markup

from odoo import fields, models

# Lots listed per move in the "skipped lots" note: enough to act on, short enough to read.
MAX_SKIPPED_LOTS_SHOWN = 8


class StockPicking(models.Model):
    """A picking that waits for stock says which lots on hand it could not take, and why."""

    _inherit = "stock.picking"

    lot_gate_skipped_html = fields.Html(
        string="Lots Not Taken",
        compute="_compute_lot_gate_skipped_html",
        sanitize=False,
        help="Lots on hand that the quality status or the shelf-life terms kept off this transfer.",
    )

    def _compute_lot_gate_skipped_html(self):
        for picking in self:
            items = []
            waiting = picking.move_ids.filtered(
                lambda move: move.state in ("confirmed", "partially_available") and move.product_id.tracking != "none"
            )
            for move in waiting:
                gate = move._get_lot_gate()
                if not gate:
                    continue
                quants = self.env["stock.quant"].search(
                    [
                        ("product_id", "=", move.product_id.id),
                        ("location_id", "child_of", move.location_id.id),
                        ("lot_id", "!=", False),
                        ("quantity", ">", 0),
                    ],
                    order="expiration_date, in_date, id",
                )
                shown = 0
                for lot, lot_quants in quants.grouped("lot_id").items():
                    refusal = gate.refusal(lot)
                    if not refusal:
                        continue
                    free = sum(lot_quants.mapped("quantity")) - sum(lot_quants.mapped("reserved_quantity"))
                    items.append(
                        Markup("<li>%s</li>")
                        % self.env._(
                            "%(product)s, lot %(lot)s (%(qty)s %(uom)s on hand): %(reason)s",
                            product=move.product_id.display_name,
                            lot=lot.name,
                            qty=free,
                            uom=move.product_id.uom_id.name,
                            reason=refusal,
                        )
                    )
                    shown += 1
                    if shown >= MAX_SKIPPED_LOTS_SHOWN:
                        break
            picking.lot_gate_skipped_html = (
                Markup("<p>%s</p><ul>%s</ul>")
                % (self.env._("Lots on hand that this transfer may not take:"), Markup().join(items))
                if items
                else False
            )
