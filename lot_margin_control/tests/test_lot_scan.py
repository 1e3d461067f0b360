from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools.barcode import get_barcode_check_digit

from .common import LotControlCommon


def with_check_digit(digits):
    """``digits`` followed by its GS1 check digit."""
    return digits + str(get_barcode_check_digit(digits + "0"))


@tagged("post_install", "-at_install")
class TestLotScan(LotControlCommon):
    """Scanning lots on deliveries, pickings and receipts (PRODUCT.md §13), through stock.picking.action_scan_lot."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.category.removal_strategy_id = cls.env.ref("product_expiry.removal_fefo")
        cls.gtin = with_check_digit("0950600013435")
        cls.product.barcode = cls.gtin
        cls.other_product = cls.env["product.product"].create(
            {"name": "LMC Scan Cheese", "is_storable": True, "tracking": "lot", "categ_id": cls.category.id}
        )
        cls.lot_a = cls._lot("SCAN-A", expires_in_days=60)
        cls.lot_b = cls._lot("SCAN-B", expires_in_days=90)
        cls.lot_small = cls._lot("SCAN-SMALL", expires_in_days=120)
        cls.lot_blocked = cls._lot("SCAN-BLOCKED", expires_in_days=100)
        cls.lot_expired = cls._lot("SCAN-EXPIRED", expires_in_days=-2)
        cls.lot_short = cls._lot("SCAN-SHORT", expires_in_days=10)
        cls.lot_cheese = cls._lot("SCAN-CHEESE", product=cls.other_product, expires_in_days=None)
        for lot, quantity in (
            (cls.lot_a, 10),
            (cls.lot_b, 10),
            (cls.lot_small, 2),
            (cls.lot_blocked, 10),
            (cls.lot_expired, 10),
            (cls.lot_short, 10),
            (cls.lot_cheese, 10),
        ):
            cls._put_in_stock(lot, quantity)
        cls.lot_blocked.write({"quality_state": "blocked", "quality_state_reason": "Foreign body found"})
        cls.customer.min_remaining_shelf_life_days = 30
        cls.stock_user = new_test_user(cls.env, login="lmc_scan_stock", groups="stock.group_stock_user")
        cls.delivery = cls._delivery(cls.product, 5)

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _scan(self, code, picking=None, user=None, **kwargs):
        picking = picking or self.delivery
        return picking.with_user(user or self.stock_user).action_scan_lot(code, **kwargs)

    def _state(self, picking=None):
        """What a scan may change: the transfer's lines, the reservations, the lots and the scans kept."""
        picking = picking or self.delivery
        self.env.invalidate_all()
        lines = sorted(
            (line.lot_id.name or "", line.quantity, line.lot_scanned, line.picked, line.location_id.id)
            for line in picking.move_line_ids
        )
        quants = sorted(
            (quant.lot_id.name or "", quant.quantity, quant.reserved_quantity)
            for quant in self.env["stock.quant"].search([("product_id", "in", picking.move_ids.product_id.ids)])
        )
        return (
            lines,
            quants,
            self.env["stock.lot"].search_count([]),
            self.env["stock.lot.scan"].search_count([]),
        )

    def _assert_user_error(self, code, *fragments, picking=None, **kwargs):
        before = self._state(picking)
        with self.assertRaises(UserError) as caught:
            self._scan(code, picking=picking, **kwargs)
        for fragment in fragments:
            self.assertIn(fragment, caught.exception.args[0])
        self.assertEqual(self._state(picking), before, "a code that cannot be read changes nothing")
        return caught.exception.args[0]

    def _assert_refused(self, code, *fragments, picking=None):
        """The scan is refused and kept, with its reason; nothing else changes."""
        lines_before, quants_before, lots_before, scans_before = self._state(picking)
        result = self._scan(code, picking=picking)
        self.assertEqual(result["result"], "refused", result["message"])
        lines, quants, lots, scans = self._state(picking)
        self.assertEqual((lines, quants, lots), (lines_before, quants_before, lots_before))
        self.assertEqual(scans, scans_before + 1)
        scan = self.env["stock.lot.scan"].browse(result["scan_id"])
        self.assertEqual(scan.result, "refused")
        for fragment in fragments:
            self.assertIn(fragment, scan.reason)
            self.assertIn(fragment, result["message"])
        return scan

    # ------------------------------------------------------------------
    # confirm, switch, refuse
    # ------------------------------------------------------------------
    def test_scan_confirms_the_directed_lot(self):
        line = self.delivery.move_line_ids
        self.assertEqual(line.lot_id, self.lot_a, "FEFO directs the earliest lot")
        result = self._scan("SCAN-A")
        self.assertEqual(result["result"], "confirmed")
        self.assertIn("SCAN-A", result["message"])
        self.assertTrue(line.lot_scanned)
        self.assertTrue(line.picked)
        self.assertEqual(result["line_id"], line.id)
        self.assertEqual([row["scanned"] for row in result["lines"]], [True])
        scan = self.env["stock.lot.scan"].browse(result["scan_id"])
        self.assertRecordValues(
            scan,
            [
                {
                    "picking_id": self.delivery.id,
                    "move_line_id": line.id,
                    "lot_id": self.lot_a.id,
                    "product_id": self.product.id,
                    "result": "confirmed",
                    "user_id": self.stock_user.id,
                    "company_id": self.env.company.id,
                    "is_directed_lot": True,
                    "accuracy_rate": 100.0,
                    "barcode": "SCAN-A",
                }
            ],
        )

    def test_scan_gs1_code_confirms_the_lot(self):
        result = self._scan(f"(01){self.gtin}(10)SCAN-A(17)991231")
        self.assertEqual(result["result"], "confirmed")
        self.assertTrue(self.delivery.move_line_ids.lot_scanned)

    def test_scan_switches_to_another_lot_the_gate_allows(self):
        line = self.delivery.move_line_ids
        result = self._scan("SCAN-B")
        self.assertEqual(result["result"], "switched", result["message"])
        self.assertRecordValues(line, [{"lot_id": self.lot_b.id, "quantity": 5, "lot_scanned": True}])
        reserved = {
            quant.lot_id: quant.reserved_quantity
            for quant in self.env["stock.quant"].search([("product_id", "=", self.product.id)])
        }
        self.assertEqual(reserved[self.lot_a], 0, "the directed lot is released")
        self.assertEqual(reserved[self.lot_b], 5, "the scanned lot is reserved")
        scan = self.env["stock.lot.scan"].browse(result["scan_id"])
        self.assertEqual((scan.directed_lot_id, scan.lot_id, scan.accuracy_rate), (self.lot_a, self.lot_b, 0.0))

        # FEFO compliance records the override at validation, as for a lot typed by hand
        self.delivery.with_user(self.stock_user).button_validate()
        self.assertEqual(self.delivery.state, "done")
        self.assertRecordValues(line, [{"fefo_checked": True, "fefo_compliant": False}])
        self.assertEqual(line.fefo_earlier_lot_id, self.lot_a)

    def test_switch_to_a_lot_with_less_stock_splits_the_line(self):
        result = self._scan("SCAN-SMALL")
        self.assertEqual(result["result"], "switched")
        lines = self.delivery.move_line_ids.sorted("quantity")
        self.assertEqual(
            [(line.lot_id, line.quantity, line.lot_scanned) for line in lines],
            [(self.lot_small, 2, True), (self.lot_a, 3, False)],
        )
        self.assertEqual(self.delivery.move_ids.quantity, 5)

    def test_scan_refuses_lots_the_gate_refuses_and_changes_nothing(self):
        self._assert_refused("SCAN-BLOCKED", "Blocked", "Foreign body found")
        self._assert_refused("SCAN-EXPIRED", "expired")
        self._assert_refused("SCAN-SHORT", "too short-dated", "30 required")
        self._assert_refused("SCAN-CHEESE", "LMC Scan Cheese", "not on this transfer")
        scans = self.env["stock.lot.scan"].search([("picking_id", "=", self.delivery.id)])
        self.assertEqual(set(scans.mapped("result")), {"refused"})
        self.assertEqual(set(scans.mapped("accuracy_rate")), {0.0})

    def test_lot_of_the_order_is_kept(self):
        """A lot the sale order asks for (stock_restrict_lot) is not switched for another one."""
        self.delivery.move_ids.restrict_lot_id = self.lot_a
        self._assert_refused("SCAN-B", "the order asks for lot SCAN-A")

    # ------------------------------------------------------------------
    # serial numbers, pick then ship, receipts
    # ------------------------------------------------------------------
    def test_serial_numbers_one_scan_per_unit(self):
        serials = [
            self._lot(f"SCAN-SN-{index}", product=self.serial_product, expires_in_days=300) for index in range(4)
        ]
        for serial in serials:
            self._put_in_stock(serial, 1)
        delivery = self._delivery(self.serial_product, 3)
        reserved = delivery.move_line_ids.lot_id
        self.assertEqual(len(reserved), 3)
        spare = next(serial for serial in serials if serial not in reserved)
        first, second, third = reserved
        for serial in (first, second):
            self.assertEqual(self._scan(serial.name, picking=delivery)["result"], "confirmed")
        self._assert_refused(first.name, "already scanned", picking=delivery)
        result = self._scan(spare.name, picking=delivery)
        self.assertEqual(result["result"], "switched", result["message"])
        self.assertEqual(set(delivery.move_line_ids.mapped("quantity")), {1})
        self.assertEqual(delivery.move_line_ids.lot_id, first | second | spare)
        self._assert_refused(third.name, "no line", picking=delivery)
        self.assertTrue(all(delivery.move_line_ids.mapped("lot_scanned")))

    def test_pick_then_ship(self):
        self.warehouse.delivery_steps = "pick_ship"
        group = self.env["procurement.group"].create({"name": "LMC scan pick-ship", "partner_id": self.customer.id})
        self.env["procurement.group"].run(
            [
                self.env["procurement.group"].Procurement(
                    self.product,
                    4,
                    self.product.uom_id,
                    self.customers,
                    "LMC scan pick-ship",
                    "LMC scan pick-ship",
                    self.env.company,
                    {"warehouse_id": self.warehouse, "group_id": group},
                )
            ]
        )
        pick = self.env["stock.picking"].search(
            [("picking_type_id", "=", self.warehouse.pick_type_id.id), ("group_id", "=", group.id)]
        )
        pick.action_assign()
        ship = pick.move_ids.move_dest_ids
        self.assertEqual(pick.move_line_ids.lot_id, self.lot_a)
        # the customer's shelf-life terms already hold at picking
        self._assert_refused("SCAN-SHORT", "too short-dated", picking=pick)
        self.assertEqual(self._scan("SCAN-B", picking=pick)["result"], "switched")
        pick.with_user(self.stock_user).button_validate()
        ship = pick.move_ids.move_dest_ids.picking_id
        self.assertEqual(ship.move_line_ids.lot_id, self.lot_b)
        # at shipping, a lot that is not in the output location cannot be taken
        self._assert_refused("SCAN-A", "no free stock", picking=ship)
        self.assertEqual(self._scan("SCAN-B", picking=ship)["result"], "confirmed")
        ship.with_user(self.stock_user).button_validate()
        self.assertEqual(ship.state, "done")
        scans = self.env["stock.lot.scan"].search([("picking_id", "in", (pick | ship).ids)], order="id")
        self.assertEqual(scans.mapped("result"), ["refused", "switched", "refused", "confirmed"])

    def test_receipt_scan_adds_the_lot_and_counts_as_scanned(self):
        receipt = self._receipt(self.product, 6)
        result = self._scan(f"(01){self.gtin}(10)SCAN-NEW(17)271231", picking=receipt, quantity=6)
        self.assertEqual(result["result"], "created")
        line = receipt.move_line_ids.filtered("lot_id")
        self.assertRecordValues(line, [{"quantity": 6, "lot_scanned": True}])
        self.assertEqual(line.lot_id.name, "SCAN-NEW")
        for quantity in ("6", True, float("nan"), 10**9):
            self._assert_user_error(f"(01){self.gtin}(10)SCAN-NEW2", "quantity", picking=receipt, quantity=quantity)

    def test_wizard_scans_on_a_delivery(self):
        wizard = (
            self.env["stock.lot.gs1.scan.wizard"]
            .with_user(self.stock_user)
            .create({"picking_id": self.delivery.id, "barcode": "SCAN-EXPIRED"})
        )
        action = wizard.action_scan()
        next_wizard = self.env["stock.lot.gs1.scan.wizard"].browse(action["res_id"])
        self.assertTrue(next_wizard.last_refused)
        self.assertIn("expired", next_wizard.last_result)
        next_wizard.barcode = "SCAN-A"
        action = next_wizard.action_scan()
        last = self.env["stock.lot.gs1.scan.wizard"].browse(action["res_id"])
        self.assertFalse(last.last_refused)
        self.assertTrue(self.delivery.move_line_ids.lot_scanned)
        with self.assertRaises(UserError):
            last.write({"barcode": "SCAN-A"})
            last.action_add_to_receipt()

    # ------------------------------------------------------------------
    # scans required before validation
    # ------------------------------------------------------------------
    def test_scan_required_blocks_validation_until_every_lot_line_is_scanned(self):
        self.warehouse.out_type_id.lot_scan_required = True
        delivery = self.delivery.with_user(self.stock_user)
        with self.assertRaisesRegex(UserError, "requires every lot to be scanned"):
            delivery.button_validate()
        for hostile in (
            {"skip_sanity_check": True, "skip_backorder": True, "skip_expired": True},
            {"lot_scan_required": False, "skip_lot_scan": True, "lot_scanned": True},
        ):
            with self.assertRaisesRegex(UserError, "requires every lot to be scanned"):
                delivery.with_context(**hostile).button_validate()
            with self.assertRaisesRegex(UserError, "requires every lot to be scanned"):
                delivery.with_context(**hostile)._action_done()
        # nobody marks a line scanned without scanning it
        with self.assertRaises(AccessError):
            delivery.move_line_ids.write({"lot_scanned": True})
        with self.assertRaises(AccessError):
            self.env["stock.move.line"].with_user(self.stock_user).create(
                dict(self.delivery.move_ids._prepare_move_line_vals(quantity=1), lot_scanned=True)
            )
        extra = (
            self.env["stock.move.line"]
            .with_user(self.stock_user)
            .with_context(default_lot_scanned=True)
            .create(dict(self.delivery.move_ids._prepare_move_line_vals(quantity=1), lot_id=self.lot_b.id))
        )
        self.assertFalse(extra.lot_scanned, "no default from the context marks a line scanned")
        extra.unlink()
        self.assertFalse(self.delivery.move_line_ids.lot_scanned)
        self.assertEqual(self.delivery.state, "assigned")

        self._scan("SCAN-A")
        # changing the lot by hand afterwards undoes the scan
        self.delivery.move_line_ids.with_user(self.stock_user).lot_id = self.lot_b
        self.assertFalse(self.delivery.move_line_ids.lot_scanned)
        with self.assertRaisesRegex(UserError, "requires every lot to be scanned"):
            delivery.button_validate()
        self._scan("SCAN-B")
        delivery.button_validate()
        self.assertEqual(self.delivery.state, "done")

    # ------------------------------------------------------------------
    # bad input and roles
    # ------------------------------------------------------------------
    def test_codes_that_cannot_be_read_change_nothing(self):
        self._assert_user_error("%%%garbled%%%", "neither a lot or serial number")
        self._assert_user_error(f"(01){with_check_digit('0950600099999')}(10)SCAN-A", "neither")
        self._assert_user_error(f"(01){self.gtin[:-1]}{(int(self.gtin[-1]) + 1) % 10}(10)SCAN-A", "neither")
        self._assert_user_error(f"(01){self.gtin}(10)SCAN-UNKNOWN", "has no lot SCAN-UNKNOWN")
        self._assert_user_error(f"(01){self.gtin}(17)271231", "no lot or serial number")
        for empty in ("", "   ", None, 42, ["SCAN-A"], {"code": "SCAN-A"}):
            self._assert_user_error(empty, "empty")
        self._assert_user_error("A" * 5000, "5000 characters")

    def test_untracked_product_has_no_lot_to_scan(self):
        gtin = with_check_digit("0950600013437")
        self.env["product.product"].create({"name": "LMC Scan Bag", "is_storable": True, "barcode": gtin})
        self._assert_user_error(f"(01){gtin}", "LMC Scan Bag", "not tracked")

    def _delivery_of_many_lots(self, count):
        moves = []
        for index in range(count):
            product = self.env["product.product"].create(
                {"name": f"LMC Scan Many {count}-{index}", "is_storable": True, "tracking": "lot"}
            )
            self._put_in_stock(self._lot(f"MANY-{count}-{index}", product=product, expires_in_days=None), 5)
            moves.append(
                (
                    0,
                    0,
                    {
                        "name": product.name,
                        "product_id": product.id,
                        "product_uom_qty": 5,
                        "product_uom": product.uom_id.id,
                        "location_id": self.stock.id,
                        "location_dest_id": self.customers.id,
                    },
                )
            )
        delivery = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.out_type_id.id,
                "partner_id": self.customer.id,
                "location_id": self.stock.id,
                "location_dest_id": self.customers.id,
                "move_ids": moves,
            }
        )
        delivery.action_confirm()
        return delivery

    def _queries_of_a_scan(self, delivery, code):
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        result = self._scan(code, picking=delivery)
        self.assertEqual(result["result"], "confirmed")
        return self.env.cr.sql_log_count - before

    def test_query_count_of_a_scan_does_not_grow_with_the_transfer(self):
        small = self._delivery_of_many_lots(3)
        large = self._delivery_of_many_lots(30)
        self._queries_of_a_scan(small, "MANY-3-0")  # warm the caches of the first scan
        self.assertEqual(self._queries_of_a_scan(large, "MANY-30-7"), self._queries_of_a_scan(small, "MANY-3-1"))

    def test_lot_of_another_company_is_unknown(self):
        other_company = self.env["res.company"].create({"name": "LMC Scan Other Company"})
        self.env["stock.lot"].create(
            {"name": "SCAN-OTHER-CO", "product_id": self.product.id, "company_id": other_company.id}
        )
        self._assert_user_error("SCAN-OTHER-CO", "SCAN-OTHER-CO", "neither")
        self._assert_user_error(f"(01){self.gtin}(10)SCAN-OTHER-CO", "has no lot SCAN-OTHER-CO")

    def test_done_transfer_cannot_be_scanned(self):
        self._scan("SCAN-A")
        self.delivery.button_validate()
        self._assert_user_error("SCAN-A", "Done", "neither done nor cancelled")

    def test_who_may_scan_and_see_scans(self):
        self._scan("SCAN-A", user=self.lot_user)
        portal = new_test_user(self.env, login="lmc_scan_portal", groups="base.group_portal")
        accountant = new_test_user(self.env, login="lmc_scan_accountant", groups="account.group_account_invoice")
        # a salesperson may write on transfers (sale_stock) but does not scan in the warehouse
        salesperson = new_test_user(self.env, login="lmc_scan_sales", groups="sales_team.group_sale_salesman")
        for user in (portal, accountant, salesperson):
            with self.assertRaises(AccessError):
                self._scan("SCAN-A", user=user)
        other_company = self.env["res.company"].create({"name": "LMC Scan Company B"})
        outsider = new_test_user(
            self.env,
            login="lmc_scan_outsider",
            groups="stock.group_stock_user",
            company_id=other_company.id,
            company_ids=[other_company.id],
        )
        with self.assertRaises(AccessError):
            self._scan("SCAN-A", user=outsider)
        self.assertFalse(self.env["stock.lot.scan"].with_user(outsider).search([]))
        scans = self.env["stock.lot.scan"].with_user(self.stock_user).search([("picking_id", "=", self.delivery.id)])
        self.assertEqual(len(scans), 1)
        self.assertEqual(scans.user_id, self.lot_user)
        for user in (self.stock_user, self.lot_user):
            with self.assertRaises(AccessError):
                self.env["stock.lot.scan"].with_user(user).create(
                    {"picking_id": self.delivery.id, "result": "confirmed", "company_id": self.env.company.id}
                )
            with self.assertRaises(AccessError):
                scans.with_user(user).write({"result": "confirmed"})
            with self.assertRaises(AccessError):
                scans.with_user(user).unlink()

    def test_scan_dates_follow_now(self):
        before = datetime.now() - timedelta(seconds=5)
        scan = self.env["stock.lot.scan"].browse(self._scan("SCAN-A")["scan_id"])
        self.assertGreaterEqual(scan.date, before)

    def test_overview_scan_coverage_and_picking_accuracy(self):
        self._scan("SCAN-A")
        self.delivery.button_validate()
        second = self._delivery(self.product, 2)
        self._scan("SCAN-BLOCKED", picking=second)
        self._scan("SCAN-SMALL", picking=second)
        second.button_validate()
        unscanned = self._delivery(self.product, 1)
        unscanned.button_validate()
        today = datetime.now().date()
        kpis = {
            kpi["code"]: kpi
            for kpi in self.env["stock.lot.kpi"].with_user(self.lot_user).get_kpis(today, today, [self.env.company.id])
        }
        self.assertEqual(kpis["picking_accuracy"]["value"], round(100 / 3, 2), "1 of 3 scans confirmed")
        self.assertEqual(kpis["scan_coverage"]["value"], round(100 * 2 / 3, 2), "2 of 3 lines scanned")
        action = kpis["scan_coverage"]["action"]
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]), unscanned.move_line_ids)
        action = kpis["picking_accuracy"]["action"]
        self.assertEqual(
            sorted(self.env[action["res_model"]].search(action["domain"]).mapped("result")),
            ["confirmed", "refused", "switched"],
        )
