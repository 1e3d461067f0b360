# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .gs1_identifiers import is_gln

GLN_HELP = (
    "GS1 Global Location Number (13 digits). The traceability exports (EPCIS) identify this "
    "place or party by it (https://id.gs1.org/414/… and /417/…); without it they use a private identifier."
)


class LotControlGlnMixin(models.AbstractModel):
    """A GS1 Global Location Number on a place or party, checked (13 digits, GS1 check digit)."""

    _name = "lot.control.gln.mixin"
    _description = "GS1 Global Location Number"

    gln = fields.Char(string="GLN", size=13, copy=False, help=GLN_HELP)

    @api.constrains("gln")
    def _check_gln(self):
        for record in self:
            if record.gln and not is_gln(record.gln):
                raise ValidationError(
                    self.env._(
                        "%(gln)s is not a GLN: a Global Location Number has 13 digits, the last one the GS1 "
                        "check digit. Copy it from your GS1 registration, or leave it empty.",
                        gln=record.gln,
                    )
                )


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "lot.control.gln.mixin"]


class StockWarehouse(models.Model):
    _name = "stock.warehouse"
    _inherit = ["stock.warehouse", "lot.control.gln.mixin"]
