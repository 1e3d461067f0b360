#!/usr/bin/env bash
# A PostgreSQL read replica for Odoo 18's `db_replica_host` (issue 18).
#
#   bash scripts/replica.sh          create or start the replica, wait until it streams
#   bash scripts/replica.sh --status print the replica's state, exit 1 when it is not serving
#   bash scripts/replica.sh --drop   stop and remove the replica cluster
#   bash scripts/replica.sh --watch DB  as the first, then make the replica's statement
#                                    statistics readable in DB (pg_stat_statements, loaded
#                                    on the replica only) and wait until the replica has
#                                    replayed everything the primary wrote so far
#
# The replica is a second cluster of the machine's PostgreSQL (Debian's
# pg_createcluster/pg_ctlcluster), filled by pg_basebackup -R from the primary
# and kept up to date by streaming replication as a hot standby: PostgreSQL's
# own mechanism, read-only by construction. It replicates the whole primary
# cluster (every database). Re-running is safe: a replica that streams is left
# alone, a stopped one is started, a broken one (not streaming) is rebuilt. A physical
# replication slot makes the primary keep the WAL the replica still needs, capped by
# max_slot_wal_keep_size (set to 8GB on the primary when it was unlimited).
# Settings: LMC_REPLICA_PORT (default 5433), LMC_REPLICA_CLUSTER (default lmc_replica).
# Needs root (it creates a cluster owned by the postgres system user) and a
# local primary (PGHOST localhost).
# Sourced by demo.sh after common.sh; run alone, it loads common.sh itself.
if ! declare -F ensure_postgres >/dev/null; then
    source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
fi

REPLICA_PORT=${LMC_REPLICA_PORT:-5433}
REPLICA_CLUSTER=${LMC_REPLICA_CLUSTER:-lmc_replica}

# Runs a command as the postgres system user, outside any folder it cannot read.
as_postgres() {
    (cd / && runuser -u postgres -- env -u PGHOST -u PGUSER -u PGPASSWORD -u PGDATABASE -u PGPORT "$@")
}

# The primary cluster: "<version> <name>" of the local cluster on $PGPORT.
primary_cluster() {
    pg_lsclusters -h 2>/dev/null | awk -v port="$PGPORT" '$3==port {print $1" "$2; exit}'
}

replica_status() {
    pg_lsclusters -h 2>/dev/null | awk -v name="$REPLICA_CLUSTER" '$2==name {print $4; exit}'
}

# Prints "t" when the standby receives the primary's WAL right now (its WAL receiver
# streams): a standby that fell behind what the primary kept waits for WAL forever.
replica_streaming() {
    as_postgres psql -XAtq -p "$REPLICA_PORT" -d postgres \
        -c "SELECT count(*) > 0 FROM pg_stat_wal_receiver WHERE status = 'streaming'" 2>/dev/null || true
}

# Prints "t" when the replica accepts Odoo's login and is a standby in recovery.
replica_in_recovery() {
    PGPORT=$REPLICA_PORT "$PY" - <<'PYEOF' 2>/dev/null || true
import psycopg2
with psycopg2.connect(dbname="postgres", connect_timeout=5) as cn, cn.cursor() as cr:
    cr.execute("SELECT pg_is_in_recovery()")
    print("t" if cr.fetchone()[0] else "f")
PYEOF
}

replica_check_prerequisites() {
    case "$PGHOST" in localhost|127.0.0.1|::1|/*) ;; *)
        die "The read replica is a local PostgreSQL cluster; PGHOST=$PGHOST is not local. Set up the replica on that server and set db_replica_host yourself." ;;
    esac
    command -v pg_createcluster >/dev/null && command -v pg_basebackup >/dev/null \
        || die "The read replica needs Debian's PostgreSQL tools (pg_createcluster, pg_basebackup): apt-get install postgresql-common postgresql-15."
    [ "$(id -u)" -eq 0 ] || die "Creating the read replica needs root (it creates a PostgreSQL cluster owned by postgres). Run it as root, or set up a standby yourself and set db_replica_host/db_replica_port."
    [ -n "$(primary_cluster)" ] || die "No local PostgreSQL cluster listens on port $PGPORT: nothing to replicate."
}

replica_wait() {
    local tries=${1:-60}
    for _ in $(seq "$tries"); do
        [ "$(replica_in_recovery)" = t ] && [ "$(replica_streaming)" = t ] && return 0
        sleep 1
    done
    return 1
}

# The replica's replication slot on the primary: the primary keeps the WAL the replica
# has not received yet (a busy primary recycles its WAL within minutes; without a slot
# a replica that falls behind stops for good), at most REPLICA_MAX_WAL of it.
REPLICA_SLOT=${REPLICA_CLUSTER//[^a-z0-9_]/_}
REPLICA_MAX_WAL=${LMC_REPLICA_MAX_WAL:-8GB}
primary_sql() {
    as_postgres psql -XAtq -p "$PGPORT" -d postgres -v ON_ERROR_STOP=1 -c "$1"
}
drop_replica_slot() {
    primary_sql "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                  WHERE slot_name = '$REPLICA_SLOT' AND NOT active" >/dev/null
}
cap_slot_wal() {
    # Only when unlimited (PostgreSQL's default): a limit someone set is theirs.
    if [ "$(primary_sql "SHOW max_slot_wal_keep_size")" = "-1" ]; then
        say "Capping the WAL a replication slot may hold on the primary (max_slot_wal_keep_size = $REPLICA_MAX_WAL)"
        primary_sql "ALTER SYSTEM SET max_slot_wal_keep_size = '$REPLICA_MAX_WAL'" >/dev/null
        primary_sql "SELECT pg_reload_conf()" >/dev/null
    fi
}

ensure_replica() {
    replica_check_prerequisites
    local version primary status data_dir conf_dir
    read -r version primary <<<"$(primary_cluster)"
    data_dir=/var/lib/postgresql/$version/$REPLICA_CLUSTER
    conf_dir=/etc/postgresql/$version/$REPLICA_CLUSTER
    status=$(replica_status)
    if [ -n "$status" ]; then
        if [ "${status#online}" = "$status" ]; then
            say "Starting the read replica $version/$REPLICA_CLUSTER"
            pg_ctlcluster "$version" "$REPLICA_CLUSTER" start -- -t 900 >/dev/null 2>&1 || true
        fi
        # A standby still starting up (replaying, syncing its files) refuses connections: wait for it.
        local ready
        for _ in $(seq 600); do
            ready=0
            pg_isready -q -h localhost -p "$REPLICA_PORT" || ready=$?
            [ "$ready" -eq 1 ] || break
            sleep 1
        done
        if replica_wait 30; then
            say "Read replica $version/$REPLICA_CLUSTER streams on port $REPLICA_PORT"
            return 0
        fi
        say "The read replica $version/$REPLICA_CLUSTER does not stream from the primary: rebuilding it"
        pg_ctlcluster "$version" "$REPLICA_CLUSTER" stop -m immediate >/dev/null 2>&1 || true
        pg_dropcluster "$version" "$REPLICA_CLUSTER" \
            || die "Could not remove the broken replica $version/$REPLICA_CLUSTER (pg_dropcluster)."
        drop_replica_slot
    fi
    if pg_lsclusters -h 2>/dev/null | awk -v port="$REPLICA_PORT" '$3==port {found=1} END {exit !found}'; then
        die "Port $REPLICA_PORT is taken by another PostgreSQL cluster. Set LMC_REPLICA_PORT to a free port."
    fi
    say "Creating the read replica $version/$REPLICA_CLUSTER on port $REPLICA_PORT (a base backup of $version/$primary)"
    pg_createcluster "$version" "$REPLICA_CLUSTER" -p "$REPLICA_PORT" >/dev/null \
        || die "pg_createcluster $version $REPLICA_CLUSTER failed."
    # The base backup brings the primary's data and, with -R, standby.signal and
    # primary_conninfo (through the local socket, as postgres: peer authentication
    # on the 'local replication' line of Debian's default pg_hba.conf).
    find "$data_dir" -mindepth 1 -delete
    cap_slot_wal
    drop_replica_slot
    as_postgres pg_basebackup -p "$PGPORT" -D "$data_dir" -R -X stream -c fast -C -S "$REPLICA_SLOT" \
        || { pg_dropcluster "$version" "$REPLICA_CLUSTER" >/dev/null 2>&1; die "pg_basebackup from $version/$primary failed: the primary must allow replication connections (wal_level replica, max_wal_senders > 0, a 'local replication' line in pg_hba.conf)."; }
    # The primary's own tuning files must not move the replica's port or cluster name.
    rm -f "$data_dir/postmaster.pid"
    # A hot standby refuses to start with less of these than its primary has.
    local sized
    sized=$(primary_sql "SELECT string_agg(name || ' = ' || setting, E'\\n' ORDER BY name) FROM pg_settings
                          WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders',
                                         'max_prepared_transactions', 'max_locks_per_transaction')")
    cat >"$conf_dir/conf.d/lmc_replica.conf" <<CONF
# lot_margin_control read replica (scripts/replica.sh)
hot_standby = on
# The primary learns which rows the replica's queries still read: long reports
# are not cancelled by the primary's vacuum.
hot_standby_feedback = on
max_standby_streaming_delay = 30s
# The copied files are synced at the first start: one syncfs() instead of one fsync per file.
recovery_init_sync_method = syncfs
# Which statements the replica served (tests/test_replica.py, bench/bench_load.py).
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
# As on the primary:
$sized
CONF
    chown -R postgres:postgres "$conf_dir"
    # Its first start syncs the copied files to disk: minutes for a big cluster on a busy machine.
    pg_ctlcluster "$version" "$REPLICA_CLUSTER" start -- -t 900 >/dev/null 2>&1 \
        || die "The read replica $version/$REPLICA_CLUSTER did not start: see /var/log/postgresql/postgresql-$version-$REPLICA_CLUSTER.log"
    replica_wait 300 || die "The read replica on port $REPLICA_PORT does not stream from the primary after 300 s: see /var/log/postgresql/postgresql-$version-$REPLICA_CLUSTER.log"
    say "Read replica $version/$REPLICA_CLUSTER streams on port $REPLICA_PORT"
}

# Waits until the replica has replayed the primary's WAL up to now.
replica_catch_up() {
    local lsn
    lsn=$(primary_sql "SELECT pg_current_wal_lsn()")
    for _ in $(seq 240); do
        [ "$(as_postgres psql -XAtq -p "$REPLICA_PORT" -d postgres \
            -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn" 2>/dev/null)" = t ] && return 0
        sleep 0.5
    done
    die "The read replica has not replayed the primary's WAL up to $lsn after 120 s."
}

# pg_stat_statements' view in database $1 (made on the primary, a superuser's right; it reaches
# the replica by replication): tests and the load benchmark read there what the replica ran.
watch_database() {
    as_postgres env PGOPTIONS=--client-min-messages=warning psql -XAtq -p "$PGPORT" -d "$1" -v ON_ERROR_STOP=1 \
        -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null \
        || die "Could not create the pg_stat_statements extension in database $1."
    replica_catch_up
}

drop_replica() {
    local version
    read -r version _ <<<"$(primary_cluster)"
    if [ -n "$(replica_status)" ]; then
        pg_ctlcluster "$version" "$REPLICA_CLUSTER" stop -m fast >/dev/null 2>&1 || true
        pg_dropcluster "$version" "$REPLICA_CLUSTER"
        say "Read replica $version/$REPLICA_CLUSTER removed"
    fi
    drop_replica_slot
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    ensure_venv
    ensure_postgres
    case "${1:-}" in
        "") ensure_replica ;;
        --status)
            status=$(replica_status)
            echo "cluster: ${status:-absent}; in recovery (standby): $(replica_in_recovery); streaming: $(replica_streaming)"
            [ "$(replica_in_recovery)" = t ] && [ "$(replica_streaming)" = t ] ;;
        --drop) replica_check_prerequisites; drop_replica ;;
        --watch)
            [ $# -ge 2 ] || die "--watch needs a database name."
            ensure_replica
            watch_database "$2" ;;
        *) die "Unknown option $1. Usage: scripts/replica.sh [--status|--drop|--watch DB]" ;;
    esac
fi
