# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL


class StockLotRecall(models.Model):
    """The recall's trace as a GS1 EPCIS 2.0 document, for trading partners and regulators (PRODUCT.md §10)."""

    _inherit = "stock.lot.recall"

    def action_export_epcis(self):
        """EPCIS 2.0 JSON-LD of the trace lines the user may read; the recall's containment as ``recalled``.

        The events are the done move lines of the last trace (its snapshot), read
        through the record rules of the trace lines: lines of companies the user
        may not read are left out, and the document says so (``lmc:note``).
        """
        self.ensure_one()
        if not self.traced_date:
            raise UserError(self.env._("Trace recall %(recall)s before exporting it.", recall=self.name))
        query = self.env["stock.lot.recall.line"]._search([("recall_id", "=", self.id), ("move_line_id", "!=", False)])
        traced = SQL("traced(id) AS %s", query.subselect(SQL.identifier(query.table, "move_line_id")))
        notes = [self.other_company_note] if self.other_company_note else []
        return self.env["report.lot_margin_control.epcis_document"]._download(
            self,
            f"{self.name.replace('/', '-')}-EPCIS.jsonld",
            traced,
            self.env.companies.ids,
            self.env._(
                "The trace of %(recall)s has no event you may read: there is nothing to export.", recall=self.name
            ),
            recall_ids=self.ids,
            notes=notes,
        )
