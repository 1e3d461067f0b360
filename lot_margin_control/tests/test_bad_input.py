"""Bad input gets a clear UserError/ValidationError and changes nothing (issue: Trust, point 7).

Each case: a call an RPC client could make with wrong types or absurd values,
the error class it must raise (never a traceback of another kind), and the row
counts of the models it could have touched, compared before and after.
"""

from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import LotControlCommon

WATCHED_MODELS = (
    "stock.lot",
    "stock.move.line",
    "stock.lot.markdown.rule",
    "stock.lot.recall",
    "mail.message",
    "res.partner",
    "product.template",
)


@tagged("post_install", "-at_install")
class TestBadInput(LotControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lot = cls._lot("BAD-LOT", expires_in_days=40)
        cls._put_in_stock(cls.lot, 5)
        cls.rule = cls.env["stock.lot.markdown.rule"].create(
            {"name": "BAD rule", "discount": 10, "trigger": "remaining_days", "threshold_days": 5}
        )

    def _counts(self):
        self.env.flush_all()
        return {
            model: self.env[model].sudo().with_context(active_test=False).search_count([]) for model in WATCHED_MODELS
        }

    def _snapshot(self):
        self.env.flush_all()
        return (
            self.lot.read(["quality_state", "quality_state_reason", "expiration_date", "supplier_lot_name"]),
            self.customer.read(["min_remaining_shelf_life_days"]),
            self.product.read(["min_remaining_shelf_life_days", "lot_near_expiry_days"]),
            self.category.read(["lot_near_expiry_days"]),
            self.rule.read(["discount", "threshold_days", "threshold_ratio"]),
        )

    def _cases(self):
        Lot = self.env["stock.lot"]
        qm = self.lot.with_user(self.quality_manager)
        big = 1_000_000
        return [
            # --- GS1 parser: wrong types and impossible codes
            ("gs1 int", UserError, lambda: Lot.parse_gs1_barcode(12345)),
            ("gs1 None", UserError, lambda: Lot.parse_gs1_barcode(None)),
            ("gs1 list", UserError, lambda: Lot.parse_gs1_barcode(["(01)09506000134352"])),
            ("gs1 dict", UserError, lambda: Lot.parse_gs1_barcode({"barcode": "x"})),
            ("gs1 empty", UserError, lambda: Lot.parse_gs1_barcode("")),
            ("gs1 megabyte", UserError, lambda: Lot.parse_gs1_barcode("(10)" + "A" * 1_000_000)),
            ("gs1 check digit", UserError, lambda: Lot.parse_gs1_barcode("(01)09506000134353(10)L1")),
            ("gs1 month 13", UserError, lambda: Lot.parse_gs1_barcode("(01)09506000134352(17)261301(10)L1")),
            ("gs1 no data", UserError, lambda: Lot.parse_gs1_barcode("hello world")),
            # --- day counts: negative and absurd
            ("customer days -1", ValidationError, lambda: self.customer.write({"min_remaining_shelf_life_days": -1})),
            ("customer days 1e6", ValidationError, lambda: self.customer.write({"min_remaining_shelf_life_days": big})),
            ("product days -5", ValidationError, lambda: self.product.write({"min_remaining_shelf_life_days": -5})),
            ("product days 1e6", ValidationError, lambda: self.product.write({"min_remaining_shelf_life_days": big})),
            ("product near -1", ValidationError, lambda: self.product.write({"lot_near_expiry_days": -1})),
            ("product near 1e6", ValidationError, lambda: self.product.write({"lot_near_expiry_days": big})),
            ("category near 1e6", ValidationError, lambda: self.category.write({"lot_near_expiry_days": big})),
            ("category near -3", ValidationError, lambda: self.category.write({"lot_near_expiry_days": -3})),
            (
                "new customer 1e6",
                ValidationError,
                lambda: self.env["res.partner"].create({"name": "X", "min_remaining_shelf_life_days": big}),
            ),
            # --- markdown rules
            ("rule discount 0", ValidationError, lambda: self.rule.write({"discount": 0})),
            ("rule discount 100", ValidationError, lambda: self.rule.write({"discount": 100})),
            ("rule discount -5", ValidationError, lambda: self.rule.write({"discount": -5})),
            ("rule discount 150", ValidationError, lambda: self.rule.write({"discount": 150})),
            ("rule days -1", ValidationError, lambda: self.rule.write({"threshold_days": -1})),
            ("rule days 1e6", ValidationError, lambda: self.rule.write({"threshold_days": big})),
            (
                "rule ratio 1.5",
                ValidationError,
                lambda: self.rule.write({"trigger": "remaining_ratio", "threshold_ratio": 1.5}),
            ),
            (
                "rule ratio -0.1",
                ValidationError,
                lambda: self.rule.write({"trigger": "remaining_ratio", "threshold_ratio": -0.1}),
            ),
            # --- quality status
            ("reason list", UserError, lambda: qm.action_quality_block(reason=["Lab", "failure"])),
            ("reason dict", UserError, lambda: qm.action_quality_quarantine(reason={"why": "x"})),
            ("reason megabyte", UserError, lambda: qm.action_quality_block(reason="x" * 1_000_000)),
            ("reason blank", UserError, lambda: qm._set_quality_state("blocked", "   ")),
            ("state unknown", UserError, lambda: qm.write({"quality_state": "destroyed", "quality_state_reason": "x"})),
            ("state int", UserError, lambda: qm.write({"quality_state": 3, "quality_state_reason": "x"})),
            ("reason alone", UserError, lambda: qm.write({"quality_state_reason": "all fine"})),
            # --- lot dates
            (
                "expiry before production",
                ValidationError,
                lambda: self.lot.write(
                    {"production_date": datetime.now(), "expiration_date": datetime.now() - timedelta(days=2)}
                ),
            ),
            (
                "alert after expiry",
                ValidationError,
                lambda: self.lot.write({"alert_date": self.lot.expiration_date + timedelta(days=3)}),
            ),
            # --- searches an RPC client can send
            ("search days text", UserError, lambda: Lot.search([("remaining_shelf_life_days", ">=", "ten")])),
            ("search days 1e12", UserError, lambda: Lot.search([("remaining_shelf_life_days", ">=", 10**12)])),
            ("search days like", UserError, lambda: Lot.search([("remaining_shelf_life_days", "like", 3)])),
            ("search ratio text", UserError, lambda: Lot.search([("remaining_shelf_life_ratio", "<", "half")])),
            ("search ratio in", UserError, lambda: Lot.search([("remaining_shelf_life_ratio", "in", [0.1])])),
        ]

    def test_catalogue_of_bad_inputs(self):
        cases = self._cases()
        self.assertGreaterEqual(len(cases), 40)
        for name, error, call in cases:
            with self.subTest(case=name):
                counts, snapshot = self._counts(), self._snapshot()
                with self.assertRaises(error):
                    call()
                self.assertEqual(self._counts(), counts, f"{name}: rows were created or deleted")
                self.assertEqual(self._snapshot(), snapshot, f"{name}: values changed")

    def test_absurd_customer_term_cannot_make_a_picking_unreadable(self):
        """Before: 1,000,000 days of minimum shelf life overflowed the gate; the picking could not be read."""
        with self.assertRaises(ValidationError):
            self.customer.min_remaining_shelf_life_days = 1_000_000
        picking = self._delivery(self.product, 2)
        self.assertTrue(picking.read(["lot_gate_skipped_html", "state"]))


@tagged("post_install", "-at_install")
class TestOneShelfLifeRule(LotControlCommon):
    """The gate, the sale line and the clearance wizard give the same answer for the same date."""

    def test_gate_sale_line_and_clearance_wizard_agree(self):
        partner = self.env["res.partner"].create({"name": "LMC Strict Buyer", "min_remaining_shelf_life_days": 30})
        self.product.min_remaining_shelf_life_days = 10
        now = fields.Datetime.now()
        short = self._lot("ONE-SHORT", expires_in_days=20)
        fine = self._lot("ONE-FINE", expires_in_days=45)
        self._put_in_stock(short, 5)
        self._put_in_stock(fine, 5)
        self.assertEqual(self.product._get_required_shelf_life_days(partner), 30)

        picking = self._delivery(self.product, 1, partner=partner, date=now)
        gate = picking.move_ids._get_lot_gate()
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "commitment_date": now,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "product_uom_qty": 1, "lot_id": lot.id})
                    for lot in (short, fine)
                ],
            }
        )
        lines = {line.lot_id: line for line in order.order_line}
        wizard = self.env["stock.lot.clearance.quotation.wizard"].create(
            {"partner_id": partner.id, "warehouse_id": self.warehouse.id, "lot_ids": [(6, 0, (short | fine).ids)]}
        )
        warning = wizard.shelf_life_warning or ""
        for lot, expected_short in ((short, True), (fine, False)):
            with self.subTest(lot=lot.name):
                self.assertEqual(bool(gate.refusal(lot)), expected_short)
                self.assertEqual(bool(lines[lot]._get_lot_shelf_life_shortfall()), expected_short)
                self.assertEqual(lot.name in warning, expected_short)
                self.assertEqual(bool(lot._get_shelf_life_shortfall(partner, now)), expected_short)
        self.assertEqual(picking.move_ids.move_line_ids.lot_id, fine)
