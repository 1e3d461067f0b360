# pylint: disable=consider-merging-classes-inherited
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..report.stock_lot_valuation_rollforward import last_month_end


def _last_month_end(wizard):
    return last_month_end(fields.Date.context_today(wizard))


class StockLotValuationWizard(models.TransientModel):
    """The roll-forward by lot from the valuation wizard: from an opening date (or a kept snapshot) to
    the wizard's as-of date (or another kept snapshot), on the company and product categories chosen.

    The rows are ``stock.lot.valuation.rollforward``'s, read with the context
    keys ``valuation_date_from`` and ``valuation_date`` this wizard sets.
    """

    _inherit = "stock.lot.valuation.wizard"

    valuation_date_from = fields.Date(
        string="Opening as of",
        default=_last_month_end,
        help="Roll-forward: the opening balance is the valuation at the end of this day (e.g. the last period "
        "end); movements are those after it, up to the end of the As-of date.",
    )
    opening_snapshot_id = fields.Many2one(
        "stock.lot.valuation.snapshot",
        string="Opening Period End",
        check_company=True,
        domain="[('company_id', '=', company_id), ('is_period_end', '=', True)]",
        help="Roll-forward from the instant of this kept snapshot instead of the opening date.",
    )
    closing_snapshot_id = fields.Many2one(
        "stock.lot.valuation.snapshot",
        string="Closing Period End",
        check_company=True,
        domain="[('company_id', '=', company_id), ('is_period_end', '=', True)]",
        help="Roll-forward up to the instant of this kept snapshot instead of the As-of date.",
    )

    @api.onchange("opening_snapshot_id")
    def _onchange_opening_snapshot_id(self):
        if self.opening_snapshot_id:
            self.valuation_date_from = self.opening_snapshot_id.valuation_date

    @api.onchange("closing_snapshot_id")
    def _onchange_closing_snapshot_id(self):
        if self.closing_snapshot_id:
            self.valuation_date = self.closing_snapshot_id.valuation_date

    @api.onchange("valuation_date")
    def _onchange_valuation_date_rollforward(self):
        if self.valuation_date and self.valuation_date_from and self.valuation_date_from > self.valuation_date:
            self.valuation_date_from = last_month_end(self.valuation_date)

    @api.constrains("valuation_date_from")
    def _check_valuation_date_from(self):
        report = self.env["stock.lot.valuation.report"]
        for wizard in self.filtered("valuation_date_from"):
            try:
                report._get_as_of_instant(wizard.valuation_date_from)
            except UserError as error:
                raise ValidationError(error.args[0]) from error

    # ------------------------------------------------------------------
    # What the choices mean
    # ------------------------------------------------------------------
    def _get_rollforward_context(self):
        """The context keys of the roll-forward: the snapshots' instants, or the dates."""
        self.ensure_one()
        if self.opening_snapshot_id:
            start = fields.Datetime.to_string(self.opening_snapshot_id.valuation_datetime)
        else:
            start = fields.Date.to_string(self.valuation_date_from)
        if self.closing_snapshot_id:
            end = fields.Datetime.to_string(self.closing_snapshot_id.valuation_datetime)
        else:
            end = fields.Date.to_string(self._get_effective_date())
        return {"valuation_date_from": start, "valuation_date": end}

    def _get_rollforward(self):
        self.ensure_one()
        return (
            self.env["stock.lot.valuation.rollforward"]
            .with_company(self.company_id)
            .with_context(**self._get_rollforward_context())
        )

    def _get_rollforward_domain(self):
        """The roll-forward rows of the chosen company and product categories: its rows are whole lots of
        a company, the other filters (warehouses, locations, states, horizon) do not apply."""
        self.ensure_one()
        domain = [("company_id", "=", self.company_id.id)]
        if self.categ_ids:
            domain.append(("product_categ_id", "child_of", self.categ_ids.ids))
        return domain

    def _describe_period(self):
        self.ensure_one()
        start = self.opening_snapshot_id.name or fields.Date.to_string(self.valuation_date_from)
        end = self.closing_snapshot_id.name or fields.Date.to_string(self._get_effective_date())
        return start, end

    def _get_rollforward_notes(self):
        """Messages about the period and the filters, on the screen and in the spreadsheet."""
        self.ensure_one()
        notes = []
        if self.warehouse_ids or self.location_ids or self.shelf_life_filter != "all" or self.quality_filter != "all":
            notes.append(
                self.env._("The roll-forward is by lot and company: only the company and product categories filter it.")
            )
        first = self._first_move_date()
        if first and not self.opening_snapshot_id and self.valuation_date_from < first:
            notes.append(
                self.env._(
                    "%(company)s has no stock moves before %(first)s: the opening balance as of %(date)s is zero.",
                    company=self.company_id.name,
                    first=first,
                    date=self.valuation_date_from,
                )
            )
        return notes

    def _check_rollforward_ready(self):
        """A UserError, before anything is done, when the period cannot be rolled forward."""
        self.ensure_one()
        if not self.valuation_date_from and not self.opening_snapshot_id:
            raise UserError(
                self.env._("Give the opening date of the roll-forward (e.g. the last period end), or a kept snapshot.")
            )
        self._get_rollforward()._get_period()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_open_rollforward(self):
        """Open the roll-forward by lot (list, pivot) between the opening and the as-of date."""
        self.ensure_one()
        self._check_rollforward_ready()
        start, end = self._describe_period()
        notes = [self.env._("Nothing moved and nothing was held in this scope."), *self._get_rollforward_notes()]
        help_html = Markup("<p class='o_view_nocontent_empty_folder'>%s</p>") % notes[0] + Markup().join(
            Markup("<p>%s</p>") % note for note in notes[1:]
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Roll-forward %(start)s to %(end)s", start=start, end=end),
            "res_model": "stock.lot.valuation.rollforward",
            "view_mode": "list,pivot",
            "views": [
                (self.env.ref("lot_margin_control.stock_lot_valuation_rollforward_view_list").id, "list"),
                (self.env.ref("lot_margin_control.stock_lot_valuation_rollforward_view_pivot").id, "pivot"),
            ],
            "search_view_id": [self.env.ref("lot_margin_control.stock_lot_valuation_rollforward_view_search").id],
            "domain": self._get_rollforward_domain(),
            "context": self._get_rollforward_context(),
            "help": help_html,
            "target": "current",
        }

    def action_export_rollforward_xlsx(self):
        """The roll-forward's spreadsheet: by lot with subtotals per category, and its summary."""
        self.ensure_one()
        self._check_rollforward_ready()
        rollforward = self._get_rollforward()
        rows = rollforward._read_export_rows(self._get_rollforward_domain())
        start, end = self._describe_period()
        header = [
            (self.env._("Company"), self.company_id.name),
            (self.env._("Opening as of"), start),
            (self.env._("Closing as of"), end),
            (self.env._("Product Categories"), ", ".join(self.categ_ids.mapped("complete_name")) or self.env._("All")),
        ]
        notes = self._get_rollforward_notes()
        if not rows:
            notes.append(self.env._("Nothing moved and nothing was held in this scope."))
        xlsx = self.env["report.lot_margin_control.rollforward_xlsx"]
        content = xlsx._generate(rows, header, self.company_id.currency_id, notes)
        return self.env["report.lot_margin_control.valuation_xlsx"]._download(
            self, "valuation_rollforward_by_lot", self._get_effective_date(), content
        )
