"""FSMA 204 records of a year of one product: ours vs Odoo's list export of the same move lines.

Dataset (``generator.fsma_records``): one product's lots received from a vendor and
delivered one unit at a time to 200 customers over the 365 days before the anchor,
N events (N // 100 lots); its own product per size.

Ours: ``stock.lot.fsma.wizard.action_export_xlsx()`` for that product and year: one
SQL statement whose rows are fetched in batches (server-side cursor), written by
xlsxwriter in constant-memory mode to a temporary file, stored as the attachment
in chunks. Core peer: what a user gets from Odoo without us: the Moves Analysis
list (``stock.move.line``) filtered on the product, done, in the range, exported
to xlsx with the same columns (``export_data`` + web's ``ExportXlsxWriter``).

Measured per size: time and queries (best of 3 after a warm-up, run in turns);
then, in separate runs of each side, Python's peak (tracemalloc) and the rise of
the process's resident memory (RSS sampled every 5 ms), so that memory can be
compared between sizes: ours must not grow with the events. The load average is
recorded (the machine is shared).

Target (issue 16): 100,000 events in at most 20 s, memory bounded, query count
independent of the number of events.

    .venv/bin/python bench/bench_fsma.py --scale small|full
"""

import io
import math
from datetime import date

import common
import generator
import openpyxl
import runner

NAME = "fsma"
SIZES = {"small": [1_000, 10_000], "full": [10_000, 100_000]}
CORE_COLUMNS = [
    ("date", "datetime"),
    ("lot_id/name", "char"),
    ("lot_id/supplier_lot_name", "char"),
    ("product_id/display_name", "char"),
    ("quantity", "float"),
    ("product_uom_id/name", "char"),
    ("location_id/complete_name", "char"),
    ("location_dest_id/complete_name", "char"),
    ("picking_partner_id/display_name", "char"),
    ("reference", "char"),
    ("picking_id/origin", "char"),
]


def _core_export(env, domain):
    """Odoo's list export of the move lines to xlsx, as a user would run it from Moves Analysis."""
    lines = env["stock.move.line"].search(domain, order="date, id")
    return common.list_export_xlsx(env, lines, CORE_COLUMNS)[0]


def _records_in(env, action):
    attachment = env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
    with io.BytesIO(attachment.raw) as content:
        workbook = openpyxl.load_workbook(content, read_only=True)
        rows = workbook.worksheets[0].max_row - 1
        workbook.close()
    return rows, attachment.file_size


def bench_size(env, n, args):
    from odoo.addons.lot_margin_control.report.streaming import FETCH_SIZE

    info = generator.fsma_records(env, n, args.seed)
    env.cr.commit()
    date_from, date_to = date.fromisoformat(info["date_from"]), date.fromisoformat(info["date_to"])
    env.user.tz = "UTC"
    wizard = env["stock.lot.fsma.wizard"].create(
        {"product_ids": [(6, 0, [info["product_id"]])], "date_from": date_from, "date_to": date_to}
    )
    env.cr.commit()
    start, end = wizard._get_utc_bounds()
    domain = [
        ("product_id", "=", info["product_id"]),
        ("state", "=", "done"),
        ("lot_id", "!=", False),
        ("company_id", "=", env.company.id),
        ("date", ">=", start),
        ("date", "<", end),
    ]

    def ours(_arg):
        return wizard.action_export_xlsx()

    def core(_arg):
        return _core_export(env, domain)

    def rollback(_i, _value):
        env.cr.rollback()  # drop the attachment (its file is collected by Odoo's file store GC)
        env.invalidate_all()

    load_before = common.load_average()
    sides = common.measure_interleaved(
        env, {"ours": (ours, None, rollback), "core": (core, None, rollback)}, runs=args.runs
    )
    records, file_size = _records_in(env, ours(None))
    env.cr.rollback()
    core_rows = core(None)
    env.cr.rollback()
    assert records == info["events"] == core_rows, (records, info["events"], core_rows)
    # memory: separate runs (tracemalloc slows Python down; RSS sampling does not)
    traced = {
        name: common.measure(env, fn, teardown=rollback, runs=1, warmup=0, memory=True)
        for name, fn in (("ours", ours), ("core", core))
    }
    rss = {}
    for name, fn in (("ours", ours), ("core", core)):
        _value, rss[name] = common.rss_peak_delta(lambda fn=fn: fn(None))
        rollback(None, None)
    row = common.result_row(
        info["events"],
        sides["ours"],
        sides["core"],
        lots=info["lots"],
        file_kib=round(file_size / 1024, 1),
        fetches=math.ceil(info["events"] / FETCH_SIZE) + 1,
        load_average={"before": load_before, "after": common.load_average()},
    )
    for name in ("ours", "core"):
        row[name]["peak_mib"] = round(traced[name].best.peak_mib, 1)
        row[name]["rss_rise_mib"] = round(rss[name], 1)
    return row


def _summary(_args, rows, _info):
    largest = rows[-1]
    verdict = "met" if largest["ours"]["ms"] <= 20_000 else "MISSED"
    peaks = ", ".join(f"{row['n']:,}: {row['ours']['peak_mib']} MiB" for row in rows)
    rss = ", ".join(f"{row['n']:,}: {row['ours']['rss_rise_mib']} MiB" for row in rows)
    print(
        f"FSMA records of {largest['n']:,} events: {largest['ours']['ms'] / 1000:.2f} s (target 20 s: {verdict}), "
        f"{largest['ours']['queries']} queries; Python peak {peaks}; RSS rise {rss}; "
        f"load {largest['load_average']}"
    )


BENCHMARK = runner.Benchmark(
    NAME,
    __doc__,
    SIZES,
    bench_size,
    title="FSMA 204 records ({scale}): ours = stock.lot.fsma.wizard.action_export_xlsx, "
    "core = stock.move.line export_data + ExportXlsxWriter",
    columns=(
        *runner.per_side("peak MiB", "peak_mib"),
        *runner.per_side("RSS+ MiB", "rss_rise_mib"),
        runner.column("file KiB", "file_kib"),
        runner.column("fetches", "fetches"),
    ),
    queries_label="ours queries per export",
    summary=_summary,
    target={"queries": "constant", "ms_at_100000_events_below": 20_000, "memory": "bounded (not growing with n)"},
)


if __name__ == "__main__":
    runner.run(BENCHMARK)
