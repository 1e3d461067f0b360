"""Expiry risk refresh: a set-based upsert vs an ORM loop computing the same numbers.

Ours: ``stock.lot._refresh_expiry_risk(now=...)``, what the daily cron (and the
*Refresh* button) runs: every lot's demand, FEFO queue ahead, projected unsold
quantity, sell-out date and value at risk per warehouse, written to the narrow
``stock_lot_expiry_risk`` table in four queries (the past days' demand summed, lock, session
settings, one statement).

Core peer: what the ORM would do without it: read the quants in internal
locations of a warehouse, the done customer deliveries and returns in the
demand window (``search_read``), then compute, per lot and warehouse in Python,
the same figures (PRODUCT.md §9). It writes nothing: after each peer run its
numbers are compared with the ones ours stored, lot by lot.

Each run of ours is a transaction of its own and finds the risk table as the previous night's
refresh left it a day later (committed, the row versions it replaced reclaimed by autovacuum:
``common.settle``, untimed), as the nightly cron does; the daily demand kept per day
(``stock.lot.demand.day``) is summed from the dataset's move lines when it is built, as a
module update sums an existing database's.

Data: the ``expiry_risk`` dataset (n lots of 20 products with stock in WH/Stock,
10 n done move lines over 180 days). Runs alternate between the anchor A and
A + 1 day, so that every run of ours really changes rows.

Target: 100,000 lots and 1,000,000 move lines in at most 2 s, with a query
count that does not grow with the data.

    .venv/bin/python bench/bench_expiry_risk.py --scale small|full
"""

from collections import defaultdict
from datetime import timedelta

import common
import generator
import runner

NAME = "expiry_risk"
SIZES = {"small": [1_000, 10_000], "full": [1_000, 10_000, 100_000]}
SHIFT = timedelta(days=1)


def orm_risk(env, now):
    """The ORM peer: ``{lot_id: (demand, ahead, unsold)}`` at ``now`` (see the module docstring)."""
    window = env.company.lot_demand_window_days
    quants = env["stock.quant"].search_read(
        [("lot_id", "!=", False), ("location_id.usage", "=", "internal"), ("location_id.warehouse_id", "!=", False)],
        ["lot_id", "product_id", "location_id", "quantity"],
    )
    warehouse_of = {
        location.id: location.warehouse_id.id
        for location in env["stock.location"].search([("usage", "=", "internal"), ("warehouse_id", "!=", False)])
    }
    on_hand = defaultdict(float)
    for quant in quants:
        on_hand[(quant["lot_id"][0], quant["product_id"][0], warehouse_of[quant["location_id"][0]])] += quant[
            "quantity"
        ]
    lines = env["stock.move.line"].search_read(
        [
            ("state", "=", "done"),
            ("date", ">", now - timedelta(days=window)),
            ("date", "<=", now),
            "|",
            "&",
            ("location_id.usage", "=", "internal"),
            ("location_dest_id.usage", "=", "customer"),
            "&",
            ("location_id.usage", "=", "customer"),
            ("location_dest_id.usage", "=", "internal"),
        ],
        ["product_id", "location_id", "location_dest_id", "quantity_product_uom"],
    )
    shipped = defaultdict(float)
    for line in lines:
        source = line["location_id"][0]
        if source in warehouse_of:
            shipped[(line["product_id"][0], warehouse_of[source])] += line["quantity_product_uom"]
        else:
            shipped[(line["product_id"][0], warehouse_of.get(line["location_dest_id"][0]))] -= line[
                "quantity_product_uom"
            ]
    lots = {lot.id: lot for lot in env["stock.lot"].browse({lot_id for lot_id, _product, _warehouse in on_hand})}
    queues = defaultdict(list)
    for (lot_id, product_id, warehouse_id), qty in on_hand.items():
        if qty > 0:
            queues[(product_id, warehouse_id)].append((lot_id, qty))
    result = defaultdict(lambda: [0.0, 0.0, 0.0])
    for (product_id, warehouse_id), queue in queues.items():
        demand = max(shipped.get((product_id, warehouse_id), 0.0), 0.0) / window
        queue.sort(key=lambda item: (lots[item[0]].removal_date or lots[item[0]].expiration_date or now.max, item[0]))
        ahead = 0.0
        for lot_id, qty in queue:
            lot = lots[lot_id]
            unsold = 0.0
            if lot.expiration_date:
                days_left = (lot.expiration_date - now).days
                unsold = qty - min(max(demand * days_left - ahead, 0.0), qty)
            totals = result[lot_id]
            totals[0] += demand
            totals[1] += ahead
            totals[2] += unsold
            if lot.quality_state == "released" and (not lot.expiration_date or lot.expiration_date > now):
                ahead += qty
    return result


def bench_size(env, n, args):
    generator.expiry_risk(env, n, args.seed)
    env.cr.execute("ANALYZE stock_move_line")  # the dataset's compaction analyses lots and quants only
    lot_model = env["stock.lot"]
    instant_a = generator.anchor(env)
    instants = [instant_a + SHIFT, instant_a]
    lot_model._refresh_expiry_risk(now=instant_a)
    env.cr.commit()
    lots_in_db = common.lot_count(env)

    ours_result = common.measure_refresh_at_two_instants(
        env,
        lambda now: len(lot_model._refresh_expiry_risk(now=now)),
        instants,
        runs=args.runs,
        settle_tables=("stock_lot_expiry_risk",),
    )

    def core_setup(i):
        env.invalidate_all()
        return i

    def core(_i):
        return orm_risk(env, instant_a)

    def core_teardown(_i, computed):
        env.cr.execute(
            "SELECT lot_id, SUM(demand_daily_qty), SUM(fefo_ahead_qty), SUM(projected_unsold_qty)"
            " FROM stock_lot_expiry_risk GROUP BY lot_id"
        )
        stored = {
            lot_id: (float(demand), float(ahead), float(unsold)) for lot_id, demand, ahead, unsold in env.cr.fetchall()
        }
        disagree = [
            lot_id
            for lot_id in stored.keys() | computed.keys()
            if any(
                abs(value - wanted) > 1e-6
                for value, wanted in zip(
                    stored.get(lot_id, (0.0, 0.0, 0.0)), computed.get(lot_id, (0.0, 0.0, 0.0)), strict=True
                )
            )
        ]
        if disagree:
            raise AssertionError(f"ORM peer and SQL refresh disagree on {len(disagree)} lots, e.g. {disagree[:5]}")

    core_result = common.measure(env, core, setup=core_setup, teardown=core_teardown, runs=args.runs)
    env.cr.execute("SELECT count(DISTINCT lot_id) FROM stock_lot_expiry_risk WHERE projected_unsold_qty > 0")
    at_risk = env.cr.fetchone()[0]
    env.cr.execute("SELECT count(*) FROM stock_move_line")
    move_lines = env.cr.fetchone()[0]
    row = common.result_row(n, ours_result, core_result, lots_in_db=lots_in_db, move_lines=move_lines)
    row["ours"]["rows_changed"] = ours_result.best.value
    row["at_risk"] = at_risk
    return row


BENCHMARK = runner.Benchmark(
    NAME,
    __doc__,
    SIZES,
    bench_size,
    title="Expiry risk refresh ({scale}): ours = SQL refresh, core = ORM reads and a Python loop",
    columns=(
        *runner.per_side("changed", "rows_changed", runner.thousands),
        runner.column("lots in db", "lots_in_db", runner.thousands),
        runner.column("move lines", "move_lines", runner.thousands),
        runner.column("at risk", "at_risk", runner.thousands),
    ),
    queries_label="ours queries per refresh",
    results={"shift_days": SHIFT.days},
    target={"ms": 2000, "queries": "constant"},
)


if __name__ == "__main__":
    runner.run(BENCHMARK)
