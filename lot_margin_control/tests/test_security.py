from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestLotControlSecurity(TransactionCase):
    """The two Lot Control groups, what they imply and which menus they open."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group_user = cls.env.ref("lot_margin_control.group_lot_control_user")
        cls.group_quality = cls.env.ref("lot_margin_control.group_lot_control_quality_manager")
        cls.stock_user = new_test_user(cls.env, login="lmc_plain_stock", groups="stock.group_stock_user")
        cls.lot_user = new_test_user(cls.env, login="lmc_lot_user", groups="lot_margin_control.group_lot_control_user")
        cls.quality_manager = new_test_user(
            cls.env, login="lmc_quality", groups="lot_margin_control.group_lot_control_quality_manager"
        )

    def test_groups_are_named_under_lot_control(self):
        self.assertEqual(self.group_user.full_name, "Lot Control / User")
        self.assertEqual(self.group_quality.full_name, "Lot Control / Quality Manager")

    def test_quality_manager_implies_user_implies_stock_user(self):
        self.assertIn(self.group_user, self.group_quality.implied_ids)
        self.assertIn(self.env.ref("stock.group_stock_user"), self.group_user.implied_ids)
        self.assertTrue(self.quality_manager.has_group("lot_margin_control.group_lot_control_user"))
        self.assertTrue(self.quality_manager.has_group("stock.group_stock_user"))
        self.assertTrue(self.lot_user.has_group("stock.group_production_lot"))
        self.assertFalse(self.lot_user.has_group("lot_margin_control.group_lot_control_quality_manager"))

    def test_admin_is_quality_manager(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("lot_margin_control.group_lot_control_quality_manager"))

    def test_plain_stock_user_cannot_reach_quality_manager_menus(self):
        root_menu = self.env.ref("lot_margin_control.menu_lot_control_root")
        config_menu = self.env.ref("lot_margin_control.menu_lot_control_configuration")
        categories_menu = self.env.ref("lot_margin_control.menu_lot_control_product_categories")
        lots_menu = self.env.ref("lot_margin_control.menu_lot_control_lots")
        Menu = self.env["ir.ui.menu"]
        # The web client shows a menu only when it and all its parents are visible.
        stock_user_menus = Menu.with_user(self.stock_user)._visible_menu_ids()
        self.assertNotIn(root_menu.id, stock_user_menus)
        self.assertNotIn(config_menu.id, stock_user_menus)
        lot_user_menus = Menu.with_user(self.lot_user)._visible_menu_ids()
        self.assertTrue({root_menu.id, lots_menu.id} <= lot_user_menus)
        self.assertNotIn(config_menu.id, lot_user_menus)
        quality_menus = Menu.with_user(self.quality_manager)._visible_menu_ids()
        self.assertTrue({root_menu.id, config_menu.id, categories_menu.id} <= quality_menus)
