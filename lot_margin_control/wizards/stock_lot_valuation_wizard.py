import re

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import format_amount

from ..models.lot_limits import check_day_counts

SHELF_LIFE_FILTERS = [
    ("all", "All"),
    ("at_risk", "Near Expiry or Expired"),
    ("fresh", "Fresh"),
    ("near_expiry", "Near Expiry"),
    ("expired", "Expired"),
    ("no_expiry", "No Expiry"),
]
QUALITY_FILTERS = [
    ("all", "All"),
    ("not_released", "Not Released (quarantine, blocked, recalled)"),
    ("released", "Released"),
    ("quarantine", "Quarantine"),
    ("blocked", "Blocked"),
    ("recalled", "Recalled"),
]


class StockLotValuationWizard(models.TransientModel):
    """Asks for the as-of date and the scope of the inventory valuation by lot, then opens or exports it.

    The report itself is ``stock.lot.valuation.report``; this wizard only turns
    the choices into its context (``valuation_date``) and a domain, so that the
    screen, the spreadsheet and an RPC ``search_read`` show the same rows.
    """

    _name = "stock.lot.valuation.wizard"
    _description = "Inventory Valuation by Lot"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    valuation_date = fields.Date(
        string="As of",
        required=True,
        default=fields.Date.context_today,
        help="Stock and value at the end of this day. Today or a later date means now.",
    )
    warehouse_ids = fields.Many2many(
        "stock.warehouse",
        string="Warehouses",
        check_company=True,
        domain="[('company_id', '=', company_id)]",
        help="Leave empty for every warehouse of the company.",
    )
    location_ids = fields.Many2many(
        "stock.location",
        string="Locations",
        check_company=True,
        domain="[('company_id', '=', company_id), ('usage', 'in', ('internal', 'transit'))]",
        help="These locations and the locations inside them. Leave empty for all.",
    )
    categ_ids = fields.Many2many(
        "product.category",
        string="Product Categories",
        help="These categories and their subcategories. Leave empty for all.",
    )
    shelf_life_filter = fields.Selection(
        SHELF_LIFE_FILTERS, string="Shelf Life", required=True, default="all", help="As of the chosen date."
    )
    quality_filter = fields.Selection(
        QUALITY_FILTERS, string="Quality Status", required=True, default="all", help="The lots' current status."
    )
    horizon_days = fields.Integer(
        string="Expiring Within (days)",
        help="Only lots expiring within this many days of the chosen date, expired ones included. "
        "0 shows every lot.",
    )
    note = fields.Text(compute="_compute_note", help="What the report will show, when it is not plain.")
    summary_html = fields.Html(
        string="Provision Summary",
        readonly=True,
        help="Value by expiry and quality status and the suggested provision, from the report's summary.",
    )

    @api.constrains("horizon_days")
    def _check_horizon_days(self):
        check_day_counts(self, "horizon_days")

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

    def _get_report_domain(self):
        """The report domain of the chosen scope."""
        self.ensure_one()
        domain = [("company_id", "=", self.company_id.id)]
        if self.warehouse_ids:
            domain.append(("warehouse_id", "in", self.warehouse_ids.ids))
        if self.location_ids:
            domain.append(("location_id", "child_of", self.location_ids.ids))
        if self.categ_ids:
            domain.append(("product_categ_id", "child_of", self.categ_ids.ids))
        shelf_life = {
            "at_risk": ["near_expiry", "expired"],
            "fresh": ["fresh"],
            "near_expiry": ["near_expiry"],
            "expired": ["expired"],
            "no_expiry": ["no_expiry"],
        }.get(self.shelf_life_filter)
        if shelf_life:
            domain.append(("shelf_life_state", "in", shelf_life))
        quality = {
            "not_released": ["quarantine", "blocked", "recalled"],
            "released": ["released"],
            "quarantine": ["quarantine"],
            "blocked": ["blocked"],
            "recalled": ["recalled"],
        }.get(self.quality_filter)
        if quality:
            domain.append(("quality_state", "in", quality))
        if self.horizon_days:
            domain.append(("remaining_shelf_life_days", "<", self.horizon_days))
        return domain

    def _get_report_context(self):
        self.ensure_one()
        return {"valuation_date": fields.Date.to_string(self._get_effective_date())}

    def _describe_filters(self):
        """The scope in words, for the spreadsheet."""
        self.ensure_one()
        parts = []
        if self.warehouse_ids:
            parts.append(self.env._("Warehouses: %s", ", ".join(self.warehouse_ids.mapped("name"))))
        if self.location_ids:
            parts.append(self.env._("Locations: %s", ", ".join(self.location_ids.mapped("complete_name"))))
        if self.categ_ids:
            parts.append(self.env._("Categories: %s", ", ".join(self.categ_ids.mapped("complete_name"))))
        selections = (("shelf_life_filter", "all"), ("quality_filter", "all"))
        for fname, default in selections:
            if self[fname] != default:
                field = self._fields[fname]
                label = dict(field._description_selection(self.env))[self[fname]]
                parts.append(f"{field._description_string(self.env)}: {label}")
        if self.horizon_days:
            parts.append(self.env._("Expiring within %(days)s days", days=self.horizon_days))
        return "; ".join(parts) or self.env._("None")

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_open_report(self):
        """Open the report (pivot, list, graph) as of the date, on the chosen scope."""
        self.ensure_one()
        notes = [self._get_no_stock_note(), *self._get_notes()]
        help_html = Markup("<p class='o_view_nocontent_empty_folder'>%s</p>") % notes[0] + Markup().join(
            Markup("<p>%s</p>") % note for note in notes[1:]
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Valuation by Lot as of %(date)s", date=self._get_effective_date()),
            "res_model": "stock.lot.valuation.report",
            "view_mode": "pivot,list,graph",
            "views": [
                (self.env.ref("lot_margin_control.stock_lot_valuation_report_view_pivot").id, "pivot"),
                (self.env.ref("lot_margin_control.stock_lot_valuation_report_view_list").id, "list"),
                (self.env.ref("lot_margin_control.stock_lot_valuation_report_view_graph").id, "graph"),
            ],
            "search_view_id": [self.env.ref("lot_margin_control.stock_lot_valuation_report_view_search").id],
            "domain": self._get_report_domain(),
            "context": self._get_report_context(),
            "help": help_html,
            "target": "current",
        }

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
        company = re.sub(r"[^\w-]+", "_", self.company_id.name or "").strip("_")
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"inventory_valuation_by_lot_{company}_{self._get_effective_date()}.xlsx",
                "raw": content,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "download",
        }
