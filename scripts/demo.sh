#!/usr/bin/env bash
# `make demo`: build what is missing, then serve the demo database on localhost.
#   scripts/demo.sh [--reset] [--workers N] [--replica]
#     --reset      drops the demo database and builds it again.
#     --workers N  serves with N prefork worker processes (same as LMC_WORKERS=N).
#     --replica    starts a local streaming read replica (scripts/replica.sh) and points
#                  Odoo's db_replica_host/db_replica_port at it (same as LMC_REPLICA=1).
source "$(dirname "$0")/common.sh"

DB=${LMC_DEMO_DB:-lmc_demo}
PORT=${LMC_HTTP_PORT:-8069}
# LMC_WORKERS=N serves with N HTTP worker processes (prefork, as in production) and a
# gevent process for websockets on LMC_GEVENT_PORT; 0 (default) is Odoo's threaded server.
WORKERS=${LMC_WORKERS:-0}
GEVENT_PORT=${LMC_GEVENT_PORT:-}
RESET=0
REPLICA=${LMC_REPLICA:-0}
USAGE="Usage: scripts/demo.sh [--reset] [--workers N] [--replica]"
while [ $# -gt 0 ]; do
    case "$1" in
        --reset) RESET=1 ;;
        --replica) REPLICA=1 ;;
        --workers) [ $# -ge 2 ] || die "--workers needs a number. $USAGE"; WORKERS=$2; shift ;;
        --workers=*) WORKERS=${1#--workers=} ;;
        *) die "Unknown option $1. $USAGE" ;;
    esac
    shift
done
case "$REPLICA" in
    0|1) ;;
    *) die "LMC_REPLICA must be 1 (serve with a read replica) or 0, not '$REPLICA'." ;;
esac

port_taken() {
    python3 - "$1" <<'PYEOF'
import socket, sys
s = socket.socket()
try:
    s.bind(("0.0.0.0", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
PYEOF
}
case "$WORKERS" in
    ''|*[!0-9]*) die "The number of workers (--workers N or LMC_WORKERS) must be a number of processes (0 for the threaded server), not '$WORKERS'." ;;
esac
if [ -z "$GEVENT_PORT" ]; then
    case "$PORT" in ''|*[!0-9]*) GEVENT_PORT=8072 ;; *) GEVENT_PORT=$((PORT + 3)) ;; esac
fi
case "$GEVENT_PORT" in
    ''|*[!0-9]*) die "LMC_GEVENT_PORT must be a port number, not '$GEVENT_PORT'." ;;
esac
port_taken "$PORT" && die "Port $PORT is already in use (another Odoo?). Stop that server or run: LMC_HTTP_PORT=8070 make demo"
if [ "$WORKERS" -gt 0 ] && port_taken "$GEVENT_PORT"; then
    die "Port $GEVENT_PORT (websockets of the workers) is already in use. Stop that server or set LMC_GEVENT_PORT."
fi

ensure_odoo_src
ensure_system_packages
ensure_venv
ensure_postgres

CONF=$LMC_STATE/odoo-demo.conf
REPLICA_LINES=()
if [ "$REPLICA" = 1 ]; then
    source "$(dirname "$0")/replica.sh"
    ensure_replica
    # Odoo 18: @api.readonly methods and read-only routes open their cursor there.
    REPLICA_LINES=("db_replica_host = $PGHOST" "db_replica_port = $REPLICA_PORT")
fi
write_config "$CONF" "http_port = $PORT" "dbfilter = ^$DB\$" "list_db = False" "db_name = $DB" "${REPLICA_LINES[@]}"
if [ $RESET -eq 1 ] && db_exists "$DB"; then
    say "Dropping demo database $DB (--reset)"
    drop_db "$DB"
fi
ensure_db "$CONF" "$DB" 1 changed

cat <<MSG

  lot_margin_control demo
    URL:       http://localhost:$PORT/odoo/action-stock.action_production_lot_form
    Database:  $DB
    Login:     admin
    Password:  admin
  (Ctrl+C stops the server; 'make demo' again restarts it in seconds.)

MSG
if [ "$WORKERS" -gt 0 ]; then
    cat <<MSG
  $WORKERS HTTP workers; websockets (live updates) on port $GEVENT_PORT: behind a reverse
  proxy, route /websocket there (Odoo's deployment guide); without one the pages work
  but do not update live.

MSG
fi
if [ "$REPLICA" = 1 ]; then
    cat <<MSG
  Read replica: PostgreSQL standby on port $REPLICA_PORT (scripts/replica.sh --status);
  read-only calls (KPIs, valuation, traces read back, lists) are served from it.

MSG
fi
# Workers only for serving: the install/update above runs single-process.
exec "$PY" "$ODOO_BIN" -c "$CONF" -d "$DB" --http-port "$PORT" --workers "$WORKERS" --gevent-port "$GEVENT_PORT"
