from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression


class SaleOrderLine(models.Model):
    """Sale lines sell a chosen lot (OCA sale_order_lot_selection) at its near-date markdown.

    The lot goes to the delivery as ``restrict_lot_id`` (OCA stock_restrict_lot),
    so exactly that lot is reserved, and still through the lot gate of
    stock.move (quality, expiry, the customer's minimum shelf life).

    Discount: choosing a marked-down lot sets the line's discount to the lot's
    markdown (unless the discount the line had is already larger) and records
    the rule in ``markdown_rule_id``. Choosing another lot applies that lot's
    markdown; removing the lot, or choosing one without markdown, puts back the
    discount the line had before the markdown (``discount_before_markdown``):
    the pricelist's, the one typed by the user, or 0. Other lot changes follow
    core: with pricelist discounts enabled, the pricelist discount is computed
    again, as when the quantity changes.
    """

    _inherit = "sale.order.line"

    # Computed with ``discount`` by ``_compute_discount``: they must change together.
    markdown_rule_id = fields.Many2one(
        "stock.lot.markdown.rule",
        string="Markdown",
        compute="_compute_discount",
        store=True,
        readonly=True,
        precompute=True,
        copy=False,
        index="btree_not_null",
        help="The near-date markdown rule of the chosen lot when it was chosen: the line's discount comes from it.",
    )
    discount_before_markdown = fields.Float(
        string="Discount Before Markdown (%)",
        digits="Discount",
        compute="_compute_discount",
        store=True,
        readonly=True,
        precompute=True,
        copy=False,
        help="The line's discount before the lot's markdown replaced it; given back when the lot is removed.",
    )
    lot_expiration_date = fields.Datetime(related="lot_id.expiration_date", string="Lot Expiration Date")

    @api.depends("lot_id")
    def _compute_discount(self):
        # The values before this computation: still in cache (or in the database) while being recomputed.
        previous = {line: (line.markdown_rule_id, line.discount_before_markdown, line.discount) for line in self}
        result = super()._compute_discount()
        for line in self:
            old_rule, before, old_discount = previous[line]
            rule = line._get_lot_markdown_rule()
            if rule:
                base = before if old_rule else old_discount
                line.discount_before_markdown = base
                line.discount = max(base, line.lot_id.sudo().markdown_discount)
            else:
                if old_rule:
                    line.discount = before
                line.discount_before_markdown = 0.0
            line.markdown_rule_id = rule
        return result

    def _get_lot_markdown_rule(self):
        """The markdown rule of the line's lot, if this line may sell at it (same product, company, not expired)."""
        self.ensure_one()
        no_rule = self.env["stock.lot.markdown.rule"]
        # Salespeople may choose lots without the inventory rights to read them.
        lot = self.lot_id.sudo()
        rule = lot.markdown_rule_id
        if not rule or self.display_type or lot.product_id != self.product_id:
            return no_rule
        if rule.company_id != self.company_id or (lot.company_id and lot.company_id != self.company_id):
            return no_rule
        if lot.expiration_date and lot.expiration_date <= self.env["stock.lot"]._shelf_life_now():
            return no_rule
        return no_rule.browse(rule.id)

    def write(self, vals):
        if "lot_id" in vals and "discount" in vals and "markdown_rule_id" not in vals:
            # A discount written with the lot wins over the markdown, but the markdown
            # fields must still follow the new lot: write the lot first.
            vals = dict(vals)
            discount = vals.pop("discount")
            super().write(vals)
            return super().write({"discount": discount})
        return super().write(vals)

    def copy_data(self, default=None):
        """A copied line has no lot (OCA ``lot_id`` is not copied): it does not keep the markdown either."""
        vals_list = super().copy_data(default=default)
        for line, vals in zip(self, vals_list, strict=True):
            if line.markdown_rule_id and "discount" not in (default or {}):
                vals["discount"] = line.discount_before_markdown
        return vals_list

    @api.constrains("lot_id", "product_id", "company_id")
    def _check_lot_matches_line(self):
        for line in self.filtered("lot_id"):
            lot = line.lot_id.sudo()
            if lot.product_id != line.product_id:
                raise ValidationError(
                    self.env._(
                        "Lot %(lot)s is a lot of %(lot_product)s, not of %(product)s. Choose a lot of "
                        "%(product)s on the line of order %(order)s.",
                        lot=lot.name,
                        lot_product=lot.product_id.display_name,
                        product=line.product_id.display_name,
                        order=line.order_id.name,
                    )
                )
            if lot.company_id and lot.company_id != line.company_id:
                raise ValidationError(
                    self.env._(
                        "Lot %(lot)s belongs to %(lot_company)s and cannot be sold by %(company)s on order "
                        "%(order)s. Choose a lot of %(company)s.",
                        lot=lot.name,
                        lot_company=lot.company_id.name,
                        company=line.company_id.name,
                        order=line.order_id.name,
                    )
                )

    # ------------------------------------------------------------------
    # Lot choice
    # ------------------------------------------------------------------
    def _domain_lot_id_quant_domain(self):
        """Only released, non-expired lots in stock (not in transit or elsewhere) may be chosen."""
        domain = super()._domain_lot_id_quant_domain()
        now = self.env["stock.lot"]._shelf_life_now()
        return expression.AND(
            [
                domain,
                [
                    ("location_id.usage", "=", "internal"),
                    ("lot_id.quality_state", "=", "released"),
                    "|",
                    ("lot_id.expiration_date", "=", False),
                    ("lot_id.expiration_date", ">", now),
                ],
            ]
        )

    def _get_lot_shelf_life_shortfall(self):
        """``(days left on the delivery date, days required)`` when the lot is too short-dated, else False.

        Same rule as the delivery's lot gate (stock.lot ``_get_shelf_life_shortfall``), on
        the line's expected delivery date.
        """
        self.ensure_one()
        if not self.lot_id or not self.product_id:
            return False
        delivery_date = self.order_id.commitment_date or self._expected_date()
        return self.lot_id.sudo()._get_shelf_life_shortfall(self._get_lot_shelf_life_customer(), delivery_date)

    def _get_lot_shelf_life_customer(self):
        """The customer whose terms the delivery applies: the delivery address's commercial partner."""
        return (self.order_id.partner_shipping_id or self.order_id.partner_id).commercial_partner_id

    @api.onchange("lot_id")
    def _onchange_lot_id_shelf_life_warning(self):
        if not self.lot_id:
            return None
        shortfall = self._get_lot_shelf_life_shortfall()
        if not shortfall:
            return None
        days_left, required = shortfall
        customer = self._get_lot_shelf_life_customer()
        return {
            "warning": {
                "title": self.env._("Lot too short-dated for %(customer)s", customer=customer.display_name),
                "message": self.env._(
                    "Lot %(lot)s expires on %(expiry)s: %(left)s days left on the delivery date, and "
                    "%(required)s days are required for %(customer)s. The delivery will not reserve it: "
                    "choose a lot with a later expiry, or agree a shorter shelf life with the customer.",
                    lot=self.lot_id.sudo().name,
                    expiry=fields.Date.to_date(self.lot_id.sudo().expiration_date),
                    left=days_left,
                    required=required,
                    customer=customer.display_name,
                ),
            }
        }
