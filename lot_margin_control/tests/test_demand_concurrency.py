"""The daily demand (stock.lot.demand.day) under parallel transactions.

Two real PostgreSQL transactions on two cursors, as two Odoo workers: while one sums the past
days' rows (the risk refresh's compaction, its transaction open), the other adds a validation's
rows for one of those days; it must not wait, and after both commit no quantity is lost or
counted twice. The fixture is committed (the other cursor must see it) and removed afterwards.
"""

from contextlib import closing
from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged

from .committed import remove_product, validated_deliveries


@tagged("post_install", "-at_install")
class TestDemandDayConcurrency(TransactionCase):
    def setUp(self):
        super().setUp()
        self.yesterday = (datetime.now() - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            moves = validated_deliveries(env, "LMC Demand", [5, 5])
            for line in moves.move_line_ids:  # one correction each: a row each for yesterday
                line.date = self.yesterday
            cr.commit()  # pylint: disable=invalid-commit
            self.product_id, self.warehouse_id = moves.product_id.id, moves.location_id.warehouse_id.id
            self.line_ids = moves.move_line_ids.ids
        self.addCleanup(remove_product, self.registry, self.product_id)

    def _rows(self, cr):
        cr.execute(
            "SELECT qty FROM stock_lot_demand_day WHERE product_id = %s AND day = %s ORDER BY qty",
            [self.product_id, self.yesterday.date()],
        )
        return [float(qty) for (qty,) in cr.fetchall()]

    def test_compaction_keeps_rows_added_meanwhile_and_blocks_no_one(self):
        today = datetime.now().date()
        with closing(self.registry.cursor()) as cr_a, closing(self.registry.cursor()) as cr_b:
            self.assertEqual(self._rows(cr_a), [5.0, 5.0])  # one row per validation (and per date change)
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_a["stock.lot.demand.day"]._compact(today)
            self.assertEqual(self._rows(cr_a), [10.0])  # A's view, not committed yet
            # B: a validation of the same product and day, while A's transaction is open
            cr_b.execute("SET LOCAL lock_timeout = '5s'")
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            env_b["stock.lot.demand.day"]._add_lines(env_b["stock.move.line"].browse(self.line_ids[0]))
            cr_b.commit()  # pylint: disable=invalid-commit
            cr_a.commit()  # pylint: disable=invalid-commit
        with closing(self.registry.cursor()) as cr:
            # A's sum of the two rows it saw, and B's row, which A's delete did not see
            self.assertEqual(self._rows(cr), [5.0, 10.0])
            cr.execute(
                "SELECT SUM(qty) FROM stock_lot_demand_day WHERE product_id = %s AND day = %s",
                [self.product_id, self.yesterday.date()],
            )
            self.assertEqual(float(cr.fetchone()[0]), 15.0)
