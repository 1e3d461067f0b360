# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
import base64

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

NOTICE_TEMPLATE = "lot_margin_control.mail_template_recall_notice"


class StockLotRecall(models.Model):
    """Customer notification: one notice per customer who received an affected lot.

    The wording is a mail template (``mail_template_recall_notice``, editable in
    Settings > Technical > Email Templates and translatable) rendered on one
    ``stock.lot.recall.notice`` per customer, in the customer's language, with the
    PDF notice attached. Each mail is posted on the recall, so its history shows
    who was told what.
    """

    _inherit = "stock.lot.recall"

    notice_ids = fields.One2many(
        "stock.lot.recall.notice", "recall_id", string="Customer Notices", readonly=True, copy=False
    )

    def _get_customer_deliveries(self):
        """{partner: delivery trace lines} for the customers who received affected lots.

        Only the trace lines the current user may read (record rules): a user tells
        the customers of the companies they work in.
        """
        self.ensure_one()
        deliveries = self.line_ids.filtered(lambda line: line.event == "delivery" and line.partner_id)
        return deliveries.grouped("partner_id")

    def action_notify_preview(self):
        """Open the preview of the notices, one per customer, before they are sent."""
        self._check_not_mock(self.env._("used to notify customers"))
        self._check_state(("traced", "contained"), self.env._("notified"))
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Notify Customers"),
            "res_model": "stock.lot.recall.notify.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_recall_id": self.id},
        }

    def action_notify(self):
        """Mail each affected customer its deliveries, lots and quantities, with the PDF notice.

        Every customer must have an email address: otherwise nothing is sent.
        """
        self._check_not_mock(self.env._("used to notify customers"))
        self._check_state(("traced", "contained"), self.env._("notified"))
        template = self.env.ref(NOTICE_TEMPLATE)
        for recall in self:
            customers = recall._get_customer_deliveries()
            if not customers:
                raise UserError(self.env._("Recall %(recall)s has no customer delivery to notify.", recall=recall.name))
            without_email = [partner.display_name for partner in customers if not partner.email]
            if without_email:
                raise UserError(
                    self.env._(
                        "No email address for %(customers)s: add one on the contact, then notify again. "
                        "Nothing was sent.",
                        customers=", ".join(without_email),
                    )
                )
            notices = self.env["stock.lot.recall.notice"].create(
                [
                    {
                        "recall_id": recall.id,
                        "partner_id": partner.id,
                        "email": partner.email,
                        "line_ids": [Command.set(lines.ids)],
                    }
                    for partner, lines in customers.items()
                ]
            )
            notices._post_on_recall(template)
            recall.write({"state": "notified", "notified_date": fields.Datetime.now()})
        return True


class StockLotRecallNotice(models.Model):
    """The notice one customer got for a recall: its deliveries, lots and quantities.

    Created by ``stock.lot.recall.action_notify``, one per customer, with the trace
    lines the notifying user may read. The mail template and the PDF notice are
    rendered on it (so ``object.partner_id.lang`` picks the customer's language),
    and ``message_id`` is the mail posted on the recall.
    """

    _name = "stock.lot.recall.notice"
    _description = "Recall Notice to a Customer"
    _order = "recall_id, id"

    recall_id = fields.Many2one("stock.lot.recall", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="recall_id.company_id", store=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, readonly=True)
    email = fields.Char(readonly=True, help="The address the notice was sent to.")
    partner_lang = fields.Selection(related="partner_id.lang", string="Language")
    line_ids = fields.Many2many(
        "stock.lot.recall.line",
        string="Deliveries",
        readonly=True,
        help="The deliveries of affected lots to this customer, as traced when the notice was sent.",
    )
    message_id = fields.Many2one("mail.message", readonly=True, ondelete="set null")

    @api.depends("recall_id.name", "partner_id.display_name")
    def _compute_display_name(self):
        for notice in self:
            notice.display_name = f"{notice.recall_id.name} - {notice.partner_id.display_name}"

    def _post_on_recall(self, template):
        """Render ``template`` on each notice (in the customer's language) and post it on the recall."""
        rendered = template._generate_template(
            self.ids, ("subject", "body_html", "email_from", "partner_to", "report_template_ids")
        )
        for notice in self:
            values = rendered[notice.id]
            notice.message_id = notice.recall_id.message_post(
                body=Markup(values["body_html"]),
                subject=values["subject"],
                email_from=values["email_from"] or None,
                partner_ids=values.get("partner_ids") or notice.partner_id.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                attachments=[(name, base64.b64decode(content)) for name, content in values.get("attachments", [])],
            )
