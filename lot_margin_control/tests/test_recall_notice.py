from odoo.tests import tagged

from .test_recall import RecallCommon


@tagged("post_install", "-at_install")
class TestRecallNotice(RecallCommon):
    """Recall notices come from an editable mail template, in each customer's language, with the PDF."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_life_of_lot()
        cls.template = cls.env.ref("lot_margin_control.mail_template_recall_notice")

    def _notify(self):
        recall = self._launch(self.lot_a)
        recall.with_user(self.quality_manager).action_notify()
        self.assertEqual(recall.state, "notified")
        return recall

    def _notice_of(self, recall, customer):
        messages = recall.message_ids.filtered(
            lambda message: message.message_type == "comment" and customer in message.partner_ids
        )
        self.assertEqual(len(messages), 1, customer.name)
        return messages

    def test_the_template_is_an_editable_mail_template_in_the_customer_language(self):
        self.assertEqual(self.template.model, "stock.lot.recall.notice")
        self.assertEqual(self.template.lang, "{{ object.partner_id.lang }}")
        self.assertIn(self.env.ref("lot_margin_control.action_report_recall_notice"), self.template.report_template_ids)

    def test_one_mail_per_customer_with_its_own_lots_and_the_pdf_notice(self):
        recall = self._notify()
        self.assertEqual(len(recall.message_ids.filtered(lambda message: message.message_type == "comment")), 3)
        self.assertEqual(recall.notice_ids.partner_id, self.customer_1 | self.customer_2 | self.customer_3)
        shop_two = self._notice_of(recall, self.customer_2)
        self.assertIn("RC-B1", shop_two.body)
        self.assertNotIn("RC-B2", shop_two.body)
        self.assertIn(recall.name, shop_two.subject)
        # the PDF notice (tests render reports as HTML, hence no fixed extension here)
        self.assertEqual(len(shop_two.attachment_ids), 1)
        self.assertTrue(shop_two.attachment_ids.name.startswith(f"Recall notice {recall.name} - Shop Two."))
        notice_text = shop_two.attachment_ids.raw.decode()
        self.assertIn("RC-B1", notice_text)
        self.assertNotIn("RC-B2", notice_text)
        notice = recall.notice_ids.filtered(lambda notice: notice.partner_id == self.customer_2)
        self.assertEqual(notice.message_id, shop_two)
        self.assertEqual(notice.line_ids.lot_id, self.lot_b1)
        self.assertEqual(sum(notice.line_ids.mapped("quantity")), 15)

    def test_the_mail_body_is_the_template_body(self):
        self.template.body_html = (
            "<p>Edited wording: return lots <t t-out=\"', '.join(object.line_ids.lot_id.mapped('name'))\"/> "
            'to us, <t t-out="object.partner_id.name"/>.</p>'
        )
        recall = self._notify()
        body = self._notice_of(recall, self.customer_2).body
        self.assertIn("Edited wording: return lots RC-B1 to us, Shop Two.", body)
        self.assertNotIn("Please stop selling", body)

    def test_a_french_customer_gets_the_french_notice(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer_2.lang = "fr_FR"
        self.template.with_context(
            lang="fr_FR"
        ).body_html = '<p>Rappel de lots : cessez de vendre le lot <t t-out="object.line_ids.lot_id.name"/>.</p>'
        self.template.update_field_translations("subject", {"fr_FR": "Rappel de produit {{ object.recall_id.name }}"})
        recall = self._notify()
        french = self._notice_of(recall, self.customer_2)
        self.assertIn("Rappel de lots : cessez de vendre le lot RC-B1.", french.body)
        self.assertEqual(french.subject, f"Rappel de produit {recall.name}")
        self.assertEqual(len(french.attachment_ids), 1)
        english = self._notice_of(recall, self.customer_3)
        self.assertIn("Please stop selling", english.body)
        self.assertNotIn("Rappel", english.body + english.subject)
