import tempfile
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..report.streaming import file_download_action, stream_rows

# The FDA may ask for records of the last 2 years (21 CFR 1.1455); ten years is a generous bound.
MAX_RANGE_DAYS = 3653
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2100, 12, 31)
# Critical tracking events of the Food Traceability Rule, by trace event (stock.lot.recall.line EVENTS).
FSMA_EVENTS = ("receipt", "customer_return", "delivery", "vendor_return", "consumption", "production")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class StockLotFsmaWizard(models.TransientModel):
    """FSMA 204 records on request: the sortable spreadsheet the FDA asks for within 24 hours.

    For the chosen products, date range and company: one row per receiving,
    shipping and transformation event (a done move line of a tracked product),
    with the key data elements of 21 CFR 1.1345 (receiving), 1.1340 (shipping) and
    1.1350 (transformation). One SQL statement (``_record_rows_sql``) reads every
    row, fetched in batches from a server-side cursor (``_stream_record_rows``); the
    xlsx writer (``report.lot_margin_control.fsma_records_xlsx``) takes those plain
    rows as they come and writes them to a temporary file (constant memory), which
    becomes the attachment in chunks: memory does not grow with the records.
    """

    _name = "stock.lot.fsma.wizard"
    _description = "FSMA 204 Traceability Records"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    product_ids = fields.Many2many(
        "product.product",
        string="Products",
        check_company=True,
        domain="[('tracking', '!=', 'none')]",
        help="Products on the Food Traceability List that you track by lot.",
    )
    date_from = fields.Date(
        string="From", required=True, default=lambda self: fields.Date.context_today(self) - timedelta(days=30)
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)

    @api.model
    def default_get(self, fields_list):
        """Opened from the product or lot list: those products (only what the user may read)."""
        values = super().default_get(fields_list)
        model, ids = self.env.context.get("active_model"), self.env.context.get("active_ids")
        if "product_ids" in fields_list and isinstance(ids, list) and all(isinstance(i, int) for i in ids):
            if model == "product.product":
                products = self.env["product.product"].browse(ids)
            elif model == "product.template":
                products = self.env["product.template"].browse(ids).product_variant_ids
            elif model == "stock.lot":
                products = self.env["stock.lot"].browse(ids).product_id
            else:
                products = self.env["product.product"]
            products = products.exists()._filtered_access("read").filtered(lambda p: p.tracking != "none")
            values["product_ids"] = [fields.Command.set(products.ids)]
        return values

    # ------------------------------------------------------------------
    # Input
    # ------------------------------------------------------------------
    def _check_input(self):
        """Refuse what cannot give the records asked for, in the user's words."""
        self.ensure_one()
        if not self.product_ids:
            raise UserError(self.env._("Choose the products whose traceability records you need."))
        untracked = self.product_ids.filtered(lambda product: product.tracking == "none")
        if untracked:
            raise UserError(
                self.env._(
                    "%(products)s are not tracked by lots or serial numbers, so they have no traceability lot "
                    "codes. Track them by lot (product form, Inventory tab) for the receipts to come.",
                    products=", ".join(untracked.mapped("display_name")),
                )
            )
        for day in (self.date_from, self.date_to):
            if not EARLIEST_DATE <= day <= LATEST_DATE:
                raise UserError(
                    self.env._(
                        "%(date)s is not a date of stock records: choose dates between %(first)s and %(last)s.",
                        date=day,
                        first=EARLIEST_DATE,
                        last=LATEST_DATE,
                    )
                )
        if self.date_to < self.date_from:
            raise UserError(
                self.env._(
                    "The range ends (%(end)s) before it starts (%(start)s): swap the dates.",
                    end=self.date_to,
                    start=self.date_from,
                )
            )
        if (self.date_to - self.date_from).days > MAX_RANGE_DAYS:
            raise UserError(
                self.env._(
                    "Choose at most ten years at a time (%(days)s days asked).",
                    days=(self.date_to - self.date_from).days,
                )
            )

    def _get_timezone(self):
        try:
            return ZoneInfo(self.env.user.tz or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def _get_utc_bounds(self):
        """The range as UTC datetimes: from the user's local midnight of ``date_from`` to the one after ``date_to``."""
        tz = self._get_timezone()
        start = datetime.combine(self.date_from, time.min, tzinfo=tz)
        end = datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=tz)
        return (
            start.astimezone(ZoneInfo("UTC")).replace(tzinfo=None),
            end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None),
        )

    # ------------------------------------------------------------------
    # Records
    # ------------------------------------------------------------------
    def _sql_lines_condition(self, company_condition):
        """The done lot move lines (alias ``line``) of the products in the range, in ``company_condition``."""
        start, end = self._get_utc_bounds()
        return SQL(
            """line.state = 'done' AND line.lot_id IS NOT NULL AND line.product_id = ANY(%(products)s)
               AND %(company_condition)s AND line.date >= %(start)s AND line.date < %(end)s""",
            products=self.product_ids.ids,
            company_condition=company_condition,
            start=start,
            end=end,
        )

    def _sql_event(self):
        """The trace event (``_sql_event``) of a line from its locations (aliases ``source``, ``destination``)."""
        return self.env["stock.lot.recall.line"]._sql_event(
            SQL("source.usage"),
            SQL("destination.usage"),
            SQL("(source.scrap_location OR destination.scrap_location)"),
        )

    def _events_cte(self, company_condition):
        """``events``: the done lot move lines of the products in the range, classified (``_sql_event``)."""
        return SQL(
            """
            events AS (
                SELECT line.*, %(event)s AS event
                  FROM stock_move_line line
                  JOIN stock_location source ON source.id = line.location_id
                  JOIN stock_location destination ON destination.id = line.location_dest_id
                 WHERE %(lines)s
            )
            """,
            event=self._sql_event(),
            lines=self._sql_lines_condition(company_condition),
        )

    def _record_rows_sql(self):
        """The one statement of every FSMA critical tracking event of the products in the range, in time order.

        Columns: event, local date, traceability lot code, its source, lot name,
        product, quantity, unit, ship-from, ship-to, reference document,
        source document, related lot codes (a transformation's inputs or outputs).
        """
        self.ensure_one()
        Lot = self.env["stock.lot"]
        lang = self.env.lang or "en_US"
        our_site = Lot._sql_site_place(SQL("company"), SQL("warehouse"), SQL("site"))
        partner_place = Lot._sql_place(SQL("partner"))
        return SQL(
            """
            WITH lot_codes AS MATERIALIZED (
                -- each lot's code and source once, not once per event
                SELECT lot.id, lot.name, %(code)s AS code, %(code_source)s AS code_source
                  FROM stock_lot lot
                 WHERE lot.id IN (SELECT line.lot_id FROM stock_move_line line WHERE %(lines)s)
            )
            SELECT record.event, record.local_date, record.code, record.code_source, record.lot_name,
                   record.product, record.quantity, record.uom, record.ship_from, record.ship_to,
                   record.reference, record.origin, record.linked_codes
              FROM (
                SELECT line.id, line.date, classified.event,
                       (line.date AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::timestamp AS local_date,
                       lot.code, lot.code_source, lot.name AS lot_name,
                       CONCAT_WS(' ', '[' || product.default_code || ']',
                                 COALESCE(template.name->>%(lang)s, template.name->>'en_US')) AS product,
                       line.quantity, COALESCE(uom.name->>%(lang)s, uom.name->>'en_US') AS uom,
                       CASE WHEN classified.event IN ('receipt', 'customer_return') AND partner.id IS NOT NULL
                            THEN %(partner_place)s ELSE %(our_site)s END AS ship_from,
                       CASE WHEN classified.event IN ('delivery', 'vendor_return') AND partner.id IS NOT NULL
                            THEN %(partner_place)s ELSE %(our_site)s END AS ship_to,
                       COALESCE(picking.name, line.reference) AS reference, picking.origin,
                       (SELECT STRING_AGG(DISTINCT %(linked_code)s, ', ')
                          FROM stock_move_line_consume_rel rel
                          JOIN stock_move_line linked
                            ON linked.id = CASE WHEN rel.consume_line_id = line.id
                                                THEN rel.produce_line_id ELSE rel.consume_line_id END
                          JOIN stock_lot linked_lot ON linked_lot.id = linked.lot_id
                         WHERE classified.event IN ('consumption', 'production')
                           AND (rel.consume_line_id = line.id OR rel.produce_line_id = line.id)) AS linked_codes
                  FROM stock_move_line line
                  JOIN stock_location source ON source.id = line.location_id
                  JOIN stock_location destination ON destination.id = line.location_dest_id
            CROSS JOIN LATERAL (SELECT %(event)s AS event) classified
                  JOIN lot_codes lot ON lot.id = line.lot_id
                  JOIN product_product product ON product.id = line.product_id
                  JOIN product_template template ON template.id = product.product_tmpl_id
                  JOIN uom_uom uom ON uom.id = line.product_uom_id
                  JOIN res_company company ON company.id = line.company_id
             LEFT JOIN stock_warehouse warehouse
                    ON warehouse.id = COALESCE(
                        CASE WHEN classified.event IN ('receipt', 'customer_return', 'production')
                             THEN destination.warehouse_id ELSE source.warehouse_id END,
                        source.warehouse_id, destination.warehouse_id)
             LEFT JOIN res_partner site ON site.id = COALESCE(warehouse.partner_id, company.partner_id)
             LEFT JOIN stock_move move ON move.id = line.move_id
             LEFT JOIN stock_picking picking ON picking.id = line.picking_id
             LEFT JOIN res_partner partner ON partner.id = COALESCE(picking.partner_id, move.partner_id)
                 WHERE %(lines)s
                -- a fence: the joins are planned for every line of the range (PostgreSQL cannot
                -- estimate the event filter: it guessed 3 percent of the lines, then nested loops over
                -- 100,000 lines took 35 s), the events are kept after them
                OFFSET 0
              ) record
             WHERE record.event IN %(fsma_events)s
          ORDER BY record.date, record.id
                """,
            lines=self._sql_lines_condition(SQL("line.company_id = %s", self.company_id.id)),
            event=self._sql_event(),
            tz=str(self._get_timezone()),
            code=Lot._sql_traceability_lot_code(SQL("lot")),
            code_source=Lot._sql_traceability_lot_code_source(SQL("lot"), self.company_id.ids),
            linked_code=Lot._sql_traceability_lot_code(SQL("linked_lot")),
            lang=lang,
            partner_place=partner_place,
            our_site=our_site,
            fsma_events=FSMA_EVENTS,
        )

    def _get_record_rows(self):
        """The rows of ``_record_rows_sql`` as a list (small ranges; the export streams them)."""
        self.env.flush_all()
        return self.env.execute_query(self._record_rows_sql())

    def _stream_record_rows(self):
        """The rows of ``_record_rows_sql``, fetched in batches: memory holds one batch, not the records."""
        self.env.flush_all()
        return stream_rows(self.env, self._record_rows_sql())

    def _get_left_out_notes(self):
        """What the file does not hold: events of these products in the range in other companies."""
        self.env.flush_all()
        [(count,)] = self.env.execute_query(
            SQL(
                "WITH %s SELECT COUNT(*) FROM events WHERE events.event IN %s",
                self._events_cte(SQL("line.company_id <> %s", self.company_id.id)),
                FSMA_EVENTS,
            )
        )
        if not count:
            return []
        return [
            self.env._(
                "%(count)s events of these products in this range belong to other companies and are not in "
                "this file: export each company's records from that company.",
                count=count,
            )
        ]

    def action_export_xlsx(self):
        """The sortable spreadsheet of the records (an attachment, downloaded); refused when there is none.

        The rows stream from the database into a temporary file, which is stored as
        the attachment in chunks: the records are never all in memory.
        """
        self.ensure_one()
        self._check_input()
        header = [
            (self.env._("Company"), self.company_id.name),
            (self.env._("Products"), ", ".join(self.product_ids.mapped("display_name"))),
            (self.env._("From"), fields.Date.to_string(self.date_from)),
            (self.env._("To"), fields.Date.to_string(self.date_to)),
            (self.env._("Times in"), str(self._get_timezone())),
        ]
        notes = self._get_left_out_notes()
        writer = self.env["report.lot_margin_control.fsma_records_xlsx"]
        with tempfile.TemporaryFile() as stream:
            count = writer._write(stream, self._stream_record_rows(), header, notes)
            if not count:
                raise UserError(
                    self.env._(
                        "No receipt, shipment or transformation of %(products)s in %(company)s between %(start)s "
                        "and %(end)s: there is no record to send. Widen the range or check the company.",
                        products=", ".join(self.product_ids.mapped("display_name")),
                        company=self.company_id.name,
                        start=self.date_from,
                        end=self.date_to,
                    )
                )
            return file_download_action(
                self, f"FSMA204-records-{self.date_from}-{self.date_to}.xlsx", stream, XLSX_MIMETYPE
            )
