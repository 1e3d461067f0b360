from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .test_recall import RecallCommon


@tagged("post_install", "-at_install")
class TestRecallWithdraw(RecallCommon):
    """A recall contained by mistake is withdrawn: lots back to their status, transfers cancelled."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_life_of_lot()
        # RC-B1 was in quarantine (a lab check pending) before the recall
        cls.lot_b1.with_user(cls.quality_manager).action_quality_quarantine("Lab check of the cups")

    def _contained_recall(self, lots=None):
        recall = self._launch(lots or self.lot_a)
        recall.with_user(self.quality_manager).action_contain()
        self.assertEqual(recall.state, "contained")
        return recall

    def _snapshot(self, recall):
        lots = self.lot_a | self.lot_b1 | self.lot_b2
        return (
            recall.state,
            [(lot.name, lot.quality_state) for lot in lots],
            recall.containment_picking_ids.mapped("state"),
            len(recall.message_ids),
        )

    def test_withdraw_restores_each_lot_cancels_transfers_and_says_why(self):
        recall = self._contained_recall()
        self.assertEqual({lot.quality_state for lot in self.lot_a | self.lot_b1 | self.lot_b2}, {"recalled"})
        self.assertEqual(
            {(held.lot_id.name, held.previous_quality_state) for held in recall.contained_lot_ids},
            {("RC-A", "released"), ("RC-B1", "quarantine"), ("RC-B2", "released")},
        )
        transfers = recall.containment_picking_ids
        self.assertTrue(transfers)
        recall.with_user(self.quality_manager).action_withdraw("Lab result came back clean")
        self.assertEqual(recall.state, "withdrawn")
        self.assertTrue(recall.withdrawn_date)
        self.assertEqual(
            [(lot.name, lot.quality_state) for lot in self.lot_a | self.lot_b1 | self.lot_b2],
            [("RC-A", "released"), ("RC-B1", "quarantine"), ("RC-B2", "released")],
        )
        self.assertEqual(set(transfers.mapped("state")), {"cancel"})
        self.assertIn("Lab result came back clean", recall.message_ids[0].body)
        for lot in self.lot_a | self.lot_b1 | self.lot_b2:
            self.assertTrue(
                [body for body in lot.message_ids.mapped("body") if "Lab result came back clean" in body], lot.name
            )
        # the released lot can be reserved again
        delivery = self._delivery(self.product, 3)
        delivery.action_assign()
        self.assertEqual(delivery.state, "assigned")

    def test_form_button_asks_for_the_reason(self):
        recall = self._contained_recall()
        action = recall.with_user(self.quality_manager).action_withdraw()
        self.assertEqual(action["res_model"], "stock.lot.recall.withdraw.wizard")
        wizard = Form(self.env[action["res_model"]].with_user(self.quality_manager).with_context(**action["context"]))
        wizard.reason = "Contained the wrong lot"
        wizard.save().action_withdraw()
        self.assertEqual(recall.state, "withdrawn")
        self.assertEqual(self.lot_a.quality_state, "released")

    def test_bad_reasons_are_refused_and_change_nothing(self):
        recall = self._contained_recall()
        before = self._snapshot(recall)
        for reason in ("", "   ", ["clean"], 42, "x" * 5000):
            with self.subTest(reason=reason), self.assertRaises(UserError):
                recall.with_user(self.quality_manager).action_withdraw(reason)
            self.assertEqual(self._snapshot(recall), before)

    def test_only_a_quality_manager_withdraws(self):
        recall = self._contained_recall()
        before = self._snapshot(recall)
        with self.assertRaises(AccessError):
            recall.with_user(self.lot_user).action_withdraw("Lab result came back clean")
        self.assertEqual(self._snapshot(recall), before)

    def test_refused_once_customers_are_notified_or_the_recall_is_closed(self):
        recall = self._contained_recall()
        recall.action_notify()
        before = self._snapshot(recall)
        with self.assertRaisesRegex(UserError, "Close it instead"):
            recall.with_user(self.quality_manager).action_withdraw("Lab result came back clean")
        self.assertEqual(self._snapshot(recall), before)
        recall.reconciliation_ids.explanation = "Accounted for"
        recall.action_close()
        with self.assertRaises(UserError):
            recall.with_user(self.quality_manager).action_withdraw("Lab result came back clean")
        self.assertEqual(recall.state, "closed")
        self.assertEqual(self.lot_a.quality_state, "recalled")

    def test_refused_for_a_mock_recall_and_a_recall_never_contained(self):
        for recall in (self._launch(self.lot_a, mock=True), self._launch(self.lot_a)):
            before = self._snapshot(recall)
            with self.assertRaises(UserError):
                recall.with_user(self.quality_manager).action_withdraw("Lab result came back clean")
            self.assertEqual(self._snapshot(recall), before)
            self.assertEqual(recall.state, "traced")

    def test_a_lot_held_by_another_contained_recall_stays_recalled(self):
        first = self._contained_recall()
        second = self._contained_recall()
        self.assertEqual(
            {(held.lot_id.name, held.previous_quality_state) for held in second.contained_lot_ids},
            {("RC-A", "released"), ("RC-B1", "quarantine"), ("RC-B2", "released")},
        )
        first.with_user(self.quality_manager).action_withdraw("Duplicate of the second recall")
        self.assertEqual(first.state, "withdrawn")
        self.assertEqual({lot.quality_state for lot in self.lot_a | self.lot_b1 | self.lot_b2}, {"recalled"})
        self.assertIn(second.name, first.message_ids[0].body)
        second.with_user(self.quality_manager).action_withdraw("Lab result came back clean")
        self.assertEqual(
            [(lot.name, lot.quality_state) for lot in self.lot_a | self.lot_b1 | self.lot_b2],
            [("RC-A", "released"), ("RC-B1", "quarantine"), ("RC-B2", "released")],
        )
