from datetime import datetime, timedelta

from odoo import Command
from odoo.tests import HttpCase, tagged

from .tour_screenshot import last_screen_saved_as

SCREENSHOT_NAME = "lot_genealogy.png"


@tagged("post_install", "-at_install", "is_tour")
class TestGenealogyTour(HttpCase):
    """A real browser opens a recall's genealogy, expands its customers node and opens a lot from the graph.

    A dairy: milk received from a co-op, 60 units of it made into two yogurt lots with a
    culture lot from another vendor; the milk goes to three shops, one yogurt lot to twelve
    (folded into one node), the other, blocked, to two. The tour ends on the genealogy of
    the first yogurt lot (from the lot's Genealogy button), saved as a PNG like the
    overview's (``LMC_SCREENSHOT_DIR``).
    """

    def _done(self, product, lot, quantity, source, destination, partner=None, picking_type=None):
        picking_type = picking_type or self.warehouse.int_type_id
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": partner and partner.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "location_id": source.id,
                            "location_dest_id": destination.id,
                            "restrict_lot_id": lot.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        line = picking.move_ids.move_line_ids or self.env["stock.move.line"].create(
            {"move_id": picking.move_ids.id, "picking_id": picking.id, "product_id": product.id}
        )
        line.write({"lot_id": lot.id, "quantity": quantity, "picked": True})
        picking.move_ids.picked = True
        picking._action_done()
        return picking.move_ids.move_line_ids

    def _make_dairy(self):
        env = self.env
        self.warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        stock = self.warehouse.lot_stock_id
        suppliers, customers = env.ref("stock.stock_location_suppliers"), env.ref("stock.stock_location_customers")
        production = env["stock.location"].search(
            [("usage", "=", "production"), ("company_id", "in", (False, env.company.id))], limit=1
        )
        cold_room = env["stock.location"].create({"name": "Cold Room", "usage": "internal", "location_id": stock.id})
        litre = env.ref("uom.product_uom_litre")
        milk, culture, yogurt = env["product.product"].create(
            [
                {"name": "Raw Milk", "is_storable": True, "tracking": "lot", "uom_id": litre.id, "uom_po_id": litre.id},
                {"name": "Yogurt Culture", "is_storable": True, "tracking": "lot"},
                {"name": "Yogurt Cups", "is_storable": True, "tracking": "lot"},
            ]
        )
        co_op, lab = env["res.partner"].create([{"name": "Alpine Dairy Co-op"}, {"name": "CultureLab"}])
        shops = env["res.partner"].create([{"name": f"Corner Shop {index:02d}"} for index in range(17)])
        lots = env["stock.lot"].create(
            [
                {"name": "MILK-0425", "product_id": milk.id},
                {"name": "CULT-77", "product_id": culture.id, "expiration_date": datetime.now() - timedelta(days=2)},
                {"name": "YOG-0426-A", "product_id": yogurt.id},
                {"name": "YOG-0426-B", "product_id": yogurt.id},
            ]
        )
        milk_lot, culture_lot, yogurt_a, yogurt_b = lots
        receipts, deliveries = self.warehouse.in_type_id, self.warehouse.out_type_id
        self._done(milk, milk_lot, 500, suppliers, stock, co_op, receipts)
        self._done(culture, culture_lot, 10, suppliers, stock, lab, receipts)
        self._done(milk, milk_lot, 300, stock, cold_room)
        for lot, quantity, milk_used in ((yogurt_a, 200, 40), (yogurt_b, 100, 20)):
            components = self._done(milk, milk_lot, milk_used, cold_room, production)
            components |= self._done(culture, culture_lot, 1, stock, production)
            self._done(yogurt, lot, quantity, production, stock).consume_line_ids = components
        for shop, quantity in zip(shops[:3], (80, 40, 25), strict=True):
            self._done(milk, milk_lot, quantity, cold_room, customers, shop, deliveries)
        for index, shop in enumerate(shops[3:15]):
            self._done(yogurt, yogurt_a, 10 + index, stock, customers, shop, deliveries)
        for shop in shops[15:]:
            self._done(yogurt, yogurt_b, 20, stock, customers, shop, deliveries)
        yogurt_b.write({"quality_state": "blocked", "quality_state_reason": "Swollen lids"})
        recall = env["stock.lot.recall"].create(
            {"lot_ids": [Command.set(milk_lot.ids)], "reason": "Antibiotic residue in milk", "is_mock": True}
        )
        recall.action_trace()
        return recall

    def test_genealogy_tour(self):
        recall = self._make_dairy()
        action = self.env.ref("lot_margin_control.action_stock_lot_recall")
        with last_screen_saved_as(SCREENSHOT_NAME) as path:
            self.start_tour(f"/odoo/action-{action.id}/{recall.id}", "lot_margin_control_genealogy_tour", login="admin")
        self.assertTrue(path.read_bytes().startswith(b"\x89PNG"), path)
