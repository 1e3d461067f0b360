"""Shelf-life refresh: one set-based UPDATE vs the ORM recomputing the stored field.

Ours: ``stock.lot._refresh_shelf_life_state(now=...)``, the daily cron's work.
Core peer: the same stored compute (``_compute_shelf_life_state``) recomputed by
the ORM on the same lots: ``search``, ``env.add_to_compute``,
``_recompute_recordset`` and flush, with "now" frozen by freezegun (the compute
reads ``fields.Datetime.now()``).

Both work on every lot of the database (the refresh has no domain): the
``lots`` dataset plus the 1,000 lots in stock of the ``quants`` dataset, whose
state does not change between the two instants (so no alert activity is due).
The lots
are first brought to instant A = the dataset anchor and committed; successive
runs then alternate between B = A + 40 days and A, so that every run (ours and
core alike) really changes the same rows. After each core run, the SQL refresh
at the same instant must change nothing: the two agree.

Target (issue): 100,000 lots in under 10 s, with a number of queries that does
not grow with the number of lots.

    .venv/bin/python bench/bench_shelf_life_refresh.py --scale small|full
"""

from datetime import timedelta

import common
import generator
import runner
from freezegun import freeze_time

NAME = "shelf_life_refresh"
SIZES = {"small": [10_000], "full": [1_000, 10_000, 100_000]}
QUANT_LOTS = 1_000  # the quants dataset is always there too, so that both benchmarks see the same database
SHIFT = timedelta(days=40)
TARGET_MS = 10_000
TARGET_N = 100_000


def _states(env):
    env.cr.execute("SELECT id, shelf_life_state FROM stock_lot")
    return dict(env.cr.fetchall())


def bench_size(env, n, args):
    generator.lots(env, n, args.seed)
    generator.quants(env, QUANT_LOTS, args.seed)
    lot_model = env["stock.lot"]
    instant_a = generator.anchor(env)
    instants = [instant_a + SHIFT, instant_a]  # run i uses instants[i % 2]: B, A, B, A, ...
    lot_model._refresh_shelf_life_state(now=instant_a)
    env.cr.commit()
    lots_in_db = common.lot_count(env)

    # --- ours ---
    ours_result = common.measure_refresh_at_two_instants(
        env,
        lambda now: sum(len(ids) for ids in lot_model._refresh_shelf_life_state(now=now).values()),
        instants,
        runs=args.runs,
    )

    # --- core: the ORM recomputes the stored field ---
    field = lot_model._fields["shelf_life_state"]
    frozen = {}

    def core_setup(i):
        env.invalidate_all()
        frozen["before"] = _states(env)
        frozen["freezer"] = freeze_time(instants[i % 2])
        frozen["freezer"].start()
        return i

    def core(_i):
        lots = lot_model.search([])
        env.add_to_compute(field, lots)
        lots._recompute_recordset(["shelf_life_state"])
        lots.flush_recordset(["shelf_life_state"])
        return len(lots)

    def core_teardown(i, _value):
        frozen["freezer"].stop()
        after = _states(env)
        frozen.setdefault("changed", []).append(sum(after[id_] != state for id_, state in frozen["before"].items()))
        # the SQL twin at the same instant must find nothing left to change
        leftover = lot_model._refresh_shelf_life_state(now=instants[i % 2])
        disagree = sum(len(ids) for ids in leftover.values())
        if disagree:
            raise AssertionError(f"ORM compute and SQL refresh disagree on {disagree} lots at {instants[i % 2]}")
        env.cr.commit()

    core_result = common.measure(env, core, setup=core_setup, teardown=core_teardown, runs=args.runs)
    best_core_run = core_result.runs.index(core_result.best) + 1  # +1: the warm-up
    row = common.result_row(n, ours_result, core_result, lots_in_db=lots_in_db)
    row["ours"]["rows_changed"] = ours_result.best.value
    row["core"]["rows_changed"] = frozen["changed"][best_core_run]
    return row


def _summary(_args, rows, _info):
    for row in rows:
        if row["n"] >= TARGET_N:
            verdict = "met" if row["ours"]["ms"] < TARGET_MS else "NOT met"
            print(f"target {TARGET_N:,} lots < {TARGET_MS / 1000:.0f} s: {row['ours']['ms'] / 1000:.2f} s, {verdict}")


BENCHMARK = runner.Benchmark(
    NAME,
    __doc__,
    SIZES,
    bench_size,
    title="Shelf-life refresh ({scale}): ours = SQL refresh, core = ORM recompute of the stored field",
    columns=(
        *runner.per_side("changed", "rows_changed", runner.thousands),
        runner.column("lots in db", "lots_in_db", runner.thousands),
    ),
    queries_label="ours queries per refresh",
    summary=_summary,
    results={"shift_days": SHIFT.days},
    target={"n": TARGET_N, "ours_ms_below": TARGET_MS, "queries": "constant"},
)


if __name__ == "__main__":
    runner.run(BENCHMARK)
