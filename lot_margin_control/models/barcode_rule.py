from odoo import fields, models


class BarcodeRule(models.Model):
    """GS1 rule type for the production date (AI 11).

    Core ``barcodes_gs1_nomenclature`` reads pack, best before and expiration
    dates but has no rule type for the production date printed by food and
    pharma suppliers; lots keep it in ``production_date``
    (OCA ``stock_lot_production_date``), so scans need to tell it apart.
    """

    _inherit = "barcode.rule"

    type = fields.Selection(
        selection_add=[("production_date", "Production Date")],
        ondelete={"production_date": "set default"},
    )
