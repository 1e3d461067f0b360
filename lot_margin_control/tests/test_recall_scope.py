from datetime import datetime, timedelta

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .test_recall import RecallCommon

DAY0 = datetime(2026, 3, 1, 10, 0, 0)


@tagged("post_install", "-at_install")
class TestRecallScope(RecallCommon):
    """A recall of lot A against a broad recall of every lot of its product received within 90 days.

    FIFO product created the ordinary way (``lot_valuated`` never written), received:
    A 10 @ 2.00 on day 0 (recalled), B 5 @ 3.00 on day -30, C 4 @ 5.00 on day +40,
    G 2 + H 4 in one receipt @ 4.00 on day +10, E 10 @ 1.00 on day -60 (outside the window).
    By hand: targeted 20.00, broad 20 + 15 + 20 + 8 + 16 = 79.00, avoided 59.00 = 74.7 %.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fifo = cls.env["product.category"].create({"name": "LMC FIFO", "property_cost_method": "fifo"})
        cls.cheese = cls.env["product.product"].create(
            {"name": "LMC Scope Cheese", "is_storable": True, "tracking": "lot", "categ_id": cls.fifo.id}
        )
        cls.pies = cls.env["product.product"].create(
            {
                "name": "LMC Scope Pies",
                "is_storable": True,
                "tracking": "lot",
                "categ_id": cls.fifo.id,
                "standard_price": 7.0,
            }
        )
        assert not cls.cheese.lot_valuated
        cls.lots = {}
        for name, qty, cost, day in (("A", 10, 2.0, 0), ("B", 5, 3.0, -30), ("C", 4, 5.0, 40), ("E", 10, 1.0, -60)):
            lot = cls.lots[name] = cls._lot(f"SC-{name}", product=cls.cheese, expires_in_days=None)
            cls.cheese.standard_price = cost
            line = cls._done_move(cls.cheese, lot, qty, cls.suppliers, cls.stock, cls.vendor, cls.warehouse.in_type_id)
            cls._backdate(line, DAY0 + timedelta(days=day))
        cls.cheese.standard_price = 4.0
        cls.lots["G"], cls.lots["H"] = (cls._lot(f"SC-{n}", product=cls.cheese, expires_in_days=None) for n in "GH")
        cls._backdate(cls._two_lot_receipt(), DAY0 + timedelta(days=10))
        cls.receipt_moves = cls.env["stock.move"].search(
            [("product_id", "=", cls.cheese.id), ("location_id", "=", cls.suppliers.id)]
        )

    @classmethod
    def _backdate(cls, lines, date):
        cls.env.flush_all()
        cls.env.cr.execute(SQL("UPDATE stock_move_line SET date = %s WHERE id = ANY(%s)", date, lines.ids))
        cls.env.invalidate_all()

    @classmethod
    def _two_lot_receipt(cls):
        picking = cls.env["stock.picking"].create(
            {
                "picking_type_id": cls.warehouse.in_type_id.id,
                "partner_id": cls.vendor.id,
                "location_id": cls.suppliers.id,
                "location_dest_id": cls.stock.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": "cheese",
                            "product_id": cls.cheese.id,
                            "product_uom_qty": 6,
                            "location_id": cls.suppliers.id,
                            "location_dest_id": cls.stock.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        move = picking.move_ids
        move.move_line_ids.unlink()
        cls.env["stock.move.line"].create(
            [
                {
                    "move_id": move.id,
                    "picking_id": picking.id,
                    "product_id": cls.cheese.id,
                    "location_id": cls.suppliers.id,
                    "location_dest_id": cls.stock.id,
                    "lot_id": cls.lots[name].id,
                    "quantity": qty,
                    "picked": True,
                }
                for name, qty in (("G", 2), ("H", 4))
            ]
        )
        move.picked = True
        picking._action_done()
        assert picking.state == "done"
        return move.move_line_ids

    def _recall(self, lots, is_mock=False):
        return self.env["stock.lot.recall"].create(
            {"lot_ids": [Command.set(lots.ids)], "reason": "Listeria", "is_mock": is_mock}
        )

    def test_targeted_against_broad_by_hand(self):
        recall = self._recall(self.lots["A"])
        self.assertRecordValues(
            recall,
            [
                {
                    "scope_date_from": (DAY0 - timedelta(days=45)).date(),
                    "scope_date_to": (DAY0 + timedelta(days=45)).date(),
                    "targeted_scope_lot_count": 1,
                    "broad_scope_lot_count": 5,
                    "targeted_scope_value": 20.0,
                    "broad_scope_value": 79.0,
                    "scope_avoided_value": 59.0,
                }
            ],
        )
        self.assertAlmostEqual(recall.scope_avoided_pct, 100 * 59 / 79, places=1)

    def test_broad_scope_ties_out_to_the_valuation_layers(self):
        recall = self._recall(self.lots["A"])
        in_window = self.receipt_moves.filtered(lambda move: self.lots["E"] not in move.move_line_ids.lot_id)
        layers = self.env["stock.valuation.layer"].search([("stock_move_id", "in", in_window.ids)])
        self.assertEqual(len(layers), 4)
        self.assertAlmostEqual(recall.broad_scope_value, sum(layers.mapped("value")), places=2)

    def test_derived_lots_join_the_targeted_scope_at_the_trace(self):
        recall = self._recall(self.lots["A"])
        pie_lot = self._lot("SC-PIE", product=self.pies, expires_in_days=None)
        component = self._done_move(self.cheese, self.lots["A"], 3, self.stock, self.production)
        finished = self._done_move(self.pies, pie_lot, 6, self.production, self.stock)
        finished.consume_line_ids = component
        recall.action_trace()
        # the pies came in at 6 x 7.00 = 42.00; a broad recall would take them back too
        self.assertRecordValues(
            recall,
            [
                {
                    "targeted_scope_lot_count": 2,
                    "broad_scope_lot_count": 6,
                    "targeted_scope_value": 62.0,
                    "broad_scope_value": 121.0,
                    "scope_avoided_value": 59.0,
                }
            ],
        )

    def test_window_follows_the_company_setting(self):
        self.env.company.recall_window_days = 180
        recall = self._recall(self.lots["A"])
        self.assertEqual(recall.broad_scope_lot_count, 6)
        self.assertEqual(recall.broad_scope_value, 89.0)
        for days in (0, -5, 36_501):
            with self.assertRaises(ValidationError):
                self.env.company.recall_window_days = days
        self.assertEqual(self.env.company.recall_window_days, 180)

    def test_values_are_for_cost_readers_only(self):
        recall = self._recall(self.lots["A"]).with_user(self.quality_manager)
        self.assertAlmostEqual(recall.scope_avoided_pct, 74.7, places=1)
        with self.assertRaises(AccessError):
            recall.read(["scope_avoided_value"])
        self.quality_manager.groups_id += self.env.ref("account.group_account_readonly")
        self.assertEqual(recall.read(["scope_avoided_value"])[0]["scope_avoided_value"], 59.0)
