from odoo import api, fields, models

from .lot_limits import check_day_counts

SHELF_LIFE_FILTERS = [
    ("all", "All"),
    ("at_risk", "Near Expiry or Expired"),
    ("fresh", "Fresh"),
    ("near_expiry", "Near Expiry"),
    ("expired", "Expired"),
    ("no_expiry", "No Expiry"),
]
QUALITY_FILTERS = [
    ("all", "All"),
    ("not_released", "Not Released (quarantine, blocked, recalled)"),
    ("released", "Released"),
    ("quarantine", "Quarantine"),
    ("blocked", "Blocked"),
    ("recalled", "Recalled"),
]


class StockLotValuationScope(models.AbstractModel):
    """The scope of a valuation by lot: company, warehouses, locations, categories, states, horizon.

    Shared by the wizard that asks for it and the snapshot that keeps it, so
    that both turn the same choices into the same report domain.
    """

    _name = "stock.lot.valuation.scope"
    _description = "Scope of a Valuation by Lot"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    warehouse_ids = fields.Many2many(
        "stock.warehouse",
        string="Warehouses",
        check_company=True,
        domain="[('company_id', '=', company_id)]",
        help="Leave empty for every warehouse of the company.",
    )
    location_ids = fields.Many2many(
        "stock.location",
        string="Locations",
        check_company=True,
        domain="[('company_id', '=', company_id), ('usage', 'in', ('internal', 'transit'))]",
        help="These locations and the locations inside them. Leave empty for all.",
    )
    categ_ids = fields.Many2many(
        "product.category",
        string="Product Categories",
        help="These categories and their subcategories. Leave empty for all.",
    )
    shelf_life_filter = fields.Selection(
        SHELF_LIFE_FILTERS, string="Shelf Life", required=True, default="all", help="As of the chosen date."
    )
    quality_filter = fields.Selection(
        QUALITY_FILTERS, string="Quality Status", required=True, default="all", help="The lots' current status."
    )
    horizon_days = fields.Integer(
        string="Expiring Within (days)",
        help="Only lots expiring within this many days of the chosen date, expired ones included. "
        "0 shows every lot.",
    )

    @api.constrains("horizon_days")
    def _check_horizon_days(self):
        check_day_counts(self, "horizon_days")

    def _get_report_domain(self):
        """The ``stock.lot.valuation.report`` domain of the chosen scope."""
        self.ensure_one()
        domain = [("company_id", "=", self.company_id.id)]
        if self.warehouse_ids:
            domain.append(("warehouse_id", "in", self.warehouse_ids.ids))
        if self.location_ids:
            domain.append(("location_id", "child_of", self.location_ids.ids))
        if self.categ_ids:
            domain.append(("product_categ_id", "child_of", self.categ_ids.ids))
        shelf_life = {
            "at_risk": ["near_expiry", "expired"],
            "fresh": ["fresh"],
            "near_expiry": ["near_expiry"],
            "expired": ["expired"],
            "no_expiry": ["no_expiry"],
        }.get(self.shelf_life_filter)
        if shelf_life:
            domain.append(("shelf_life_state", "in", shelf_life))
        quality = {
            "not_released": ["quarantine", "blocked", "recalled"],
            "released": ["released"],
            "quarantine": ["quarantine"],
            "blocked": ["blocked"],
            "recalled": ["recalled"],
        }.get(self.quality_filter)
        if quality:
            domain.append(("quality_state", "in", quality))
        if self.horizon_days:
            domain.append(("remaining_shelf_life_days", "<", self.horizon_days))
        return domain

    def _describe_filters(self):
        """The scope in words, for the spreadsheet and the snapshot."""
        self.ensure_one()
        parts = []
        if self.warehouse_ids:
            parts.append(self.env._("Warehouses: %s", ", ".join(self.warehouse_ids.mapped("name"))))
        if self.location_ids:
            parts.append(self.env._("Locations: %s", ", ".join(self.location_ids.mapped("complete_name"))))
        if self.categ_ids:
            parts.append(self.env._("Categories: %s", ", ".join(self.categ_ids.mapped("complete_name"))))
        selections = (("shelf_life_filter", "all"), ("quality_filter", "all"))
        for fname, default in selections:
            if self[fname] != default:
                field = self._fields[fname]
                label = dict(field._description_selection(self.env))[self[fname]]
                parts.append(f"{field._description_string(self.env)}: {label}")
        if self.horizon_days:
            parts.append(self.env._("Expiring within %(days)s days", days=self.horizon_days))
        return "; ".join(parts) or self.env._("None")
