from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import format_amount


class StockLotValuationWizard(models.TransientModel):
    """Asks for the as-of date and the scope of the inventory valuation by lot, then opens or exports it.

    The report itself is ``stock.lot.valuation.report``; this wizard only turns
    the choices into its context (``valuation_date``) and a domain, so that the
    screen, the spreadsheet and an RPC ``search_read`` show the same rows.
    """

    _name = "stock.lot.valuation.wizard"
    _inherit = ["stock.lot.valuation.scope"]
    _description = "Inventory Valuation by Lot"

    valuation_date = fields.Date(
        string="As of",
        required=True,
        default=fields.Date.context_today,
        help="Stock and value at the end of this day. Today or a later date means now.",
    )
    note = fields.Text(compute="_compute_note", help="What the report will show, when it is not plain.")
    summary_html = fields.Html(
        string="Provision Summary",
        readonly=True,
        help="Value by expiry and quality status and the suggested provision, from the report's summary.",
    )

    @api.constrains("valuation_date")
    def _check_valuation_date(self):
        report = self.env["stock.lot.valuation.report"]
        for wizard in self:
            try:
                report._resolve_valuation_date(wizard.valuation_date)
            except UserError as error:
                raise ValidationError(error.args[0]) from error

    # ------------------------------------------------------------------
    # What the choices mean
    # ------------------------------------------------------------------
    def _get_effective_date(self):
        """The as-of date the report uses: the chosen one, or today when it is in the future
        (``stock.lot.valuation.report._get_valuation_day``, the one place that decides)."""
        self.ensure_one()
        return self.env["stock.lot.valuation.report"]._get_valuation_day(self.valuation_date)

    def _get_report(self):
        """The report model in the wizard's company and as of its date."""
        self.ensure_one()
        return (
            self.env["stock.lot.valuation.report"]
            .with_company(self.company_id)
            .with_context(**self._get_report_context())
        )

    def _get_no_stock_note(self):
        """The note of an empty report, on the screen and in the spreadsheet."""
        return self.env._(
            "No stock in this scope as of %(date)s: widen the filters or choose another date.",
            date=self._get_effective_date(),
        )

    def _first_move_date(self):
        """Date of the company's first done stock move line, or None."""
        self.ensure_one()
        [(first,)] = (
            self.env["stock.move.line"]
            .sudo()
            ._read_group([("company_id", "=", self.company_id.id), ("state", "=", "done")], aggregates=["date:min"])
        )
        return first and fields.Date.context_today(self, first)

    def _get_notes(self):
        """Messages about the date, shown on the wizard, the empty report and the spreadsheet."""
        self.ensure_one()
        notes = []
        if not self.valuation_date or not self.company_id:
            return notes
        effective_date = self._get_effective_date()
        if self.valuation_date != effective_date:
            notes.append(
                self.env._(
                    "%(date)s is in the future: the valuation is as of now (%(today)s).",
                    date=self.valuation_date,
                    today=effective_date,
                )
            )
        first = self._first_move_date()
        if not first:
            notes.append(
                self.env._("%(company)s has no stock moves yet: the report is empty.", company=self.company_id.name)
            )
        elif self.valuation_date < first:
            notes.append(
                self.env._(
                    "%(company)s has no stock moves before %(first)s: the report as of %(date)s is empty. "
                    "Choose a later date.",
                    company=self.company_id.name,
                    first=first,
                    date=self.valuation_date,
                )
            )
        return notes

    @api.depends("valuation_date", "company_id")
    def _compute_note(self):
        for wizard in self:
            try:
                wizard.note = "\n".join(wizard._get_notes()) or False
            except UserError as error:  # a date out of range, refused on save
                wizard.note = error.args[0]

    def _get_report_context(self):
        self.ensure_one()
        return {"valuation_date": fields.Date.to_string(self._get_effective_date())}

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def _get_scope_values(self):
        """The wizard's date and scope as the values of a ``stock.lot.valuation.snapshot``."""
        self.ensure_one()
        return {
            "company_id": self.company_id.id,
            "valuation_date": self.valuation_date,
            "warehouse_ids": [Command.set(self.warehouse_ids.ids)],
            "location_ids": [Command.set(self.location_ids.ids)],
            "categ_ids": [Command.set(self.categ_ids.ids)],
            "shelf_life_filter": self.shelf_life_filter,
            "quality_filter": self.quality_filter,
            "horizon_days": self.horizon_days,
        }

    def action_open_report(self):
        """Make a snapshot of the valuation as of the date on the chosen scope and open its lines
        (pivot, list, graph): pages, sorts and groups then read an indexed table."""
        self.ensure_one()
        snapshot = self.env["stock.lot.valuation.snapshot"].create(self._get_scope_values())
        return snapshot.action_open_lines([self._get_no_stock_note(), *self._get_notes()])

    def action_open_summary(self):
        """Show the provision summary of the chosen scope (the report's ``get_summary``)."""
        self.ensure_one()
        return self._show_summary(
            self._get_report().get_summary(self._get_report_domain()),
            self.env._("Filters: %(filters)s", filters=self._describe_filters()),
        )

    def _show_summary(self, summary, scope):
        """Render ``summary`` (``get_summary``) on this wizard and open it in a read-only dialog."""
        self.ensure_one()
        report = self.env["stock.lot.valuation.report"]
        currency = self.env["res.currency"].browse(summary["currency_id"])
        self.summary_html = self.env["ir.qweb"]._render(
            "lot_margin_control.stock_lot_valuation_summary_table",
            {
                "sections": report._get_summary_sections(summary),
                "summary": summary,
                "scope": scope,
                "format_amount": lambda amount: format_amount(self.env, amount, currency),
            },
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Provision Summary as of %(date)s", date=self._get_effective_date()),
            "res_model": self._name,
            "res_id": self.id,
            "views": [(self.env.ref("lot_margin_control.stock_lot_valuation_wizard_view_summary").id, "form")],
            "target": "new",
        }

    def action_export_xlsx(self):
        """Write the spreadsheet of the chosen scope and hand it over as a download."""
        self.ensure_one()
        report = self._get_report()
        domain = self._get_report_domain()
        rows = report._read_export_rows(domain)
        summary = report.get_summary(domain)
        notes = self._get_notes()
        if not rows:
            notes.append(self._get_no_stock_note())
        header = [
            (self.env._("Company"), self.company_id.name),
            (self.env._("As of"), fields.Date.to_string(self._get_effective_date())),
            (self.env._("Filters"), self._describe_filters()),
        ]
        content = self.env["report.lot_margin_control.valuation_xlsx"]._generate(
            rows, summary, header, self.company_id.currency_id, notes
        )
        return self.env["report.lot_margin_control.valuation_xlsx"]._download(
            self, "inventory_valuation_by_lot", self._get_effective_date(), content
        )
