# shellcheck shell=bash
# Shared set-up for `make demo`, `make test` and the benchmarks.
#
# Everything is rebuilt from the repository except the Odoo 18.0 source tree,
# which lives outside it at $ODOO_SRC (default: $HOME/odoo-18.0).
# Settings (all optional):
#   ODOO_SRC        Odoo 18.0 source tree            (default $HOME/odoo-18.0)
#   LMC_VENV        Python virtual environment       (default <repo>/.venv)
#   PGHOST PGPORT PGUSER PGPASSWORD  PostgreSQL      (default localhost 5432 odoo odoo)
#   LMC_HTTP_PORT   port served by `make demo`       (default 8069)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_SRC=${ODOO_SRC:-$HOME/odoo-18.0}
LMC_VENV=${LMC_VENV:-$REPO_ROOT/.venv}
LMC_STATE=${LMC_STATE:-$REPO_ROOT/.local}
# Databases live in the machine's PostgreSQL, so their filestores live in a
# machine-wide folder too (Odoo's default), shared by every clone.
LMC_DATA_DIR=${LMC_DATA_DIR:-$HOME/.local/share/Odoo}
PGHOST=${PGHOST:-${DB_HOST:-localhost}}
PGPORT=${PGPORT:-${DB_PORT:-5432}}
PGUSER=${PGUSER:-${DB_USER:-odoo}}
PGPASSWORD=${PGPASSWORD:-${DB_PASSWORD:-odoo}}
export PGHOST PGPORT PGUSER PGPASSWORD ODOO_SRC LMC_VENV LMC_STATE LMC_DATA_DIR REPO_ROOT
PY=$LMC_VENV/bin/python
ODOO_BIN=$ODOO_SRC/odoo-bin
ODOO_GIT_URL=${ODOO_GIT_URL:-https://github.com/odoo/odoo.git}

die() { echo "ERROR: $*" >&2; exit 1; }
say() { echo "==> $*"; }

# --- Odoo source -------------------------------------------------------------
ensure_odoo_src() {
    if [ ! -f "$ODOO_SRC/odoo/release.py" ]; then
        if [ -e "$ODOO_SRC" ] && [ -n "$(ls -A "$ODOO_SRC" 2>/dev/null)" ]; then
            die "ODOO_SRC=$ODOO_SRC exists but is not an Odoo source tree (no odoo/release.py). Point ODOO_SRC at an Odoo 18.0 checkout."
        fi
        say "Odoo 18.0 source not found at $ODOO_SRC; trying a shallow clone of the official 18.0 branch (20 s limit)"
        if timeout 20 git clone -q --depth 1 --branch 18.0 "$ODOO_GIT_URL" "$ODOO_SRC.partial" >/dev/null 2>&1; then
            mv "$ODOO_SRC.partial" "$ODOO_SRC"
        else
            rm -rf "$ODOO_SRC.partial"
            die "No Odoo 18.0 source tree at $ODOO_SRC and the official source is unreachable. Put an Odoo 18.0 source tree there (git clone --branch 18.0 https://github.com/odoo/odoo, or the 18.0 source tarball from nightly.odoo.com), or set ODOO_SRC to one. See README.md, 'Odoo source'."
        fi
    fi
    local series
    series=$(cd "$ODOO_SRC" && python3 -c 'import ast,sys
src=open("odoo/release.py").read()
for node in ast.parse(src).body:
    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "version_info":
        v = node.value.elts
        print("%s.%s" % (v[0].value, v[1].value)); break' 2>/dev/null || true)
    [ "$series" = "18.0" ] || die "ODOO_SRC=$ODOO_SRC holds Odoo ${series:-of unknown version}, not 18.0. Point ODOO_SRC at an Odoo 18.0 source tree."
}

# --- System packages -----------------------------------------------------------
SYSTEM_PACKAGES=(libpq-dev libldap2-dev libsasl2-dev chromium wkhtmltopdf)
ensure_system_packages() {
    local missing=()
    for p in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "Missing system packages: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}"
    fi
    say "Installing system packages: ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "apt-get could not install: ${missing[*]}"
}

# --- Python environment ----------------------------------------------------------
# gevent (Odoo's websocket process in multi-worker mode) loads its plugins through
# pkg_resources, which checks gevent's requirements zope.interface and zope.event.
# The pkg_resources of setuptools<70 (needed for Odoo's pinned sdists) reads a
# distribution's name from its .dist-info folder name; zope.interface>=8 and
# zope.event>=5.1 ship wheels with normalised folder names (zope_interface-8.x),
# which it cannot match: the gevent process then dies at start, over and over.
# These are the last releases whose metadata it can read.
VENV_PINS=("zope.interface==7.2" "zope.event==5.0")

# A stamp file records what was installed; a second run with the same inputs
# costs nothing.
ensure_venv() {
    local stamp=$LMC_VENV/.lmc-stamp want
    want=$(cat "$ODOO_SRC/requirements.txt" "$REPO_ROOT/requirements-dev.txt" "$REPO_ROOT/setup.py" \
        "$REPO_ROOT/lot_margin_control/__manifest__.py" <(echo "$ODOO_SRC" "${VENV_PINS[@]}") | sha1sum | cut -d' ' -f1)
    if [ -x "$PY" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    say "Building the Python environment in $LMC_VENV (first run: a few minutes)"
    [ -x "$PY" ] || python3 -m venv "$LMC_VENV" || die "python3 -m venv failed: install python3-venv."
    # Odoo's pinned sdists import pkg_resources in setup.py: keep setuptools<70
    # in the isolated build environments. PIP_CONSTRAINT replaces the machine's
    # own constraint file, so its lines are copied in.
    mkdir -p "$LMC_STATE"
    local constraints=$LMC_STATE/pip-constraints.txt machine_constraints
    echo "setuptools<70" > "$constraints"
    machine_constraints=$(pip3 config list 2>/dev/null | sed -n "s/^global.constraint='\(.*\)'$/\1/p" || true)
    if [ -n "$machine_constraints" ] && [ -f "$machine_constraints" ]; then
        grep -v '^\s*#' "$machine_constraints" | grep -v '^\s*$' >> "$constraints" || true
    fi
    printf '%s\n' "${VENV_PINS[@]}" >> "$constraints"
    export PIP_CONSTRAINT=$constraints PIP_BUILD_CONSTRAINT=$constraints PIP_DISABLE_PIP_VERSION_CHECK=1
    "$PY" -m pip install -q "setuptools<70" wheel || die "pip could not install setuptools"
    "$PY" -m pip install -q -r "$ODOO_SRC/requirements.txt" "${VENV_PINS[@]}" \
        || die "pip could not install Odoo's requirements (see above)."
    # compat mode: a plain path entry, so that `odoo` stays the source tree's
    # package and odoo.addons also sees the OCA wheels (RUNTIME.md).
    "$PY" -m pip install -q --no-deps --use-pep517 -e "$ODOO_SRC" --config-settings editable_mode=compat \
        || die "pip could not install Odoo from $ODOO_SRC"
    "$PY" -m pip install -q -r "$REPO_ROOT/requirements-dev.txt" || die "pip could not install the development requirements."
    "$PY" -c "import odoo.tools, odoo.addons.stock_restrict_lot" || die "Odoo does not import from the virtual environment."
    # What gevent does when Odoo starts its websocket process (see VENV_PINS).
    "$PY" -W ignore -c "import pkg_resources; pkg_resources.require('gevent')" \
        || die "pkg_resources cannot resolve gevent's requirements in $LMC_VENV: Odoo's websocket process would not start with workers."
    echo "$want" > "$stamp"
}

# --- PostgreSQL -----------------------------------------------------------------
pg_ok() { "$PY" - <<'PYEOF' >/dev/null 2>&1
import os, psycopg2
psycopg2.connect(dbname="postgres", connect_timeout=5).close()
PYEOF
}

# A read replica made by scripts/replica.sh that is down (e.g. after a restart of the machine)
# keeps its replication slot on the primary, and with it the oldest row version its queries
# could read (hot_standby_feedback): the primary's vacuum then reclaims nothing, in any
# database, and every table bloats. Whenever the primary is needed, an existing replica is
# started too, so that it streams again and releases what it held.
wake_replica() {
    [ "$(id -u)" -eq 0 ] && command -v pg_lsclusters >/dev/null || return 0
    local version
    version=$(pg_lsclusters -h 2>/dev/null | awk -v name="${LMC_REPLICA_CLUSTER:-lmc_replica}" \
        '$2==name && $4 !~ /^online/ {print $1; exit}')
    if [ -n "$version" ]; then
        say "Starting the read replica $version/${LMC_REPLICA_CLUSTER:-lmc_replica} (its slot holds back vacuum while it is down)"
        pg_ctlcluster "$version" "${LMC_REPLICA_CLUSTER:-lmc_replica}" start -- -W >/dev/null 2>&1 \
            || say "Could not start it: run 'bash scripts/replica.sh' (rebuilds it) or 'bash scripts/replica.sh --drop'."
    fi
}

ensure_postgres() {
    pg_ok && { wake_replica; return 0; }
    local local_pg=0
    case "$PGHOST" in localhost|127.0.0.1|::1|/*) local_pg=1 ;; esac
    if [ $local_pg -eq 1 ] && command -v pg_lsclusters >/dev/null; then
        if [ "$(id -u)" -eq 0 ]; then
            local cluster
            cluster=$(pg_lsclusters -h 2>/dev/null | awk -v port="$PGPORT" '$3==port {print $1" "$2" "$4; exit}')
            if [ -n "$cluster" ]; then
                set -- $cluster
                if [ "$3" != "online" ]; then
                    say "Starting the local PostgreSQL cluster $1/$2"
                    pg_ctlcluster "$1" "$2" start >/dev/null 2>&1 || die "Could not start PostgreSQL cluster $1/$2: see /var/log/postgresql/."
                fi
                # A dedicated login role: Odoo refuses the postgres superuser.
                (cd / && runuser -u postgres -- env -u PGHOST -u PGUSER -u PGPASSWORD -u PGDATABASE psql -q -p "$PGPORT" -v ON_ERROR_STOP=1 -c "DO \$\$BEGIN
                    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PGUSER') THEN
                        CREATE ROLE \"$PGUSER\" LOGIN CREATEDB PASSWORD '$PGPASSWORD';
                    END IF; END\$\$;") >/dev/null 2>&1 || die "Could not create the PostgreSQL role $PGUSER."
            fi
        fi
    fi
    pg_ok || die "PostgreSQL is unreachable at $PGHOST:$PGPORT as user $PGUSER. Start it (e.g. 'pg_ctlcluster 15 main start') or set PGHOST/PGPORT/PGUSER/PGPASSWORD."
    wake_replica
}

# --- Odoo configuration -------------------------------------------------------------
# write_config <file> <extra lines...>
write_config() {
    local conf=$1; shift
    mkdir -p "$(dirname "$conf")" "$LMC_DATA_DIR"
    {
        echo "[options]"
        echo "addons_path = $ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$REPO_ROOT"
        echo "data_dir = $LMC_DATA_DIR"
        echo "db_host = $PGHOST"
        echo "db_port = $PGPORT"
        echo "db_user = $PGUSER"
        echo "db_password = $PGPASSWORD"
        echo "admin_passwd = admin"
        echo "without_demo = False"
        for line in "$@"; do echo "$line"; done
    } > "$conf"
}

db_exists() {
    "$PY" - "$1" <<'PYEOF'
import sys, psycopg2
with psycopg2.connect(dbname="postgres") as cn, cn.cursor() as cr:
    cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (sys.argv[1],))
    sys.exit(0 if cr.fetchone() else 1)
PYEOF
}

# Prints the state of our module in a database ('installed', 'uninstalled', ... or nothing).
module_state() {
    "$PY" - "$1" "${2:-lot_margin_control}" <<'PYEOF' 2>/dev/null || true
import sys, psycopg2
with psycopg2.connect(dbname=sys.argv[1]) as cn, cn.cursor() as cr:
    cr.execute("SELECT state FROM ir_module_module WHERE name = %s", (sys.argv[2],))
    row = cr.fetchone()
    print(row[0] if row else "")
PYEOF
}

drop_db() {
    "$PY" - "$1" <<'PYEOF'
import sys, psycopg2
cn = psycopg2.connect(dbname="postgres"); cn.autocommit = True
cn.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[1].replace('"', ''))
PYEOF
    rm -rf "$LMC_DATA_DIR/filestore/$1"
}

# ensure_db <conf> <db> <with_demo:0|1> [update:always|changed]
# The database ends with the addon installed and up to date. A database whose
# installation did not finish is dropped and built again. With "changed", the
# update is skipped when the addon's files are those of the last update.
ensure_db() {
    local conf=$1 db=$2 demo=$3 when=${4:-always} state log=$LMC_STATE/$2-install.log
    local stamp=$LMC_STATE/$2.addon-sha1 addon_sha1
    addon_sha1=$(cd "$REPO_ROOT" && find lot_margin_control -type f ! -name '*.pyc' -print0 | sort -z \
        | xargs -0 sha1sum | sha1sum | cut -d' ' -f1)
    local demo_flag=()
    [ "$demo" = 1 ] || demo_flag=(--without-demo=all)
    state=""
    if db_exists "$db"; then
        state=$(module_state "$db")
        if [ "$state" != "installed" ]; then
            say "Database $db is half-initialised (module state: '${state:-none}'): dropping it"
            drop_db "$db"
            state=""
        fi
    fi
    if [ -z "$state" ]; then
        say "Creating database $db with lot_margin_control (about two minutes; log: $log)"
        if ! "$PY" "$ODOO_BIN" -c "$conf" -d "$db" -i lot_margin_control "${demo_flag[@]}" \
                --stop-after-init --no-http >"$log" 2>&1 || grep -q "CRITICAL\|Failed to load registry" "$log"; then
            drop_db "$db"
            tail -n 30 "$log" >&2
            die "Installing lot_margin_control into $db failed (full log: $log); the database was dropped."
        fi
    elif [ "$when" = changed ] && [ "$(cat "$stamp" 2>/dev/null)" = "$addon_sha1" ]; then
        say "Database $db is up to date"
        return 0
    else
        say "Updating lot_margin_control in database $db (log: $log)"
        if ! "$PY" "$ODOO_BIN" -c "$conf" -d "$db" -u lot_margin_control \
                --stop-after-init --no-http >"$log" 2>&1 || grep -q "CRITICAL\|Failed to load registry" "$log"; then
            tail -n 30 "$log" >&2
            die "Updating lot_margin_control in $db failed (full log: $log)."
        fi
    fi
    if grep -q " ERROR " "$log"; then
        grep " ERROR " "$log" | head -5 >&2
        die "Odoo logged errors while loading lot_margin_control into $db (full log: $log)."
    fi
    echo "$addon_sha1" > "$stamp"
}
