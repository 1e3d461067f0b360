"""Several workers at once (issue 18, point 3): the daily refresh, and no state kept in memory.

Two real PostgreSQL transactions on two cursors, as two Odoo workers: while one runs the
daily refresh (its transaction open), the other's refresh does nothing and never waits, and
the manual expiry-risk refresh says a refresh is running. Afterwards the lot has one alert
activity, not two. The fixture is committed (the other cursor must see it) and removed.
"""

import sys
import uuid
from contextlib import closing
from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from ..models.stock_lot_shelf_life import ALERT_ACTIVITY, DAILY_REFRESH_CRON


@tagged("post_install", "-at_install")
class TestDailyRefreshConcurrency(TransactionCase):
    def setUp(self):
        super().setUp()
        tag = uuid.uuid4().hex[:8]
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
            product = env["product.product"].create(
                {"name": f"LMC Cron {tag}", "is_storable": True, "tracking": "lot", "use_expiration_date": True}
            )
            lot = env["stock.lot"].create(
                {
                    "name": f"CRON-{tag}",
                    "product_id": product.id,
                    "expiration_date": datetime.now() + timedelta(days=3),
                    "alert_date": datetime.now() - timedelta(days=1),
                }
            )
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 5, lot_id=lot)
            # as yesterday left it: fresh, never alerted
            env["mail.activity"].search([("res_model", "=", "stock.lot"), ("res_id", "=", lot.id)]).unlink()
            cr.execute(
                "UPDATE stock_lot SET shelf_life_state = 'fresh', product_expiry_reminded = false WHERE id = %s",
                [lot.id],
            )
            cr.commit()  # pylint: disable=invalid-commit
            self.product_id, self.lot_id = product.id, lot.id
        self.addCleanup(self._remove_fixture)

    def _remove_fixture(self):
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["mail.activity"].search([("res_model", "=", "stock.lot"), ("res_id", "=", self.lot_id)]).unlink()
            cr.execute("DELETE FROM stock_quant WHERE product_id = %s", [self.product_id])
            cr.execute("DELETE FROM stock_lot_expiry_risk WHERE lot_id = %s", [self.lot_id])
            env["stock.lot"].browse(self.lot_id).unlink()
            env["product.product"].browse(self.product_id).product_tmpl_id.unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def _alerts(self, env):
        activity_type = env.ref(ALERT_ACTIVITY)
        return env["mail.activity"].search_count(
            [("res_model", "=", "stock.lot"), ("res_id", "=", self.lot_id), ("activity_type_id", "=", activity_type.id)]
        )

    def test_two_workers_refresh_once_and_alert_once(self):
        with closing(self.registry.cursor()) as cr_a, closing(self.registry.cursor()) as cr_b:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            # the second worker must never wait for the first: a wait would fail this
            cr_b.execute("SET LOCAL lock_timeout = '5s'")
            cron_b = env_b.ref(DAILY_REFRESH_CRON)
            triggers_before = env_b["ir.cron.trigger"].search_count([("cron_id", "=", cron_b.id)])

            self.assertTrue(env_a["stock.lot"]._cron_refresh_shelf_life_state())
            self.assertEqual(self._alerts(env_a), 1)

            self.assertFalse(env_b["stock.lot"]._cron_refresh_shelf_life_state())
            self.assertEqual(self._alerts(env_b), 0, "the second refresh alerted too")
            self.assertEqual(env_b["stock.lot"].browse(self.lot_id).shelf_life_state, "fresh")
            # it comes back later instead
            self.assertEqual(env_b["ir.cron.trigger"].search_count([("cron_id", "=", cron_b.id)]), triggers_before + 1)
            # a user's refresh meanwhile is told, not queued behind the night's
            lot_manager = env_b["res.users"].search([("login", "=", "admin")])
            with self.assertRaises(UserError):
                env_b["stock.lot"].with_user(lot_manager).action_refresh_expiry_risk()
            cr_b.rollback()
            cr_a.commit()  # pylint: disable=invalid-commit

        # the lock went with the first transaction: the next refresh runs, and alerts no one twice
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertTrue(env["stock.lot"]._cron_refresh_shelf_life_state())
            self.assertEqual(self._alerts(env), 1)
            self.assertEqual(env["stock.lot"].browse(self.lot_id).shelf_life_state, "near_expiry")
            self.assertTrue(env["stock.lot"].action_refresh_expiry_risk())
            cr.commit()  # pylint: disable=invalid-commit


@tagged("post_install", "-at_install")
class TestNoStateBetweenRequests(TransactionCase):
    def test_module_level_containers_are_constants(self):
        """Each worker has its own memory: what one request leaves in a module-level dict, list or
        set, the next request (on another worker) does not see. The addon keeps only constants
        there (UPPER_CASE, never changed); a per-database cache belongs to the registry's ormcache."""
        state, modules = [], 0
        for name, module in list(sys.modules.items()):
            if not name.startswith("odoo.addons.lot_margin_control.") or ".tests" in name:
                continue
            modules += 1
            for attribute, value in vars(module).items():
                if isinstance(value, dict | list | set) and not attribute.startswith("__") and not attribute.isupper():
                    state.append(f"{name}.{attribute}")
        self.assertGreater(modules, 50)
        self.assertEqual(state, [])
