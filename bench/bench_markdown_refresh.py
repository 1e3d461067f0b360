"""Markdown refresh: one set-based UPDATE vs an ORM loop applying the rules lot by lot.

Ours: ``stock.lot._refresh_markdown(now=...)``, what the daily cron (and every
rule change) runs: every lot of the database takes the first matching rule of
50 (``markdown_rules`` dataset) in one statement.

Core peer: what the ORM would do without it: ``search`` every lot and the
active rules, match them in Python (days and shelf life left from the lots'
computed fields, with "now" frozen by freezegun), then write the changed lots
grouped by (rule, discount) through ``write``, which recomputes the stored
``markdown_price`` by the ORM; flushed.

Data: the ``lots`` dataset (n lots of 5 perishable products, expiring from 60
days before to 400 days after the anchor) and 50 rules. The lots are first
brought to instant A = the anchor and committed; runs then alternate between
B = A + 20 days and A, so that every run (ours and the peer alike) really
changes rows. After each peer run, our refresh at the same instant must change
nothing: both agree, lot by lot, on rule, discount and price.

Target: the query count of ours does not grow with the number of lots; 100,000
lots in a few seconds.

    .venv/bin/python bench/bench_markdown_refresh.py --scale small|full
"""

import tracemalloc
from collections import defaultdict
from datetime import timedelta

import common
import generator
import runner
from freezegun import freeze_time

NAME = "markdown_refresh"
SIZES = {"small": [1_000, 10_000], "full": [1_000, 10_000, 100_000]}
RULES = 50
SHIFT = timedelta(days=20)


def orm_refresh(env, now):
    """The ORM peer (see the module docstring); returns the number of lots written."""
    lot_model = env["stock.lot"]
    rules = env["stock.lot.markdown.rule"].search([])  # by sequence, then id
    scopes = []
    for rule in rules:
        paths = tuple(rule.categ_ids.mapped("parent_path"))
        scopes.append((rule, set(rule.product_ids.ids), paths, not rule.product_ids and not paths))
    lots = lot_model.search([])
    changes = defaultdict(list)
    for lot in lots:
        match = None
        if lot.expiration_date and lot.expiration_date > now:
            for rule, product_ids, paths, for_all in scopes:
                if lot.company_id and lot.company_id != rule.company_id:
                    continue
                if not (
                    for_all
                    or lot.product_id.id in product_ids
                    or lot.product_id.categ_id.parent_path.startswith(paths or ("-",))
                ):
                    continue
                if rule.trigger == "remaining_days":
                    meets = lot.expiration_date < now + timedelta(days=rule.threshold_days + 1)
                else:
                    meets = lot.remaining_shelf_life_ratio <= rule.threshold_ratio
                if meets:
                    match = rule
                    break
        wanted = (match.id if match else False, match.discount if match else 0.0)
        if (lot.markdown_rule_id.id, lot.markdown_discount) != wanted:
            changes[wanted].append(lot.id)
    for (rule_id, discount), lot_ids in changes.items():
        lot_model.browse(lot_ids).write({"markdown_rule_id": rule_id, "markdown_discount": discount})
    env.flush_all()
    return sum(len(lot_ids) for lot_ids in changes.values())


def _peak_mib(fn):
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    return round(peak, 1)


def bench_size(env, n, args):
    generator.lots(env, n, args.seed)
    rules = generator.markdown_rules(env, RULES, args.seed)
    lot_model = env["stock.lot"]
    instant_a = generator.anchor(env)
    instants = [instant_a + SHIFT, instant_a]  # run i uses instants[i % 2]: B, A, B, A, ...
    lot_model._refresh_markdown(now=instant_a)
    env.cr.commit()
    lots_in_db = common.lot_count(env)

    # --- ours ---
    ours_result = common.measure_refresh_at_two_instants(
        env, lambda now: len(lot_model._refresh_markdown(now=now)), instants, runs=args.runs
    )

    # --- peer: the ORM applies the rules ---
    frozen = {}

    def core_setup(i):
        env.invalidate_all()
        frozen["freezer"] = freeze_time(instants[i % 2])
        frozen["freezer"].start()
        return i

    def core(i):
        return orm_refresh(env, instants[i % 2])

    def core_teardown(i, _value):
        frozen["freezer"].stop()
        leftover = lot_model._refresh_markdown(now=instants[i % 2])
        if leftover:
            raise AssertionError(
                f"ORM peer and SQL refresh disagree on {len(leftover)} lots at {instants[i % 2]}, e.g. {leftover[:5]}"
            )
        env.cr.commit()

    core_result = common.measure(env, core, setup=core_setup, teardown=core_teardown, runs=args.runs)

    # memory: one more run of each at B (untimed: tracing slows Python down), then back to A
    env.invalidate_all()
    ours_peak = _peak_mib(lambda: lot_model._refresh_markdown(now=instants[0]))
    lot_model._refresh_markdown(now=instant_a)
    env.invalidate_all()
    with freeze_time(instants[0]):
        core_peak = _peak_mib(lambda: orm_refresh(env, instants[0]))
    lot_model._refresh_markdown(now=instant_a)
    env.cr.commit()

    env.cr.execute("SELECT count(*) FROM stock_lot WHERE markdown_rule_id IS NOT NULL")
    marked_down = env.cr.fetchone()[0]
    row = common.result_row(n, ours_result, core_result, lots_in_db=lots_in_db, rules=len(rules["rule_ids"]))
    row["ours"]["rows_changed"] = ours_result.best.value
    row["core"]["rows_changed"] = core_result.best.value
    row["ours"]["peak_mib"] = ours_peak
    row["core"]["peak_mib"] = core_peak
    row["marked_down_at_anchor"] = marked_down
    return row


BENCHMARK = runner.Benchmark(
    NAME,
    __doc__,
    SIZES,
    bench_size,
    title=f"Markdown refresh ({{scale}}, {RULES} rules): ours = SQL refresh, core = ORM loop and writes",
    columns=(
        *runner.per_side("changed", "rows_changed", runner.thousands),
        *runner.per_side("MiB", "peak_mib"),
        runner.column("lots in db", "lots_in_db", runner.thousands),
        runner.column("marked down", "marked_down_at_anchor", runner.thousands),
    ),
    queries_label="ours queries per refresh",
    results={"rules": RULES, "shift_days": SHIFT.days},
    target={"queries": "constant"},
)


if __name__ == "__main__":
    runner.run(BENCHMARK)
