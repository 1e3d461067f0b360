import datetime

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools.barcode import get_barcode_check_digit

GS = chr(29)


def with_check_digit(digits):
    """``digits`` followed by its GS1 check digit."""
    return digits + str(get_barcode_check_digit(digits + "0"))


@tagged("post_install", "-at_install")
class TestGs1Scan(TransactionCase):
    """GS1-128 / DataMatrix codes read into lots and receipt lines."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gtin_lot = "09506000134352"  # product barcode: its EAN-13 form
        cls.gtin_serial = with_check_digit("1950600013436")  # product barcode: the GTIN-14
        cls.gtin_other = "00012345678905"  # product barcode: its UPC-A form
        cls.gtin_unknown = with_check_digit("0950600099999")
        cls.product_lot = cls.env["product.product"].create(
            {
                "name": "LMC GS1 Yogurt",
                "is_storable": True,
                "tracking": "lot",
                "use_expiration_date": True,
                "expiration_time": 30,
                "barcode": cls.gtin_lot[1:],
            }
        )
        cls.product_serial = cls.env["product.product"].create(
            {
                "name": "LMC GS1 Thermometer",
                "is_storable": True,
                "tracking": "serial",
                "barcode": cls.gtin_serial,
            }
        )
        cls.product_other = cls.env["product.product"].create(
            {
                "name": "LMC GS1 Cheese",
                "is_storable": True,
                "tracking": "lot",
                "barcode": cls.gtin_other[2:],
            }
        )
        warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.env.company.id)], limit=1)
        supplier_location = cls.env.ref("stock.stock_location_suppliers")
        cls.receipt = cls.env["stock.picking"].create(
            {
                "picking_type_id": warehouse.in_type_id.id,
                "partner_id": cls.env["res.partner"].create({"name": "LMC GS1 Vendor"}).id,
                "location_id": supplier_location.id,
                "location_dest_id": warehouse.lot_stock_id.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom": product.uom_id.id,
                            "product_uom_qty": quantity,
                            "location_id": supplier_location.id,
                            "location_dest_id": warehouse.lot_stock_id.id,
                        }
                    )
                    for product, quantity in ((cls.product_lot, 10), (cls.product_serial, 3))
                ],
            }
        )
        cls.receipt.action_confirm()
        cls.user = new_test_user(
            cls.env,
            login="lmc_gs1_receiver",
            groups="lot_margin_control.group_lot_control_user",
        )
        # A lot code with every date: raw form (lot not last, so followed by GS)
        # and the human-readable form printed under the symbol.
        cls.raw_lot_code = f"01{cls.gtin_lot}17270531" + "10LOT-A1" + GS + "11260115"
        cls.hri_lot_code = f"(01){cls.gtin_lot}(17)270531(10)LOT-A1(11)260115"
        cls.expected_lot = {
            "gtin": cls.gtin_lot,
            "product_id": cls.product_lot.id,
            "lot_name": "LOT-A1",
            "serial": False,
            "expiration_date": "2027-05-31",
            "use_date": False,
            "production_date": "2026-01-15",
        }

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _parse(self, barcode):
        return self.env["barcode.nomenclature"]._parse_gs1_lot_barcode(barcode)

    def _counts(self):
        self.env.flush_all()
        return (
            self.env["stock.lot"].search_count([]),
            self.env["stock.move.line"].search_count([("picking_id", "=", self.receipt.id)]),
        )

    def _assert_refused(self, call, *expected_fragments):
        """``call`` raises exactly a UserError naming the problem, and writes nothing."""
        before = self._counts()
        with self.assertRaises(UserError) as caught:
            call()
        self.assertIs(type(caught.exception), UserError, "a plain UserError, not a subclass")
        message = caught.exception.args[0]
        for fragment in expected_fragments:
            self.assertIn(fragment, message)
        self.assertEqual(self._counts(), before, "a refused scan creates nothing")
        return message

    def _wizard(self, barcode, quantity=1.0, user=None):
        env = self.env(user=user or self.user)
        return (
            env["stock.lot.gs1.scan.wizard"]
            .with_context(default_picking_id=self.receipt.id)
            .create({"barcode": barcode, "quantity": quantity})
        )

    def _lot_date(self, lot, fname):
        return self.env["stock.lot.gs1.scan.wizard"]._datetime_to_date(lot[fname])

    # ------------------------------------------------------------------
    # parsing
    # ------------------------------------------------------------------
    def test_parse_raw_code_with_gs_separators(self):
        self.assertEqual(self._parse(self.raw_lot_code), self.expected_lot)
        # symbology identifier and leading FNC1 a scanner may send, line end of a wedge scanner
        self.assertEqual(self._parse("]d2" + GS + self.raw_lot_code + "\r\n"), self.expected_lot)
        # the public API on stock.lot gives the same
        self.assertEqual(self.env["stock.lot"].parse_gs1_barcode(self.raw_lot_code), self.expected_lot)

    def test_parse_human_readable_code(self):
        self.assertEqual(self._parse(self.hri_lot_code), self.expected_lot)
        self.assertEqual(self._parse(f"  {self.hri_lot_code}  "), self.expected_lot)
        self.assertEqual(self.env["stock.lot"].parse_gs1_barcode(self.hri_lot_code), self.expected_lot)

    def test_parse_matches_gtin14_ean13_and_upca_barcodes(self):
        # product barcode stored as EAN-13 (GTIN-14 minus one leading zero)
        self.assertEqual(self._parse(f"(01){self.gtin_lot}(10)L1")["product_id"], self.product_lot.id)
        # product barcode stored as the GTIN-14 itself
        self.assertEqual(self._parse(f"(01){self.gtin_serial}(21)S1")["product_id"], self.product_serial.id)
        # product barcode stored as UPC-A (GTIN-14 minus two leading zeros)
        parsed = self._parse(f"01{self.gtin_other}10L2")
        self.assertEqual(parsed["product_id"], self.product_other.id)
        self.assertEqual(parsed["gtin"], self.gtin_other)

    def test_parse_serial_number(self):
        parsed = self._parse(f"01{self.gtin_serial}21SN-0001" + GS + "17270531")
        self.assertEqual(parsed["serial"], "SN-0001")
        self.assertFalse(parsed["lot_name"])
        self.assertEqual(parsed["expiration_date"], "2027-05-31")

    def test_parse_production_best_before_and_day_00(self):
        parsed = self._parse(f"(01){self.gtin_lot}(11)260100(15)280200(17)270200(10)B7")
        self.assertEqual(parsed["production_date"], "2026-01-31", "day 00 is the last day of the month")
        self.assertEqual(parsed["use_date"], "2028-02-29", "day 00 of a leap February")
        self.assertEqual(parsed["expiration_date"], "2027-02-28")
        self.assertEqual(parsed["lot_name"], "B7")

    def test_production_date_rule_is_in_default_gs1_nomenclature(self):
        rule = self.env.ref("lot_margin_control.barcode_rule_gs1_11")
        self.assertEqual(
            rule.barcode_nomenclature_id, self.env.ref("barcodes_gs1_nomenclature.default_gs1_nomenclature")
        )
        self.assertEqual((rule.type, rule.encoding, rule.gs1_content_type), ("production_date", "gs1-128", "date"))

    def test_parse_refuses_bad_codes(self):
        wrong_check_digit = self.gtin_lot[:-1] + str((int(self.gtin_lot[-1]) + 1) % 10)
        cases = {
            "wrong check digit": (f"(01){wrong_check_digit}(10)L1", ["check digit", wrong_check_digit]),
            "wrong check digit, raw": (f"01{wrong_check_digit}10L1", ["check digit"]),
            "unknown GTIN": (f"(01){self.gtin_unknown}(10)L1", ["No product", self.gtin_unknown]),
            "month 13": (f"(01){self.gtin_lot}(17)271301(10)L1", ["not a valid date", "271301"]),
            "month 13, raw": (f"01{self.gtin_lot}17271301" + "10L1", ["not a valid date"]),
            "February 30": (f"(01){self.gtin_lot}(11)260230(10)L1", ["not a valid date", "260230"]),
            "truncated GTIN": (f"01{self.gtin_lot[:-1]}", ["truncated"]),
            "truncated date": (f"01{self.gtin_lot}1727053", ["truncated", "1727053"]),
            "truncated human-readable": (f"(01){self.gtin_lot}(17)2705", ["truncated"]),
            "empty lot": (f"(01){self.gtin_lot}(10)", ["empty"]),
            "garbled": ("hello world", ["truncated"]),
            "unbalanced parentheses": (f"(01{self.gtin_lot}(10)L1", ["human-readable"]),
            "no GTIN": ("(10)L1(17)270531", ["no GTIN"]),
            "empty": ("", ["empty"]),
            "blank": (" \r\n", ["empty"]),
            "lot twice": (f"(01){self.gtin_lot}(10)L1(10)L2", ["twice"]),
        }
        for case, (barcode, fragments) in cases.items():
            with self.subTest(case=case):
                self._assert_refused(lambda barcode=barcode: self._parse(barcode), *fragments)
                self._assert_refused(
                    lambda barcode=barcode: self.env["stock.lot"].parse_gs1_barcode(barcode), *fragments
                )
                wizard = self._wizard(barcode)
                if barcode:  # nothing typed yet: nothing to complain about
                    self.assertTrue(wizard.scan_error, "the preview tells what is wrong")
                self.assertFalse(wizard.product_id)
                self._assert_refused(wizard.action_add_to_receipt, *fragments)

    # ------------------------------------------------------------------
    # scan wizard
    # ------------------------------------------------------------------
    def test_wizard_adds_lot_line_with_scanned_dates(self):
        wizard = self._wizard(self.hri_lot_code, quantity=4)
        self.assertFalse(wizard.scan_error)
        self.assertEqual(wizard.product_id, self.product_lot)
        self.assertEqual(wizard.lot_name, "LOT-A1")
        self.assertEqual(wizard.expiration_date, datetime.date(2027, 5, 31))
        self.assertEqual(wizard.production_date, datetime.date(2026, 1, 15))

        action = wizard.action_add_to_receipt()

        line = self.receipt.move_line_ids.filtered(lambda ml: ml.lot_id.name == "LOT-A1")
        self.assertEqual(len(line), 1)
        self.assertEqual(line.product_id, self.product_lot)
        self.assertEqual(line.quantity, 4)
        self.assertTrue(line.picked)
        self.assertEqual(line.move_id.product_id, self.product_lot)
        lot = line.lot_id
        self.assertEqual(self._lot_date(lot, "expiration_date"), datetime.date(2027, 5, 31))
        self.assertEqual(self._lot_date(lot, "production_date"), datetime.date(2026, 1, 15))
        self.assertTrue(lot.use_date, "product_expiry still derives the best before date")
        self.assertTrue(lot.gs1_scanned)

        # the wizard reopens, empty, on the same receipt, for the next scan
        self.assertEqual(action["res_model"], "stock.lot.gs1.scan.wizard")
        self.assertEqual(action["target"], "new")
        next_wizard = self.env["stock.lot.gs1.scan.wizard"].browse(action["res_id"])
        self.assertEqual(next_wizard.picking_id, self.receipt)
        self.assertFalse(next_wizard.barcode)
        self.assertIn("LOT-A1", next_wizard.last_result)

        # the same lot scanned again: one more line, no second lot
        next_wizard.write({"barcode": self.raw_lot_code, "quantity": 2})
        lots_before = self.env["stock.lot"].search_count([])
        next_wizard.action_add_to_receipt()
        self.assertEqual(self.env["stock.lot"].search_count([]), lots_before)
        lines = self.receipt.move_line_ids.filtered(lambda ml: ml.lot_id == lot)
        self.assertEqual(sorted(lines.mapped("quantity")), [2, 4])

    def test_wizard_serial_numbers(self):
        wizard = self._wizard(f"(01){self.gtin_serial}(21)SN-1(17)270531", quantity=5)
        self.assertEqual(wizard.lot_name, "SN-1")
        wizard._onchange_barcode_serial_quantity()
        self.assertEqual(wizard.quantity, 1)
        wizard.quantity = 5
        wizard.action_add_to_receipt()
        line = self.receipt.move_line_ids.filtered(lambda ml: ml.lot_id.name == "SN-1")
        self.assertEqual(line.quantity, 1, "a serial number is one unit")
        self.assertEqual(line.product_id, self.product_serial)

        self._wizard(f"01{self.gtin_serial}21SN-2").action_add_to_receipt()
        self.assertEqual(len(self.receipt.move_line_ids.filtered(lambda ml: ml.lot_id.name == "SN-2")), 1)

        again = self._wizard(f"(01){self.gtin_serial}(21)SN-1(17)270531")
        self._assert_refused(again.action_add_to_receipt, "SN-1", "already in receipt")

    def test_wizard_refuses_product_not_on_receipt(self):
        wizard = self._wizard(f"(01){self.gtin_other}(10)CH-1")
        self.assertEqual(wizard.product_id, self.product_other)
        self._assert_refused(wizard.action_add_to_receipt, self.product_other.display_name, "not on receipt")

    def test_wizard_refuses_changing_dates_of_existing_lot(self):
        expiry = self.env["stock.lot.gs1.scan.wizard"]._date_to_datetime("2027-05-31")
        lot = self.env["stock.lot"].create(
            {"name": "LOT-OLD", "product_id": self.product_lot.id, "expiration_date": expiry}
        )
        wizard = self._wizard(f"(01){self.gtin_lot}(17)270630(10)LOT-OLD")
        self._assert_refused(wizard.action_add_to_receipt, "LOT-OLD", "2027-05-31", "2027-06-30")
        self.assertEqual(lot.expiration_date, expiry)
        self.assertFalse(lot.gs1_scanned)

        # same expiry, production date missing on the lot: filled, not overwritten
        use_date = lot.use_date
        self._wizard(f"(01){self.gtin_lot}(17)270531(11)260115(10)LOT-OLD").action_add_to_receipt()
        self.assertEqual(lot.expiration_date, expiry)
        self.assertEqual(lot.use_date, use_date)
        self.assertEqual(self._lot_date(lot, "production_date"), datetime.date(2026, 1, 15))
        self.assertTrue(lot.gs1_scanned)
        self.assertEqual(self.receipt.move_line_ids.filtered(lambda ml: ml.lot_id == lot).quantity, 1)

    def test_wizard_refuses_lot_code_without_lot(self):
        wizard = self._wizard(f"(01){self.gtin_lot}(17)270531")
        self._assert_refused(wizard.action_add_to_receipt, "lot number", self.product_lot.display_name)

    def test_scanned_dates_are_days_in_the_user_time_zone(self):
        wizard = self._wizard(f"(01){self.gtin_lot}(17)270531(10)LOT-NY").with_context(tz="America/New_York")
        wizard.action_add_to_receipt()
        lot = self.receipt.move_line_ids.lot_id.filtered(lambda lot: lot.name == "LOT-NY")
        # midnight in New York (UTC-4 in May) is 04:00 UTC
        self.assertEqual(lot.expiration_date, datetime.datetime(2027, 5, 31, 4, 0))

    def test_scan_button_on_receipt_form(self):
        arch = self.env["stock.picking"].get_view(self.env.ref("stock.view_picking_form").id)["arch"]
        action = self.env.ref("lot_margin_control.action_stock_lot_gs1_scan_wizard")
        self.assertIn(f'name="{action.id}"', arch)
        self.assertIn("Scan GS1", arch)
