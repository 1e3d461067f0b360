"""Recall trace: one SQL trace vs Odoo's traceability report with every line opened.

Dataset (``generator.recall_trace``): one lot received from a vendor, moved through
two internal steps (WH/Stock, a zone, WH/Output), then delivered 1 unit to each of
N customers: N + 3 done move lines.

Ours: ``stock.lot.recall.action_trace()`` on a new (mock) recall of that lot: the
recursive query, writing every trace line and the reconciliation (``ours``); and
tracing that recall again with nothing changed (``ours_retrace``: the stored lines
are compared, none rewritten).
Core peers: ``stock.traceability.report`` for the same lot: its one-level report
(``get_main_lines``, what the lot's Traceability button shows: ``core_one_level``,
``ratio_one_level``), and the same with every line opened (``get_lines`` on each
line, and on what that opens), as a user clicking every row would (``core``, ``ratio``).

Also: the FSMA 204 xlsx export of the largest trace (time and tracemalloc peak).

Targets: query count constant in N; at N = 1,000 at least 20x faster than the core
report's full expansion (issue 3) and at least 4x faster than its one-level report;
at N = 10,000 under 300 ms including writing the lines (issue 17).

    .venv/bin/python bench/bench_recall_trace.py --scale small|full
"""

import common
import generator
import runner

NAME = "recall_trace"
SIZES = {"small": [100, 1_000], "full": [100, 1_000, 10_000]}
# The core report at 10,000 customers takes minutes a run: one timed run there.
CORE_RUNS = {100: 3, 1_000: 3, 10_000: 1}


def _core_full_expansion(env, lot):
    report = env["stock.traceability.report"].with_context(active_id=lot.id, model="stock.lot")
    lines = report.get_main_lines({"active_id": lot.id, "model": "stock.lot"})
    todo, seen, total = list(lines), set(), len(lines)
    while todo:
        line = todo.pop()
        if line["model_id"] in seen:
            continue
        seen.add(line["model_id"])
        children = report.get_lines(
            line["id"], model_id=line["model_id"], model_name=line["model"], level=line["level"] + 30
        )
        total += len(children)
        todo.extend(children)
    return total


def _core_one_level(env, lot):
    report = env["stock.traceability.report"].with_context(active_id=lot.id, model="stock.lot")
    return len(report.get_main_lines({"active_id": lot.id, "model": "stock.lot"}))


def bench_size(env, n, args):
    info = generator.recall_trace(env, n, args.seed)
    env.cr.commit()
    lot = env["stock.lot"].browse(info["lot_id"])

    def new_recall(_i):
        """Untimed: a new (mock) recall of the lot, so that the timed trace writes every line."""
        recall = env["stock.lot.recall"].create(
            {"lot_ids": [(6, 0, lot.ids)], "reason": "Benchmark", "is_mock": True, "recall_class": "2"}
        )
        env.flush_all()
        return recall

    def ours(recall):
        recall.action_trace()
        env.flush_all()
        return recall

    def one_level(_arg):
        return _core_one_level(env, lot)

    # ours (a first trace: every line written) and core's one-level report in turns, so that a
    # busy machine slows both alike; then tracing the last recall again (nothing changed)
    measured = common.measure_interleaved(
        env, {"ours": (ours, new_recall, None), "one_level": (one_level, None, None)}, runs=args.runs
    )
    ours_result, one_level_result = measured["ours"], measured["one_level"]
    recall = ours_result.runs[-1].value
    retrace_result = common.measure(env, lambda _arg: ours(recall), runs=args.runs)
    lines_written = env["stock.lot.recall.line"].search_count([("recall_id", "=", recall.id)])

    def core(_arg):
        return _core_full_expansion(env, lot)

    core_result = common.measure(env, core, runs=min(args.runs, CORE_RUNS[n]), warmup=1 if n < 10_000 else 0)
    deliveries = len(recall.line_ids.filtered(lambda line: line.event == "delivery"))
    assert deliveries == n, f"trace found {deliveries} deliveries, expected {n}"
    return common.result_row(
        n,
        ours_result,
        core_result,
        core_one_level=one_level_result.as_json(),
        ratio_one_level=common.ratio(one_level_result, ours_result),
        ours_retrace=retrace_result.as_json(),
        trace_lines=lines_written,
        core_report_lines=core_result.best.value,
        events=info["events"],
    )


def bench_export(env, recall, args):
    """Time without tracemalloc (it slows Python down several times), then the peak in one traced run."""
    export = lambda _arg: len(recall.action_export_xlsx()["url"])  # noqa: E731
    timed = common.measure(env, export, runs=args.runs)
    traced = common.measure(env, export, runs=1, warmup=0, memory=True)
    events = len(recall.line_ids.filtered(lambda line: line.event != "on_hand"))
    return {
        "events": events,
        "ms": round(timed.ms, 1),
        "queries": timed.queries,
        "peak_mib": round(traced.best.peak_mib, 1),
    }


def _finish(env, args, _rows):
    """The xlsx export of the largest trace (the last recall traced), then roll back."""
    lot_id = generator.recall_trace(env, SIZES[args.scale][-1], args.seed)["lot_id"]
    recall = env["stock.lot.recall"].search([("lot_ids", "in", lot_id)], order="id desc", limit=1)
    export = bench_export(env, recall, args)
    env.cr.rollback()
    return {"xlsx_export": export}


def _summary(_args, _rows, info):
    export = info["xlsx_export"]
    print(
        f"FSMA 204 xlsx of {export['events']:,} events: {export['ms'] / 1000:.2f} s, "
        f"{export['queries']} queries, peak {export['peak_mib']} MiB of Python memory (tracemalloc, separate run)"
    )


BENCHMARK = runner.Benchmark(
    NAME,
    __doc__,
    SIZES,
    bench_size,
    title="Recall trace ({scale}): ours = action_trace (SQL), core = traceability report, every line opened",
    columns=(
        runner.column("1-level ms", "core_one_level", lambda side: f"{side['ms']:.1f}"),
        runner.column("1-level ratio", "ratio_one_level", lambda ratio: f"{ratio:.2f}"),
        runner.column("retrace ms", "ours_retrace", lambda side: f"{side['ms']:.1f}"),
        runner.column("trace lines", "trace_lines", runner.thousands),
        runner.column("core lines", "core_report_lines", runner.thousands),
    ),
    finish=_finish,
    queries_label="ours queries per trace",
    summary=_summary,
    target={
        "queries": "constant",
        "ratio_at_1000_at_least": 20,
        "ratio_one_level_at_1000_at_least": 4,
        "ms_at_10000_below": 300,
    },
)


if __name__ == "__main__":
    runner.run(BENCHMARK)
