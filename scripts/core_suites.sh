#!/usr/bin/env bash
# Run Odoo's own test suites of the modules we extend on databases with the
# addon installed, without and with demo data (README "Changes to core
# behaviour"). Slow (about an hour on 2 cores): not part of `make test`.
#   bash scripts/core_suites.sh [module ...]     default: the five suites below
#   LMC_CORE_DBS="lmc_core" bash scripts/core_suites.sh stock     one database only
# Results: $LMC_STATE/core-suites/<db>-<module>.log and a summary on stdout.
source "$(dirname "$0")/common.sh"

MODULES=("$@")
[ ${#MODULES[@]} -gt 0 ] || MODULES=(stock_account sale_stock product_expiry purchase_stock stock)
ensure_odoo_src
ensure_system_packages
ensure_venv
ensure_postgres

OUT=$LMC_STATE/core-suites
mkdir -p "$OUT"
CONF=$LMC_STATE/odoo-core.conf
write_config "$CONF" "http_port = ${LMC_CORE_HTTP_PORT:-8179}" "log_level = warn"
DBS=${LMC_CORE_DBS:-lmc_core lmc_core_demo}
for db in $DBS; do
    if [ "$db" = lmc_core_demo ]; then ensure_db "$CONF" "$db" 1; else ensure_db "$CONF" "$db" 0; fi
done

cd "$REPO_ROOT"
for db in $DBS; do
    for module in "${MODULES[@]}"; do
        log=$OUT/$db-$module.log
        say "$module on $db (log: $log)"
        "$PY" -m pytest --odoo-config="$CONF" --odoo-database="$db" -p no:cacheprovider -q \
            "$ODOO_SRC/addons/$module/tests" >"$log" 2>&1 || true  # failures are summed up below
        tail -n 1 "$log"
    done
done
say "Failures and errors:"
grep -h "^FAILED\|^ERROR" "$OUT"/*.log | sort | uniq -c || true
