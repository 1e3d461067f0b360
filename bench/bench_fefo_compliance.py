"""FEFO compliance: one UPDATE for every validated line vs an ORM check line by line.

Ours: ``stock.move.line._record_fefo_compliance()`` on n done customer lines of
random lots of a FEFO product with 1,000 lots in stock (the work validation does
before stock moves, here on n lines at once).
Peer (there is no core equivalent): the same rule through the ORM, one quant
search per line for an earlier-expiring released lot with free stock in the
warehouse, then one write per outcome.

Target (issue): time and queries for 10,000 lines; queries constant in n.

    .venv/bin/python bench/bench_fefo_compliance.py --scale small|full
"""

import common
import generator
import runner

from odoo import fields

NAME = "fefo_compliance"
SIZES = {"small": [1_000], "full": [1_000, 10_000]}


def _orm_peer(lines):
    env = lines.env
    now = fields.Datetime.now()
    compliant, late = lines.browse(), {}
    for line in lines:
        earlier = (
            env["stock.quant"]
            .search(
                [
                    ("product_id", "=", line.product_id.id),
                    ("location_id", "child_of", line.location_id.warehouse_id.view_location_id.id),
                    ("location_id.usage", "=", "internal"),
                    ("lot_id.quality_state", "=", "released"),
                    ("lot_id.expiration_date", "<", line.lot_id.expiration_date),
                    ("lot_id.expiration_date", ">", now),
                    ("quantity", ">", 0),
                ],
                order="expiration_date, id",
            )
            .filtered(lambda quant: quant.quantity > quant.reserved_quantity)[:1]
        )
        if earlier:
            late.setdefault(earlier.lot_id.id, lines.browse())
            late[earlier.lot_id.id] |= line
        else:
            compliant |= line
    compliant.write({"fefo_checked": True, "fefo_compliant": True, "fefo_compliance_rate": 100.0})
    for lot_id, lot_lines in late.items():
        lot_lines.write(
            {"fefo_checked": True, "fefo_compliant": False, "fefo_compliance_rate": 0.0, "fefo_earlier_lot_id": lot_id}
        )
    env.flush_all()
    return len(compliant)


def bench_size(env, n, args):
    data = generator.fefo_lines(env, n, args.seed)
    env.cr.commit()

    def setup(_i):
        common.reset_transaction(env)
        return env["stock.move.line"].search([("reference", "=like", "LMCB/FEFO/%")])

    def ours(lines):
        lines._record_fefo_compliance()
        env.flush_all()
        return lines

    counted = {}

    def count_ours(_i, lines):
        counted["ours"] = len(lines.filtered("fefo_compliant"))  # untimed check

    def count_core(_i, compliant):
        counted["core"] = compliant

    results = common.measure_interleaved(
        env, {"ours": (ours, setup, count_ours), "core": (_orm_peer, setup, count_core)}, runs=args.runs
    )
    ours_compliant, core_compliant = counted["ours"], counted["core"]
    if ours_compliant != core_compliant:
        raise AssertionError(f"ours found {ours_compliant} compliant lines, the ORM peer {core_compliant}")
    common.reset_transaction(env)
    return common.result_row(n, results["ours"], results["core"], compliant=ours_compliant, lots=data["lots"])


BENCHMARK = runner.Benchmark(
    NAME,
    __doc__,
    SIZES,
    bench_size,
    label=lambda n: f"n={n:,} lines",
    title="FEFO compliance ({scale}): ours = one UPDATE, peer = ORM line by line",
    columns=(runner.column("compliant", "compliant", runner.thousands),),
    queries_label="ours queries",
    target={"n": 10_000, "queries": "constant"},
)


if __name__ == "__main__":
    runner.run(BENCHMARK)
