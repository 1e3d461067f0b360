# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
import base64
import time

from psycopg2.errors import LockNotAvailable, SerializationFailure

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

RECALL_STATES = [
    ("draft", "Draft"),
    ("traced", "Traced"),
    ("contained", "Contained"),
    ("notified", "Customers Notified"),
    ("closed", "Closed"),
    ("cancelled", "Cancelled"),
    ("withdrawn", "Withdrawn"),
]
RECALL_CLASSES = [
    ("1", "Class I: serious health hazard"),
    ("2", "Class II: temporary or reversible health effects"),
    ("3", "Class III: unlikely to cause adverse health effects"),
]


class StockLotRecall(models.Model):
    """A recall of one or more lots: trace, contain, notify, reconcile, close.

    The trace is one recursive SQL statement (see stock.lot.recall.line) so that a
    mock recall gives quality staff the whole picture in seconds. A mock recall
    (a drill) traces and exports but never blocks stock or mails anyone. Each
    further step has its own file: containment (stock_lot_recall_containment.py),
    customer notices (stock_lot_recall_notification.py) and the withdrawal of a
    recall contained by mistake (stock_lot_recall_withdrawal.py).
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
    traced_date = fields.Datetime(readonly=True, copy=False)
    contained_date = fields.Datetime(readonly=True, copy=False)
    notified_date = fields.Datetime(readonly=True, copy=False)
    closed_date = fields.Datetime(readonly=True, copy=False)
    cancelled_date = fields.Datetime(readonly=True, copy=False)
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

    def unlink(self):
        # trace lines have no foreign key to the recall (see stock_lot_recall_line.SnapshotMany2one)
        self.check_access("unlink")
        self.env.execute_query(SQL("DELETE FROM stock_lot_recall_line WHERE recall_id = ANY(%s)", self.ids))
        return super().unlink()

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

        Brings the trace of the companies the user traces in up to date (lines no
        longer traced deleted, new ones inserted, unchanged ones kept) and replaces
        their reconciliation; lines of other companies (traced by someone who works
        there) are kept. Query count is constant.
        """
        self._lock_for_trace()
        self._check_state(("draft", "traced", "contained", "notified"), self.env._("traced"))
        self.env.flush_all()
        for recall in self:
            started = time.perf_counter()
            company_ids = recall._get_trace_company_ids()
            self.env.execute_query(
                SQL(
                    "DELETE FROM stock_lot_recall_reconciliation WHERE recall_id = %s AND company_id = ANY(%s)",
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

    @api.readonly
    def action_view_trace(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("lot_margin_control.action_stock_lot_recall_line")
        action["domain"] = [("recall_id", "=", self.id)]
        action["context"] = {"search_default_group_direction": 1}
        return action
