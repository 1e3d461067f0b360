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
# reads by id of this many lines and more are formatted from one query (``_read_format``)
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
    _inherit = ["stock.lot.bulk.read.mixin"]
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
        index: a page of one snapshot in its order. Each index slows the snapshot's insert; a pivot
        of one snapshot reads all its lines anyway."""
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
        # Lines are read by snapshot (the page index); an index on the lot cost every snapshot of
        # 100,000 lines 0.7 s of random inserts. Earlier versions made one.
        self.env.cr.execute(SQL("DROP INDEX IF EXISTS stock_lot_valuation_snapshot_line_lot_index"))

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

    def _read_format(self, fnames, load="_classic_read"):
        """Reads of many lines by id (``read``) are formatted from one query on the lines, as
        ``search_read`` (stock.lot.bulk.read.mixin); lines never change once made, so no cache can
        be more recent than the table."""
        if len(self) >= FAST_READ_MIN_RECORDS and self._is_fast_readable(fnames):
            rows = self.env.execute_query(
                SQL(
                    # joined to the ids (a hash join), not filtered by "id = ANY(ids)"
                    "SELECT line.id, %s FROM unnest(%s::bigint[]) AS wanted(id) JOIN %s line ON line.id = wanted.id",
                    SQL(", ").join(self._sql_fast_read_column("line", name) for name in fnames)
                    if fnames
                    else SQL("line.id"),
                    list(self._ids),
                    SQL.identifier(self._table),
                )
            )
            by_id = {row[0]: row for row in rows}
            # in the order asked; records that no longer exist are left out, as by the ORM
            return self._format_rows([by_id[i] for i in self._ids if i in by_id], fnames, load)
        return super()._read_format(fnames, load)

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

    @api.readonly
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
