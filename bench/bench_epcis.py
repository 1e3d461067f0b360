"""EPCIS 2.0 export of a recall's trace: ours vs Odoo's traceability report of the same lot.

Dataset (``generator.recall_trace``): one lot received from a vendor, moved through
two internal steps, then delivered 1 unit to each of N customers: N + 3 events.
The product has an EAN-13, so lots are identified by GS1 Digital Link.

Ours: ``stock.lot.recall.action_export_epcis()`` on a traced (mock) recall of that
lot: one SQL statement for every event, the document written event by event, the
attachment created. Time and queries (best of 3 after a warm-up), then Python's
peak memory in a separate run (tracemalloc slows Python down) and the rise of the
process's resident memory in another (``common.rss_peak_delta``), and the largest
document validated once against GS1's EPCIS 2.0 JSON schema (outside the timing).
Core peer: ``stock.traceability.report.get_main_lines`` for the same lot, the
screen that lists every done move line of a lot (core has no EPCIS export).

Target (issue 16): 10,000 events in at most 3 s, memory bounded, query count
independent of the number of events.

    .venv/bin/python bench/bench_epcis.py --scale small|full
"""

import json
from pathlib import Path

import common
import generator
import runner

NAME = "epcis"
SIZES = {"small": [100, 1_000], "full": [100, 1_000, 10_000]}
EAN13 = "4006381333931"
SCHEMA = Path(__file__).parent.parent / "lot_margin_control" / "tests" / "data" / "epcis" / "EPCIS-JSON-Schema.json"


def _recall(env, n, seed):
    info = generator.recall_trace(env, n, seed)
    lot = env["stock.lot"].browse(info["lot_id"])
    if lot.product_id.barcode != EAN13:
        lot.product_id.barcode = EAN13
    recall = env["stock.lot.recall"].search([("lot_ids", "in", lot.ids), ("is_mock", "=", True)], limit=1)
    if not recall:
        recall = env["stock.lot.recall"].create(
            {"lot_ids": [(6, 0, lot.ids)], "reason": "Benchmark", "is_mock": True, "recall_class": "2"}
        )
    recall.action_trace()
    env.cr.commit()
    return info, lot, recall


def _document(env, action):
    attachment = env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
    return attachment.raw


def _validate(raw):
    """Errors of the document against GS1's schema (jsonschema, formats checked); None when jsonschema is missing."""
    try:
        import jsonschema  # a test dependency (requirements-dev.txt), not the addon's
    except ImportError:
        return None
    validator = jsonschema.Draft7Validator(
        json.loads(SCHEMA.read_text()), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    return sum(1 for _error in validator.iter_errors(json.loads(raw)))


def bench_size(env, n, args):
    info, lot, recall = _recall(env, n, args.seed)

    def ours(_arg):
        return len(_document(env, recall.action_export_epcis()))

    def core(_arg):
        report = env["stock.traceability.report"].with_context(active_id=lot.id, model="stock.lot")
        return len(report.get_main_lines({"active_id": lot.id, "model": "stock.lot"}))

    def rollback(_i, _value):
        env.cr.rollback()  # drop the attachment
        env.invalidate_all()

    sides = common.measure_interleaved(
        env, {"ours": (ours, None, rollback), "core": (core, None, None)}, runs=args.runs
    )

    # memory of the export alone (not of reading the document back, as ``ours`` does to check it)
    def export(_arg):
        return recall.action_export_epcis()

    traced = common.measure(env, export, teardown=rollback, runs=1, warmup=0, memory=True)
    _value, rss_rise = common.rss_peak_delta(lambda: export(None))
    rollback(None, None)
    raw = _document(env, recall.action_export_epcis())
    document = json.loads(raw)
    events = len(document["epcisBody"]["eventList"])
    assert events == info["events"], f"{events} events, expected {info['events']}"
    errors = _validate(raw) if n == SIZES[args.scale][-1] else "not checked"
    env.cr.rollback()
    row = common.result_row(
        info["events"],
        sides["ours"],
        sides["core"],
        document_kib=round(len(raw) / 1024, 1),
        peak_mib=round(traced.best.peak_mib, 1),
        rss_rise_mib=round(rss_rise, 1),
        load_average=common.load_average(),
        schema_errors=errors,
        core_lines=sides["core"].best.value,
    )
    return row


def _summary(_args, rows, _info):
    largest = rows[-1]
    verdict = "met" if largest["ours"]["ms"] <= 3000 else "MISSED"
    print(
        f"EPCIS of {largest['n']:,} events: {largest['ours']['ms'] / 1000:.2f} s (target 3 s: {verdict}), "
        f"{largest['ours']['queries']} queries, {largest['document_kib']:,} KiB, "
        f"Python peak {largest['peak_mib']} MiB, schema errors: {largest['schema_errors']}"
    )


BENCHMARK = runner.Benchmark(
    NAME,
    __doc__,
    SIZES,
    bench_size,
    title="EPCIS 2.0 export ({scale}): ours = recall.action_export_epcis, core = traceability report main lines",
    columns=(
        runner.column("KiB", "document_kib"),
        runner.column("peak MiB", "peak_mib"),
        runner.column("RSS+ MiB", "rss_rise_mib"),
        runner.column("schema errors", "schema_errors"),
    ),
    queries_label="ours queries per export",
    summary=_summary,
    target={"queries": "constant", "ms_at_10000_events_below": 3000},
)


if __name__ == "__main__":
    runner.run(BENCHMARK)
