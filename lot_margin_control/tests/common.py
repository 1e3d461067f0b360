from datetime import datetime, timedelta

from odoo.tests import TransactionCase, new_test_user

# The fixed "now" of the shelf-life tests.
NOW = datetime(2026, 6, 15, 12, 0, 0)


class LotControlCommon(TransactionCase):
    """Small, self-made data: a warehouse, perishable products, users of each group."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.env.company.id)], limit=1)
        cls.stock = cls.warehouse.lot_stock_id
        cls.warehouse._create_lot_quarantine_location()
        cls.quarantine = cls.warehouse.lot_quarantine_location_id
        cls.customers = cls.env.ref("stock.stock_location_customers")
        cls.suppliers = cls.env.ref("stock.stock_location_suppliers")
        cls.category = cls.env["product.category"].create({"name": "LMC Perishables"})
        cls.product = cls.env["product.product"].create(
            {
                "name": "LMC Yogurt",
                "is_storable": True,
                "tracking": "lot",
                "categ_id": cls.category.id,
                "use_expiration_date": True,
                "expiration_time": 30,
                "use_time": 5,
                "removal_time": 3,
                "alert_time": 7,
            }
        )
        cls.serial_product = cls.env["product.product"].create(
            {
                "name": "LMC Insulin Pen",
                "is_storable": True,
                "tracking": "serial",
                "categ_id": cls.category.id,
                "use_expiration_date": True,
                "expiration_time": 365,
            }
        )
        cls.customer = cls.env["res.partner"].create({"name": "LMC Customer"})
        cls.vendor = cls.env["res.partner"].create({"name": "LMC Vendor"})
        cls.lot_user = new_test_user(
            cls.env, login="lmc_user", groups="lot_margin_control.group_lot_control_user,stock.group_stock_user"
        )
        cls.quality_manager = new_test_user(
            cls.env,
            login="lmc_qm",
            groups="lot_margin_control.group_lot_control_quality_manager,stock.group_stock_user",
        )

    @classmethod
    def _lot(cls, name, product=None, expires_in_days=60, **values):
        product = product or cls.product
        vals = {"name": name, "product_id": product.id, **values}
        if expires_in_days is not None and "expiration_date" not in values:
            vals["expiration_date"] = datetime.now() + timedelta(days=expires_in_days)
        return cls.env["stock.lot"].create(vals)

    @classmethod
    def _put_in_stock(cls, lot, quantity, location=None, in_date=None):
        cls.env["stock.quant"]._update_available_quantity(
            lot.product_id, location or cls.stock, quantity, lot_id=lot, in_date=in_date
        )

    @classmethod
    def _delivery(cls, product, quantity, partner=None, location=None, date=None):
        """A confirmed customer delivery (reserved at confirmation, as Odoo does by default)."""
        picking = cls.env["stock.picking"].create(
            {
                "scheduled_date": date or datetime.now(),
                "picking_type_id": cls.warehouse.out_type_id.id,
                "partner_id": (partner or cls.customer).id,
                "location_id": (location or cls.stock).id,
                "location_dest_id": cls.customers.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": (location or cls.stock).id,
                            "location_dest_id": cls.customers.id,
                            "date": date or datetime.now(),
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        return picking

    @classmethod
    def _receipt(cls, product, quantity):
        """A confirmed receipt of ``quantity`` of ``product`` from the vendor into stock."""
        receipt = cls.env["stock.picking"].create(
            {
                "picking_type_id": cls.warehouse.in_type_id.id,
                "partner_id": cls.vendor.id,
                "location_id": cls.suppliers.id,
                "location_dest_id": cls.stock.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "location_id": cls.suppliers.id,
                            "location_dest_id": cls.stock.id,
                        },
                    )
                ],
            }
        )
        receipt.action_confirm()
        return receipt
