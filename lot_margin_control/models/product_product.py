from odoo import models


class ProductProduct(models.Model):
    """The one place that says how much shelf life a customer must get (see the lot gate)."""

    _inherit = "product.product"

    def _get_required_shelf_life_days(self, partner):
        """Days of shelf life a delivery of this product to ``partner`` must still leave.

        The stricter of the customer's term (on its commercial partner) and the
        product's; 0 when neither asks. Used by the delivery's lot gate, the sale
        line's warning and the clearance quotation wizard alike.
        """
        self.ensure_one()
        customer = partner.commercial_partner_id if partner else partner
        return max(
            (customer.min_remaining_shelf_life_days if customer else 0) or 0,
            self.product_tmpl_id.min_remaining_shelf_life_days or 0,
        )
