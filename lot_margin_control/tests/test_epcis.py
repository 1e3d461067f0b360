import hashlib
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import jsonschema

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .test_recall import RecallCommon

SCHEMA_PATH = Path(__file__).parent / "data" / "epcis" / "EPCIS-JSON-Schema.json"


def epcis_validator():
    """GS1's EPCIS 2.0 schema with the ``uri`` and ``date-time`` formats really checked (not silently skipped)."""
    schema = json.loads(SCHEMA_PATH.read_text())
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    missing = {"uri", "date-time"} - set(checker.checkers)
    assert (
        not missing
    ), f"jsonschema cannot check the formats {missing}: install rfc3986-validator and rfc3339-validator"
    return jsonschema.Draft7Validator(schema, format_checker=checker)


class EpcisCommon(RecallCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.validator = epcis_validator()

    def _document(self, action):
        self.assertEqual(action["type"], "ir.actions.act_url")
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        self.assertEqual(attachment.mimetype, "application/ld+json")
        document = json.loads(attachment.raw)
        errors = sorted(self.validator.iter_errors(document), key=lambda error: list(error.path))
        self.assertFalse(errors, "\n".join(f"{list(error.path)}: {error.message}" for error in errors[:5]))
        return document

    @staticmethod
    def _events(document):
        return document["epcisBody"]["eventList"]

    @staticmethod
    def _by_step(events):
        return Counter((event["type"], event.get("bizStep")) for event in events)


@tagged("post_install", "-at_install")
class TestEpcisRecallDocument(EpcisCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product.barcode = "4006381333931"  # an EAN-13: GTIN-14 04006381333931
        cls._build_life_of_lot()

    def test_the_validator_checks_formats(self):
        """A wrong URI fails: the schema check is not a formality."""
        self.assertFalse(self.validator.is_valid({"type": "EPCISDocument", "@context": "not a uri"}))

    def test_recall_document_has_exactly_the_events_of_the_scenario(self):
        recall = self._launch(self.lot_a)
        document = self._document(recall.with_user(self.quality_manager).action_export_epcis())
        self.assertEqual(document["type"], "EPCISDocument")
        self.assertEqual(document["schemaVersion"], "2.0")
        events = self._events(document)
        self.assertEqual(
            self._by_step(events),
            Counter(
                {
                    ("ObjectEvent", "receiving"): 2,  # the vendor receipt and the customer return
                    ("ObjectEvent", "storing"): 1,
                    ("TransformationEvent", "commissioning"): 2,  # one per output lot, one transformation
                    ("ObjectEvent", "shipping"): 3,
                    ("ObjectEvent", "destroying"): 1,
                }
            ),
        )
        lot_a = f"https://id.gs1.org/01/04006381333931/10/{self.lot_a.name}"
        quantities = Counter()
        for event in events:
            for element in event.get("quantityList", []):
                quantities[(event["bizStep"], element["epcClass"])] += element["quantity"]
        self.assertEqual(quantities[("receiving", lot_a)], 100 + 5)
        self.assertEqual(quantities[("storing", lot_a)], 100)
        self.assertEqual(quantities[("destroying", lot_a)], 2)
        self.assertEqual(sum(q for (step, _cls), q in quantities.items() if step == "shipping"), 30 + 15 + 10)
        receipt, storing = events[0], events[1]
        self.assertEqual(
            (receipt["action"], receipt["bizStep"], receipt["disposition"]), ("ADD", "receiving", "in_progress")
        )
        self.assertEqual(receipt["ilmd"]["cbvmda:lotNumber"], "RC-A")
        self.assertEqual(receipt["ilmd"]["cbvmda:itemExpirationDate"], str(self.lot_a.expiration_date.date()))
        self.assertEqual({entry["type"] for entry in receipt["sourceList"]}, {"owning_party", "possessing_party"})
        self.assertNotIn("ilmd", storing)
        self.assertEqual(storing["action"], "OBSERVE")
        transformations = [event for event in events if event["type"] == "TransformationEvent"]
        self.assertEqual(len({event["transformationID"] for event in transformations}), 1)
        inputs = [element for event in transformations for element in event.get("inputQuantityList", [])]
        self.assertEqual([(element["epcClass"], element["quantity"]) for element in inputs], [(lot_a, 40)])
        outputs = {
            element["epcClass"].rsplit(":", 1)[-1]: element["quantity"]
            for event in transformations
            for element in event["outputQuantityList"]
        }
        self.assertEqual(outputs, {"RC-B1": 20, "RC-B2": 20})  # cups have no GTIN: private class ids
        self.assertEqual({event["ilmd"]["cbvmda:lotNumber"] for event in transformations}, {"RC-B1", "RC-B2"})
        shipments = [event for event in events if event["bizStep"] == "shipping"]
        customers = {
            entry["destination"]
            for event in shipments
            for entry in event["destinationList"]
            if entry["type"] == "owning_party"
        }
        self.assertEqual(len(customers), 3)
        returned = [event for event in events if event.get("disposition") == "returned"]
        self.assertEqual([event["quantityList"][0]["quantity"] for event in returned], [5])
        scrap = next(event for event in events if event["bizStep"] == "destroying")
        self.assertEqual((scrap["action"], scrap["disposition"]), ("DELETE", "destroyed"))
        # master data names the products behind every class id
        classes = document["epcisHeader"]["epcisMasterData"]["vocabularyList"][0]["vocabularyElementList"]
        described = {
            element["id"]: dict((a["id"], a["attribute"]) for a in element["attributes"]) for element in classes
        }
        self.assertEqual(described[lot_a]["cbvmda:descriptionShort"], "LMC Yogurt")

    def test_product_without_gtin_gets_a_stable_private_identifier(self):
        recall = self._launch(self.lot_b1)
        first = self._events(self._document(recall.action_export_epcis()))
        second = self._events(self._document(recall.action_export_epcis()))
        classes = {
            element["epcClass"]
            for event in first
            for key in ("quantityList", "outputQuantityList")
            for element in event.get(key, [])
            if "RC-B1" in element["epcClass"]
        }
        self.assertEqual(len(classes), 1)
        (private,) = classes
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        self.assertEqual(private, f"urn:lot-margin-control:{uuid}:lot:{self.cups.id}:RC-B1")
        self.assertEqual(first, second)  # same ids, same event ids

    def test_contained_recall_marks_the_lots_recalled(self):
        recall = self._launch(self.lot_a)
        recall.with_user(self.quality_manager).action_contain()
        self.env.flush_all()
        contained = recall.contained_date
        # stock sent back to the warehouse after containment carries the disposition too
        self.env.cr.execute(
            "UPDATE stock_lot_recall SET contained_date = %s WHERE id = %s",
            (min(recall.line_ids.mapped("date")) - timedelta(seconds=1), recall.id),
        )
        recall.invalidate_recordset(["contained_date"])
        events = self._events(self._document(recall.action_export_epcis()))
        holding = [event for event in events if event.get("bizStep") == "holding"]
        self.assertEqual(events[0], holding[0])
        self.assertEqual(len(holding), 1)
        self.assertEqual(holding[0]["disposition"], "recalled")
        self.assertEqual(len(holding[0]["quantityList"]), 3)  # RC-A, RC-B1, RC-B2
        self.assertTrue(contained)
        later = [event for event in events if event.get("bizStep") in ("shipping", "storing")]
        self.assertEqual({event["disposition"] for event in later}, {"recalled"})

    def test_mock_recall_never_says_recalled(self):
        recall = self._launch(self.lot_a, mock=True)
        events = self._events(self._document(recall.action_export_epcis()))
        self.assertNotIn("recalled", {event.get("disposition") for event in events})

    def test_gln_identifies_warehouses_partners_and_documents(self):
        self.warehouse.gln = "4012345000016"
        self.vendor.gln = "0614141000012"
        self.env.company.partner_id.gln = "5012345000015"
        recall = self._launch(self.lot_a)
        events = self._events(self._document(recall.action_export_epcis()))
        receipt = events[0]
        self.assertEqual(receipt["bizLocation"]["id"], "https://id.gs1.org/414/4012345000016")
        self.assertTrue(receipt["readPoint"]["id"].startswith("https://id.gs1.org/414/4012345000016/254/"))
        self.assertIn({"type": "owning_party", "source": "https://id.gs1.org/417/0614141000012"}, receipt["sourceList"])
        self.assertIn(
            {"type": "owning_party", "destination": "https://id.gs1.org/417/5012345000015"}, receipt["destinationList"]
        )
        self.assertTrue(
            receipt["bizTransactionList"][0]["bizTransaction"].startswith("urn:epcglobal:cbv:bt:5012345000015:")
        )

    def test_bad_gln_is_refused(self):
        for value in ("4012345000017", "401234500001", "40123450000AB"):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.warehouse.gln = value
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.vendor.gln = value

    def test_query_count_does_not_grow_with_the_trace(self):
        recall = self._launch(self.lot_a)

        def export_queries():
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            events = self._events(self._document(recall.action_export_epcis()))
            return self.env.cr.sql_log_count - before, len(events)

        export_queries()  # warm caches
        small, small_events = export_queries()
        for index in range(15):
            customer = self.env["res.partner"].create({"name": f"Extra {index}"})
            self._done_move(
                self.product, self.lot_a, 1, self.shelf, self.customers, customer, self.warehouse.out_type_id
            )
        recall.action_trace()
        big, big_events = export_queries()
        self.assertEqual(big_events, small_events + 15)
        self.assertEqual(big, small)

    def test_document_is_stored_from_its_file_on_the_recall(self):
        """Streamed to a file, then stored as is: the attachment's checksum and size are those of the document."""
        recall = self._launch(self.lot_a)
        action = recall.with_user(self.quality_manager).action_export_epcis()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        self.assertEqual((attachment.res_model, attachment.res_id), ("stock.lot.recall", recall.id))
        self.assertTrue(attachment.store_fname)
        self.assertEqual(attachment.checksum, hashlib.sha1(attachment.raw).hexdigest())
        self.assertEqual(attachment.file_size, len(attachment.raw))
        self.assertTrue(self._events(self._document(action)))
        # what the user may read of it: the recall's readers, not a salesperson
        self.assertTrue(attachment.with_user(self.quality_manager).raw)

    def test_lot_export_traces_up_and_down(self):
        document = self._document(self.lot_b2.with_user(self.lot_user).action_export_epcis())
        events = self._events(document)
        classes = {
            element["epcClass"]
            for event in events
            for key in ("quantityList", "inputQuantityList", "outputQuantityList")
            for element in event.get(key, [])
        }
        self.assertIn(f"https://id.gs1.org/01/04006381333931/10/{self.lot_a.name}", classes)  # its component
        self.assertFalse([cls for cls in classes if cls.endswith(":RC-B1")])  # its sibling is not in its trace
        self.assertNotIn("lmc:note", document)


@tagged("post_install", "-at_install")
class TestEpcisAccessAndInput(EpcisCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_life_of_lot()
        cls.other_company = cls.env["res.company"].create({"name": "LMC Other Co"})
        cls.other_warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.other_company.id)], limit=1)

    def test_salesperson_portal_and_other_company_user_cannot_export(self):
        salesperson = new_test_user(self.env, login="lmc_epcis_sales", groups="sales_team.group_sale_salesman")
        portal = new_test_user(self.env, login="lmc_epcis_portal", groups="base.group_portal")
        outsider = new_test_user(
            self.env,
            login="lmc_epcis_other",
            groups="lot_margin_control.group_lot_control_quality_manager,stock.group_stock_user",
            company_id=self.other_company.id,
            company_ids=[self.other_company.id],
        )
        recall = self._launch(self.lot_a)
        for user in (salesperson, portal):
            with self.assertRaises(AccessError):
                self.lot_a.with_user(user).action_export_epcis()
            with self.assertRaises(AccessError):
                recall.with_user(user).action_export_epcis()
        with self.assertRaises(AccessError):
            recall.with_user(outsider).action_export_epcis()
        # the lot has no company: the other company's user reads it, but none of its events
        with self.assertRaises(UserError):
            self.lot_a.with_user(outsider).action_export_epcis()

    def test_other_company_events_are_left_out_and_said(self):
        """The lot went to the other company too: its events never appear, the document says how many."""
        self.env.user.company_ids |= self.other_company
        other_stock = self.other_warehouse.lot_stock_id
        other = self.env["stock.quant"].with_company(self.other_company)
        other._update_available_quantity(self.product, other_stock, 7, lot_id=self.lot_a)
        picking = (
            self.env["stock.picking"]
            .with_company(self.other_company)
            .create(
                {
                    "picking_type_id": self.other_warehouse.out_type_id.id,
                    "partner_id": self.customer.id,
                    "location_id": other_stock.id,
                    "location_dest_id": self.customers.id,
                    "move_ids": [
                        (
                            0,
                            0,
                            {
                                "name": "other",
                                "product_id": self.product.id,
                                "product_uom_qty": 7,
                                "location_id": other_stock.id,
                                "location_dest_id": self.customers.id,
                                "restrict_lot_id": self.lot_a.id,
                                "company_id": self.other_company.id,
                            },
                        )
                    ],
                }
            )
        )
        picking.action_confirm()
        picking.action_assign()
        picking.move_ids.picked = True
        picking._action_done()
        self.assertEqual(picking.state, "done")
        self.quality_manager.company_ids |= self.other_company
        both = self.env(
            context=dict(self.env.context, allowed_company_ids=[self.env.company.id, self.other_company.id])
        )
        recall = self._launch(self.lot_a).with_env(both)
        recall.action_trace()  # the superuser traces both companies
        mine = recall.with_user(self.quality_manager).with_context(allowed_company_ids=[self.env.company.id])
        document = self._document(mine.action_export_epcis())
        shipped = [event for event in self._events(document) if event["bizStep"] == "shipping"]
        self.assertNotIn(7, [event["quantityList"][0]["quantity"] for event in shipped])
        self.assertIn("1 trace lines of other companies", " ".join(document["lmc:note"]))
        lot_document = self._document(
            self.lot_a.with_user(self.quality_manager)
            .with_context(allowed_company_ids=[self.env.company.id])
            .action_export_epcis()
        )
        self.assertNotIn(
            7, [event.get("quantityList", [{}])[0].get("quantity") for event in self._events(lot_document)]
        )
        self.assertIn("1 events of companies", " ".join(lot_document["lmc:note"]))
        everything = self._document(recall.action_export_epcis())
        self.assertIn(
            7,
            [
                event["quantityList"][0]["quantity"]
                for event in self._events(everything)
                if event["bizStep"] == "shipping"
            ],
        )

    def test_recall_not_traced_and_lot_without_events_are_refused(self):
        recall = self.env["stock.lot.recall"].create({"lot_ids": [(6, 0, self.lot_a.ids)], "reason": "r"})
        with self.assertRaises(UserError):
            recall.action_export_epcis()
        fresh = self._lot("RC-NEW")
        attachments = self.env["ir.attachment"].search_count([])
        with self.assertRaises(UserError):
            fresh.action_export_epcis()
        with self.assertRaises(UserError):
            self.env["stock.lot"].action_export_epcis()
        self.assertEqual(self.env["ir.attachment"].search_count([]), attachments)

    def test_hostile_lot_names_still_validate(self):
        """Characters outside GS1's set, spaces, slashes and unicode: a private id, still a valid URI."""
        self.product.barcode = "4006381333931"
        hostile = self._lot('A/B ?#"<é>&' + "x" * 30)
        self._done_move(self.product, hostile, 3, self.suppliers, self.stock, self.vendor, self.warehouse.in_type_id)
        document = self._document(hostile.action_export_epcis())
        (event,) = self._events(document)
        self.assertTrue(event["quantityList"][0]["epcClass"].startswith("urn:lot-margin-control:"))
        self.assertEqual(event["ilmd"]["cbvmda:lotNumber"], hostile.name)
