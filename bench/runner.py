"""The one runner of the benchmarks: every ``bench_*.py`` describes itself and calls :func:`run`.

A benchmark script declares a :class:`Benchmark` (its name, its sizes per scale,
the function that measures one size, the table's title and extra columns, its
target) and ends with ``runner.run(BENCHMARK)``. :func:`run` does what every
script used to do in its own ``main()``:

1. parse the common options (``--scale small|full``, ``--db``, ``--seed``,
   ``-c/--config``, ``--runs``) plus the benchmark's own (``options``);
2. prepare the scratch database (:func:`generator.prepare_database`);
3. open the Odoo environment and call ``bench_size(env, size, args)`` for each
   size of the scale, then ``finish(env, args, rows)`` if given;
4. print the table (and, with ``queries_label``, whether ours' query count is
   constant), then ``summary(args, rows, info)`` (the target's verdict lines);
5. write ``bench/results/<name>.json`` (full) or ``<name>.small.json`` (small).

See bench/README.md and /work/shared/docs/BENCH.md for the result format.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import common
import generator


def _label_n(size):
    return f"n={size:,}"


def thousands(value):
    """``12,345``: the cell format of counts."""
    return f"{value:,}"


def column(header, key, fmt=str):
    """A table column (:attr:`Benchmark.columns`) showing the row's ``key``."""
    return (header, lambda row: fmt(row[key]))


def per_side(header, key, fmt=str):
    """Two table columns, ``ours <header>`` and ``core <header>``: each side's ``key`` ("-" where it has none)."""
    return tuple(
        (f"{side} {header}", lambda row, side=side: fmt(row[side][key]) if key in row[side] else "-")
        for side in ("ours", "core")
    )


@dataclass(frozen=True)
class Benchmark:
    """What a benchmark measures and how it reports; :func:`run` does the rest.

    - ``name``: the progress lines' prefix and ``bench/results/<name>.json``.
    - ``doc``: the script's docstring; its first line is the ``--help`` description.
    - ``sizes``: scale (``small``, ``full``) -> the sizes measured, in order.
    - ``bench_size(env, size, args)``: measures one size, returns a result row
      (:func:`common.result_row`) or a list of rows.
    - ``title``: the table's title, formatted with ``scale`` and the keys ``finish`` returned.
    - ``columns``: ``(header, getter)`` columns after the ratio (:func:`common.print_table`),
      e.g. from :func:`column` and :func:`per_side`.
    - ``label(size)``: the progress line of a size (``n=1,000`` by default; None: no line).
    - ``finish(env, args, rows)``: runs after the sizes, in the same environment;
      returns keys added to the result file (after ``seed``) and to ``title``.
    - ``queries_label``: if set, prints ours' query counts over the sizes and whether
      they are constant (``<queries_label>: [9] (constant)``).
    - ``summary(args, rows, info)``: prints the target's verdict lines after the table
      (``info``: what ``finish`` returned).
    - ``results``: constant keys of the result file (after ``finish``'s, before ``target``).
    - ``target``: the result file's ``target``.
    - ``db``: the default scratch database (``--db``), else :data:`common.DEFAULT_DB`.
    - ``options(parser)``: adds this benchmark's own command-line options.
    """

    name: str
    doc: str
    sizes: dict[str, list]
    bench_size: Callable[..., dict | list[dict]]
    title: str
    columns: tuple = ()
    label: Callable[[Any], str] | None = _label_n
    finish: Callable[..., dict] | None = None
    queries_label: str | None = None
    summary: Callable[..., None] | None = None
    results: dict = field(default_factory=dict)
    target: dict | None = None
    db: str | None = None
    options: Callable | None = None


def _print_constant_queries(label, rows):
    queries = {row["ours"]["queries"] for row in rows}
    print(f"{label}: {sorted(queries)} ({'constant' if len(queries) == 1 else 'NOT constant'})")


def run(benchmark, argv=None):
    """Run ``benchmark`` as its script's ``main()``: options, database, sizes, table, result file."""
    args = common.parse_args(benchmark.doc.splitlines()[0], argv, default_db=benchmark.db, options=benchmark.options)
    generator.prepare_database(args.db, args.scale, args.seed, config=args.config)
    rows, info = [], {}
    with common.odoo_env(args.db, args.config) as env:
        sizes = [size for size in benchmark.sizes[args.scale] if not args.sizes or size in args.sizes]
        if not sizes:
            raise SystemExit(f"--sizes: none of {args.sizes} in the {args.scale} sizes {benchmark.sizes[args.scale]}")
        for size in sizes:
            if benchmark.label:
                print(f"{benchmark.name}: {benchmark.label(size)} ...", flush=True)
            result = benchmark.bench_size(env, size, args)
            rows.extend(result if isinstance(result, list) else [result])
        if benchmark.finish:
            info = benchmark.finish(env, args, rows)
    common.print_table(benchmark.title.format(scale=args.scale, **info), rows, extra_columns=benchmark.columns)
    if benchmark.queries_label:
        _print_constant_queries(benchmark.queries_label, rows)
    if benchmark.summary:
        benchmark.summary(args, rows, info)
    extra = {"seed": args.seed, **info, **benchmark.results}
    if benchmark.target is not None:
        extra["target"] = benchmark.target
    return common.write_results(benchmark.name, args.scale, rows, sizes=args.sizes, **extra)
