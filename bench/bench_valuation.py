"""Inventory valuation by lot as of a date vs core's valuation reads on the same lots.

Data: the ``valuation`` dataset (small: 10,000 lots and 100,000 layers; full:
100,000 lots and 1,000,000 layers, with as many done moves and move lines), in
its own scratch database (``lmc_bench_valuation`` unless ``--db`` is given):
the shelf-life refresh benchmark works on every lot of its database, these
lots must not weigh on it.

Cases, each ours vs the core peer on the dataset's products, in the same run
(one warm-up, best of three, turns alternated; ORM cache emptied before every
run), then one more run of each side under tracemalloc for the peak memory:

- ``today_quant_value``: ours ``stock.lot.valuation.report.search_read`` of
  the list view's fields, as of now; core: ``stock.quant.search_read`` of
  ``value`` (what the Inventory > Stock list shows, not date-aware).
- ``today_lot_total_value``: ours as above; core: ``stock.lot.search_read`` of
  ``total_value`` (stock_account's per-lot value).
- ``past_lot_total_value``: ours as of the anchor - 90 days; core: the same
  read with context ``to_date`` (how stock_account values a lot at a date).
- ``pivot_today`` / ``pivot_past``: ours ``read_group`` by category and
  expiry bucket (the pivot view); core: ``stock.valuation.layer`` grouped by
  product up to the same instant (Inventory > Reporting > Valuation).
- ``xlsx``: ours the wizard's ``action_export_xlsx`` of every row; core:
  Odoo's list export of the quants (``export_data`` of product, lot, location,
  quantity and value, written by ``ExportXlsxWriter``).

Checked every time: our total equals the sum of the layers up to the same
instant (the tie-out), and our row count.

Targets (issue): the report of 100,000 lots under 5 s; the spreadsheet of
100,000 rows under 20 s and 500 MB.

    .venv/bin/python bench/bench_valuation.py --scale small|full
"""

from datetime import timedelta

import common
import generator
import runner

from odoo import Command
from odoo.tools import SQL

NAME = "valuation"
FULL_LOTS = 100_000
SIZES = {"small": [10_000], "full": [FULL_LOTS]}
VALUATION_DB = f"{common.DEFAULT_DB}_valuation"
PAST_DAYS = 90
LIST_FIELDS = [
    "product_id",
    "lot_id",
    "warehouse_id",
    "location_id",
    "expiration_date",
    "remaining_shelf_life_days",
    "shelf_life_state",
    "quality_state",
    "quantity",
    "uom_id",
    "unit_cost",
    "value",
    "valuation_basis",
    "markdown_exposure",
    "currency_id",
]
# the list view's first page, as the web client asks for it
LIST_PAGE = 80
MANY2ONE = {"fields": {"display_name": {}}}
LIST_SPEC = {fname: MANY2ONE if fname.endswith("_id") else {} for fname in LIST_FIELDS}
QUANT_LIST_SPEC = {
    "product_id": MANY2ONE,
    "lot_id": MANY2ONE,
    "location_id": MANY2ONE,
    "quantity": {},
    "product_uom_id": MANY2ONE,
    "currency_id": MANY2ONE,
}
LOT_LIST_SPEC = {"name": {}, "product_id": MANY2ONE, "product_qty": {}, "total_value": {}, "expiration_date": {}}
TARGET_MS = 5_000
TARGET_XLSX_MS = 20_000
TARGET_XLSX_MIB = 500


def _analyze(env):
    for table in ("stock_move", "stock_move_line", "stock_valuation_layer", "stock_lot", "stock_quant"):
        env.cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
    env.cr.commit()


def _layer_total(env, product_ids, instant=None):
    env.cr.execute(
        SQL(
            "SELECT COALESCE(SUM(value), 0) FROM stock_valuation_layer WHERE product_id = ANY(%s) AND %s",
            product_ids,
            SQL("create_date <= %s", instant) if instant else SQL("TRUE"),
        )
    )
    return env.cr.fetchone()[0]


def _compare(env, sides, runs):
    """Time both sides interleaved, then one traced run each; returns name -> Measure with its peak."""
    timed = common.measure_interleaved(env, sides, runs=runs)
    for name, (fn, setup, teardown) in sides.items():
        traced = common.measure(env, fn, setup=setup, teardown=teardown, runs=1, warmup=0, memory=True)
        timed[name].best.peak_mib = traced.best.peak_mib
    return timed


def _fresh_cache(env):
    def setup(i):
        env.invalidate_all()
        return i

    return setup


def _core_xlsx(env, product_ids):
    """Odoo's own list export of the quants to xlsx (web's ExportXlsxWriter), as a user would run it."""
    quants = env["stock.quant"].search([("product_id", "in", product_ids), ("location_id.usage", "=", "internal")])
    columns = [
        ("product_id/display_name", "char"),
        ("lot_id/name", "char"),
        ("location_id/complete_name", "char"),
        ("quantity", "float"),
        ("value", "monetary"),
    ]
    return common.list_export_xlsx(env, quants, columns)


class Sides:
    """What each case times: ours (the report) and the core peer, on the dataset's products."""

    def __init__(self, env, product_ids, past_date):
        self.env = env
        self.product_ids = product_ids
        self.report = env["stock.lot.valuation.report"]
        self.domain = [("company_id", "=", env.company.id), ("product_id", "in", product_ids)]
        self.past_context = {"valuation_date": past_date.isoformat()}
        self.past_instant, _is_now = self.report.with_context(**self.past_context)._get_valuation_datetime()
        self.quant_domain = [("product_id", "in", product_ids), ("location_id.usage", "=", "internal")]

    # ours ---------------------------------------------------------------
    def ours_all_rows(self, context):
        def run(_i):
            rows = self.report.with_context(**context).search_read(self.domain, LIST_FIELDS)
            return len(rows), sum(row["value"] for row in rows)

        return run

    def ours_list(self, context):
        def run(_i):
            page = self.report.with_context(**context).web_search_read(self.domain, LIST_SPEC, limit=LIST_PAGE)
            return page["length"], None

        return run

    def ours_pivot(self, context):
        def run(_i):
            groups = self.report.with_context(**context).read_group(
                self.domain, ["value:sum"], ["product_categ_id", "expiry_bucket"], lazy=False
            )
            return len(groups), sum(group["value"] for group in groups)

        return run

    # core ---------------------------------------------------------------
    def core_quants(self, _i):
        rows = self.env["stock.quant"].search_read(self.quant_domain, ["value"])
        return len(rows), None

    def core_lots(self, instant):
        def run(_i):
            lots = self.env["stock.lot"].with_context(to_date=instant) if instant else self.env["stock.lot"]
            rows = lots.search_read([("product_id", "in", self.product_ids)], ["total_value"])
            return len(rows), None

        return run

    def core_quant_list(self, _i):
        spec = {**QUANT_LIST_SPEC, "value": {}}
        page = self.env["stock.quant"].web_search_read(self.quant_domain, spec, limit=LIST_PAGE)
        return page["length"], None

    def core_lot_list_past(self, _i):
        lots = self.env["stock.lot"].with_context(to_date=self.past_instant)
        page = lots.web_search_read([("product_id", "in", self.product_ids)], LOT_LIST_SPEC, limit=LIST_PAGE)
        return page["length"], None

    def core_pivot(self, instant):
        def run(_i):
            layer_domain = [("product_id", "in", self.product_ids)]
            if instant:
                layer_domain.append(("create_date", "<=", instant))
            groups = self.env["stock.valuation.layer"].read_group(
                layer_domain, ["value:sum", "quantity:sum"], ["product_id"], lazy=False
            )
            return len(groups), sum(group["value"] for group in groups)

        return run

    def cases(self):
        """case -> (ours, core, as-of instant of the tie-out check)."""
        past = self.past_instant
        return {
            "list_today": (self.ours_list({}), self.core_quant_list, None),
            "list_past": (self.ours_list(self.past_context), self.core_lot_list_past, past),
            "pivot_today": (self.ours_pivot({}), self.core_pivot(None), None),
            "pivot_past": (self.ours_pivot(self.past_context), self.core_pivot(past), past),
            "all_rows_today_quant_value": (self.ours_all_rows({}), self.core_quants, None),
            "all_rows_today_lot_total_value": (self.ours_all_rows({}), self.core_lots(None), None),
            "all_rows_past_lot_total_value": (self.ours_all_rows(self.past_context), self.core_lots(past), past),
        }


def _bench_case(env, sides, case, ours, core, instant, runs):
    print(f"valuation: {case} ...", flush=True)
    setup = _fresh_cache(env)
    measures = _compare(env, {"ours": (ours, setup, None), "core": (core, setup, None)}, runs)
    count, total = measures["ours"].best.value
    extra = {}
    if total is not None:
        expected = float(_layer_total(env, sides.product_ids, instant))
        if abs(total - expected) > 0.005:
            raise AssertionError(f"{case}: report total {total:.2f} does not tie out to the layers {expected:.2f}")
        extra = {"total_value": round(total, 2), "layers_total": round(expected, 2)}
    print(f"  ours {measures['ours'].ms:.0f} ms, core {measures['core'].ms:.0f} ms, {count:,} rows", flush=True)
    return common.result_row(count, measures["ours"], measures["core"], case=case, **extra)


def _bench_xlsx(env, sides, runs):
    """Our spreadsheet of every row of the dataset vs Odoo's list export of the quants."""
    print("valuation: xlsx ...", flush=True)
    categories = env["product.product"].browse(sides.product_ids).categ_id
    wizard = env["stock.lot.valuation.wizard"].create({"categ_ids": [Command.set(categories.ids)]})
    env.cr.commit()

    def ours(_i):
        action = wizard.action_export_xlsx()
        return env["ir.attachment"].browse(int(action["url"].split("/web/content/")[1].split("?")[0]))

    def drop_attachment(_i, attachment):
        attachment.unlink()

    def core(_i):
        return _core_xlsx(env, sides.product_ids)

    setup = _fresh_cache(env)
    measures = _compare(env, {"ours": (ours, setup, drop_attachment), "core": (core, setup, None)}, runs)
    rows = sides.report.search_count(sides.domain)
    print(f"  ours {measures['ours'].ms:.0f} ms, core {measures['core'].ms:.0f} ms, {rows:,} rows", flush=True)
    return common.result_row(rows, measures["ours"], measures["core"], case="xlsx")


def bench_size(env, n, args):
    """Every case (or those of ``--cases``) on the ``valuation`` dataset of ``n`` lots: one row each."""
    data = generator.valuation(env, n, args.seed)
    env.cr.commit()
    _analyze(env)
    past_date = (generator.anchor(env) - timedelta(days=PAST_DAYS)).date()
    sides = Sides(env, data["product_ids"], past_date)
    rows = []
    for case, (ours, core, instant) in sides.cases().items():
        if not args.cases or case in args.cases:
            rows.append(_bench_case(env, sides, case, ours, core, instant, args.runs))
    if not args.cases or "xlsx" in args.cases:
        rows.append(_bench_xlsx(env, sides, args.runs))
    env.cr.rollback()
    return rows


def _finish(env, args, _rows):
    n = SIZES[args.scale][0]
    return {"lots": n, "layers": generator.valuation(env, n, args.seed)["layers"]}


def _summary(_args, rows, info):
    n = info["lots"]
    for row in rows:
        if row["case"] == "xlsx":
            if row["n"] >= FULL_LOTS:
                ok = row["ours"]["ms"] < TARGET_XLSX_MS and row["ours"]["peak_mib"] < TARGET_XLSX_MIB
                print(
                    f"target xlsx {row['n']:,} rows < {TARGET_XLSX_MS / 1000:.0f} s and < {TARGET_XLSX_MIB} MB: "
                    f"{row['ours']['ms'] / 1000:.2f} s, {row['ours']['peak_mib']:.0f} MiB, {'met' if ok else 'NOT met'}"
                )
        elif n >= FULL_LOTS:
            verdict = "met" if row["ours"]["ms"] < TARGET_MS else "NOT met"
            seconds = row["ours"]["ms"] / 1000
            print(f"target {n:,} lots < {TARGET_MS / 1000:.0f} s ({row['case']}): {seconds:.2f} s, {verdict}")


def _options(parser):
    parser.add_argument(
        "--cases", type=lambda value: value.split(","), default=[], help="only these cases (comma-separated)"
    )


BENCHMARK = runner.Benchmark(
    NAME,
    __doc__,
    SIZES,
    bench_size,
    label=None,  # one size; _bench_case announces each case
    title="Valuation by lot ({scale}, {lots:,} lots, {layers:,} layers): ours = report, core = peer",
    columns=(runner.column("case", "case"), *runner.per_side("MiB", "peak_mib")),
    finish=_finish,
    summary=_summary,
    results={"past_days": PAST_DAYS},
    target={
        "lots": FULL_LOTS,
        "ours_ms_below": TARGET_MS,
        "xlsx_ms_below": TARGET_XLSX_MS,
        "xlsx_peak_mib_below": TARGET_XLSX_MIB,
    },
    db=VALUATION_DB,
    options=_options,
)


if __name__ == "__main__":
    runner.run(BENCHMARK)
