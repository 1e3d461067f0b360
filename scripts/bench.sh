#!/usr/bin/env bash
# `make bench`: build what is missing, bring the benchmarks' template database
# up to date, then run every benchmark in bench/ (see bench/README.md).
#   scripts/bench.sh [--scale small|full] [--seed N]
# The benchmarks copy their scratch database (lmc_bench) from the template
# lmc_bench_base; the test and demo databases are never touched.
source "$(dirname "$0")/common.sh"

SCALE=small
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) [ $# -ge 2 ] || die "--scale needs a value: small or full"; SCALE=$2; shift 2 ;;
        --scale=*) SCALE=${1#--scale=}; shift ;;
        --seed) [ $# -ge 2 ] || die "--seed needs a number"; EXTRA+=(--seed "$2"); shift 2 ;;
        --seed=*) EXTRA+=("$1"); shift ;;
        *) die "Unknown option $1. Usage: scripts/bench.sh [--scale small|full] [--seed N]" ;;
    esac
done
case "$SCALE" in small|full) ;; *) die "--scale must be small or full, not '$SCALE'" ;; esac

TEMPLATE=${LMC_BENCH_TEMPLATE:-lmc_bench_base}
DB=${LMC_BENCH_DB:-lmc_bench}

ensure_odoo_src
ensure_system_packages
ensure_venv
ensure_postgres

CONF=$LMC_STATE/odoo-bench.conf
write_config "$CONF" "db_name = $DB" "log_level = warn" "max_cron_threads = 0"
ensure_db "$CONF" "$TEMPLATE" 0 changed

export LMC_ODOO_CONF=$CONF LMC_BENCH_TEMPLATE=$TEMPLATE LMC_BENCH_DB=$DB
cd "$REPO_ROOT"
BENCHMARKS=(bench/bench_shelf_life_refresh.py bench/bench_reservation_gate.py bench/bench_recall_trace.py bench/bench_fefo_compliance.py bench/bench_markdown_refresh.py bench/bench_expiry_risk.py bench/bench_epcis.py bench/bench_fsma.py)
failed=()
for script in "${BENCHMARKS[@]}"; do
    say "Running $script --scale $SCALE"
    "$PY" "$script" --scale "$SCALE" --db "$DB" "${EXTRA[@]}" || failed+=("$script")
done
# The valuation dataset (100k lots, 1M layers at full scale) lives in its own copy of
# the template: the shelf-life refresh works on every lot of its database.
say "Running bench/bench_valuation.py --scale $SCALE"
"$PY" bench/bench_valuation.py --scale "$SCALE" --db "${DB}_valuation" "${EXTRA[@]}" || failed+=(bench/bench_valuation.py)
# Snapshots and the roll-forward on the same lots and layers.
say "Running bench/bench_valuation_snapshot.py --scale $SCALE"
"$PY" bench/bench_valuation_snapshot.py --scale "$SCALE" --db "${DB}_valuation" "${EXTRA[@]}" || failed+=(bench/bench_valuation_snapshot.py)
# The overview's numbers (get_kpis) on the same layers, plus the events the tiles count.
say "Running bench/bench_kpis.py --scale $SCALE"
"$PY" bench/bench_kpis.py --scale "$SCALE" --db "${DB}_valuation" "${EXTRA[@]}" || failed+=(bench/bench_kpis.py)
# Simulated users over JSON-RPC against prefork workers and the read replica (issue 18);
# the replica needs root (scripts/replica.sh), without it every call goes to the primary.
LOAD_ARGS=()
[ "$(id -u)" -eq 0 ] || LOAD_ARGS=(--no-replica)
say "Running bench/bench_load.py --scale $SCALE ${LOAD_ARGS[*]}"
"$PY" bench/bench_load.py --scale "$SCALE" --db "${DB}_load" "${EXTRA[@]}" "${LOAD_ARGS[@]}" || failed+=(bench/bench_load.py)
[ ${#failed[@]} -eq 0 ] || die "Benchmarks failed: ${failed[*]}"
say "Results in bench/results/"
