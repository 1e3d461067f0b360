#!/usr/bin/env bash
# `make test`: build what is missing, install or update the addon in the test
# database, then run the addon tests and the repository tests (linters
# included) under pytest-odoo. Extra arguments go to pytest.
source "$(dirname "$0")/common.sh"

DB=${LMC_TEST_DB:-lmc_test}
ensure_odoo_src
ensure_system_packages
ensure_venv
ensure_postgres

CONF=$LMC_STATE/odoo-test.conf
# HttpCase tours talk to the in-process server on this port.
write_config "$CONF" "http_port = ${LMC_TEST_HTTP_PORT:-8169}" "db_name = $DB" "log_level = warn"
ensure_db "$CONF" "$DB" 0

export LMC_ODOO_CONF=$CONF LMC_TEST_DB=$DB
cd "$REPO_ROOT"
say "Running pytest"
set +e
"$PY" -m pytest --odoo-config="$CONF" --odoo-database="$DB" "$@"
rc=$?
set -e
# pytest exits 5 when nothing was collected: that is a failure here.
exit $rc
