# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL


class StockLot(models.Model):
    """Traceability data exchange (PRODUCT.md §10): the traceability lot code, its source, EPCIS.

    The FDA's Food Traceability Rule (21 CFR 1 Subpart S) calls the code that
    follows a lot along the chain its *traceability lot code* (TLC) and the place
    that assigned it the *TLC source*. Here the TLC of a lot is the vendor's code
    when the vendor gave one (``supplier_lot_name``), else the lot's own name; its
    source is what the vendor says (``traceability_lot_code_source``, typed at
    receipt), else the vendor's address for a vendor's code, else the address of
    the warehouse that first received or produced the lot (where the company
    assigned the code), else the company's. Each rule has its SQL twin beside it,
    used by the FSMA 204 records, the delivery slips and the exports.
    """

    _inherit = "stock.lot"

    traceability_lot_code_source = fields.Char(
        tracking=True,
        help="Where the traceability lot code was assigned, as the vendor gives it: the packer's or "
        "producer's business name and address, or a reference to it (its GLN or web address). "
        "Left empty, the exports and delivery slips show the vendor's address for a vendor's lot code, "
        "else the address of the warehouse that received or produced the lot.",
    )
    traceability_lot_code = fields.Char(
        compute="_compute_traceability_lot_code",
        help="The code that follows this lot along the supply chain (FSMA 204): the vendor's lot code "
        "when there is one, else the lot's name.",
    )

    @api.depends("name", "supplier_lot_name")
    def _compute_traceability_lot_code(self):
        for lot in self:
            lot.traceability_lot_code = (lot.supplier_lot_name or "").strip() or lot.name

    @api.model
    def _sql_traceability_lot_code(self, lot):
        """SQL twin of ``traceability_lot_code`` for the ``stock_lot`` alias ``lot``."""
        return SQL("COALESCE(NULLIF(TRIM(%(lot)s.supplier_lot_name), ''), %(lot)s.name)", lot=lot)

    @api.model
    def _sql_place(self, partner, name=None):
        """``Name, street, city, zip, country code`` of the ``res_partner`` alias ``partner``.

        The location description of FSMA 204 records.

        ``name``: an SQL expression written instead of the partner's name.
        """
        return SQL(
            """CONCAT_WS(', ', %(name)s, NULLIF(%(partner)s.street, ''), NULLIF(%(partner)s.city, ''),
                         NULLIF(%(partner)s.zip, ''),
                         (SELECT code FROM res_country WHERE id = %(partner)s.country_id))""",
            partner=partner,
            name=name or SQL("%s.name", partner),
        )

    @api.model
    def _sql_site_place(self, company, warehouse, address):
        """``Company - Warehouse, street, city, …``: one of the company's sites (``address``: its res_partner alias)."""
        return self._sql_place(
            address,
            SQL(
                "CONCAT_WS(' - ', %(company)s.name, NULLIF(%(warehouse)s.name, %(company)s.name))",
                company=company,
                warehouse=warehouse,
            ),
        )

    @api.model
    def _sql_traceability_lot_code_source(self, lot, company_ids=None):
        """The TLC source of the ``stock_lot`` alias ``lot`` (see the class docstring), one SQL expression.

        ``company_ids``: the lot's first receipt or production is looked for in those
        companies only, so that a lot shared between companies never shows the
        vendor or site of a company the reader may not see.
        """
        return SQL(
            """
            COALESCE(
                NULLIF(TRIM(%(lot)s.traceability_lot_code_source), ''),
                (SELECT CASE
                            WHEN source.usage = 'supplier' AND NULLIF(TRIM(%(lot)s.supplier_lot_name), '') IS NOT NULL
                                 AND vendor.id IS NOT NULL THEN %(vendor_place)s
                            ELSE %(warehouse_place)s
                        END
                   FROM stock_move_line first_line
                   JOIN stock_location source ON source.id = first_line.location_id
                   JOIN stock_location destination ON destination.id = first_line.location_dest_id
              LEFT JOIN stock_picking picking ON picking.id = first_line.picking_id
              LEFT JOIN res_partner picking_partner ON picking_partner.id = picking.partner_id
              LEFT JOIN res_partner vendor ON vendor.id = picking_partner.commercial_partner_id
              LEFT JOIN stock_warehouse warehouse ON warehouse.id = destination.warehouse_id
              LEFT JOIN res_company site_company ON site_company.id = first_line.company_id
              LEFT JOIN res_partner site ON site.id = COALESCE(warehouse.partner_id, site_company.partner_id)
                  WHERE first_line.lot_id = %(lot)s.id AND first_line.state = 'done'
                    AND (%(any_company)s OR first_line.company_id = ANY(%(company_ids)s))
                    AND source.usage IN ('supplier', 'production', 'inventory')
                    AND destination.usage IN ('internal', 'transit')
               ORDER BY first_line.date, first_line.id
                  LIMIT 1),
                (SELECT %(company_place)s
                   FROM res_company lot_company
                   JOIN res_partner company_partner ON company_partner.id = lot_company.partner_id
                  WHERE lot_company.id = %(lot)s.company_id)
            )
            """,
            lot=lot,
            any_company=company_ids is None,
            company_ids=list(company_ids or []),
            vendor_place=self._sql_place(SQL("vendor")),
            warehouse_place=self._sql_place(SQL("site"), SQL("CONCAT_WS(' - ', site_company.name, warehouse.name)")),
            company_place=self._sql_place(SQL("company_partner")),
        )

    def _get_traceability_lot_code_sources(self, company_ids=None):
        """``{lot id: TLC source}`` of these lots, in one query (delivery slips, recall spreadsheet).

        ``company_ids``: as in ``_sql_traceability_lot_code_source``.
        """
        if not self:
            return {}
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT lot.id, %s FROM stock_lot lot WHERE lot.id = ANY(%s)",
                self._sql_traceability_lot_code_source(SQL("lot"), company_ids),
                self.ids,
            )
        )
        return dict(rows)

    # ------------------------------------------------------------------
    # EPCIS
    # ------------------------------------------------------------------
    def action_export_epcis(self):
        """The EPCIS 2.0 document of these lots' trace (the lots made from them and that went into them).

        Inventory users only; the events are those of the companies the user works
        in, and the document says how many events of other companies it leaves out.
        """
        if not self:
            raise UserError(self.env._("Choose the lots whose trace you want to export."))
        if not self.env.user.has_group("stock.group_stock_user"):
            raise AccessError(self.env._("Only inventory users may export the traceability of lots."))
        self.check_access("read")
        Line = self.env["stock.lot.recall.line"]
        company_ids = self.env.companies.ids
        affected = Line._affected_lots_sql(self.ids)
        hidden = self.env.execute_query(
            SQL(
                """WITH RECURSIVE %s
                   SELECT COUNT(*) FROM affected
                     JOIN stock_move_line line ON line.lot_id = affected.lot_id AND line.state = 'done'
                    WHERE line.company_id <> ALL(%s)""",
                affected,
                company_ids,
            )
        )[0][0]
        notes = []
        if hidden:
            notes.append(
                self.env._(
                    "%(count)s events of companies you may not read (or have not selected) are left out.",
                    count=hidden,
                )
            )
        traced = SQL(
            """%s, traced(id) AS (
                SELECT line.id FROM affected
                  JOIN stock_move_line line ON line.lot_id = affected.lot_id AND line.state = 'done'
            )""",
            affected,
        )
        name = self[0].name if len(self) == 1 else f"{self[0].name}+{len(self) - 1}"
        return self.env["report.lot_margin_control.epcis_document"]._download(
            self[0],
            f"{name.replace('/', '-')}-EPCIS.jsonld",
            traced,
            company_ids,
            self.env._(
                "%(lots)s have no done receipt, transfer, delivery or scrap in your companies yet: "
                "there is nothing to export.",
                lots=", ".join(self.mapped("display_name")),
            ),
            notes=notes,
        )
