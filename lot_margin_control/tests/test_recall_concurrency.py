import logging
import threading
import time
import uuid

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

_logger = logging.getLogger(__name__)

COMPANY_NAME = "LMC Recall Concurrency"
ROUNDS = 6
USERS = 4
LOTS = 20
LOCATIONS = 5


@tagged("post_install", "-at_install")
class TestRecallConcurrentTraces(TransactionCase):
    """Several users re-trace one recall at the same moment, in real parallel transactions.

    Other connections only see committed data, so the fixture is committed (in a
    company of its own, reused from run to run) and removed at the end. The test
    transaction itself writes nothing: the threads never wait on it.
    """

    def setUp(self):
        super().setUp()
        tag = uuid.uuid4().hex[:8]
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].search([("name", "=", COMPANY_NAME)], limit=1)
            company = company or env["res.company"].create({"name": COMPANY_NAME})
            env = env(context={"allowed_company_ids": company.ids})
            warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
            product = env["product.product"].create(
                {"name": f"LMC Concurrency {tag}", "is_storable": True, "tracking": "lot", "company_id": company.id}
            )
            locations = env["stock.location"].create(
                [
                    {"name": f"Bay {tag}-{index}", "location_id": warehouse.lot_stock_id.id, "company_id": company.id}
                    for index in range(LOCATIONS)
                ]
            )
            lots = env["stock.lot"].create(
                [
                    {"name": f"CC-{tag}-{index}", "product_id": product.id, "company_id": company.id}
                    for index in range(LOTS)
                ]
            )
            for lot in lots:
                for location in locations:
                    env["stock.quant"]._update_available_quantity(product, location, 3, lot_id=lot)
            recall = env["stock.lot.recall"].create(
                {
                    "company_id": company.id,
                    "lot_ids": [Command.set(lots.ids)],
                    "reason": "Concurrency drill",
                    "is_mock": True,
                }
            )
            self.recall_id, self.product_id = recall.id, product.id
            self.lot_ids, self.location_ids = lots.ids, locations.ids
        self.addCleanup(self._remove_fixture)

    def _remove_fixture(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["stock.lot.recall"].browse(self.recall_id).unlink()
            cr.execute("DELETE FROM stock_quant WHERE product_id = %s", [self.product_id])
            env["stock.lot"].browse(self.lot_ids).unlink()
            env["stock.location"].browse(self.location_ids).unlink()
            env["product.product"].browse(self.product_id).unlink()

    def _trace(self, barrier, results):
        """One user: opens the recall, waits for the others, re-traces; the cursor commits on leaving."""
        outcome = message = None
        started = time.perf_counter()
        try:
            with self.registry.cursor() as cr:
                recall = api.Environment(cr, SUPERUSER_ID, {})["stock.lot.recall"].browse(self.recall_id)
                recall.read(["state"])  # the transaction's snapshot is taken here, before the others run
                barrier.wait(timeout=60)
                started = time.perf_counter()
                try:
                    recall.action_trace()
                    outcome = "traced"
                except UserError as error:
                    cr.rollback()
                    outcome, message = "told", str(error)
        except Exception as error:  # anything else is what the test must not see
            outcome, message = "failed", f"{type(error).__name__}: {error}"
        results.append((outcome, message, time.perf_counter() - started))

    def _trace_lines(self):
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT lot_id, location_id, COUNT(*) FROM stock_lot_recall_line
                    WHERE recall_id = %s GROUP BY lot_id, location_id""",
                [self.recall_id],
            )
            counts = cr.fetchall()
            cr.execute("SELECT COUNT(*) FROM stock_lot_recall_reconciliation WHERE recall_id = %s", [self.recall_id])
            return counts, cr.fetchone()[0]

    def test_concurrent_traces_of_one_recall_run_one_at_a_time(self):
        durations = []
        for round_number in range(ROUNDS):
            barrier = threading.Barrier(USERS)
            results = []
            threads = [threading.Thread(target=self._trace, args=(barrier, results)) for _user in range(USERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            outcomes = sorted(outcome for outcome, _message, _duration in results)
            failures = [message for outcome, message, _duration in results if outcome == "failed"]
            self.assertFalse(failures, f"round {round_number}: an error reached the user")
            # every snapshot predates the barrier: one user traces, the others are told to try again
            self.assertEqual(outcomes, ["told"] * (USERS - 1) + ["traced"], f"round {round_number}")
            for outcome, message, _duration in results:
                if outcome == "told":
                    self.assertIn("try again in a moment", message)
            counts, reconciliation_count = self._trace_lines()
            self.assertEqual(len(counts), LOTS * LOCATIONS, f"round {round_number}: one line per lot and location")
            self.assertEqual({count for _lot, _location, count in counts}, {1}, f"round {round_number}: duplicates")
            self.assertEqual(reconciliation_count, LOTS)
            durations += [duration for _outcome, _message, duration in results]
        durations.sort()
        _logger.info(
            "Concurrent re-traces (%s users x %s rounds): median %.3f s, p95 %.3f s, max %.3f s",
            USERS,
            ROUNDS,
            durations[len(durations) // 2],
            durations[int(len(durations) * 0.95) - 1],
            durations[-1],
        )

    def test_a_trace_after_the_others_committed_serves_the_fresh_result(self):
        """Users who open the recall after a trace committed trace again normally, one after the other."""
        for _user in range(3):
            results = []
            self._trace(threading.Barrier(1), results)
            self.assertEqual(results[0][0], "traced", results[0][1])
        counts, _reconciliation_count = self._trace_lines()
        self.assertEqual(len(counts), LOTS * LOCATIONS)
        self.assertEqual({count for _lot, _location, count in counts}, {1})
