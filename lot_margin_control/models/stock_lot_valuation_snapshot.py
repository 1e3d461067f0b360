from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.misc import format_amount

from .stock_lot_valuation_snapshot_line import SNAPSHOT_COLUMNS

# What a snapshot is made of: its scope (``stock.lot.valuation.scope``), its as-of date, a name and
# whether it is kept. Everything else (lines, totals, the instant) comes from the valuation itself.
CREATE_FIELDS = frozenset(
    {
        "name",
        "is_period_end",
        "valuation_date",
        "company_id",
        "warehouse_ids",
        "location_ids",
        "categ_ids",
        "shelf_life_filter",
        "quality_filter",
        "horizon_days",
    }
)
# What may still change once a snapshot is made.
EDITABLE_FIELDS = frozenset({"name", "is_period_end"})
# Snapshots not kept as a period end are working copies (every *Open Report* makes one): deleted
# once they are this old.
WORKING_SNAPSHOT_DAYS = 1
# Month-end closes kept by the daily cron: the overview's trend (six months) and a year's comparisons.
MONTH_END_MONTHS = 12


class StockLotValuationSnapshot(models.Model):
    """The valuation by lot as it stood at an instant, kept in a table.

    *Open Report* in Valuation by Lot makes one: the rows of
    ``stock.lot.valuation.report`` for the wizard's date and scope are copied
    by one ``INSERT … SELECT`` into ``stock.lot.valuation.snapshot.line``, and
    the list, pivot and graph read those lines. A snapshot never changes once
    made (later moves, revaluations or status changes do not reach it): only
    its name and whether it is kept as a period end can be edited, and only
    inventory administrators may delete it, whole. Snapshots not kept are
    working copies, deleted after ``WORKING_SNAPSHOT_DAYS``.
    """

    _name = "stock.lot.valuation.snapshot"
    _inherit = ["stock.lot.valuation.scope"]
    _description = "Valuation Snapshot"
    _order = "valuation_datetime desc, id desc"

    name = fields.Char(required=True, help='e.g. "2026-10 close". Can be changed after the snapshot is made.')
    is_period_end = fields.Boolean(
        string="Kept as Period End",
        help="A kept snapshot stays until an inventory administrator deletes it; the others are working copies, "
        "deleted after a day.",
    )
    valuation_date = fields.Date(string="As of", readonly=True, help="The valuation is at the end of this day.")
    valuation_datetime = fields.Datetime(
        string="Valuation Instant",
        readonly=True,
        help="The instant the figures are as of: the end of the As-of day, or the moment the snapshot was made "
        "when that was earlier.",
    )
    is_whole_company = fields.Boolean(
        string="Whole Company",
        compute="_compute_is_whole_company",
        store=True,
        help="Made without filters: every lot of the company. The Lot Control overview reads the value tiles of a "
        "closed month from such a snapshot kept as a period end at the month's last instant.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    line_ids = fields.One2many("stock.lot.valuation.snapshot.line", "snapshot_id", string="Lines", readonly=True)
    line_count = fields.Integer(string="Rows", readonly=True)
    total_value = fields.Monetary(readonly=True)
    filter_description = fields.Char(string="Filters", readonly=True)
    summary_html = fields.Html(
        string="Provision Summary",
        compute="_compute_summary_html",
        sanitize=False,
        help="Value by expiry and quality status and the suggested provision, from the snapshot's lines.",
    )

    @api.depends("warehouse_ids", "location_ids", "categ_ids", "shelf_life_filter", "quality_filter", "horizon_days")
    def _compute_is_whole_company(self):
        for snapshot in self:
            snapshot.is_whole_company = not (
                snapshot.warehouse_ids
                or snapshot.location_ids
                or snapshot.categ_ids
                or snapshot.shelf_life_filter != "all"
                or snapshot.quality_filter != "all"
                or snapshot.horizon_days
            )

    @api.depends("line_count")
    def _compute_summary_html(self):
        for snapshot in self:
            snapshot.summary_html = snapshot.id and snapshot._render_summary(
                snapshot.env["stock.lot.valuation.snapshot.line"].get_summary([("snapshot_id", "=", snapshot.id)]),
                snapshot.filter_description,
            )

    # ------------------------------------------------------------------
    # Made once, never changed
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        """Make each snapshot from its scope and as-of date: the lines are the valuation's rows.

        Only the fields of ``CREATE_FIELDS`` may be given; an as-of date out of
        range is a UserError (``stock.lot.valuation.report._resolve_valuation_date``).
        """
        report = self.env["stock.lot.valuation.report"]
        vals_list = [dict(vals) for vals in vals_list]  # the caller's dicts stay as given
        as_of = []
        for vals in vals_list:
            given = set(vals) - CREATE_FIELDS
            if given:
                raise UserError(
                    self.env._(
                        "A snapshot's figures come from the valuation, they cannot be given: %(fields)s.",
                        fields=", ".join(sorted(given)),
                    )
                )
            instant, is_now = report._resolve_valuation_date(vals.get("valuation_date"))
            day = report._get_valuation_day(vals.get("valuation_date"))
            vals.update(valuation_datetime=instant, valuation_date=day)
            vals.setdefault("name", self.env._("Valuation as of %(date)s", date=day))
            as_of.append(is_now)
        snapshots = super().create(vals_list)
        for snapshot, is_now in zip(snapshots, as_of, strict=True):
            snapshot._make_lines(is_now)
        return snapshots

    def _make_lines(self, is_now):
        """Copy the valuation's rows of this snapshot's scope and instant into its lines, and its totals
        onto it: one ``INSERT … SELECT`` from the report's query, in the report's row order
        (``_sql_row_order``). The products and locations are ranked in that order first (a few rows
        each): sorting 100,000 rows by their names under the database's collation took longer than
        making them."""
        self.ensure_one()
        report = self.env["stock.lot.valuation.report"].with_company(self.company_id)
        as_of = False if is_now else fields.Datetime.to_string(self.valuation_datetime)
        report = report.with_context(valuation_date=as_of)
        # the report's rows of the scope (its domain and record rules), made by its hashed variant:
        # this statement is planned without nested loops (``_execute_hashed``)
        query = report._search(self._get_report_domain())
        self.env.flush_all()  # what the valuation reads, as the report's own reads flush it
        instant, is_now = report._get_valuation_datetime()
        table = SQL.identifier(report._table)
        rows = query.select(SQL("%s.*", table))
        if query.from_clause.code == SQL("%s AS %s", report._table_sql, table).code:
            # the scope's conditions are on the rows' own columns (no join): the same rows, hashed
            rows = SQL(
                "SELECT %s.* FROM (%s) AS %s WHERE %s",
                table,
                report._valuation_query(instant, is_now, hashed=True),
                table,
                query.where_clause or SQL("TRUE"),
            )
        report._tune_bulk_session()
        report._execute_hashed(
            SQL(
                """
                WITH product_rank AS (
                    SELECT product.id, ROW_NUMBER() OVER (ORDER BY %(product_order)s) AS rank
                      FROM product_product product
                      JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                 LEFT JOIN product_category categ ON categ.id = tmpl.categ_id
                ),
                location_rank AS (
                    SELECT location.id, RANK() OVER (ORDER BY location.complete_name) AS rank
                      FROM stock_location location
                ),
                line AS (
                    INSERT INTO stock_lot_valuation_snapshot_line (snapshot_id, %(columns)s)
                    SELECT %(snapshot)s, %(source_columns)s
                      FROM (%(rows)s) report
                      JOIN product_rank ON product_rank.id = report.product_id
                 LEFT JOIN stock_lot lot ON lot.id = report.lot_id
                 LEFT JOIN location_rank ON location_rank.id = report.location_id
                     ORDER BY product_rank.rank, lot.name COLLATE "C", location_rank.rank NULLS LAST, report.id
                 RETURNING value
                )
                UPDATE stock_lot_valuation_snapshot snapshot
                   SET line_count = made.line_count, total_value = made.total_value,
                       filter_description = %(filters)s
                  FROM (SELECT COUNT(*) AS line_count, COALESCE(SUM(line.value), 0) AS total_value FROM line) made
                 WHERE snapshot.id = %(snapshot)s
                """,
                columns=SQL(", ").join(SQL.identifier(column) for column in SNAPSHOT_COLUMNS),
                source_columns=SQL(", ").join(SQL.identifier("report", column) for column in SNAPSHOT_COLUMNS),
                snapshot=self.id,
                rows=rows,
                product_order=report._sql_product_order(),
                filters=self._describe_filters(),
            ),
            fetch=False,
        )
        self.invalidate_recordset(["line_count", "total_value", "filter_description", "line_ids"])

    def write(self, vals):
        frozen = set(vals) - EDITABLE_FIELDS
        if frozen:
            raise UserError(
                self.env._(
                    "A valuation snapshot never changes once made: only its name and whether it is kept as a "
                    "period end can be edited (not %(fields)s). Make a new snapshot to see other figures.",
                    fields=", ".join(sorted(frozen)),
                )
            )
        if "is_period_end" in vals and not vals["is_period_end"] and self.filtered("is_period_end"):
            # a working copy is deleted after a day: letting a period end go is deleting it
            self.check_access("unlink")
        return super().write(vals)

    def unlink(self):
        """Whole snapshots only, lines with them (their table has no foreign key to cascade)."""
        self.check_access("unlink")
        if self:
            self.env.execute_query(
                SQL("DELETE FROM stock_lot_valuation_snapshot_line WHERE snapshot_id IN %s", tuple(self.ids))
            )
        return super().unlink()

    def copy(self, default=None):
        if self:
            raise UserError(self.env._("A snapshot cannot be copied: make a new one from Valuation by Lot."))
        return super().copy(default)

    @api.autovacuum
    def _gc_working_snapshots(self):
        """Delete the snapshots not kept as a period end once ``WORKING_SNAPSHOT_DAYS`` old."""
        limit = fields.Datetime.now() - timedelta(days=WORKING_SNAPSHOT_DAYS)
        self.sudo().search([("is_period_end", "=", False), ("create_date", "<", limit)]).unlink()

    # ------------------------------------------------------------------
    # Month-end closes
    # ------------------------------------------------------------------
    @api.model
    def _sql_kept_closes(self, instants, company_ids=None):
        """SQL rows ``(idx, company_id, snapshot_id)``: for each instant of ``instants`` (``{idx: instant}``,
        naive UTC) and each company of ``company_ids`` (None: every company) that has one, the close kept
        there: the latest whole-company snapshot kept as a period end at that instant. What the
        overview's closed months and the roll-forward's ends read instead of recomputing the valuation."""
        return SQL(
            """
            SELECT DISTINCT ON (instant.idx, snapshot.company_id) instant.idx, snapshot.company_id, snapshot.id
              FROM (VALUES %(instants)s) AS instant(idx, as_of)
              JOIN stock_lot_valuation_snapshot snapshot ON snapshot.valuation_datetime = instant.as_of
             WHERE snapshot.is_period_end AND snapshot.is_whole_company %(company)s
             ORDER BY instant.idx, snapshot.company_id, snapshot.id DESC
            """,
            instants=SQL(", ").join(SQL("(%s, %s::timestamp)", index, instant) for index, instant in instants.items()),
            company=SQL("AND snapshot.company_id = ANY(%s)", list(company_ids)) if company_ids is not None else SQL(),
        )

    @api.model
    def _get_kept_closes(self, instants, company_ids):
        """``{idx: {company_id: snapshot}}`` of ``_sql_kept_closes``: the closes kept at each instant."""
        closes = {}
        if instants and company_ids:
            for index, company_id, snapshot_id in self.env.execute_query(self._sql_kept_closes(instants, company_ids)):
                closes.setdefault(index, {})[company_id] = self.browse(snapshot_id)
        return closes

    @api.model
    def _cron_keep_month_ends(self, months=MONTH_END_MONTHS):
        """Keep each company's valuation at the end of each of the last ``months`` closed months, once.

        A month already kept (a whole-company snapshot kept as a period end at the month's last
        instant, made here or by an accountant) is left alone; so are months that ended before the
        company's first stock move (nothing to value). The month ends in the time zone of the
        company's address (UTC without one): the overview of a user in that time zone reads its
        closed months from these snapshots instead of recomputing them. Runs daily (idempotent): a
        month is kept on the first run after it ends.
        """
        snapshots = self.browse()
        first_moves = self.env["stock.move"].sudo()._read_group([("state", "=", "done")], ["company_id"], ["date:min"])
        for company, first_move in first_moves:
            tz = company.partner_id.tz or "UTC"
            scoped = self.sudo().with_company(company).with_context(tz=tz)
            today = fields.Date.context_today(scoped)
            month_end = today.replace(day=1) - timedelta(days=1)
            wanted = {}
            for _index in range(months):
                instant = scoped.env["stock.lot.valuation.report"]._get_as_of_instant(month_end)
                if instant < first_move:
                    break
                wanted[instant] = month_end
                month_end = month_end.replace(day=1) - timedelta(days=1)
            instants = sorted(wanted)
            kept = self.sudo()._get_kept_closes(dict(enumerate(instants)), [company.id])
            missing = [wanted[instant] for index, instant in enumerate(instants) if index not in kept]
            snapshots |= scoped.create(
                [
                    {
                        "name": self.with_context(lang=company.partner_id.lang or self.env.lang).env._(
                            "%(month)s close", month=day.strftime("%Y-%m")
                        ),
                        "company_id": company.id,
                        "valuation_date": day,
                        "is_period_end": True,
                    }
                    for day in missing
                ]
            )
        return snapshots

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_keep_as_period_end(self):
        self.is_period_end = True

    @api.readonly
    def action_open_lines(self, help_notes=()):
        """The snapshot's lines: pivot, list and graph of the indexed table."""
        self.ensure_one()
        notes = [*help_notes] or [self.env._("This snapshot has no rows.")]
        help_html = Markup("<p class='o_view_nocontent_empty_folder'>%s</p>") % notes[0] + Markup().join(
            Markup("<p>%s</p>") % note for note in notes[1:]
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("%(name)s (Valuation by Lot)", name=self.name),
            "res_model": "stock.lot.valuation.snapshot.line",
            "view_mode": "pivot,list,graph",
            "views": [
                (self.env.ref("lot_margin_control.stock_lot_valuation_snapshot_line_view_pivot").id, "pivot"),
                (self.env.ref("lot_margin_control.stock_lot_valuation_snapshot_line_view_list").id, "list"),
                (self.env.ref("lot_margin_control.stock_lot_valuation_snapshot_line_view_graph").id, "graph"),
            ],
            "search_view_id": [self.env.ref("lot_margin_control.stock_lot_valuation_snapshot_line_view_search").id],
            "domain": [("snapshot_id", "=", self.id)],
            "context": {"default_snapshot_id": self.id},
            "help": help_html,
            "target": "current",
        }

    def action_open_provision_summary(self):
        self.ensure_one()
        return self._open_summary(
            self.env["stock.lot.valuation.snapshot.line"].get_summary([("snapshot_id", "=", self.id)])
        )

    def _render_summary(self, summary, scope):
        """The summary (``get_summary``) as the HTML tables the valuation wizard shows."""
        self.ensure_one()
        currency = self.env["res.currency"].browse(summary["currency_id"])
        return self.env["ir.qweb"]._render(
            "lot_margin_control.stock_lot_valuation_summary_table",
            {
                "sections": self.env["stock.lot.valuation.report"]._get_summary_sections(summary),
                "summary": summary,
                "scope": scope,
                "format_amount": lambda amount: format_amount(self.env, amount, currency),
            },
        )

    def _open_summary(self, summary, selected=False):
        """Show ``summary`` of this snapshot's lines (all of them, those on screen or ``selected``)."""
        self.ensure_one()
        wizard = self.env["stock.lot.valuation.wizard"].create(
            {"company_id": self.company_id.id, "valuation_date": self.valuation_date}
        )
        scope = self.env._("The selected rows") if selected else self.env._("The rows shown on screen")
        return wizard._show_summary(summary, self.env._("%(scope)s of %(name)s", scope=scope, name=self.name))

    def action_export_xlsx(self):
        """The snapshot's spreadsheet, formatted as the valuation's, as a download."""
        self.ensure_one()
        domain = [("snapshot_id", "=", self.id)]
        lines = self.env["stock.lot.valuation.snapshot.line"]
        rows = lines._read_export_rows(domain)
        header = [
            (self.env._("Snapshot"), self.name),
            (self.env._("Company"), self.company_id.name),
            (self.env._("As of"), fields.Date.to_string(self.valuation_date)),
            (self.env._("Filters"), self.filter_description or ""),
            (self.env._("Made by"), self.create_uid.name),
            (self.env._("Made on"), fields.Datetime.to_string(self.create_date)),
        ]
        notes = [] if rows else [self.env._("This snapshot has no rows.")]
        content = self.env["report.lot_margin_control.valuation_xlsx"]._generate(
            rows, lines.get_summary(domain), header, self.currency_id, notes
        )
        return self.env["report.lot_margin_control.valuation_xlsx"]._download(
            self, "inventory_valuation_by_lot", self.valuation_date, content
        )
