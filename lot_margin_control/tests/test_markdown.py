import re
from datetime import datetime, timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import format_date

from .common import LotControlCommon


@tagged("post_install", "-at_install")
class TestMarkdown(LotControlCommon):
    """Near-date pricing: markdown rules, lots marked down, sales of a chosen lot, clearance, recovered value."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["stock.lot.markdown.rule"]
        cls.Rule.search([]).write({"active": False})
        cls.product.write({"list_price": 10.0, "standard_price": 4.0})
        cls.subcategory = cls.env["product.category"].create({"name": "LMC Fresh Cheese", "parent_id": cls.category.id})
        cls.cheese = cls.env["product.product"].create(
            {
                "name": "LMC Brie",
                "is_storable": True,
                "tracking": "lot",
                "categ_id": cls.subcategory.id,
                "use_expiration_date": True,
                "expiration_time": 40,
                "list_price": 20.0,
            }
        )
        cls.salt = cls.env["product.product"].create(
            {"name": "LMC Salt", "is_storable": True, "tracking": "lot", "categ_id": cls.category.id}
        )
        cls.env.user.groups_id += cls.env.ref("sale.group_discount_per_so_line")

    def _rule(self, name, discount, sequence=10, trigger="remaining_days", days=7, ratio=0.25, **values):
        return self.Rule.create(
            {
                "name": name,
                "discount": discount,
                "sequence": sequence,
                "trigger": trigger,
                "threshold_days": days,
                "threshold_ratio": ratio,
                **values,
            }
        )

    def _order(self, lines, partner=None):
        """A quotation from the warehouse of the tests; ``lines``: (product, quantity, lot) tuples."""
        return self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    Command.create({"product_id": product.id, "product_uom_qty": quantity, "lot_id": lot.id})
                    for product, quantity, lot in lines
                ],
            }
        )

    def _report_text(self, report, records):
        """The text of a QWeb report as a reader sees it: tags removed, spaces collapsed."""
        html = self.env["ir.actions.report"]._render_qweb_html(report, records.ids)[0].decode()
        return " ".join(re.sub(r"<[^>]+>", "", html).split())

    # ------------------------------------------------------------------
    # Rules and lots
    # ------------------------------------------------------------------
    def test_product_rule_first_in_sequence_beats_category_rule(self):
        by_category = self._rule("MD category", 20, sequence=20, days=10, categ_ids=[Command.set(self.category.ids)])
        by_product = self._rule("MD product", 40, sequence=10, days=10, product_ids=[Command.set(self.product.ids)])
        yogurt = self._lot("MD-YOG", expires_in_days=5)
        brie = self._lot("MD-BRIE", product=self.cheese, expires_in_days=5)
        fresh = self._lot("MD-FRESH", expires_in_days=30)

        self.assertEqual(yogurt.markdown_rule_id, by_product)
        self.assertEqual(yogurt.markdown_discount, 40)
        self.assertEqual(yogurt.markdown_price, 6.0)
        # the category rule covers subcategories
        self.assertEqual(brie.markdown_rule_id, by_category)
        self.assertEqual(brie.markdown_price, 16.0)
        self.assertFalse(fresh.markdown_rule_id)
        self.assertEqual(fresh.markdown_price, 0.0)
        self.assertEqual(by_product.lot_count, 1)

        # overlapping rules are allowed: the sequence decides, at once
        by_category.sequence = 5
        self.assertEqual(yogurt.markdown_rule_id, by_category)
        self.assertEqual(yogurt.markdown_price, 8.0)
        # the markdown price follows the sales price
        self.product.list_price = 12.5
        self.assertEqual(yogurt.markdown_price, 10.0)
        # archiving or deleting a rule lifts its markdown
        by_category.active = False
        self.assertEqual(yogurt.markdown_rule_id, by_product)
        by_product.unlink()
        self.assertFalse(yogurt.markdown_rule_id)
        self.assertEqual(yogurt.markdown_discount, 0)
        self.assertEqual(yogurt.markdown_price, 0)

    def test_days_and_ratio_triggers(self):
        now = datetime.now()
        last_days = self._rule("MD last 3 days", 50, sequence=5, days=3)
        last_quarter = self._rule("MD last quarter", 30, sequence=10, trigger="remaining_ratio", ratio=0.25)
        # 20 days left of 110: ratio 0.18
        late_in_life = self._lot("MD-R1", expires_in_days=20, production_date=now - timedelta(days=90))
        # 20 days left of 30: ratio 0.67
        early_in_life = self._lot("MD-R2", expires_in_days=20, production_date=now - timedelta(days=10))
        # 3 whole days left (and a bit): still within "3 days"
        three_days = self._lot(
            "MD-D3", expiration_date=now + timedelta(days=3, hours=2), production_date=now - timedelta(days=5)
        )
        four_days = self._lot(
            "MD-D4", expiration_date=now + timedelta(days=4, hours=2), production_date=now - timedelta(days=5)
        )
        self.assertEqual(late_in_life.markdown_rule_id, last_quarter)
        self.assertEqual(late_in_life.markdown_discount, 30)
        self.assertFalse(early_in_life.markdown_rule_id)
        self.assertEqual(three_days.remaining_shelf_life_days, 3)
        self.assertEqual(three_days.markdown_rule_id, last_days)
        self.assertEqual(three_days.markdown_price, 5.0)
        self.assertFalse(four_days.markdown_rule_id)

        # the daily refresh catches up with time: 13 days later, early_in_life has 7 days of 30 left
        changed = self.env["stock.lot"]._refresh_markdown(now=now + timedelta(days=13))
        self.assertIn(early_in_life.id, changed)
        self.assertEqual(early_in_life.markdown_rule_id, last_quarter)
        # and expired lots lose their markdown
        self.env["stock.lot"]._refresh_markdown(now=now + timedelta(days=3, hours=12))
        self.assertFalse(three_days.markdown_rule_id)
        self.assertEqual(four_days.markdown_rule_id, last_days)

    def test_lot_without_expiry_or_expired_is_never_marked_down(self):
        self._rule("MD everything", 25, days=1000)
        self._rule("MD everything by ratio", 25, trigger="remaining_ratio", ratio=1)
        salt = self._lot("MD-SALT", product=self.salt, expires_in_days=None)
        expired = self._lot("MD-EXPIRED", expires_in_days=-1)
        near = self._lot("MD-NEAR", expires_in_days=3)
        self.assertFalse(salt.expiration_date)
        self.assertFalse(salt.markdown_rule_id)
        self.assertFalse(expired.markdown_rule_id)
        self.assertTrue(near.markdown_rule_id)
        # a lot whose date moves past expiry loses its markdown at once; moved back, it gets it again
        near.expiration_date = datetime.now() - timedelta(hours=1)
        self.assertFalse(near.markdown_rule_id)
        self.assertEqual(near.markdown_price, 0)
        near.expiration_date = datetime.now() + timedelta(days=2)
        self.assertEqual(near.markdown_discount, 25)

    def test_cron_refreshes_markdowns_with_shelf_life(self):
        rule = self._rule("MD cron", 15, days=7)
        lot = self._lot("MD-CRON", expires_in_days=30)
        other = self._lot("MD-CRON-OTHER", expires_in_days=30)
        self.assertFalse(lot.markdown_rule_id)
        # what the daily cron would find if the lot had been made 25 days ago
        expiry = datetime.now() + timedelta(days=5)
        self.env.cr.execute(
            "UPDATE stock_lot SET expiration_date = %s, alert_date = %s WHERE id = %s",
            [expiry, expiry - timedelta(days=7), lot.id],
        )
        self.env["stock.lot"].invalidate_model(["expiration_date", "alert_date"])
        # a date written on another lot refreshes that lot only
        other.expiration_date = datetime.now() + timedelta(days=2)
        self.assertEqual(other.markdown_rule_id, rule)
        self.assertFalse(lot.markdown_rule_id)
        self.env["stock.lot"]._cron_refresh_shelf_life_state()
        self.assertEqual(lot.markdown_rule_id, rule)
        self.assertEqual(lot.shelf_life_state, "near_expiry")

    def test_refresh_query_count_does_not_grow_with_lots(self):
        self._rule("MD count days", 20, days=10, product_ids=[Command.set(self.product.ids)])
        self._rule("MD count ratio", 10, sequence=20, trigger="remaining_ratio", ratio=0.5)
        now = datetime.now()

        def lots(count, prefix):
            return self.env["stock.lot"].create(
                [
                    {"name": f"{prefix}{i}", "product_id": self.product.id, "expiration_date": now + timedelta(days=i)}
                    for i in range(count)
                ]
            )

        def refresh_queries(at):
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            changed = self.env["stock.lot"]._refresh_markdown(now=at)
            return self.env.cr.sql_log_count - before, changed

        few = lots(3, "MD-Q")
        few_queries, few_changed = refresh_queries(now + timedelta(days=1))
        many = lots(80, "MD-QQ")
        many_queries, many_changed = refresh_queries(now + timedelta(days=2))
        self.assertTrue(few_changed)
        self.assertGreater(len(many_changed), len(few_changed))
        self.assertEqual(few_queries, many_queries)
        self.assertEqual(few_queries, 1)
        # expiring 3 to 12 days after the lots were made: within 10 days at the second refresh
        marked = (few | many).filtered("markdown_rule_id")
        self.assertEqual(len(marked), 10)

    # ------------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------------
    def test_invalid_discounts_and_thresholds_are_refused(self):
        before = self.Rule.with_context(active_test=False).search_count([])
        for discount in (0, 100, -5, 120):
            with self.subTest(discount=discount), self.assertRaises(ValidationError):
                self._rule(f"MD bad {discount}", discount)
        with self.assertRaises(ValidationError):
            self._rule("MD negative days", 10, days=-1)
        with self.assertRaises(ValidationError):
            self._rule("MD negative ratio", 10, trigger="remaining_ratio", ratio=-0.1)
        with self.assertRaises(ValidationError):
            # shelf life left is never 0 on a lot that has not expired
            self._rule("MD ratio zero", 10, trigger="remaining_ratio", ratio=0)
        with self.assertRaises(ValidationError):
            self._rule("MD ratio above one", 10, trigger="remaining_ratio", ratio=1.5)
        with self.assertRaises(ValidationError):
            # no expiration dates on salt: no lot of it is ever marked down
            self._rule("MD salt", 10, product_ids=[Command.set(self.salt.ids)])
        self.assertEqual(self.Rule.with_context(active_test=False).search_count([]), before)

        rule = self._rule("MD good", 10)
        lot = self._lot("MD-BAD-WRITE", expires_in_days=2)
        self.assertEqual(lot.markdown_discount, 10)
        with self.assertRaises(ValidationError):
            rule.discount = 100
        self.assertEqual(rule.discount, 10)
        self.assertEqual(lot.markdown_discount, 10)

    def test_lot_of_another_company_or_product_is_refused_on_the_line(self):
        self._rule("MD line", 30)
        other_company = self.env["res.company"].create({"name": "LMC Other Company"})
        foreign_lot = self._lot("MD-FOREIGN", expires_in_days=3, company_id=other_company.id)
        brie_lot = self._lot("MD-BRIE-LINE", product=self.cheese, expires_in_days=3)
        own_lot = self._lot("MD-OWN", expires_in_days=3)
        orders = self.env["sale.order"].search_count([])
        with self.assertRaises(ValidationError):
            self._order([(self.product, 1, foreign_lot)])
        with self.assertRaises(ValidationError):
            self._order([(self.product, 1, brie_lot)])
        self.assertEqual(self.env["sale.order"].search_count([]), orders)

        order = self._order([(self.product, 1, own_lot)])
        line = order.order_line
        for bad_lot in (foreign_lot, brie_lot):
            with self.assertRaises(ValidationError):
                line.lot_id = bad_lot
            self.assertEqual(line.lot_id, own_lot)
            self.assertEqual(line.discount, 30)

    def test_only_quality_managers_manage_rules(self):
        salesman = new_test_user(self.env, login="lmc_md_sales", groups="sales_team.group_sale_salesman")
        rule = self._rule("MD rights", 10)
        for user in (self.lot_user, salesman):
            self.assertEqual(self.Rule.with_user(user).search([("id", "=", rule.id)]), rule)
            with self.assertRaises(AccessError):
                self.Rule.with_user(user).create({"name": "MD not allowed", "discount": 10})
            with self.assertRaises(AccessError):
                rule.with_user(user).discount = 50
        self.assertEqual(rule.discount, 10)
        managed = self.Rule.with_user(self.quality_manager).create({"name": "MD by quality", "discount": 12})
        self.assertEqual(managed.company_id, self.env.company)

    # ------------------------------------------------------------------
    # Sales
    # ------------------------------------------------------------------
    def test_sale_of_marked_down_lot_reserves_exactly_it_and_ships_it(self):
        rule = self._rule("MD sale", 30, days=10)
        earlier = self._lot("MD-SALE-1", expires_in_days=4)
        chosen = self._lot("MD-SALE-2", expires_in_days=6)
        fresh = self._lot("MD-SALE-3", expires_in_days=60)
        now = datetime.now()
        # received first: FIFO and FEFO would both take them before the chosen lot
        self._put_in_stock(earlier, 10, in_date=now - timedelta(days=3))
        self._put_in_stock(fresh, 10, in_date=now - timedelta(days=2))
        self._put_in_stock(chosen, 10, in_date=now - timedelta(days=1))

        order = self._order([(self.product, 4, chosen)])
        line = order.order_line
        self.assertEqual(line.markdown_rule_id, rule)
        self.assertEqual(line.discount, 30)
        self.assertAlmostEqual(line.price_subtotal, 28.0)

        order.action_confirm()
        picking = order.picking_ids
        self.assertEqual(picking.move_ids.restrict_lot_id, chosen)
        self.assertEqual(picking.move_ids.move_line_ids.lot_id, chosen)
        self.assertEqual(picking.move_ids.quantity, 4)

        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        self.assertEqual(line.qty_delivered, 4)
        self.assertEqual(chosen.product_qty, 6)
        self.assertEqual(earlier.product_qty, 10)

        # revenue of the markdown sale before expiry, against the cost a write-off would have lost
        self.assertAlmostEqual(chosen.markdown_recovered_value, 28.0)
        self.assertEqual(earlier.markdown_recovered_value, 0)
        report = self.env["stock.lot.markdown.recovery.report"].search([("lot_id", "=", chosen.id)])
        self.assertEqual(len(report), 1)
        self.assertAlmostEqual(report.quantity, 4)
        self.assertAlmostEqual(report.revenue, 28.0)
        self.assertAlmostEqual(report.writeoff_cost, 16.0)
        self.assertEqual(report.markdown_rule_id, rule)
        by_category = self.env["stock.lot.markdown.recovery.report"]._read_group(
            [("categ_id", "=", self.category.id)], ["categ_id"], ["recovered_value:sum", "writeoff_cost:sum"]
        )
        self.assertEqual(by_category, [(self.category, 28.0, 16.0)])
        # one definition of a lot's revenue: the margin report says the same
        margin = self.env["stock.lot.margin.report"].search([("lot_id", "=", chosen.id)])
        self.assertAlmostEqual(margin.revenue, report.revenue)
        self.assertAlmostEqual(margin.cogs, report.writeoff_cost)

        # the quotation and the invoice name the lot and its expiry
        expiry = format_date(self.env, chosen.expiration_date)
        self.assertIn(f"Lot MD-SALE-2, expires {expiry}", self._report_text("sale.action_report_saleorder", order))
        invoice = order._create_invoices()
        self.assertIn(f"Lot MD-SALE-2, expires {expiry}", self._report_text("account.account_invoices", invoice))
        self.assertAlmostEqual(invoice.amount_untaxed, 28.0)

    def test_changing_the_lot_updates_the_discount_and_removing_it_restores_the_price(self):
        thirty = self._rule("MD thirty", 30, sequence=10, days=7, product_ids=[Command.set(self.product.ids)])
        half = self._rule("MD half", 50, sequence=5, days=2)
        lot_30 = self._lot("MD-CH-30", expires_in_days=5)
        lot_50 = self._lot("MD-CH-50", expires_in_days=1)
        lot_fresh = self._lot("MD-CH-FRESH", expires_in_days=60)
        order = self._order([(self.product, 2, self.env["stock.lot"])])
        line = order.order_line
        line.discount = 5  # the salesperson's own discount
        self.assertEqual(line.price_subtotal, 19.0)

        line.lot_id = lot_30
        self.assertEqual((line.markdown_rule_id, line.discount, line.price_subtotal), (thirty, 30, 14.0))
        line.lot_id = lot_50
        self.assertEqual((line.markdown_rule_id, line.discount, line.price_subtotal), (half, 50, 10.0))
        line.lot_id = lot_fresh
        self.assertEqual((line.markdown_rule_id, line.discount, line.price_subtotal), (thirty.browse(), 5, 19.0))
        line.lot_id = lot_30
        self.assertEqual(line.discount, 30)
        line.lot_id = False
        self.assertEqual((line.markdown_rule_id, line.discount, line.price_subtotal), (thirty.browse(), 5, 19.0))

        # the same in the order form, where the onchanges of the screen run
        order_form = Form(order)
        with order_form.order_line.edit(0) as line_form:
            line_form.lot_id = lot_30
            self.assertEqual(line_form.discount, 30)
            line_form.lot_id = lot_50
            self.assertEqual(line_form.discount, 50)
            line_form.lot_id = lot_fresh
            self.assertEqual(line_form.discount, 5)
            line_form.lot_id = lot_50
        order_form.save()
        self.assertEqual((line.lot_id, line.markdown_rule_id, line.discount), (lot_50, half, 50))
        order_form = Form(order)
        with order_form.order_line.edit(0) as line_form:
            line_form.lot_id = self.env["stock.lot"]
            self.assertEqual(line_form.discount, 5)
        order_form.save()
        self.assertEqual((line.markdown_rule_id, line.discount, line.price_subtotal), (thirty.browse(), 5, 19.0))

        # a copy of the order has no lot, so no markdown either
        line.lot_id = lot_30
        copy_line = order.copy().order_line
        self.assertEqual(
            (copy_line.lot_id, copy_line.markdown_rule_id, copy_line.discount), (lot_30.browse(), thirty.browse(), 5)
        )

    def test_expired_lot_leaves_lot_selection_and_clearance(self):
        self._rule("MD clear", 20, days=7)
        near = self._lot("MD-EXP-NEAR", expires_in_days=3)
        blocked = self._lot("MD-EXP-BLOCKED", expires_in_days=3)
        fresh = self._lot("MD-EXP-FRESH", expires_in_days=60)
        for lot in near | blocked | fresh:
            self._put_in_stock(lot, 5)
        blocked.with_user(self.quality_manager).action_quality_block(reason="Damaged pallet")
        Clearance = self.env["stock.lot.clearance.report"]

        order = self._order([(self.product, 1, self.env["stock.lot"])])
        line = order.order_line
        self.assertEqual(set(line.domain_lot_id[0][2]), set((near | fresh).ids))
        clearance = Clearance.search([("product_id", "=", self.product.id)])
        self.assertEqual(clearance.lot_id, near)
        self.assertEqual((clearance.quantity, clearance.markdown_price, clearance.potential_revenue), (5, 8.0, 40.0))
        self.assertEqual(clearance.warehouse_id, self.warehouse)

        near.expiration_date = datetime.now() - timedelta(minutes=5)
        line.invalidate_recordset(["domain_lot_id"])
        self.assertEqual(line.domain_lot_id[0][2], fresh.ids)
        self.assertFalse(Clearance.search([("product_id", "=", self.product.id)]))

    def test_short_dated_lot_warns_for_the_customer(self):
        self._rule("MD warn", 20, days=7)
        demanding = self.env["res.partner"].create({"name": "LMC Hospital", "min_remaining_shelf_life_days": 10})
        contact = self.env["res.partner"].create({"name": "LMC Hospital Kitchen", "parent_id": demanding.id})
        lot = self._lot("MD-WARN", expires_in_days=5)
        line = self._order([(self.product, 1, lot)], partner=contact).order_line
        warning = line._onchange_lot_id_shelf_life_warning()["warning"]
        self.assertIn("LMC Hospital", warning["title"])
        self.assertIn("MD-WARN", warning["message"])
        self.assertIn("10 days are required", warning["message"])
        # the product's own term applies too, the stricter wins
        relaxed_line = self._order([(self.product, 1, lot)]).order_line
        self.assertIsNone(relaxed_line._onchange_lot_id_shelf_life_warning())
        self.product.min_remaining_shelf_life_days = 6
        self.assertIn("6 days are required", relaxed_line._onchange_lot_id_shelf_life_warning()["warning"]["message"])

    def test_clearance_creates_one_quotation_line_per_lot(self):
        self._rule("MD wizard", 25, days=7)
        near_yogurt = self._lot("MD-WIZ-1", expires_in_days=3)
        near_brie = self._lot("MD-WIZ-2", product=self.cheese, expires_in_days=5)
        self._put_in_stock(near_yogurt, 8)
        self._put_in_stock(near_brie, 3)
        self._delivery(self.product, 2)  # reserves 2 of the yogurt lot
        Clearance = self.env["stock.lot.clearance.report"]
        rows = Clearance.search([("lot_id", "in", (near_yogurt | near_brie).ids)])
        self.assertEqual(len(rows), 2)
        self.assertEqual(sum(rows.mapped("potential_revenue")), 8 * 7.5 + 3 * 15.0)

        action = rows.action_create_quotation()
        wizard = Form(self.env[action["res_model"]].with_context(**action["context"]))
        wizard.partner_id = self.customer
        result = wizard.save().action_create_quotation()
        order = self.env["sale.order"].browse(result["res_id"])
        self.assertEqual(order.partner_id, self.customer)
        self.assertEqual(order.warehouse_id, self.warehouse)
        lines = {line.lot_id: line for line in order.order_line}
        self.assertEqual(set(lines), {near_yogurt, near_brie})
        self.assertEqual(lines[near_yogurt].product_uom_qty, 6)  # 8 on hand, 2 reserved
        self.assertEqual(lines[near_yogurt].discount, 25)
        self.assertEqual(lines[near_brie].product_uom_qty, 3)
        self.assertEqual(lines[near_brie].price_subtotal, 45.0)

        with self.assertRaises(UserError):
            Clearance.browse().action_create_quotation()
        other_warehouse = self.env["stock.warehouse"].create({"name": "LMC Second", "code": "LMC2"})
        self._put_in_stock(near_brie, 2, location=other_warehouse.lot_stock_id)
        rows = Clearance.search([("lot_id", "=", near_brie.id)])
        self.assertEqual(rows.warehouse_id, self.warehouse | other_warehouse)
        with self.assertRaises(UserError):
            rows.action_create_quotation()
