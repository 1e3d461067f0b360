import base64
import time
from collections import defaultdict

from markupsafe import Markup
from psycopg2.errors import LockNotAvailable, SerializationFailure

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .stock_lot_quality import QUALITY_MANAGER_GROUP, QUALITY_STATES

RECALL_STATES = [
    ("draft", "Draft"),
    ("traced", "Traced"),
    ("contained", "Contained"),
    ("notified", "Customers Notified"),
    ("closed", "Closed"),
    ("cancelled", "Cancelled"),
    ("withdrawn", "Withdrawn"),
]
WITHDRAW_REASON_MAX_LENGTH = 400
RECALL_CLASSES = [
    ("1", "Class I: serious health hazard"),
    ("2", "Class II: temporary or reversible health effects"),
    ("3", "Class III: unlikely to cause adverse health effects"),
]


class StockLotRecall(models.Model):
    """A recall of one or more lots: trace, contain, notify, reconcile, close.

    The trace is one recursive SQL statement (see stock.lot.recall.line) so that a
    mock recall gives quality staff the whole picture in seconds. A mock recall
    (a drill) traces and exports but never blocks stock or mails anyone. A recall
    contained by mistake is withdrawn: its lots go back to the status they had.
    """

    _name = "stock.lot.recall"
    _description = "Lot Recall"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, copy=False, readonly=True, default=lambda self: self.env._("New"), tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, readonly=True, index=True
    )
    lot_ids = fields.Many2many(
        "stock.lot",
        "stock_lot_recall_lot_rel",
        "recall_id",
        "lot_id",
        string="Recalled Lots",
        required=True,
        check_company=True,
        readonly=True,
    )
    product_ids = fields.Many2many(
        "product.product", string="Products", compute="_compute_product_ids", store=True, readonly=True
    )
    reason = fields.Text(required=True, tracking=True)
    recall_class = fields.Selection(RECALL_CLASSES, required=True, default="2", tracking=True)
    is_mock = fields.Boolean(
        string="Mock Recall",
        readonly=True,
        help="A drill: traces and exports, but does not block stock and does not notify customers.",
    )
    state = fields.Selection(RECALL_STATES, default="draft", required=True, tracking=True, copy=False)
    line_ids = fields.One2many("stock.lot.recall.line", "recall_id", string="Trace", readonly=True)
    reconciliation_ids = fields.One2many("stock.lot.recall.reconciliation", "recall_id", readonly=False)
    containment_picking_ids = fields.Many2many(
        "stock.picking", string="Containment Transfers", readonly=True, copy=False
    )
    contained_lot_ids = fields.One2many(
        "stock.lot.recall.contained.lot", "recall_id", string="Contained Lots", readonly=True, copy=False
    )
    withdraw_reason = fields.Text(readonly=True, copy=False, tracking=True)
    traced_date = fields.Datetime(readonly=True, copy=False)
    contained_date = fields.Datetime(readonly=True, copy=False)
    notified_date = fields.Datetime(readonly=True, copy=False)
    closed_date = fields.Datetime(readonly=True, copy=False)
    cancelled_date = fields.Datetime(readonly=True, copy=False)
    withdrawn_date = fields.Datetime(readonly=True, copy=False)
    trace_duration_ms = fields.Float(
        string="Trace Time (ms)", readonly=True, copy=False, digits=(16, 1), aggregator="avg"
    )
    response_hours = fields.Float(
        compute="_compute_response_hours",
        store=True,
        digits=(16, 2),
        aggregator="avg",
        help="Hours from the recall's creation to customer notification (or to the trace for a mock recall).",
    )
    customer_count = fields.Integer(compute="_compute_counts")
    affected_lot_count = fields.Integer(compute="_compute_counts")
    line_count = fields.Integer(compute="_compute_counts")
    qty_unaccounted = fields.Float(compute="_compute_counts", digits="Product Unit of Measure")
    is_reconciled = fields.Boolean(compute="_compute_counts")
    other_company_line_count = fields.Integer(
        compute="_compute_other_company_lines",
        help="Trace lines of companies the current user may not read (or has not selected).",
    )
    other_company_note = fields.Char(compute="_compute_other_company_lines")

    @api.depends("lot_ids")
    def _compute_product_ids(self):
        for recall in self:
            recall.product_ids = recall.lot_ids.product_id

    @api.depends("create_date", "notified_date", "traced_date", "is_mock")
    def _compute_response_hours(self):
        for recall in self:
            end = recall.traced_date if recall.is_mock else recall.notified_date
            recall.response_hours = (
                (end - recall.create_date).total_seconds() / 3600 if end and recall.create_date else 0
            )

    @api.depends("line_ids", "reconciliation_ids")
    def _compute_counts(self):
        for recall in self:
            deliveries = recall.line_ids.filtered(lambda line: line.event == "delivery")
            recall.customer_count = len(deliveries.partner_id)
            recall.affected_lot_count = len(recall.line_ids.lot_id | recall.lot_ids)
            recall.line_count = len(recall.line_ids)
            recall.qty_unaccounted = sum(recall.reconciliation_ids.mapped("qty_unaccounted"))
            recall.is_reconciled = all(recall.reconciliation_ids.mapped("is_reconciled"))

    @api.depends("line_ids")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_other_company_lines(self):
        """Count the trace lines the record rules hide from the user, so screens and exports can say so."""
        Line = self.env["stock.lot.recall.line"]
        domain = [("recall_id", "in", self.ids)]
        visible = {recall.id: count for recall, count in Line._read_group(domain, ["recall_id"], ["__count"])}
        total = {recall.id: count for recall, count in Line.sudo()._read_group(domain, ["recall_id"], ["__count"])}
        for recall in self:
            hidden = total.get(recall._origin.id, 0) - visible.get(recall._origin.id, 0)
            recall.other_company_line_count = hidden
            recall.other_company_note = (
                self.env._(
                    "%(count)s trace lines of other companies are not shown, nor their part of the "
                    "reconciliation (you may not read those companies).",
                    count=hidden,
                )
                if hidden
                else False
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", self.env._("New")) == self.env._("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("stock.lot.recall") or self.env._("New")
        recalls = super().create(vals_list)
        recalls._check_lots()
        return recalls

    def _check_lots(self):
        for recall in self:
            if not recall.lot_ids:
                raise UserError(self.env._("A recall needs at least one lot or serial number."))
            company = recall.company_id
            foreign = recall.lot_ids.filtered(lambda lot, company=company: lot.company_id and lot.company_id != company)
            if foreign:
                raise UserError(
                    self.env._(
                        "Lots %(lots)s belong to another company than the recall (%(company)s). "
                        "Launch the recall from that company.",
                        lots=", ".join(foreign.mapped("display_name")),
                        company=recall.company_id.name,
                    )
                )

    def _check_state(self, allowed, action):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for recall in self:
            if recall.state not in allowed:
                raise UserError(
                    self.env._(
                        "Recall %(recall)s is %(state)s: it cannot be %(action)s now.",
                        recall=recall.name,
                        state=labels[recall.state],
                        action=action,
                    )
                )

    def _check_not_mock(self, action):
        mock = self.filtered("is_mock")
        if mock:
            raise UserError(
                self.env._(
                    "%(recall)s is a mock recall: it traces and exports only, it is never %(action)s.",
                    recall=", ".join(mock.mapped("name")),
                    action=action,
                )
            )

    # ------------------------------------------------------------------
    # Trace
    # ------------------------------------------------------------------
    def _get_trace_company_ids(self):
        """The recall's company, plus the other companies the user works in and may read."""
        self.ensure_one()
        return (self.company_id | (self.env.companies & self.env.user.company_ids)).ids

    def _lock_for_trace(self):
        """Hold the recalls' rows until the end of the transaction, or tell the user to try again.

        One trace at a time per recall. NOWAIT: while another transaction traces
        (or changes) the recall, this one stops at once instead of queueing to
        delete the same lines. A trace committed after this transaction began
        shows on the lock as a serialization failure (repeatable read): its result
        is newer than what this transaction sees, so the user is told to reload
        it rather than have the request replayed.
        """
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM stock_lot_recall WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE NOWAIT",
                        self.ids,
                    ),
                    log_exceptions=False,
                )
        except (LockNotAvailable, SerializationFailure):
            raise UserError(
                self.env._(
                    "Recall %(recalls)s is being traced by another user (or was just traced): try again in a "
                    "moment, or reload it to see the latest trace.",
                    recalls=", ".join(self.mapped("name")),
                )
            ) from None

    def action_trace(self):
        """Trace every affected lot one step back and one step forward, and beyond, in SQL.

        Replaces the previous trace and reconciliation of the companies the user
        traces in; lines of other companies (traced by someone who works there)
        are kept. Query count is constant.
        """
        self._lock_for_trace()
        self._check_state(("draft", "traced", "contained", "notified"), self.env._("traced"))
        self.env.flush_all()
        for recall in self:
            started = time.perf_counter()
            company_ids = recall._get_trace_company_ids()
            for table in ("stock_lot_recall_line", "stock_lot_recall_reconciliation"):
                self.env.execute_query(
                    SQL(
                        "DELETE FROM %s WHERE recall_id = %s AND company_id = ANY(%s)",
                        SQL.identifier(table),
                        recall.id,
                        company_ids,
                    )
                )
            self.env.execute_query(
                self.env["stock.lot.recall.line"]._insert_trace_sql(recall, recall.lot_ids.ids, company_ids)
            )
            self.env.execute_query(
                self.env["stock.lot.recall.reconciliation"]._insert_from_trace_sql(recall, company_ids)
            )
            elapsed_ms = (time.perf_counter() - started) * 1000
            recall.invalidate_recordset(["line_ids", "reconciliation_ids"])
            self.env["stock.lot.recall.line"].invalidate_model()
            self.env["stock.lot.recall.reconciliation"].invalidate_model()
            values = {"trace_duration_ms": elapsed_ms, "traced_date": fields.Datetime.now()}
            if recall.state == "draft":
                values["state"] = "traced"
            recall.write(values)
        return True

    # ------------------------------------------------------------------
    # Contain
    # ------------------------------------------------------------------
    def _get_affected_lots(self):
        """Recalled lots and the lots made from them; not the components that went into them."""
        self.ensure_one()
        derived = self.line_ids.filtered(lambda line: line.lot_relation == "derived").lot_id
        return self.lot_ids | derived

    def action_contain(self):
        """Set affected lots to Recalled (which unreserves them) and propose transfers to quarantine.

        Each lot's status before the recall is kept (``contained_lot_ids``) for a
        withdrawal. A lot already recalled by another open recall keeps the status
        that recall recorded, so the last withdrawal restores the original one.
        """
        self._check_not_mock(self.env._("contained"))
        self._check_state(("traced",), self.env._("contained"))
        for recall in self:
            lots = recall._get_affected_lots()
            previous_states = lots._quality_recall(
                recall, self.env._("Recall %(recall)s: %(reason)s", recall=recall.name, reason=recall.reason)
            )
            held_elsewhere = {held.lot_id.id: held for held in recall._get_holds_of_other_recalls(lots)}
            pickings = recall._create_containment_transfers(lots)
            recall.write(
                {
                    "state": "contained",
                    "contained_date": fields.Datetime.now(),
                    "containment_picking_ids": [Command.link(picking.id) for picking in pickings],
                    "contained_lot_ids": [
                        Command.create(
                            {
                                "lot_id": lot.id,
                                "previous_quality_state": held_elsewhere[lot.id].previous_quality_state
                                if previous_states[lot.id] == "recalled" and lot.id in held_elsewhere
                                else previous_states[lot.id],
                            }
                        )
                        for lot in lots
                    ],
                }
            )
        return True

    def _get_holds_of_other_recalls(self, lots):
        """The holds on ``lots`` of other recalls, of any company, that were contained and not withdrawn."""
        self.ensure_one()
        return (
            self.env["stock.lot.recall.contained.lot"]
            .sudo()
            .search(
                [("lot_id", "in", lots.ids), ("recall_id", "!=", self.id), ("recall_id.state", "!=", "withdrawn")],
                order="id",
            )
        )

    def _create_containment_transfers(self, lots):
        """Draft internal transfers, one per warehouse, of the lots' stock into quarantine."""
        self.ensure_one()
        quants = self.env["stock.quant"].search(
            [
                ("lot_id", "in", lots.ids),
                ("quantity", ">", 0),
                ("location_id.usage", "=", "internal"),
                ("company_id", "=", self.company_id.id),
            ]
        )
        quants.location_id.warehouse_id._create_lot_quarantine_location()
        by_warehouse = defaultdict(lambda: self.env["stock.quant"])
        for quant in quants:
            warehouse = quant.location_id.warehouse_id
            if warehouse.lot_quarantine_location_id and not quant.location_id._is_lot_quarantine_location():
                by_warehouse[warehouse] |= quant
        pickings = self.env["stock.picking"]
        for warehouse, warehouse_quants in by_warehouse.items():
            destination = warehouse.lot_quarantine_location_id
            pickings |= self.env["stock.picking"].create(
                {
                    "picking_type_id": warehouse.int_type_id.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": destination.id,
                    "origin": self.name,
                    "company_id": self.company_id.id,
                    "move_ids": [
                        Command.create(
                            {
                                "name": self.env._(
                                    "Recall %(recall)s: %(lot)s", recall=self.name, lot=quant.lot_id.name
                                ),
                                "product_id": quant.product_id.id,
                                "product_uom": quant.product_id.uom_id.id,
                                "product_uom_qty": quant.quantity,
                                "location_id": quant.location_id.id,
                                "location_dest_id": destination.id,
                                "restrict_lot_id": quant.lot_id.id,
                                "company_id": self.company_id.id,
                            }
                        )
                        for quant in warehouse_quants
                    ],
                }
            )
        return pickings

    # ------------------------------------------------------------------
    # Notify
    # ------------------------------------------------------------------
    def _get_customer_deliveries(self):
        """{commercial partner: delivery trace lines} for the customers who received affected lots."""
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
        report = self.env.ref("lot_margin_control.action_report_recall_notice")
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
            for partner, lines in customers.items():
                pdf, _report_type = report.with_context(recall_customer_id=partner.id)._render_qweb_pdf(
                    report.report_name, recall.ids
                )
                body = self.env["ir.qweb"]._render(
                    "lot_margin_control.recall_customer_mail_body",
                    {"recall": recall, "partner": partner, "lines": lines},
                )
                recall.message_post(
                    body=Markup(body),
                    subject=self.env._("Product recall %(recall)s", recall=recall.name),
                    partner_ids=partner.ids,
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                    attachments=[(f"Recall notice {recall.name} - {partner.name}.pdf", pdf)],
                )
            recall.write({"state": "notified", "notified_date": fields.Datetime.now()})
        return True

    # ------------------------------------------------------------------
    # Close, cancel
    # ------------------------------------------------------------------
    def action_close(self):
        """Close once every lot is reconciled, or its gap explained in writing."""
        self._check_state(("traced", "contained", "notified"), self.env._("closed"))
        for recall in self:
            if not recall.traced_date:
                raise UserError(self.env._("Trace recall %(recall)s before closing it.", recall=recall.name))
            # every company's gaps count, also those the user may not read (searched: the cached
            # reconciliation_ids hold only what the user reads)
            all_gaps = (
                self.env["stock.lot.recall.reconciliation"]
                .sudo()
                .search([("recall_id", "=", recall.id), ("is_reconciled", "=", False)])
                .filtered(lambda line: not (line.explanation or "").strip())
            )
            open_gaps = all_gaps.with_env(self.env)._filtered_access("read")
            if len(all_gaps) > len(open_gaps):
                raise UserError(
                    self.env._(
                        "Recall %(recall)s cannot be closed: %(count)s lots have unaccounted quantities in "
                        "companies you may not read. A user of those companies must find the units or explain "
                        "the gaps.",
                        recall=recall.name,
                        count=len(all_gaps) - len(open_gaps),
                    )
                )
            if open_gaps:
                raise UserError(
                    self.env._(
                        "Recall %(recall)s cannot be closed: %(lots)s have unaccounted quantities. "
                        "Find the units, or write an explanation on each of these lines.",
                        recall=recall.name,
                        lots=", ".join(open_gaps.mapped("lot_id.display_name")),
                    )
                )
        self.write({"state": "closed", "closed_date": fields.Datetime.now()})
        return True

    def action_cancel(self):
        self._check_state(("draft", "traced"), self.env._("cancelled"))
        self.write({"state": "cancelled", "cancelled_date": fields.Datetime.now()})
        return True

    # ------------------------------------------------------------------
    # Withdraw (a recall contained by mistake)
    # ------------------------------------------------------------------
    def action_withdraw(self, reason=None):
        """Withdraw a contained recall: lots back to their status before it, its open transfers cancelled.

        Quality managers only, with a reason (without one, the wizard asks for
        it). Refused once customers were notified: close the recall instead. A
        lot also held by another contained recall stays Recalled; the last
        withdrawal restores it.
        """
        if not self.env.su and not self.env.user.has_group(QUALITY_MANAGER_GROUP):
            raise AccessError(self.env._("Only a Lot Control Quality Manager may withdraw a recall."))
        if reason is None:
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Withdraw Recall"),
                "res_model": "stock.lot.recall.withdraw.wizard",
                "view_mode": "form",
                "target": "new",
                "context": {"default_recall_id": self.ensure_one().id},
            }
        reason = self._check_withdraw_reason(reason)
        self._check_withdrawable()
        for recall in self:
            recall._withdraw(reason)
        return True

    @api.model
    def _check_withdraw_reason(self, reason):
        if not isinstance(reason, str) or not reason.strip():
            raise UserError(self.env._("Say why the recall is withdrawn (for instance the clean lab result)."))
        if len(reason) > WITHDRAW_REASON_MAX_LENGTH:
            raise UserError(
                self.env._(
                    "The reason is %(length)s characters long; keep it under %(max)s and attach the full report "
                    "to the recall.",
                    length=len(reason),
                    max=WITHDRAW_REASON_MAX_LENGTH,
                )
            )
        return reason.strip()

    def _check_withdrawable(self):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for recall in self:
            if recall.is_mock:
                message = self.env._(
                    "%(recall)s is a mock recall: it never contained stock, so there is nothing to withdraw. "
                    "Close it instead.",
                    recall=recall.name,
                )
            elif recall.state in ("notified", "closed"):
                message = self.env._(
                    "Customers were notified of recall %(recall)s: it cannot be withdrawn any more. Close it "
                    "instead, explaining the outcome, and tell the customers.",
                    recall=recall.name,
                )
            elif recall.state in ("draft", "traced"):
                message = self.env._(
                    "Recall %(recall)s never contained stock: there is nothing to withdraw. Cancel it instead.",
                    recall=recall.name,
                )
            elif recall.state != "contained":
                message = self.env._(
                    "Recall %(recall)s is %(state)s: it cannot be withdrawn.",
                    recall=recall.name,
                    state=labels[recall.state],
                )
            else:
                continue
            raise UserError(message)

    def _withdraw(self, reason):
        self.ensure_one()
        holds = self.contained_lot_ids
        held_elsewhere = self._get_holds_of_other_recalls(holds.lot_id)
        to_restore = holds.filtered(lambda hold: hold.lot_id not in held_elsewhere.lot_id)
        lot_reason = self.env._("Recall %(recall)s withdrawn: %(reason)s", recall=self.name, reason=reason)
        to_restore.lot_id._restore_quality_after_recall(
            {hold.lot_id.id: hold.previous_quality_state for hold in to_restore}, lot_reason
        )
        transfers = self.containment_picking_ids
        to_cancel = transfers.filtered(lambda picking: picking.state not in ("done", "cancel"))
        to_cancel.action_cancel()
        self.write({"state": "withdrawn", "withdrawn_date": fields.Datetime.now(), "withdraw_reason": reason})
        for lot in holds.lot_id:
            lot.message_post(body=lot_reason)
        self.message_post(body=self._withdrawal_summary(reason, holds, held_elsewhere, to_cancel, transfers))

    def _withdrawal_summary(self, reason, holds, held_elsewhere, cancelled, transfers):
        """The chatter note of a withdrawal: why, each lot's status now, the transfers."""
        labels = dict(self.env["stock.lot"]._fields["quality_state"]._description_selection(self.env))
        readable_recalls = held_elsewhere.recall_id.with_env(self.env)._filtered_access("read")
        items = []
        for hold in holds:
            lot = hold.lot_id
            status = labels[lot.quality_state]
            other_holds = held_elsewhere.filtered(lambda held, lot=lot: held.lot_id == lot)
            if other_holds:
                names = [
                    recall.name if recall in readable_recalls else self.env._("a recall of another company")
                    for recall in other_holds.recall_id
                ]
                status = self.env._("%(status)s, still held by %(recalls)s", status=status, recalls=", ".join(names))
            items.append(Markup("<li>%s: %s</li>") % (lot.display_name, status))
        done = transfers.filtered(lambda picking: picking.state == "done")
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("Recall withdrawn: %(reason)s", reason=reason),
            Markup().join(items),
        )
        if cancelled:
            body += Markup("<p>%s</p>") % self.env._(
                "Quarantine transfers cancelled: %(transfers)s", transfers=", ".join(cancelled.mapped("name"))
            )
        if done:
            body += Markup("<p>%s</p>") % self.env._(
                "Already done, move the stock back by hand if needed: %(transfers)s",
                transfers=", ".join(done.mapped("name")),
            )
        return body

    # ------------------------------------------------------------------
    # Exports
    # ------------------------------------------------------------------
    def action_export_xlsx(self):
        """FSMA 204 key data elements of the trace as a spreadsheet (an attachment, downloaded)."""
        self.ensure_one()
        if not self.traced_date:
            raise UserError(self.env._("Trace recall %(recall)s before exporting it.", recall=self.name))
        content = self.env["report.lot_margin_control.recall_fsma_xlsx"]._generate(self)
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{self.name.replace('/', '-')}-FSMA204.xlsx",
                "datas": base64.b64encode(content),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "download",
        }

    def action_print_report(self):
        return self.env.ref("lot_margin_control.action_report_recall").report_action(self)

    def action_view_trace(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("lot_margin_control.action_stock_lot_recall_line")
        action["domain"] = [("recall_id", "=", self.id)]
        action["context"] = {"search_default_group_direction": 1}
        return action


class StockLotRecallContainedLot(models.Model):
    """A lot that a recall's containment set to Recalled, and its quality status before.

    Written by ``stock.lot.recall.action_contain``; read by ``action_withdraw`` to
    put each lot back, and to keep Recalled the lots another open recall holds.
    """

    _name = "stock.lot.recall.contained.lot"
    _description = "Lot Contained by a Recall"
    _order = "recall_id, id"

    recall_id = fields.Many2one("stock.lot.recall", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="recall_id.company_id", store=True)
    lot_id = fields.Many2one("stock.lot", string="Lot/Serial Number", required=True, index=True, readonly=True)
    product_id = fields.Many2one(related="lot_id.product_id")
    previous_quality_state = fields.Selection(
        QUALITY_STATES,
        string="Status Before the Recall",
        required=True,
        readonly=True,
        help="Restored when the recall is withdrawn, unless another open recall still holds the lot.",
    )
    current_quality_state = fields.Selection(related="lot_id.quality_state", string="Status Now")
