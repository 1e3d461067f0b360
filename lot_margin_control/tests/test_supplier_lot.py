from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestSupplierLot(TransactionCase):
    """The vendor's lot code is kept on the lot, searchable and tracked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create({"name": "LMC Yogurt", "is_storable": True, "tracking": "lot"})
        cls.lot = cls.env["stock.lot"].create(
            {"name": "LMC-0001", "product_id": cls.product.id, "supplier_lot_name": "VEND-77"}
        )

    def test_search_by_supplier_lot(self):
        found = self.env["stock.lot"].search([("supplier_lot_name", "=", "VEND-77")])
        self.assertEqual(found, self.lot)

    def _run_tracking(self):
        """What a commit does: mail writes tracking values in a pre-commit hook."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.lot.invalidate_recordset(["message_ids"])

    def test_change_is_tracked_in_chatter(self):
        self._run_tracking()  # the lot now exists as if created in an earlier transaction
        self.lot.supplier_lot_name = "VEND-78"
        self._run_tracking()
        tracked = self.lot.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "supplier_lot_name"
        )
        self.assertEqual(tracked[:1].old_value_char, "VEND-77")
        self.assertEqual(tracked[:1].new_value_char, "VEND-78")
