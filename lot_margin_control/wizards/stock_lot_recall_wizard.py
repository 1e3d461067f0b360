from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..models.stock_lot_recall import RECALL_CLASSES


class StockLotRecallWizard(models.TransientModel):
    """Launch a recall (or a mock recall) from lots, a lot form or a product, and trace it at once."""

    _name = "stock.lot.recall.wizard"
    _description = "Launch a Lot Recall"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    product_id = fields.Many2one(
        "product.product",
        domain="[('tracking', '!=', 'none')]",
        help="Recall every lot of this product (narrow the list below if needed).",
    )
    lot_ids = fields.Many2many("stock.lot", string="Lots/Serial Numbers", check_company=True)
    reason = fields.Text(required=True)
    recall_class = fields.Selection(RECALL_CLASSES, required=True, default="2")
    is_mock = fields.Boolean(
        string="Mock Recall (drill)",
        help="Trace and export only: no lot is blocked, no customer is mailed.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        active_ids = context.get("active_ids") or []
        if context.get("active_model") == "stock.lot" and active_ids and "lot_ids" in fields_list:
            values["lot_ids"] = [Command.set(active_ids)]
        elif context.get("active_model") in ("product.product", "product.template") and active_ids:
            products = self.env[context["active_model"]].browse(active_ids)
            variants = products if products._name == "product.product" else products.product_variant_ids
            values["product_id"] = variants[:1].id
            values["lot_ids"] = [Command.set(self._lots_of(variants[:1]).ids)]
        return values

    def _lots_of(self, product):
        return self.env["stock.lot"].search(
            [("product_id", "=", product.id), ("company_id", "in", (False, self.company_id.id or self.env.company.id))]
        )

    @api.onchange("product_id")
    def _onchange_product_id(self):
        if self.product_id:
            self.lot_ids = self._lots_of(self.product_id)

    def action_open_recall(self):
        self.ensure_one()
        if not self.lot_ids:
            raise UserError(self.env._("Choose at least one lot or serial number to recall."))
        recall = self.env["stock.lot.recall"].create(
            {
                "company_id": self.company_id.id,
                "lot_ids": [Command.set(self.lot_ids.ids)],
                "reason": self.reason,
                "recall_class": self.recall_class,
                "is_mock": self.is_mock,
            }
        )
        recall.action_trace()
        return {
            "type": "ir.actions.act_window",
            "res_model": "stock.lot.recall",
            "res_id": recall.id,
            "view_mode": "form",
            "target": "current",
        }
