from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .test_recall import RecallCommon


@tagged("post_install", "-at_install")
class TestRecallGenealogy(RecallCommon):
    """The genealogy graph of a recall and of a lot: nodes, edges, quantities, kinds, flags, folding."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_life_of_lot()
        cls.recall = cls.env["stock.lot.recall"].create(
            {"lot_ids": [(6, 0, cls.lot_a.ids)], "reason": "Listeria", "is_mock": True}
        )
        cls.recall.action_trace()

    @staticmethod
    def _by_id(graph):
        return {node["id"]: node for node in graph["nodes"]}

    @staticmethod
    def _edges(graph):
        return {(edge["source"], edge["target"]): edge["quantity"] for edge in graph["edges"]}

    def test_recall_graph_runs_from_vendor_through_lots_to_locations_and_customers(self):
        graph = self.recall.with_user(self.quality_manager).get_genealogy()
        nodes = self._by_id(graph)
        lot_a, lot_b1, lot_b2 = (f"lot-{lot.id}" for lot in (self.lot_a, self.lot_b1, self.lot_b2))
        self.assertEqual(nodes[lot_a]["kind"], "recalled")
        self.assertEqual(nodes[lot_b1]["kind"], "derived")
        self.assertEqual(nodes[lot_b2]["kind"], "derived")
        self.assertEqual(nodes[lot_a]["label"], "RC-A")
        self.assertEqual((nodes[lot_a]["res_model"], nodes[lot_a]["res_id"]), ("stock.lot", self.lot_a.id))
        vendor = f"vendor-{self.vendor.id}"
        self.assertEqual(nodes[vendor]["label"], "LMC Vendor")
        self.assertEqual((nodes[vendor]["res_model"], nodes[vendor]["res_id"]), ("res.partner", self.vendor.id))
        edges = self._edges(graph)
        shelf, stock = f"location-{self.shelf.id}", f"location-{self.stock.id}"
        scrap = self.env["stock.scrap"].search([("lot_id", "=", self.lot_a.id)]).scrap_location_id
        self.assertEqual(
            edges,
            {
                (vendor, lot_a): 100,
                (lot_a, lot_b1): 40,  # the 40 consumed made both finished lots
                (lot_a, lot_b2): 40,
                (lot_a, f"customer-{self.customer_1.id}"): 30,
                (lot_b1, f"customer-{self.customer_2.id}"): 15,
                (lot_b2, f"customer-{self.customer_3.id}"): 10,
                (lot_a, f"scrap-{scrap.id}"): 2,
                # 100 - 40 consumed - 30 shipped + 5 returned - 2 scrapped, back in stock from the customer
                (lot_a, shelf): 28,
                (lot_a, stock): 5,
                (lot_b1, stock): 5,
                (lot_b2, stock): 10,
            },
        )
        self.assertEqual(nodes[shelf]["label"], self.shelf.complete_name)
        self.assertEqual(graph["event_count"], len(self.recall.line_ids))
        self.assertFalse(any(node["type"] == "customers" for node in graph["nodes"]))

    def test_a_derived_lots_genealogy_shows_its_component_upstream(self):
        graph = self.lot_b1.with_user(self.lot_user).get_genealogy()
        nodes = self._by_id(graph)
        self.assertEqual(nodes[f"lot-{self.lot_b1.id}"]["kind"], "recalled")
        self.assertEqual(nodes[f"lot-{self.lot_a.id}"]["kind"], "component")
        edges = self._edges(graph)
        self.assertEqual(edges[(f"lot-{self.lot_a.id}", f"lot-{self.lot_b1.id}")], 40)
        self.assertEqual(edges[(f"vendor-{self.vendor.id}", f"lot-{self.lot_a.id}")], 100)
        self.assertNotIn(f"lot-{self.lot_b2.id}", nodes, "a sibling is neither upstream nor downstream")

    def test_blocked_and_expired_lots_are_flagged(self):
        self.lot_b2.sudo().write({"quality_state": "blocked", "quality_state_reason": "Lab"})
        expired = self._lot("RC-OLD", expires_in_days=-3)
        self._put_in_stock(expired, 4)
        graph = self.env["stock.lot"].browse(expired.id).get_genealogy()
        node = self._by_id(graph)[f"lot-{expired.id}"]
        self.assertTrue(node["expired"])
        self.assertFalse(node["blocked"])
        nodes = self._by_id(self.recall.get_genealogy())
        self.assertTrue(nodes[f"lot-{self.lot_b2.id}"]["blocked"])
        self.assertFalse(nodes[f"lot-{self.lot_b1.id}"]["blocked"])
        self.assertFalse(nodes[f"lot-{self.lot_b1.id}"]["expired"])

    def test_many_customers_of_one_lot_fold_into_one_expandable_node(self):
        lot = self._lot("RC-MANY")
        self._done_move(self.product, lot, 12, self.suppliers, self.stock, self.vendor, self.warehouse.in_type_id)
        shops = self.env["res.partner"].create([{"name": f"Fold Shop {index:02d}"} for index in range(9)])
        for index, shop in enumerate(shops):
            self._done_move(
                self.product, lot, 1 + (index == 4), self.stock, self.customers, shop, self.warehouse.out_type_id
            )
        recall = self.env["stock.lot.recall"].create({"lot_ids": [(6, 0, lot.ids)], "reason": "Fold", "is_mock": True})
        recall.action_trace()
        graph = recall.get_genealogy()
        nodes = self._by_id(graph)
        folded = nodes[f"customers-{lot.id}"]
        self.assertEqual(folded["type"], "customers")
        self.assertEqual((folded["count"], folded["quantity"], folded["more_count"]), (9, 10, 0))
        self.assertEqual(folded["label"], "9 customers")
        self.assertEqual(folded["members"][0]["label"], "Fold Shop 04", "largest quantity first")
        self.assertEqual({member["res_id"] for member in folded["members"]}, set(shops.ids))
        self.assertFalse(any(node["type"] == "customer" for node in graph["nodes"]))
        self.assertEqual(self._edges(graph)[(f"lot-{lot.id}", f"customers-{lot.id}")], 10)
        self.assertEqual(folded["more_action"]["res_model"], "stock.lot.recall.line")
        self.assertEqual(self.env["stock.lot.recall.line"].search_count(folded["more_action"]["domain"]), 9)
        lot_graph = self._by_id(lot.get_genealogy())
        self.assertEqual(lot_graph[f"customers-{lot.id}"]["count"], 9)
        self.assertEqual(
            self.env["stock.move.line"].search_count(lot_graph[f"customers-{lot.id}"]["more_action"]["domain"]), 9
        )

    def test_query_count_does_not_grow_with_the_trace(self):
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        self.recall.get_genealogy()
        small = self.env.cr.sql_log_count - before
        shops = self.env["res.partner"].create([{"name": f"Query Shop {index}"} for index in range(20)])
        for shop in shops:
            self._done_move(self.product, self.lot_a, 1, self.shelf, self.customers, shop, self.warehouse.out_type_id)
        self.recall.action_trace()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        graph = self.recall.get_genealogy()
        self.assertLessEqual(self.env.cr.sql_log_count - before, small)
        self.assertEqual(self._by_id(graph)[f"customers-{self.lot_a.id}"]["count"], 21)

    def test_draft_recall_has_no_genealogy_yet(self):
        recall = self.env["stock.lot.recall"].create({"lot_ids": [(6, 0, self.lot_a.ids)], "reason": "Draft"})
        with self.assertRaises(UserError):
            recall.get_genealogy()

    def test_who_may_read_the_genealogy(self):
        portal = new_test_user(self.env, login="lmc_genealogy_portal", groups="base.group_portal")
        salesman = new_test_user(self.env, login="lmc_genealogy_sales", groups="sales_team.group_sale_salesman")
        for user in (portal, salesman):
            with self.assertRaises(AccessError):
                self.recall.with_user(user).get_genealogy()
        with self.assertRaises(AccessError):
            self.lot_a.with_user(portal).get_genealogy()
        self.assertTrue(self.recall.with_user(self.lot_user).get_genealogy()["nodes"])

    def test_the_lot_button_opens_the_genealogy_client_action(self):
        action = self.lot_a.action_open_genealogy()
        self.assertEqual(action["tag"], "lot_margin_control.genealogy")
        self.assertEqual(action["params"], {"res_model": "stock.lot", "res_id": self.lot_a.id})

    def test_recall_pdf_draws_the_genealogy(self):
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "lot_margin_control.report_recall", self.recall.ids
        )
        html = html.decode()
        drawing = html[html.index("<svg") : html.index("</svg>")]
        for text in ("RC-A", "RC-B1", "LMC Vendor", "Shop One", "Cold Room"):
            self.assertIn(text, drawing)
        self.assertIn("#c0392b", drawing, "the recalled lot in the recalled colour")
        self.assertIn("#d97706", drawing, "derived lots in theirs")

    def test_pdf_drawing_escapes_names(self):
        self.vendor.name = "<script>alert(1)</script> & Co"
        self.recall.action_trace()
        drawing = self.recall._genealogy_drawing()
        self.assertNotIn("<script>", drawing)
        self.assertIn("&lt;script&gt;", drawing)
