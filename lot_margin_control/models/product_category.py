from odoo import models


class ProductCategory(models.Model):
    """Category-wide lot policy, used by products that set none of their own."""

    _name = "product.category"
    _inherit = ["product.category", "lot.control.policy.mixin"]
