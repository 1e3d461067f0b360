"""The controls hold against any user and any context an RPC client can send (issue: Trust, points 1, 4, 5)."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..models.lot_gate import LotGate
from ..models.stock_location import QUARANTINE_RECEIPT_PUTAWAY
from .common import LotControlCommon

# Contexts a client could send to talk a control around: the old benchmark switch, a forged
# gate (JSON can only give lists), an emptied gate, the old recall-release key.
HOSTILE_CONTEXTS = [
    {"skip_lot_gate": True},
    {"lot_gate": [["released", "blocked", "quarantine", "recalled"], False, 0]},
    {"lot_gate": False},
    {"lot_gate": None},
    {"lot_recall_release": True},
    {"lot_quality_recall_transition": {"recall_id": 1}},
    {"active_test": False, "skip_sanity_check": True, "force_company": 1},
]


@tagged("post_install", "-at_install")
class TestGateHasNoSwitch(LotControlCommon):
    """No context key, argument or role lets a lot that is not released reach a customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.blocked_lot = cls._lot("T-BLOCKED", expires_in_days=20)
        cls._put_in_stock(cls.blocked_lot, 10)
        cls.blocked_lot._set_quality_state("blocked", "Lab failure")
        cls.stock_user = new_test_user(cls.env, login="lmc_stock_user", groups="stock.group_stock_user")
        cls.stock_manager = new_test_user(cls.env, login="lmc_stock_manager", groups="stock.group_stock_manager")
        cls.salesperson = new_test_user(
            cls.env, login="lmc_sales", groups="sales_team.group_sale_salesman,stock.group_stock_user"
        )
        cls.roles = {
            "stock user": cls.stock_user,
            "lot control user": cls.lot_user,
            "quality manager": cls.quality_manager,
            "stock manager": cls.stock_manager,
            "salesperson": cls.salesperson,
        }

    def _blocked_shipped_or_reserved(self):
        self.env.flush_all()
        lines = self.env["stock.move.line"].search(
            [("lot_id", "=", self.blocked_lot.id), ("location_dest_id.usage", "=", "customer")]
        )
        on_hand = sum(self.env["stock.quant"].search([("lot_id", "=", self.blocked_lot.id)]).mapped("quantity"))
        return lines, on_hand

    def test_no_context_reserves_or_ships_a_blocked_lot(self):
        for role, user in self.roles.items():
            for context in HOSTILE_CONTEXTS:
                with self.subTest(role=role, context=context):
                    picking = self._delivery(self.product, 4)
                    try:
                        picking.with_user(user).with_context(**context).action_assign()
                        picking.move_ids.with_user(user).with_context(**context).picked = True
                        picking.with_user(user).with_context(**context).button_validate()
                    except (UserError, AccessError) as refused:
                        self.assertTrue(str(refused))
                    lines, on_hand = self._blocked_shipped_or_reserved()
                    self.assertFalse(lines, "a blocked lot was reserved or shipped")
                    self.assertEqual(on_hand, 10)

    def test_a_forged_gate_in_the_context_is_ignored_by_quants(self):
        quants = self.env["stock.quant"].with_context(lot_gate=[["blocked"], False, 0])
        self.assertIsNone(LotGate.from_context(quants.env.context))
        # a receipt (no gate) cannot be turned into a gate that reserves blocked lots either
        available = (
            self.env["stock.quant"]
            .with_context(lot_gate=LotGate())
            ._get_available_quantity(self.product, self.stock, lot_id=self.blocked_lot, strict=True)
        )
        self.assertEqual(available, 0)

    def test_hand_picked_blocked_lot_is_refused_for_every_role_and_context(self):
        for role, user in self.roles.items():
            for context in HOSTILE_CONTEXTS:
                with self.subTest(role=role, context=context):
                    picking = self._delivery(self.product, 2)
                    lines_before = self.env["stock.move.line"].search_count([])
                    with self.assertRaises(UserError):
                        self.env["stock.move.line"].with_user(user).with_context(**context).create(
                            {
                                "move_id": picking.move_ids.id,
                                "picking_id": picking.id,
                                "product_id": self.product.id,
                                "lot_id": self.blocked_lot.id,
                                "quantity": 2,
                                "location_id": self.stock.id,
                                "location_dest_id": self.customers.id,
                            }
                        )
                    self.assertEqual(self.env["stock.move.line"].search_count([]), lines_before)

    def test_relocating_a_blocked_quant_to_a_customer_is_refused(self):
        quant = self.env["stock.quant"].search([("lot_id", "=", self.blocked_lot.id)])
        for context in HOSTILE_CONTEXTS:
            with self.subTest(context=context), self.assertRaises(UserError):
                quant.with_user(self.stock_manager).with_context(**context).move_quants(
                    location_dest_id=self.customers, message="RPC relocation"
                )
        self.assertEqual(self._blocked_shipped_or_reserved(), (self.env["stock.move.line"], 10))

    def test_changing_a_done_delivery_line_to_a_blocked_lot_is_refused(self):
        released = self._lot("T-RELEASED", expires_in_days=90)
        self._put_in_stock(released, 5)
        picking = self._delivery(self.product, 2)
        picking.action_assign()
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        line = picking.move_ids.move_line_ids
        with self.assertRaises(UserError):
            line.with_user(self.stock_manager).with_context(skip_lot_gate=True).lot_id = self.blocked_lot
        self.assertEqual(line.lot_id, released)
        self.assertEqual(self._blocked_shipped_or_reserved()[1], 10)


@tagged("post_install", "-at_install")
class TestQualityWorkflowCannotBeBypassed(LotControlCommon):
    """Every way to set quality_state goes through the same transitions, rights and reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stock_user = new_test_user(cls.env, login="lmc_stock_user_q", groups="stock.group_stock_user")
        cls.quarantine_product = cls.env["product.product"].create(
            {"name": "LMC Raw Milk", "is_storable": True, "tracking": "lot", "lot_quarantine_on_receipt": True}
        )

    def _count(self):
        return self.env["stock.lot"].search_count([])

    def test_nobody_creates_a_lot_as_recalled(self):
        before = self._count()
        for user in (self.stock_user, self.lot_user, self.quality_manager):
            with self.subTest(user=user.login), self.assertRaises(UserError):
                self.env["stock.lot"].with_user(user).create(
                    {
                        "name": f"T-REC-{user.login}",
                        "product_id": self.product.id,
                        "quality_state": "recalled",
                        "quality_state_reason": "because",
                    }
                )
        with self.assertRaises(UserError):
            self.env["stock.lot"].create(
                {"name": "T-REC-SU", "product_id": self.product.id, "quality_state": "recalled"}
            )
        self.assertEqual(self._count(), before)

    def test_stock_user_cannot_create_released_lot_of_a_quarantine_product(self):
        before = self._count()
        with self.assertRaises(AccessError):
            self.env["stock.lot"].with_user(self.lot_user).create(
                {"name": "T-REL", "product_id": self.quarantine_product.id, "quality_state": "released"}
            )
        self.assertEqual(self._count(), before)
        lot = (
            self.env["stock.lot"]
            .with_user(self.lot_user)
            .create({"name": "T-Q", "product_id": self.quarantine_product.id})
        )
        self.assertEqual(lot.quality_state, "quarantine")
        lot = (
            self.env["stock.lot"]
            .with_user(self.quality_manager)
            .create({"name": "T-REL-QM", "product_id": self.quarantine_product.id, "quality_state": "released"})
        )
        self.assertEqual(lot.quality_state, "released")

    def test_blocked_at_creation_needs_a_manager_and_a_reason(self):
        before = self._count()
        with self.assertRaises(AccessError):
            self.env["stock.lot"].with_user(self.lot_user).create(
                {"name": "T-B1", "product_id": self.product.id, "quality_state": "blocked", "quality_state_reason": "x"}
            )
        with self.assertRaises(UserError):
            self.env["stock.lot"].with_user(self.quality_manager).create(
                {"name": "T-B2", "product_id": self.product.id, "quality_state": "blocked"}
            )
        self.assertEqual(self._count(), before)

    def test_lot_user_cannot_loosen_a_block(self):
        lot = self._lot("T-BLK")
        lot.with_user(self.quality_manager).action_quality_block(reason="Lab failure")
        with self.assertRaises(AccessError):
            lot.with_user(self.lot_user).action_quality_quarantine(reason="moved to quarantine")
        with self.assertRaises(AccessError):
            lot.with_user(self.lot_user).write({"quality_state": "quarantine", "quality_state_reason": "x"})
        self.assertEqual((lot.quality_state, lot.quality_state_reason), ("blocked", "Lab failure"))

    def test_reason_cannot_be_rewritten_around_the_workflow(self):
        lot = self._lot("T-RSN")
        lot.with_user(self.quality_manager).action_quality_block(reason="Lab failure")
        with self.assertRaises(UserError):
            lot.with_user(self.lot_user).write({"quality_state_reason": "all fine"})
        self.assertEqual(lot.quality_state_reason, "Lab failure")

    def test_recalled_lot_returns_only_through_a_withdrawn_recall(self):
        lot = self._lot("T-RCL")
        lot._quality_recall(self.env["stock.lot.recall"], "Recall RC-1")
        self.assertEqual(lot.quality_state, "recalled")
        for context in HOSTILE_CONTEXTS:
            with self.subTest(context=context), self.assertRaises(UserError):
                lot.with_user(self.quality_manager).with_context(**context).action_quality_release()
        with self.assertRaises(UserError):
            lot.write({"quality_state": "released"})
        self.assertEqual(lot.quality_state, "recalled")
        lot._restore_quality_after_recall({lot.id: "released"}, "Recall withdrawn: lab clean")
        self.assertEqual(lot.quality_state, "released")
        # a lot blocked before the recall is blocked again after its withdrawal
        blocked = self._lot("T-RCL-BLK")
        blocked.with_user(self.quality_manager).action_quality_block(reason="Lab failure")
        previous = blocked._quality_recall(self.env["stock.lot.recall"], "Recall RC-2: " + "x" * 600)
        self.assertEqual(len(blocked.quality_state_reason), 500)
        blocked._restore_quality_after_recall(previous, "Recall RC-2 withdrawn")
        self.assertEqual((blocked.quality_state, blocked.quality_state_reason), ("blocked", "Recall RC-2 withdrawn"))

    def test_import_goes_through_the_workflow(self):
        before = self._count()
        result = (
            self.env["stock.lot"]
            .with_user(self.quality_manager)
            .load(
                ["name", "product_id/.id", "quality_state", "quality_state_reason"],
                [["T-IMP", str(self.product.id), "recalled", "import"]],
            )
        )
        self.assertFalse(result["ids"])
        self.assertTrue(result["messages"])
        self.assertEqual(self._count(), before)

    def test_bad_reasons_and_states(self):
        lot = self._lot("T-BAD")
        for vals, error in [
            ({"quality_state": "quarantine", "quality_state_reason": ["a", "list"]}, UserError),
            ({"quality_state": "quarantine", "quality_state_reason": "x" * 1_000_000}, UserError),
            ({"quality_state": "quarantine", "quality_state_reason": "   "}, UserError),
            ({"quality_state": "destroyed", "quality_state_reason": "x"}, UserError),
        ]:
            with self.subTest(vals=str(vals)[:60]), self.assertRaises(error):
                lot.with_user(self.quality_manager).write(vals)
        self.assertEqual((lot.quality_state, lot.quality_state_reason), ("released", False))


@tagged("post_install", "-at_install")
class TestQualityAcrossCompanies(LotControlCommon):
    """A user changes a lot's status only where allowed in every company holding it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "LMC Company B"})
        cls.warehouse_b = cls.env["stock.warehouse"].search([("company_id", "=", cls.company_b.id)], limit=1)
        cls.shared_lot = cls._lot("T-SHARED", company_id=False)
        cls._put_in_stock(cls.shared_lot, 5)
        cls.env["stock.quant"].with_company(cls.company_b)._update_available_quantity(
            cls.product, cls.warehouse_b.lot_stock_id, 4, lot_id=cls.shared_lot
        )
        cls.shared_lot._set_quality_state("quarantine", "Incoming inspection")
        cls.manager_a = new_test_user(
            cls.env,
            login="lmc_qm_a",
            groups="lot_margin_control.group_lot_control_quality_manager,stock.group_stock_user",
            company_id=cls.env.company.id,
            company_ids=[cls.env.company.id],
        )
        cls.manager_ab = new_test_user(
            cls.env,
            login="lmc_qm_ab",
            groups="lot_margin_control.group_lot_control_quality_manager,stock.group_stock_user",
            company_id=cls.env.company.id,
            company_ids=[cls.env.company.id, cls.company_b.id],
        )

    def test_manager_of_one_company_cannot_release_a_lot_held_by_another(self):
        with self.assertRaisesRegex(AccessError, "LMC Company B"):
            self.shared_lot.with_user(self.manager_a).action_quality_release()
        self.assertEqual(self.shared_lot.quality_state, "quarantine")
        self.shared_lot.with_user(self.manager_ab).action_quality_release()
        self.assertEqual(self.shared_lot.quality_state, "released")


@tagged("post_install", "-at_install")
class TestReleaseFromQuarantine(LotControlCommon):
    """Releasing a lot in the quarantine location makes it deliverable: it moves to stock."""

    def test_released_lot_leaves_quarantine_and_a_delivery_reserves_it(self):
        lot = self._lot("T-QREL", expires_in_days=60)
        lot.with_user(self.lot_user).action_quality_quarantine(reason="Incoming inspection")
        self._put_in_stock(lot, 6, location=self.quarantine)
        picking = self._delivery(self.product, 4)
        self.assertFalse(picking.move_ids.move_line_ids)
        lot.with_user(self.quality_manager).action_quality_release()
        quants = self.env["stock.quant"].search([("lot_id", "=", lot.id), ("quantity", ">", 0)])
        self.assertEqual(quants.location_id, self.stock)
        self.assertEqual(sum(quants.mapped("quantity")), 6)
        picking.action_assign()
        self.assertEqual(picking.move_ids.move_line_ids.lot_id, lot)
        self.assertEqual(picking.move_ids.quantity, 4)

    def test_a_client_context_cannot_route_putaway_to_quarantine(self):
        """Only vendor receipts go through the quarantine putaway: the context key of a request does nothing."""
        self.product.lot_quarantine_on_receipt = True
        forged = self.stock.with_context(lot_quarantine_receipt=True)._get_putaway_strategy(self.product, 1)
        self.assertNotEqual(forged, self.quarantine)
        key, token = QUARANTINE_RECEIPT_PUTAWAY
        real = self.stock.with_context(**{key: token})._get_putaway_strategy(self.product, 1)
        self.assertEqual(real, self.quarantine)
