from odoo import fields, models


class StockLot(models.Model):
    """Lots that carry what the supplier printed on the case.

    Dates (expiration, best before, removal, alert) come from product_expiry
    and the production date from OCA stock_lot_production_date; this model
    only adds what neither of them has.
    """

    _inherit = "stock.lot"

    supplier_lot_name = fields.Char(
        string="Supplier Lot",
        index="btree_not_null",
        tracking=True,
        help="The vendor's own lot or batch code, as printed on the goods received. "
        "Recalls announced by a supplier quote this code.",
    )
