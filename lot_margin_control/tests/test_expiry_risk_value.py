import importlib.util
import threading
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .valuation_common import ValuationCommon


@tagged("post_install", "-at_install")
class TestExpiryRiskValue(ValuationCommon):
    """The value at risk ties out to core's valuation layers, for products made the ordinary way;
    the lot's risk figures search like stored ones."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fifo = cls._valuation_category("LMC Risk FIFO", "fifo", "manual_periodic")
        cls.avco = cls._valuation_category("LMC Risk AVCO", "average", "manual_periodic")
        # made the ordinary way: lot_valuated, standard_price never written
        cls.ordinary = cls.env["product.product"].create(
            {"name": "LMC Risk Ordinary", "is_storable": True, "tracking": "lot", "categ_id": cls.avco.id}
        )
        cls.by_lot = cls._valued_product("LMC Risk By Lot", cls.fifo, lot_valuated=True)
        # and as on databases where the column was added after the product: NULL
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE product_template SET lot_valuated = NULL WHERE id = %s", [cls.ordinary.product_tmpl_id.id]
        )
        cls.env.invalidate_all()

    def _layer_value(self, domain):
        return sum(self.env["stock.valuation.layer"].search(domain).mapped("value"))

    def _refresh(self):
        self.env["stock.lot"]._refresh_expiry_risk()

    def test_value_at_risk_is_the_layers_value(self):
        """No demand: everything on hand is at risk, so the value at risk is the inventory value."""
        cheap = self._lot("RISK-VAL-A", product=self.by_lot, expires_in_days=5)
        dear = self._lot("RISK-VAL-B", product=self.by_lot, expires_in_days=6)
        first = self._lot("RISK-VAL-C", product=self.ordinary, expires_in_days=5)
        second = self._lot("RISK-VAL-D", product=self.ordinary, expires_in_days=6)
        self._receive(self.by_lot, [(cheap, 10)], 3.0)
        self._receive(self.by_lot, [(dear, 10)], 5.0)
        self._receive(self.ordinary, [(first, 10)], 2.0)
        self._receive(self.ordinary, [(second, 10)], 4.0)
        self._refresh()
        accountant_lots = (cheap | dear | first | second).with_user(self.accountant)
        # by lot: each lot's own layers
        for lot in accountant_lots.filtered(lambda lot: lot.product_id == self.by_lot):
            self.assertEqual(lot.projected_unsold_qty, 10)
            self.assertAlmostEqual(lot.expiry_value_at_risk, self._layer_value([("lot_id", "=", lot.id)]))
        self.assertEqual(accountant_lots[0].expiry_value_at_risk, 30.0)
        self.assertEqual(accountant_lots[1].expiry_value_at_risk, 50.0)
        # not by lot (average cost 3.00): the product's layers, shared by quantity
        ordinary_total = self._layer_value([("product_id", "=", self.ordinary.id)])
        self.assertEqual(ordinary_total, 60.0)
        self.assertEqual(accountant_lots[2:].mapped("expiry_value_at_risk"), [30.0, 30.0])
        self.assertAlmostEqual(sum(accountant_lots[2:].mapped("expiry_value_at_risk")), ordinary_total)
        # the report's rows add up to the same
        rows = self.env["stock.lot.expiry.risk"].search([("product_id", "in", (self.by_lot | self.ordinary).ids)])
        self.assertAlmostEqual(sum(rows.mapped("expiry_value_at_risk")), 80.0 + ordinary_total)

        # half of the first ordinary lot is scrapped (no demand): the rest is at risk at the
        # remaining average cost
        self._scrap(first, 5)
        self._refresh()
        remaining = self._layer_value([("product_id", "=", self.ordinary.id)])
        self.assertAlmostEqual(remaining, 45.0)
        lots = accountant_lots[2:]
        lots.invalidate_recordset()
        self.assertEqual(lots.mapped("projected_unsold_qty"), [5.0, 10.0])
        self.assertAlmostEqual(sum(lots.mapped("expiry_value_at_risk")), remaining)

    def test_search_like_a_stored_field(self):
        at_risk = self._lot("RISK-SEARCH-A", product=self.ordinary, expires_in_days=5)
        not_on_hand = self._lot("RISK-SEARCH-B", product=self.ordinary, expires_in_days=5)
        self._receive(self.ordinary, [(at_risk, 4)], 2.0)
        self._refresh()
        Lot = self.env["stock.lot"].with_user(self.lot_user)
        mine = [("product_id", "=", self.ordinary.id)]
        self.assertEqual(Lot.search([*mine, ("projected_unsold_qty", ">", 0)]), at_risk)
        self.assertEqual(Lot.search([*mine, ("projected_unsold_qty", "=", 0)]), not_on_hand)
        self.assertEqual(Lot.search([*mine, ("projected_unsold_qty", "=", False)]), not_on_hand)
        self.assertEqual(Lot.search([*mine, ("projected_unsold_ratio", ">=", 1)]), at_risk)
        self.assertEqual(Lot.search([*mine, ("demand_daily_qty", "<", 0.5)]), at_risk | not_on_hand)
        self.assertEqual(Lot.search([*mine, ("risk_warehouse_id", "!=", False)]), at_risk)
        self.assertEqual(Lot.search([*mine, ("risk_warehouse_id", "=", self.warehouse.id)]), at_risk)
        self.assertEqual(Lot.search([*mine, ("risk_warehouse_id", "=", False)]), not_on_hand)
        # what an RPC client may send instead of a number: refused in words, not a traceback
        for domain in (
            [("projected_unsold_qty", "ilike", "4")],
            [("projected_unsold_qty", ">", "4; DROP TABLE stock_lot")],
            [("projected_unsold_qty", ">", [1, 2])],
            [("projected_unsold_qty", "in", [0, 4])],
            [("risk_warehouse_id", "=", "Main")],
            [("risk_warehouse_id", "child_of", self.warehouse.id)],
        ):
            with self.subTest(domain=domain), self.assertRaises(UserError):
                Lot.search(domain)
        self.assertEqual(Lot.search([*mine, ("projected_unsold_qty", ">", 3)]), at_risk)


@tagged("post_install", "-at_install")
class TestConcurrentRiskRefresh(TransactionCase):
    """The nightly cron and a user's *Refresh* at the same time: both finish, one row per lot."""

    def _committed(self, function):
        with closing(self.registry.cursor()) as cr:
            result = function(api.Environment(cr, SUPERUSER_ID, {}))
            cr.commit()  # pylint: disable=invalid-commit
            return result

    def _fixture(self, env):
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        product = env["product.product"].create(
            {"name": "LMC Risk Race", "is_storable": True, "tracking": "lot", "use_expiration_date": True}
        )
        for index in range(3):
            lot = env["stock.lot"].create(
                {
                    "name": f"RISK-RACE-{index}",
                    "product_id": product.id,
                    "expiration_date": datetime.now() + timedelta(days=5 + index),
                }
            )
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 10, lot_id=lot)
        return product.id

    def _drop(self, env, product_id):
        env.cr.execute("DELETE FROM stock_quant WHERE product_id = %s", [product_id])
        env["stock.lot"].search([("product_id", "=", product_id)]).unlink()
        env["product.product"].browse(product_id).product_tmpl_id.unlink()
        env["stock.lot"]._refresh_expiry_risk()

    def test_two_refreshes_at_once(self):
        product_id = self._committed(self._fixture)
        self.addCleanup(self._committed, lambda env: self._drop(env, product_id))
        started, errors = threading.Barrier(2), []

        def refresh(hold):
            try:
                with closing(self.registry.cursor()) as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    started.wait(timeout=30)
                    if not hold:
                        time.sleep(0.3)  # the other one holds the lock by now
                    env["stock.lot"]._refresh_expiry_risk()
                    if hold:
                        time.sleep(1.0)  # keep the transaction open while the other one waits
                    cr.commit()  # pylint: disable=invalid-commit
            except Exception as error:  # collected and asserted below
                errors.append(error)

        threads = [threading.Thread(target=refresh, args=(hold,)) for hold in (True, False)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(errors, [])

        def rows(env):
            env.cr.execute(
                "SELECT lot_id, count(*), SUM(projected_unsold_qty) FROM stock_lot_expiry_risk "
                "WHERE product_id = %s GROUP BY lot_id",
                [product_id],
            )
            return env.cr.fetchall()

        found = self._committed(rows)
        # three lots of 10 without demand: one row each, all of it at risk
        self.assertEqual(sorted((count, float(unsold)) for _lot, count, unsold in found), [(1, 10.0)] * 3)


@tagged("post_install", "-at_install")
class TestRiskMigration(ValuationCommon):
    """Upgrading from 18.0.1.2.0: the old stock_lot columns go, the risk is there at once."""

    def _migration(self):
        path = Path(__file__).parents[1] / "migrations" / "18.0.1.3.0" / "post-migrate.py"
        spec = importlib.util.spec_from_file_location("lmc_migration_18_0_1_3_0", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def test_upgrade_moves_the_risk_to_its_table(self):
        lot = self._lot("RISK-MIG", expires_in_days=5)
        self._put_in_stock(lot, 12)
        self.env.flush_all()
        # the 18.0.1.2.0 layout: the figures were columns of stock_lot, the risk table empty
        self.env.cr.execute(
            "ALTER TABLE stock_lot ADD COLUMN projected_unsold_qty numeric, ADD COLUMN risk_warehouse_id integer"
        )
        self.env.cr.execute("DELETE FROM stock_lot_expiry_risk")
        migration = self._migration()
        migration.migrate(self.env.cr, None)  # a new install: nothing to do
        self.env.cr.execute("SELECT count(*) FROM stock_lot_expiry_risk")
        self.assertEqual(self.env.cr.fetchone()[0], 0)

        migration.migrate(self.env.cr, "18.0.1.2.0")
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'stock_lot' "
            "AND column_name IN %s",
            [migration.OLD_RISK_COLUMNS],
        )
        self.assertEqual(self.env.cr.fetchall(), [])
        self.env["stock.lot"].invalidate_model()
        self.assertEqual(lot.projected_unsold_qty, 12)
        self.assertEqual(lot.risk_warehouse_id, self.warehouse)
