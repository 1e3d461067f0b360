from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import LotControlCommon


@tagged("post_install", "-at_install")
class TestLotCount(LotControlCommon):
    """Every applied count of a lot is kept, also when it matched; nobody edits it afterwards."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lot_a = cls._lot("CNT-A")
        cls.lot_b = cls._lot("CNT-B")
        cls._put_in_stock(cls.lot_a, 10)
        cls._put_in_stock(cls.lot_b, 5)
        cls.untracked = cls.env["product.product"].create({"name": "LMC Count Untracked", "is_storable": True})
        cls.env["stock.quant"]._update_available_quantity(cls.untracked, cls.stock, 7)

    def _quant(self, lot=None, product=None):
        domain = [("location_id", "=", self.stock.id)]
        domain += [("lot_id", "=", lot.id)] if lot else [("product_id", "=", product.id)]
        return self.env["stock.quant"].search(domain)

    def _count(self, quant, counted):
        quant.inventory_quantity = counted
        quant.action_apply_inventory()

    def test_matched_and_different_counts_are_both_recorded(self):
        quant_a, quant_b = self._quant(self.lot_a), self._quant(self.lot_b)
        quant_a.inventory_quantity = 10
        quant_b.inventory_quantity = 3
        (quant_a | quant_b).action_apply_inventory()
        counts = self.env["stock.lot.count"].search([("lot_id", "in", (self.lot_a | self.lot_b).ids)])
        by_lot = {count.lot_id: count for count in counts}
        self.assertEqual(len(counts), 2)
        self.assertRecordValues(
            by_lot[self.lot_a],
            [{"system_qty": 10, "counted_qty": 10, "difference_qty": 0, "is_accurate": True}],
        )
        self.assertRecordValues(
            by_lot[self.lot_b],
            [
                {
                    "system_qty": 5,
                    "counted_qty": 3,
                    "difference_qty": -2,
                    "is_accurate": False,
                    "location_id": self.stock.id,
                    "product_id": self.product.id,
                    "company_id": self.env.company.id,
                    "user_id": self.env.uid,
                }
            ],
        )
        # core applied the count as before
        self.assertEqual(quant_b.quantity, 3)

    def test_untracked_products_are_not_lot_counts(self):
        self._count(self._quant(product=self.untracked), 6)
        self.assertFalse(self.env["stock.lot.count"].search([("product_id", "=", self.untracked.id)]))

    def test_recording_is_one_query_whatever_the_number_of_quants(self):
        Count = self.env["stock.lot.count"]
        one = self._quant(self.lot_a)
        lots = self.env["stock.lot"].create([{"name": f"CNT-N{i}", "product_id": self.product.id} for i in range(20)])
        for lot in lots:
            self._put_in_stock(lot, 1)
        many = self.env["stock.quant"].search([("lot_id", "in", lots.ids)])
        self.env.flush_all()
        with self.assertQueryCount(1):
            Count._record_from_quants(one)
        with self.assertQueryCount(1):
            Count._record_from_quants(many)
        self.assertEqual(Count.search_count([("lot_id", "in", lots.ids)]), 20)

    def test_counts_are_read_only_and_per_company(self):
        self._count(self._quant(self.lot_a), 9)
        count = self.env["stock.lot.count"].search([("lot_id", "=", self.lot_a.id)])
        stock_user = new_test_user(self.env, login="lmc_count_stock", groups="stock.group_stock_user")
        self.assertEqual(count.with_user(stock_user).difference_qty, -1)
        for user in (self.lot_user, self.quality_manager, stock_user):
            with self.assertRaises(AccessError):
                count.with_user(user).write({"counted_qty": 10})
            with self.assertRaises(AccessError):
                count.with_user(user).unlink()
            with self.assertRaises(AccessError):
                self.env["stock.lot.count"].with_user(user).create(
                    {
                        "lot_id": self.lot_a.id,
                        "product_id": self.product.id,
                        "location_id": self.stock.id,
                        "date": "2026-01-01",
                        "company_id": self.env.company.id,
                    }
                )
        self.assertEqual(count.difference_qty, -1)
        other_company = self.env["res.company"].create({"name": "LMC Count Other"})
        outsider = new_test_user(
            self.env,
            login="lmc_count_outsider",
            groups="lot_margin_control.group_lot_control_user,stock.group_stock_user",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        self.assertFalse(self.env["stock.lot.count"].with_user(outsider).search([("id", "=", count.id)]))
        with self.assertRaises(AccessError):
            count.with_user(outsider).read(["difference_qty"])
        portal = new_test_user(self.env, login="lmc_count_portal", groups="base.group_portal")
        with self.assertRaises(AccessError):
            self.env["stock.lot.count"].with_user(portal).search([])
