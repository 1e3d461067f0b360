from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, create_index

from ..models.stock_lot_quality import QUALITY_STATES
from ..models.stock_lot_shelf_life import SHELF_LIFE_STATES
from ..report.stock_lot_margin_report import COST_READERS
from ..report.stock_lot_valuation_report import EXPIRY_BUCKETS, SUMMARY_AGGREGATES, SUMMARY_GROUPBY, VALUATION_BASES

# The columns a snapshot copies from the valuation by lot (PRODUCT.md §6), in the report's names.
SNAPSHOT_COLUMNS = (
    "lot_id",
    "product_id",
    "product_categ_id",
    "location_id",
    "warehouse_id",
    "company_id",
    "currency_id",
    "quantity",
    "uom_id",
    "unit_cost",
    "value",
    "valuation_basis",
    "expiration_date",
    "remaining_shelf_life_days",
    "shelf_life_state",
    "quality_state",
    "expiry_bucket",
    "markdown_discount",
    "markdown_exposure",
)
# ``_read_format_sql``: the field types it reads straight from the table, and what ``read`` gives
# for NULL in each (what the ORM's convert_to_record/convert_to_read give); from this many lines on.
FAST_READ_TYPES = {
    "many2one": False,
    "float": 0.0,
    "monetary": 0.0,
    "integer": 0,
    "selection": False,
    "date": False,
    "datetime": False,
}
FAST_READ_MIN_RECORDS = 1000


class StockLotValuationSnapshotLine(models.Model):
    """One row of a valuation snapshot: a ``stock.lot.valuation.report`` row as it was when made.

    Written only by the snapshot's ``INSERT … SELECT`` (in the report's order,
    so that the line ids follow category, product, lot and location), never
    changed afterwards, deleted only with its whole snapshot. The list, pivot
    and graph of a snapshot read this indexed table instead of recomputing the
    valuation.
    """

    _name = "stock.lot.valuation.snapshot.line"
    _description = "Valuation Snapshot Line"
    # The table is made by ``init``, without the foreign keys Odoo gives every many2one: checking
    # nine of them row by row took 90% of the time of a 100,000-row snapshot. Lines only ever
    # come from the valuation's rows (lots, products, locations that have moves and layers, which
    # Odoo does not let anyone delete), and go with their snapshot (``unlink`` of the snapshot).
    _auto = False
    _log_access = False  # the snapshot says who made it and when
    _order = "snapshot_id desc, id"
    _rec_name = "lot_id"

    snapshot_id = fields.Many2one("stock.lot.valuation.snapshot", required=True, ondelete="cascade", readonly=True)
    lot_id = fields.Many2one("stock.lot", string="Lot/Serial", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    product_categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    location_id = fields.Many2one(
        "stock.location", readonly=True, help="Empty on the row that carries value no stock held at that date."
    )
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    quantity = fields.Float(digits="Product Unit of Measure", readonly=True)
    uom_id = fields.Many2one("uom.uom", string="Unit", readonly=True)
    unit_cost = fields.Monetary(readonly=True, aggregator=None, groups=COST_READERS)
    value = fields.Monetary(readonly=True, groups=COST_READERS)
    valuation_basis = fields.Selection(VALUATION_BASES, readonly=True)
    expiration_date = fields.Datetime(readonly=True)
    remaining_shelf_life_days = fields.Integer(string="Days to Expiry", readonly=True, aggregator=None)
    shelf_life_state = fields.Selection(SHELF_LIFE_STATES, string="Shelf Life", readonly=True)
    quality_state = fields.Selection(
        QUALITY_STATES,
        string="Quality Status",
        readonly=True,
        help="The lot's quality status when the snapshot was made.",
    )
    expiry_bucket = fields.Selection(
        [(key, label) for key, label, _limit in EXPIRY_BUCKETS], string="Expiry", readonly=True
    )
    markdown_discount = fields.Float(string="Markdown (%)", readonly=True, aggregator=None, digits=(16, 2))
    markdown_exposure = fields.Monetary(readonly=True, groups=COST_READERS)

    def init(self):
        """The table (columns typed as the ORM types them; new columns added on upgrade) and its
        indexes: a page of one snapshot in its order, a lot across snapshots. Each index slows the
        snapshot's insert; a pivot of one snapshot reads all its lines anyway."""
        columns = ["snapshot_id", *SNAPSHOT_COLUMNS]
        self.env.cr.execute(
            SQL(
                "CREATE TABLE IF NOT EXISTS %s (id bigserial PRIMARY KEY, %s)",
                SQL.identifier(self._table),
                SQL(", ").join(
                    SQL("%s %s", SQL.identifier(name), SQL(self._fields[name].column_type[1])) for name in columns
                ),
            )
        )
        for name in columns:
            self.env.cr.execute(
                SQL(
                    "ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s",
                    SQL.identifier(self._table),
                    SQL.identifier(name),
                    SQL(self._fields[name].column_type[1]),
                )
            )
        create_index(self.env.cr, "stock_lot_valuation_snapshot_line_page_index", self._table, ["snapshot_id", "id"])
        create_index(self.env.cr, "stock_lot_valuation_snapshot_line_lot_index", self._table, ["lot_id"])

    # ------------------------------------------------------------------
    # Read-only
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        if vals_list:
            raise UserError(
                self.env._(
                    "Snapshot lines come only from the valuation: make a new snapshot from Valuation by Lot instead."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        if self:
            raise UserError(
                self.env._("A valuation snapshot never changes once made: make a new snapshot to see today's figures.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_whole_snapshots_only(self):
        raise UserError(self.env._("Only a whole valuation snapshot can be deleted, by an inventory administrator."))

    # ------------------------------------------------------------------
    # Reading
    # ------------------------------------------------------------------
    @api.model
    @api.readonly
    def get_summary(self, domain):
        """The provision summary of the lines matching ``domain``: the report's ``get_summary`` on the
        figures kept by the snapshot."""
        self.check_access("read")
        return self.env["stock.lot.valuation.report"]._summarize(
            self._read_group(domain, SUMMARY_GROUPBY, SUMMARY_AGGREGATES)
        )

    @api.model
    @api.readonly
    def search_read(self, domain=None, fields=None, offset=0, limit=None, order=None, **read_kwargs):
        """As the ORM's, but the lines' values are read once, by ``_read_format`` (not also fetched
        into the cache by ``search_fetch`` first)."""
        fields = self.check_field_access_rights("read", fields)
        records = self.search(domain or [], offset=offset, limit=limit, order=order)
        if "active_test" in self.env.context:  # as the ORM: the flag was meant for the search only
            records = records.with_context({k: v for k, v in self.env.context.items() if k != "active_test"})
        return records._read_format(fnames=fields, **read_kwargs)

    def _read_format(self, fnames, load="_classic_read"):
        if len(self) >= FAST_READ_MIN_RECORDS and all(self._fields[name].type in FAST_READ_TYPES for name in fnames):
            return self._read_format_sql(fnames, load)
        return super()._read_format(fnames, load)

    def _read_format_sql(self, fnames, load="_classic_read"):
        """``read``'s dicts of these lines, exactly as the ORM formats them (``_read_format``; test
        ``test_fast_read_is_the_orm_read``), from one query on the lines and one read of the names of
        the records they point to, without the ORM's loop over every value of every record: reading
        a 100,000-line snapshot whole spent nine tenths of its time there (README, Performance).
        Lines never change once made, so no cache can be more recent than the table."""
        rows = self.env.execute_query(
            SQL(
                # joined to the ids (a hash join), not filtered by "id = ANY(ids)"
                "SELECT line.id, %s FROM unnest(%s::bigint[]) AS wanted(id) JOIN %s line ON line.id = wanted.id",
                SQL(", ").join(SQL.identifier("line", name) for name in fnames) if fnames else SQL("line.id"),
                list(self._ids),
                SQL.identifier(self._table),
            )
        )
        by_id = {row[0]: row for row in rows}
        use_display_name = load == "_classic_read"
        converters = []
        for index, name in enumerate(fnames, 1):
            field = self._fields[name]
            if field.type == "many2one" and use_display_name:
                names = self._display_names(field, {row[index] for row in rows if row[index]})
                converters.append(
                    (name, index, lambda value, names=names: (value, names[value]) if value in names else False)
                )
            else:
                null = FAST_READ_TYPES[field.type]
                converters.append((name, index, lambda value, null=null: null if value is None else value))
        result = []
        for record_id in self._ids:
            row = by_id.get(record_id)
            if row is None:
                continue  # as the ORM: records that no longer exist are left out
            vals = {"id": record_id}
            for name, index, convert in converters:
                vals[name] = convert(row[index])
            result.append(vals)
        return result

    def _display_names(self, field, ids):
        """``{id: display name}`` of the records of ``field``'s model among ``ids`` that exist, as
        ``read`` shows them (as superuser, in this context). Models named by a stored, untranslated
        text field the ORM's way (lots, locations…): that column, in one query; others through the
        ORM, their names fetched in one query."""
        comodel = self.env[field.comodel_name].sudo().with_context(active_test=False)
        name_field = comodel._fields.get(comodel._rec_name or "")
        if (
            type(comodel)._compute_display_name is models.BaseModel._compute_display_name
            and name_field
            and name_field.type == "char"
            and name_field.store
            and not name_field.translate
        ):
            comodel.flush_model([name_field.name])
            rows = self.env.execute_query(
                SQL(
                    "SELECT record.id, record.%s FROM unnest(%s::integer[]) AS wanted(id) JOIN %s record "
                    "ON record.id = wanted.id",
                    SQL.identifier(name_field.name),
                    list(ids),
                    SQL.identifier(comodel._table),
                )
            )
            return {record_id: name_field.convert_to_display_name(name, comodel) for record_id, name in rows}
        records = comodel.browse(ids).exists()
        if name_field and name_field.store:
            records.fetch([name_field.name])
        return {record.id: record.display_name for record in records}

    @api.model
    def _read_export_rows(self, domain):
        """The spreadsheet's rows of the lines matching ``domain`` (the report's format), in the
        snapshot's order."""
        self.check_access("read")
        query = self._search(domain)
        return self.env["stock.lot.valuation.report"]._read_export_rows_of(
            query.select(SQL("%s.*", SQL.identifier(query.table))), SQL("report.snapshot_id DESC, report.id")
        )

    def action_open_provision_summary(self):
        """The provision summary of the selected lines, or of every line the screen shows, in a dialog."""
        domain = [("id", "in", self.ids)] if self else self.env.context.get("active_domain") or []
        snapshots = self.env["stock.lot.valuation.snapshot"].union(
            *(snapshot for [snapshot] in self._read_group(domain, ["snapshot_id"]))
        )
        if len(snapshots) != 1:
            raise UserError(
                self.env._(
                    "These lines come from %(count)s snapshots: filter on one snapshot to see its provision summary.",
                    count=len(snapshots),
                )
            )
        return snapshots._open_summary(self.get_summary(domain), selected=bool(self))

    def action_open_snapshot(self):
        """The snapshot of these lines (of the screen's, when none is selected): who made it and when,
        its totals and provision summary, keeping it as a period end."""
        shown = self.env.context.get("default_snapshot_id")
        snapshot = self.snapshot_id[:1] or self.env["stock.lot.valuation.snapshot"].browse(
            shown if isinstance(shown, int) and not isinstance(shown, bool) else ()
        )
        snapshot = snapshot.exists()
        if not snapshot:
            raise UserError(self.env._("Open a snapshot's lines from Valuation by Lot first."))
        snapshot.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": snapshot._name,
            "res_id": snapshot.id,
            "views": [(False, "form")],
            "target": "current",
        }
