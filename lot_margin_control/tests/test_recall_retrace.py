from odoo.exceptions import AccessError
from odoo.tests import tagged

from .test_recall import RecallCommon


@tagged("post_install", "-at_install")
class TestRecallRetrace(RecallCommon):
    """Tracing again brings the stored trace up to date: unchanged lines kept, new ones added, gone ones removed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_life_of_lot()
        cls.recall = cls.env["stock.lot.recall"].create(
            {"lot_ids": [(6, 0, cls.lot_a.ids)], "reason": "Retrace", "is_mock": True}
        )
        cls.recall.action_trace()

    def _events(self):
        self.env.invalidate_all()
        return {
            (line.move_line_id.id, line.lot_id.id, line.event, line.location_id.id, line.quantity)
            for line in self.recall.line_ids
        }

    def test_tracing_an_unchanged_recall_keeps_every_line(self):
        before_ids, before_events = set(self.recall.line_ids.ids), self._events()
        self.recall.action_trace()
        self.env.invalidate_all()
        events = {line for line in self.recall.line_ids if line.event != "on_hand"}
        self.assertEqual(self._events(), before_events)
        self.assertLessEqual({line.id for line in events}, before_ids, "the same lines, not copies")
        self.assertEqual(len(self.recall.line_ids), len(before_ids))

    def test_a_new_delivery_is_added_and_the_stock_it_took_updated(self):
        before_ids = set(self.recall.line_ids.ids)
        delivery = self._done_move(
            self.product, self.lot_a, 3, self.shelf, self.customers, self.customer_2, self.warehouse.out_type_id
        )
        self.recall.action_trace()
        self.env.invalidate_all()
        lines = self.recall.line_ids
        new = lines.filtered(lambda line: line.id not in before_ids)
        self.assertEqual(
            sorted((line.event, line.quantity) for line in new if line.event != "on_hand"), [("delivery", 3)]
        )
        self.assertEqual(new.filtered(lambda line: line.event == "delivery").move_line_id, delivery)
        shelf = lines.filtered(lambda line: line.event == "on_hand" and line.location_id == self.shelf)
        self.assertEqual(shelf.quantity, 25, "28 on the shelf, 3 delivered: one on-hand line, not two")
        reconciliation = self.recall.reconciliation_ids.filtered(lambda line: line.lot_id == self.lot_a)
        self.assertEqual(reconciliation.qty_shipped, 33)
        self.assertTrue(reconciliation.is_reconciled)

    def test_lines_no_longer_traced_are_removed(self):
        # a finished lot unlinked from its component: B1 and its events leave the trace
        self.env["stock.move.line"].search([("lot_id", "=", self.lot_b1.id)]).consume_line_ids = False
        self.recall.action_trace()
        self.env.invalidate_all()
        self.assertNotIn(self.lot_b1, self.recall.line_ids.lot_id)
        self.assertIn(self.lot_b2, self.recall.line_ids.lot_id)

    def test_deleting_a_recall_deletes_its_lines(self):
        recall = self.env["stock.lot.recall"].create({"lot_ids": [(6, 0, self.lot_a.ids)], "reason": "Deleted"})
        recall.action_trace()
        line_ids = recall.line_ids.ids
        self.assertTrue(line_ids)
        with self.assertRaises(AccessError):
            recall.with_user(self.quality_manager).unlink()
        self.assertEqual(len(self.env["stock.lot.recall.line"].browse(line_ids).exists()), len(line_ids))
        recall.unlink()
        self.assertFalse(self.env["stock.lot.recall.line"].browse(line_ids).exists())
