# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.exceptions import UserError

# A GS1 DataMatrix carries at most a few hundred characters; anything longer is not a scan.
GS1_MAX_LENGTH = 500


class StockLot(models.Model):
    """Lots and serial numbers under lot control: what they are and where they came from.

    Each concern extends stock.lot in a file of its own:

    - ``stock_lot_shelf_life.py``: dates, ``shelf_life_state``, days and ratio left,
      the daily refresh and expiry alerts;
    - ``stock_lot_quality.py``: ``quality_state``, its workflow and rights, and
      taking a lot out of reservations its status forbids (the lot gate itself is
      ``lot_gate.LotGate``, built by stock.move ``_get_lot_gate``);
    - ``stock_lot_markdown.py``: near-date pricing from ``stock.lot.markdown.rule``.

    This file keeps what a lot is at receipt: the vendor's lot code and GS1 capture.
    """

    _inherit = "stock.lot"

    supplier_lot_name = fields.Char(
        string="Supplier Lot",
        index="btree_not_null",
        tracking=True,
        help="The vendor's own lot or batch code, as printed on the goods received. "
        "Recalls announced by a supplier quote this code.",
    )
    gs1_scanned = fields.Boolean(
        string="Received by GS1 Scan",
        readonly=True,
        copy=False,
        help="The lot and its dates were read from a GS1 barcode at receipt.",
    )

    @api.model
    @api.readonly
    def parse_gs1_barcode(self, barcode):
        """Read a scanned GS1-128 / DataMatrix string into product, lot and dates.

        Public API (UI and RPC clients): see barcode.nomenclature
        ``_parse_gs1_lot_barcode`` for the returned keys and the errors.
        """
        if not isinstance(barcode, str):
            raise UserError(self.env._("A GS1 barcode is text, as scanned or typed; this is not."))
        if not barcode.strip():
            raise UserError(self.env._("The code is empty: scan or type a GS1 barcode."))
        if len(barcode) > GS1_MAX_LENGTH:
            raise UserError(
                self.env._(
                    "This code is %(length)s characters long; a GS1 barcode holds at most %(max)s.",
                    length=len(barcode),
                    max=GS1_MAX_LENGTH,
                )
            )
        return self.env["barcode.nomenclature"]._parse_gs1_lot_barcode(barcode)
