"""Shared helpers of the benchmarks: Odoo environment, timing, results.

Every benchmark script declares a :class:`runner.Benchmark` and calls
:func:`runner.run`, which parses the options (:func:`parse_args`), prepares the
scratch database, opens the environment (:func:`odoo_env`), prints the table
(:func:`print_table`) and writes ``bench/results/<name>.json``
(:func:`write_results`). The script's own ``bench_size`` asks :mod:`generator`
for its dataset and times ours and the core peer with :func:`measure` (one
warm-up, then the best of three runs; SQL queries counted with the cursor's
``sql_log_count``; optional tracemalloc peak).

See bench/README.md and /work/shared/docs/BENCH.md for the result format.
"""

import argparse
import contextlib
import json
import os
import subprocess
import threading
import time
import tracemalloc
import types
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg2

import odoo
import odoo.http
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import SQL

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
STATE_DIR = Path(os.environ.get("LMC_STATE", REPO_ROOT / ".local"))

DEFAULT_DB = os.environ.get("LMC_BENCH_DB", "lmc_bench")
DEFAULT_SEED = 42

# A clock freezegun cannot reach: it swaps module attributes that *are* the real
# time functions, and a bound ``__call__`` is another object (Odoo's sql_db does
# the same). The core peers freeze time while they run.
_clock = time.perf_counter.__call__


def default_config():
    """The Odoo configuration file: $LMC_ODOO_CONF, else the one bench.sh writes, else the test one."""
    if os.environ.get("LMC_ODOO_CONF"):
        return os.environ["LMC_ODOO_CONF"]
    bench_conf = STATE_DIR / "odoo-bench.conf"
    if bench_conf.exists():
        return str(bench_conf)
    return str(STATE_DIR / "odoo-test.conf")


def parse_args(description, argv=None, *, default_db=None, options=None):
    """The options of every benchmark; ``options(parser)`` adds a benchmark's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--scale", choices=("small", "full"), default="small", help="small: a few minutes; full: the issues' sizes"
    )
    parser.add_argument(
        "--db", default=default_db or DEFAULT_DB, help="scratch database (dropped and rebuilt when stale)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the data generator")
    parser.add_argument("-c", "--config", default=default_config(), help="Odoo configuration file")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measure (best one kept)")
    parser.add_argument(
        "--sizes",
        type=lambda value: [int(size) for size in value.split(",")],
        default=None,
        help="only these sizes of the scale, comma-separated (results in <name>.n<sizes>.json)",
    )
    if options:
        options(parser)
    return parser.parse_args(argv)


_odoo_ready = False


def init_odoo(config):
    """Load the Odoo configuration once per process (log level from the file)."""
    global _odoo_ready
    if _odoo_ready:
        return
    odoo.tools.config.parse_config(["-c", config], setup_logging=True)
    _odoo_ready = True


@contextlib.contextmanager
def odoo_env(db, config=None):
    """An ``api.Environment`` as superuser on ``db``; its cursor is rolled back on exit.

    Commit explicitly (``env.cr.commit()``) what must stay.
    """
    init_odoo(config or default_config())

    registry = Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        try:
            yield env
        finally:
            cr.rollback()


def reset_transaction(env):
    """Roll back the current transaction and forget every cached value."""
    env.cr.rollback()
    env.transaction.reset()
    env.invalidate_all(flush=False)


def lot_count(env):
    """How many lots the database holds (the table every refresh and the gate work on)."""
    env.cr.execute("SELECT count(*) FROM stock_lot")
    return env.cr.fetchone()[0]


def machine():
    """``<cores>c/<GiB>G`` of this machine."""
    mem_gib = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024)
                break
    return f"{os.cpu_count()}c/{mem_gib}G"


@dataclass
class Run:
    """One timed run: wall time, SQL queries, tracemalloc peak (MiB, when asked) and what fn returned."""

    ms: float
    queries: int
    peak_mib: float | None = None
    value: Any = None


@dataclass
class Measure:
    best: Run
    runs: list[Run] = field(default_factory=list)

    @property
    def ms(self):
        return self.best.ms

    @property
    def queries(self):
        return self.best.queries

    def as_json(self):
        data = {"ms": round(self.best.ms, 1), "queries": self.best.queries}
        if self.best.peak_mib is not None:
            data["peak_mib"] = round(self.best.peak_mib, 1)
        return data


def _timed_run(env, fn, arg, memory):
    if memory:
        tracemalloc.start()
    queries_before = env.cr.sql_log_count
    start = _clock()
    value = fn(arg)
    elapsed_ms = (_clock() - start) * 1000
    queries = env.cr.sql_log_count - queries_before
    peak = None
    if memory:
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
    return Run(elapsed_ms, queries, peak, value)


def measure(env, fn, *, setup=None, teardown=None, runs=3, warmup=1, memory=False):
    """Time ``fn`` ``warmup + runs`` times and keep the fastest timed run.

    ``setup(i)`` (untimed) prepares run ``i`` and its result is passed to ``fn``;
    ``teardown(i, value)`` (untimed) sees what ``fn`` returned, e.g. to check or
    roll back. The query count is the cursor's ``sql_log_count`` delta over
    ``fn`` alone; with ``memory``, tracemalloc's peak over ``fn`` (tracing slows
    Python code down, so only ask for it where memory matters).
    """
    return measure_interleaved(env, {"only": (fn, setup, teardown)}, runs=runs, warmup=warmup, memory=memory)["only"]


def settle(env, tables):
    """Leave ``tables`` as a day between two nightly refreshes leaves them: the last refresh
    committed and the row versions it replaced reclaimed (autovacuum's work), so that the next
    refresh finds the free room its in-place (HOT) updates use, as the nightly cron does.

    A streaming replica with ``hot_standby_feedback`` (scripts/replica.sh) reports the oldest
    snapshot it still reads every ``wal_receiver_status_interval`` (10 s): until then the
    primary must keep the versions just replaced, so this waits that long first when a
    replication slot holds them.
    """
    env.cr.commit()
    env.cr.execute("SELECT 1 FROM pg_replication_slots WHERE xmin IS NOT NULL")
    if env.cr.fetchone():
        time.sleep(11)
    maintain(env.cr.dbname, [SQL("VACUUM (ANALYZE) %s", SQL.identifier(table)) for table in tables])


def maintain(db, statements):
    """Run ``statements`` (VACUUM, ANALYZE: not in a transaction) on a connection of their own."""
    _name, params = odoo.sql_db.connection_info_for(db)
    connection = psycopg2.connect(**params)
    try:
        connection.autocommit = True
        with connection.cursor() as cr:
            for statement in statements:
                cr.execute(statement.code)
    finally:
        connection.close()


def measure_refresh_at_two_instants(env, refresh, instants, *, runs=3, settle_tables=()):
    """Time ``refresh(now)`` of a set-based refresh, alternating ``instants`` (B, A, B, A, ...).

    Every run then has rows to change (the refresh from the other instant), and an
    even number of runs leaves the data at ``instants[1]``, as the caller found it
    (committed). ``refresh`` returns the number of rows it changed, kept as the
    result's value. Each run is a transaction of its own, as each nightly refresh is; with
    ``settle_tables``, each run finds them as the previous night left them (:func:`settle`).
    """

    def setup(i):
        env.cr.commit()
        if settle_tables:
            settle(env, settle_tables)
        env.invalidate_all()
        return i

    result = measure(env, lambda i: refresh(instants[i % 2]), setup=setup, runs=runs)
    env.cr.commit()  # the lots end at instants[1], as they started
    return result


def measure_interleaved(env, sides, *, runs=3, warmup=1, memory=False):
    """Like :func:`measure` for several functions, run in turns: round i runs each side once.

    ``sides``: name -> ``(fn, setup, teardown)`` (setup and teardown may be None).
    Alternating spreads the noise of a busy machine over all sides alike.
    Returns name -> :class:`Measure`.
    """
    timed = {name: [] for name in sides}
    for i in range(warmup + runs):
        for name, (fn, setup, teardown) in sides.items():
            arg = setup(i) if setup else None
            run = _timed_run(env, fn, arg, memory)
            if teardown:
                teardown(i, run.value)
            if i >= warmup:
                timed[name].append(run)
    return {name: Measure(min(name_runs, key=lambda run: run.ms), name_runs) for name, name_runs in timed.items()}


def _rss_kib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def rss_peak_delta(fn, interval=0.005):
    """``(value, MiB)``: what ``fn()`` returned and how far the process's resident memory rose above its start.

    A thread samples the resident set size every ``interval`` seconds while ``fn``
    runs: unlike tracemalloc it sees C allocations too (psycopg2's result buffers,
    xlsxwriter's zlib), and slows nothing down. Memory the allocator already holds
    from earlier work is reused without showing, so run it on a warmed-up process
    and compare sizes with each other rather than reading one figure alone.
    """
    start = _rss_kib()
    peak = [start]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_kib())
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        value = fn()
    finally:
        done.set()
        sampler.join()
    peak[0] = max(peak[0], _rss_kib())
    return value, (peak[0] - start) / 1024


def load_average():
    """The machine's 1, 5 and 15 minute load averages (a shared machine slows every figure)."""
    return [round(value, 2) for value in os.getloadavg()]


def list_export_xlsx(env, records, columns):
    """Odoo's own list export of ``records`` to xlsx, as the web client's *Export* runs it.

    ``columns``: ``(field path, field type)`` pairs. ``export_data``, then web's
    ``ExportXlsxWriter`` cell by cell (it needs a request, given a stand-in holding
    ``env``). Returns ``(rows, bytes of the file)``.
    """
    # imported here: odoo.addons is importable once the configuration is read
    from odoo.addons.web.controllers.export import ExportXlsxWriter

    field_names = [name for name, _type in columns]
    rows = records.export_data(field_names)["datas"]
    fields = [{"name": name, "label": name, "type": field_type} for name, field_type in columns]
    odoo.http._request_stack.push(types.SimpleNamespace(env=env))
    try:
        with ExportXlsxWriter(fields, field_names, len(rows)) as writer:
            for row_index, row in enumerate(rows):
                for cell_index, cell_value in enumerate(row):
                    writer.write_cell(row_index + 1, cell_index, cell_value)
    finally:
        odoo.http._request_stack.pop()
    return len(rows), len(writer.value)


def ratio(core, ours):
    """core ms / ours ms: above 1 means ours is faster."""
    return round(core.ms / ours.ms, 2) if ours.ms else None


def result_row(n, ours, core, **extra):
    row = {"n": n, "ours": ours.as_json(), "core": core.as_json(), "ratio": ratio(core, ours)}
    row.update(extra)
    return row


def print_table(title, rows, extra_columns=()):
    """A plain-text table of result rows.

    ``extra_columns``: ``(header, getter)`` pairs shown after the ratio, ``getter(row)`` giving the cell.
    """
    headers = ["n", "ours ms", "ours q", "core ms", "core q", "ratio", *(header for header, _getter in extra_columns)]
    lines = []
    for row in rows:
        cells = [
            f"{row['n']:,}",
            f"{row['ours']['ms']:.1f}",
            str(row["ours"]["queries"]),
            f"{row['core']['ms']:.1f}",
            str(row["core"]["queries"]),
            f"{row['ratio']:.2f}" if row["ratio"] is not None else "-",
        ]
        cells += [str(getter(row)) for _header, getter in extra_columns]
        lines.append(cells)
    widths = [max(len(headers[i]), *(len(line[i]) for line in lines)) for i in range(len(headers))]
    print()
    print(title)
    print("  ".join(header.rjust(width) for header, width in zip(headers, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for line in lines:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))
    print()


def result_path(name, scale, sizes=None):
    """Full-scale results are the committed ``<name>.json``; small ones go to ``<name>.small.json``;
    a run of some sizes only (``--sizes``) to ``<name>.n<size>[-<size>…].json``."""
    suffix = ".json" if scale == "full" else ".small.json"
    if sizes:
        suffix = ".n" + "-".join(str(size) for size in sizes) + suffix
    return RESULTS_DIR / f"{name}{suffix}"


def code_version():
    """The addon code measured: the repository's HEAD and whether the addon has uncommitted changes."""

    def git(*args):
        result = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    changes = git("status", "--porcelain", "--", "lot_margin_control")
    return {"commit": commit, "addon_modified": bool(changes) if changes is not None else None}


def write_results(name, scale, rows, sizes=None, **extra):
    """Write ``bench/results/<name>.json`` (full) or ``<name>.small.json`` (small), or for some
    ``sizes`` only ``<name>.n<sizes>.json``; return its path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    data = {"benchmark": name, "scale": scale, "machine": machine(), "rows": rows}
    data.update(extra)
    data["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    data["code"] = code_version()
    path = result_path(name, scale, sizes)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
    print(f"Results written to {path.relative_to(REPO_ROOT)}")
    return path
