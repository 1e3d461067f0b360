"""Odoo with a PostgreSQL read replica (issue 18): read-only calls served by the standby.

scripts/replica.sh makes (or reuses) a local streaming hot standby of the primary cluster;
an Odoo server runs against the test database with ``db_replica_host``/``db_replica_port``
pointing at it. The replica's ``pg_stat_statements`` (loaded on the replica only) tells which
statements it ran: the KPI query of ``stock.lot.kpi.get_kpis`` (``@api.readonly``) is there,
the INSERT of a ``create`` is not (it ran on the primary, and reached the replica through
replication). Skipped only where a replica cannot be made (not root, no Debian PostgreSQL tools).
"""

import os
import shutil
import subprocess
import time
from datetime import date, timedelta

import psycopg2
import pytest
import requests
from lmc_helpers import ODOO_CONF, ODOO_SRC, PYTHON, REPO_ROOT, TEST_DB, free_port, stop_server

REPLICA_PORT = int(os.environ.get("LMC_REPLICA_PORT", "5433"))
KPI_QUERY = "%JOIN stock_lot_count count%"
STARTUP_TIMEOUT = 120


def _replica_cannot_be_made():
    if os.geteuid() != 0:
        return "the replica is a PostgreSQL cluster of its own: making one needs root"
    if not (shutil.which("pg_createcluster") and shutil.which("pg_basebackup")):
        return "Debian's PostgreSQL tools (pg_createcluster, pg_basebackup) are not installed"
    if os.environ.get("PGHOST", "localhost") not in ("localhost", "127.0.0.1", "::1"):
        return "the primary PostgreSQL is not local"
    return None


@pytest.fixture(scope="module")
def replica():
    reason = _replica_cannot_be_made()
    if reason:
        pytest.skip(f"no read replica: {reason}")
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "replica.sh"), "--watch", TEST_DB],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"scripts/replica.sh failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return REPLICA_PORT


def _on_replica(query, params=None):
    with psycopg2.connect(dbname=TEST_DB, port=REPLICA_PORT) as connection, connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _replica_calls(pattern):
    """Calls of the statements like ``pattern`` that the replica ran in the test database."""
    [(calls,)] = _on_replica(
        "SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements"
        " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query LIKE %s",
        (pattern,),
    )
    return int(calls)


@pytest.fixture(scope="module")
def server(replica, tmp_path_factory):
    port = free_port()
    log_path = tmp_path_factory.mktemp("replica") / "odoo.log"
    command = [
        PYTHON, str(ODOO_SRC / "odoo-bin"), "-c", ODOO_CONF, "-d", TEST_DB, f"--db-filter=^{TEST_DB}$",
        "--workers=0", "--max-cron-threads=0", f"--http-port={port}", f"--logfile={log_path}",
        "--log-level=info", "--db_replica_host=localhost", f"--db_replica_port={replica}",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text(errors="replace")[-4000:]
        try:
            if requests.get(f"{url}/web/webclient/version_info", timeout=2).status_code < 500:
                break
        except requests.RequestException:
            time.sleep(0.5)
    try:
        yield {"url": url, "log": log_path}
    finally:
        stop_server(process)


def _session(server):
    session = requests.Session()
    response = session.post(
        f"{server['url']}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": TEST_DB, "login": "admin", "password": "admin"}},
        timeout=60,
    )
    assert "error" not in response.json(), response.text
    return session


def _call_kw(session, server, model, method, args, kwargs=None):
    response = session.post(
        f"{server['url']}/web/dataset/call_kw/{model}/{method}",
        json={"jsonrpc": "2.0", "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}},
        timeout=120,
    )
    body = response.json()
    assert "error" not in body, body
    return body["result"]


def test_readonly_call_is_served_by_the_replica_and_a_write_by_the_primary(server):
    assert _on_replica("SELECT pg_is_in_recovery()") == [(True,)]
    session = _session(server)
    today = date.today()

    before = _replica_calls(KPI_QUERY)
    tiles = _call_kw(session, server, "stock.lot.kpi", "get_kpis", [str(today - timedelta(days=30)), str(today)])
    assert {tile["code"] for tile in tiles} >= {"lot_accuracy"}
    assert _replica_calls(KPI_QUERY) > before, "get_kpis did not run on the replica"

    name = f"LMC replica probe {time.time_ns()}"
    inserts = _replica_calls('INSERT INTO "res_partner"%')
    [partner_id] = _call_kw(session, server, "res.partner", "create", [[{"name": name}]])
    with psycopg2.connect(dbname=TEST_DB) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT name FROM res_partner WHERE id = %s", (partner_id,))
        assert cursor.fetchone() == (name,), "the write is not on the primary"
    assert _replica_calls('INSERT INTO "res_partner"%') == inserts, "the replica ran the INSERT"
    # the standby receives it by streaming replication
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _on_replica("SELECT 1 FROM res_partner WHERE id = %s", (partner_id,)):
        time.sleep(0.2)
    assert _on_replica("SELECT name FROM res_partner WHERE id = %s", (partner_id,)) == [(name,)]
    with psycopg2.connect(dbname=TEST_DB) as connection, connection.cursor() as cursor:
        cursor.execute("DELETE FROM res_partner WHERE id = %s", (partner_id,))

    log = server["log"].read_text(errors="replace")
    assert "retrying with a read/write cursor" not in log, log[-4000:]
    assert "Traceback" not in log, log[-4000:]
