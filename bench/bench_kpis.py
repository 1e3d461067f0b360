"""The Lot Control overview's numbers (get_kpis) vs core's reads of the same figures.

Data: the ``kpis`` dataset, i.e. the ``valuation`` dataset (small: 10,000 lots
and 100,000 layers; full: 100,000 lots and 1,000,000 layers, with as many done
moves and move lines) plus the overview's events on it: n delivery lines
checked for FEFO, scraps, GS1-scanned receipts, lot counts and recalls (see
bench/README.md). In the valuation benchmark's database (``lmc_bench_valuation``
unless ``--db`` is given), so both reuse the million layers.

Before the cases the daily cron keeps the month-end closes (``stock.lot.valuation.snapshot.
_cron_keep_month_ends``, untimed), as on any database in use for a month: the closed months' value
tiles are then read from them. The user is in the company's time zone (the closes' days).

Cases, each ours vs the core peer in the same run (one warm-up, best of three,
turns alternated, ORM cache emptied before every run):

- ``kpis_this_month``: the overview as it opens (PRODUCT.md §7: this month by default):
  ``get_kpis(first of the month, today)``: the valuation now (computed) and at the end of last
  month (its close), every event metric on both periods. Core: as below, at the same two instants.
- ``kpis_30_days``: ours ``stock.lot.kpi.get_kpis(today - 29 days, today)``:
  every tile for the period and the previous 30 days, i.e. the valuation at
  two instants (now and 30 days ago) and every event metric on both periods.
  Core: ``stock.valuation.layer`` grouped by product up to each of the two
  instants (Inventory > Reporting > Valuation, how core values stock at a
  date), plus ``search_count`` of the records behind each event tile
  (``get_kpis``' own drill-down domains) on both periods, through the ORM.
  A rolling period ends on no month end: both instants are computed.
- ``trend_6_months``: ours ``get_kpi_trend(today, months=6)`` (the sparklines:
  six month ends, five of them closed); core the same reads at the six month ends.

Each row records the machine's load averages when its case ended (the machine
may be shared with other work). Checked every time: the inventory value of both instants equals the sum of the
layers up to the same instant (the tie-out), and ours' query count is the same
at every size.

Target (issue 14): 100,000 lots, 1,000,000 layers and 100,000 delivery lines in
under 2 s, with a number of queries that does not grow with the data; read on the overview as it
opens (``kpis_this_month``), the other cases reported beside it.

    .venv/bin/python bench/bench_kpis.py --scale small|full
"""

import os
import time
from datetime import timedelta

import common
import generator
import runner

from odoo import fields
from odoo.tools import SQL

NAME = "kpis"
FULL_LOTS = 100_000
SIZES = {"small": [10_000], "full": [FULL_LOTS]}
KPIS_DB = f"{common.DEFAULT_DB}_valuation"
PERIOD_DAYS = 30
TREND_MONTHS = 6
TARGET_MS = 2_000
# tiles valued from the valuation by lot: core reads the layers for them instead of counting
VALUE_TILES = {"inventory_value", "expired_value", "near_expiry_value", "blocked_value", "obsolescence"}


def _analyze(env):
    for table in ("stock_move", "stock_move_line", "stock_valuation_layer", "stock_lot", "stock_quant"):
        env.cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
    env.cr.execute("ANALYZE stock_lot_count")
    env.cr.commit()


def _layer_total(env, company_id, instant):
    """The layers' value up to ``instant`` (None: every layer) of storable products: core's valuation."""
    env.cr.execute(
        SQL(
            """
            SELECT COALESCE(SUM(svl.value), 0)
              FROM stock_valuation_layer svl
              JOIN product_product product ON product.id = svl.product_id
              JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
             WHERE svl.company_id = %s AND tmpl.is_storable AND %s
            """,
            company_id,
            SQL("svl.create_date <= %s", instant) if instant else SQL("TRUE"),
        )
    )
    return float(env.cr.fetchone()[0])


class Sides:
    """Ours (get_kpis, get_kpi_trend) and the core peer for the company of the dataset."""

    def __init__(self, env):
        self.env = env
        self.kpi = env["stock.lot.kpi"]
        self.company = env.company
        self.today = fields.Date.context_today(self.kpi)
        self.date_from = self.today - timedelta(days=PERIOD_DAYS - 1)
        self.month_from = self.today.replace(day=1)
        self.actions = self._actions(self.date_from)
        self.month_actions = self._actions(self.month_from)
        month_ends = []
        month_end = self.today
        for _index in range(TREND_MONTHS):
            month_ends.append(month_end)
            month_end = month_end.replace(day=1) - timedelta(days=1)
        self.month_ends = month_ends

    def _actions(self, date_from):
        """The drill-down domains of the event tiles of the period ``date_from`` .. today and the one
        before it (untimed: get_kpis builds them)."""
        length = (self.today - date_from).days + 1
        previous_to = date_from - timedelta(days=1)
        previous_from = previous_to - timedelta(days=length - 1)
        return [
            kpi["action"]
            for first, last in ((date_from, self.today), (previous_from, previous_to))
            for kpi in self.kpi.get_kpis(first, last, [self.company.id])
            if kpi["code"] not in VALUE_TILES and kpi["action"]
        ]

    def instant(self, day):
        """The valuation instant of a period ending on ``day`` (None: now), as get_kpis takes it."""
        instant, is_now = self.env["stock.lot.valuation.report"]._resolve_valuation_date(day)
        return None if is_now else instant

    # ours ---------------------------------------------------------------
    def ours_kpis(self, _i, date_from=None):
        kpis = {
            kpi["code"]: kpi for kpi in self.kpi.get_kpis(date_from or self.date_from, self.today, [self.company.id])
        }
        return [kpis["inventory_value"]["value"], kpis["inventory_value"]["previous"]]

    def ours_month(self, i):
        return self.ours_kpis(i, self.month_from)

    def ours_trend(self, _i):
        trend = self.kpi.get_kpi_trend(self.today, [self.company.id], months=TREND_MONTHS)
        return list(reversed(trend["values"]["inventory_value"]))

    # core ---------------------------------------------------------------
    def core_values(self, days):
        layers = self.env["stock.valuation.layer"]
        for day in days:
            domain = [("company_id", "=", self.company.id), ("product_id.is_storable", "=", True)]
            instant = self.instant(day)
            if instant:
                domain.append(("create_date", "<=", instant))
            layers.read_group(domain, ["value:sum", "quantity:sum"], ["product_id"], lazy=False)

    def core_counts(self, actions):
        for action in actions:
            self.env[action["res_model"]].with_context(**action["context"]).search_count(action["domain"])

    def core_kpis(self, _i):
        self.core_values([self.today, self.date_from - timedelta(days=1)])
        self.core_counts(self.actions)

    def core_month(self, _i):
        self.core_values([self.today, self.month_from - timedelta(days=1)])
        self.core_counts(self.month_actions)

    def core_trend(self, _i):
        self.core_values(self.month_ends)
        # the trend's event tiles: one count per tile and month (the actions' domains, per month)
        self.core_counts(self.actions[: len(self.actions) // 2] * TREND_MONTHS)

    def check(self, case, values, days):
        """Each inventory value equals the layers' sum up to its instant."""
        for value, day in zip(values, days, strict=True):
            expected = _layer_total(self.env, self.company.id, self.instant(day))
            if value is None or abs(value - expected) > 0.005:
                raise AssertionError(f"{case}: inventory value {value} at {day} is not the layers' {expected:.2f}")


def _bench_case(env, case, ours, core, runs):
    print(f"kpis: {case} ...", flush=True)

    def setup(i):
        env.invalidate_all()
        return i

    measures = common.measure_interleaved(env, {"ours": (ours, setup, None), "core": (core, setup, None)}, runs=runs)
    print(
        f"  ours {measures['ours'].ms:.0f} ms ({measures['ours'].queries} queries), "
        f"core {measures['core'].ms:.0f} ms ({measures['core'].queries} queries)",
        flush=True,
    )
    return measures


def bench_size(env, n, args):
    data = generator.kpis(env, n, args.seed)
    env.cr.commit()
    # a user in the company's time zone, whose month ends are the closes'
    env = env(context=dict(env.context, tz=env.company.partner_id.tz or "UTC"))
    started = time.perf_counter()
    closes = env["stock.lot.valuation.snapshot"]._cron_keep_month_ends()
    env.cr.commit()
    print(f"kpis: {len(closes)} month-end closes kept in {time.perf_counter() - started:.1f} s", flush=True)
    _analyze(env)
    sides = Sides(env)
    rows = []
    cases = {
        "kpis_this_month": (sides.ours_month, sides.core_month, [sides.today, sides.month_from - timedelta(days=1)]),
        "kpis_30_days": (sides.ours_kpis, sides.core_kpis, [sides.today, sides.date_from - timedelta(days=1)]),
        "trend_6_months": (sides.ours_trend, sides.core_trend, sides.month_ends),
    }
    for case, (ours, core, days) in cases.items():
        measures = _bench_case(env, case, ours, core, args.runs)
        sides.check(case, measures["ours"].best.value, days)
        rows.append(
            common.result_row(
                n,
                measures["ours"],
                measures["core"],
                case=case,
                layers=data["layers"],
                fefo_lines=data["fefo_lines"],
                instants=len(days),
                # the machine is shared: the 1, 5 and 15 minute load averages when the case ended
                load_average=[round(load, 2) for load in os.getloadavg()],
            )
        )
    env.cr.rollback()
    return rows


def _summary(_args, rows, _info):
    for row in rows:
        if row["case"] == "kpis_this_month" and row["n"] >= FULL_LOTS:
            verdict = "met" if row["ours"]["ms"] < TARGET_MS else "NOT met"
            print(
                f"target get_kpis on {row['n']:,} lots, {row['layers']:,} layers, {row['fefo_lines']:,} delivery "
                f"lines < {TARGET_MS / 1000:.0f} s: {row['ours']['ms'] / 1000:.2f} s, "
                f"{row['ours']['queries']} queries, {verdict}"
            )


BENCHMARK = runner.Benchmark(
    NAME,
    __doc__,
    SIZES,
    bench_size,
    title="Lot Control overview ({scale}): ours = get_kpis / get_kpi_trend, core = layers read_group + search_count",
    columns=(runner.column("case", "case"), runner.column("instants", "instants")),
    queries_label="ours queries",
    summary=_summary,
    results={"period_days": PERIOD_DAYS, "trend_months": TREND_MONTHS},
    target={"lots": FULL_LOTS, "layers": 1_000_000, "delivery_lines": 100_000, "ours_ms_below": TARGET_MS},
    db=KPIS_DB,
)


if __name__ == "__main__":
    runner.run(BENCHMARK)
