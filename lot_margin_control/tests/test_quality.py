from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import LotControlCommon


@tagged("post_install", "-at_install")
class TestQualityStatus(LotControlCommon):
    """Quality status transitions, who may make them, and their history."""

    def _history(self, lot):
        self.env.flush_all()
        self.env.cr.precommit.run()
        lot.invalidate_recordset(["message_ids"])
        return lot.message_ids.tracking_value_ids.filtered(lambda value: value.field_id.name == "quality_state")

    def test_new_lots_are_released_unless_the_product_quarantines(self):
        self.assertEqual(self._lot("Q-DEFAULT").quality_state, "released")
        self.category.lot_quarantine_on_receipt = True
        lot = self._lot("Q-CATEGORY")
        self.assertEqual(lot.quality_state, "quarantine")
        self.assertEqual(lot.quality_state_reason, "Quarantine on receipt")

    def test_user_quarantines_with_a_reason_manager_releases(self):
        lot = self._lot("Q-FLOW")
        self._history(lot)  # the lot exists before the changes below
        lot.with_user(self.lot_user).action_quality_quarantine(reason="Damaged pallet")
        self.assertEqual((lot.quality_state, lot.quality_state_reason), ("quarantine", "Damaged pallet"))
        with self.assertRaises(AccessError):
            lot.with_user(self.lot_user).action_quality_release()
        with self.assertRaises(AccessError):
            lot.with_user(self.lot_user).action_quality_block(reason="Lab failure")
        self.assertEqual(lot.quality_state, "quarantine")
        self._history(lot)  # each change below is its own transaction, as in the UI
        lot.with_user(self.quality_manager).action_quality_block(reason="Lab failure")
        self.assertEqual(lot.quality_state, "blocked")
        self._history(lot)
        lot.with_user(self.quality_manager).action_quality_release()
        self.assertEqual(lot.quality_state, "released")
        history = self._history(lot)
        self.assertEqual(
            [(value.old_value_char, value.new_value_char) for value in history.sorted("id")],
            [("Released", "Quarantine"), ("Quarantine", "Blocked"), ("Blocked", "Released")],
        )
        reasons = lot.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "quality_state_reason"
        )
        self.assertIn("Lab failure", reasons.mapped("new_value_char"))
        self.assertEqual(
            history.sorted("id").mapped("mail_message_id.author_id"),
            self.lot_user.partner_id | self.quality_manager.partner_id,
        )
        self.assertTrue(all(message.date for message in history.mapped("mail_message_id")))

    def test_reason_is_required_and_a_wizard_asks_for_it(self):
        lots = self._lot("Q-W1") | self._lot("Q-W2")
        action = lots.action_quality_block()
        self.assertEqual(action["res_model"], "stock.lot.quality.wizard")
        with self.assertRaises(UserError):
            lots._set_quality_state("blocked", "  ")
        self.assertEqual(set(lots.mapped("quality_state")), {"released"})
        wizard = Form(self.env["stock.lot.quality.wizard"].with_context(**action["context"]))
        wizard.reason = "Supplier notice SN-12"
        wizard.save().action_confirm()
        self.assertEqual(set(lots.mapped("quality_state")), {"blocked"})
        self.assertEqual(set(lots.mapped("quality_state_reason")), {"Supplier notice SN-12"})

    def test_wizard_from_list_selection(self):
        lots = self._lot("Q-L1") | self._lot("Q-L2")
        wizard = (
            self.env["stock.lot.quality.wizard"]
            .with_user(self.lot_user)
            .with_context(active_model="stock.lot", active_ids=lots.ids, default_new_state="quarantine")
            .create({"reason": "Cycle count gap"})
        )
        self.assertEqual(wizard.lot_ids, lots)
        wizard.action_confirm()
        self.assertEqual(set(lots.mapped("quality_state")), {"quarantine"})

    def test_recalled_lots_are_not_released_by_hand(self):
        lot = self._lot("Q-RECALL")
        lot._quality_recall(self.env["stock.lot.recall"], "Recall RC-1")
        with self.assertRaises(UserError):
            lot.with_user(self.quality_manager).action_quality_release()
        self.assertEqual(lot.quality_state, "recalled")
        with self.assertRaises(UserError):
            self._lot("Q-RECALL-2").with_user(self.lot_user).write(
                {"quality_state": "recalled", "quality_state_reason": "x"}
            )
