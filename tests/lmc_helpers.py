"""Helpers for repository-level tests: run Odoo and the set-up scripts as a user would."""

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psycopg2

REPO_ROOT = Path(__file__).resolve().parent.parent
ODOO_SRC = Path(os.environ.get("ODOO_SRC", Path.home() / "odoo-18.0"))
ODOO_CONF = os.environ.get("LMC_ODOO_CONF", str(REPO_ROOT / ".local" / "odoo-test.conf"))
PYTHON = sys.executable
DATA_DIR = Path(os.environ.get("LMC_DATA_DIR", Path.home() / ".local" / "share" / "Odoo"))


def run_odoo(database, *args, timeout=900):
    """Run odoo-bin against ``database`` with the test configuration; fail with its log."""
    command = [PYTHON, str(ODOO_SRC / "odoo-bin"), "-c", ODOO_CONF, "-d", database, "--no-http", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    log = result.stdout + result.stderr
    if result.returncode != 0 or " ERROR " in log or " CRITICAL " in log:
        raise AssertionError(f"odoo-bin {' '.join(args)} failed on {database}:\n{log[-6000:]}")
    return log


def odoo_shell(database, code, timeout=600):
    """Run Python ``code`` in `odoo-bin shell` (env is bound) and commit; return stdout."""
    command = [PYTHON, str(ODOO_SRC / "odoo-bin"), "shell", "-c", ODOO_CONF, "-d", database, "--no-http"]
    result = subprocess.run(
        command,
        input=code + "\nenv.cr.commit()\n",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise AssertionError(f"odoo shell failed on {database}:\n{result.stdout[-3000:]}{result.stderr[-6000:]}")
    return result.stdout


def sql(database, query, params=None):
    """Run one query on ``database`` and return all rows."""
    with psycopg2.connect(dbname=database) as connection, connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def database_exists(name):
    return bool(sql("postgres", "SELECT 1 FROM pg_database WHERE datname = %s", (name,)))


def drop_database(name):
    connection = psycopg2.connect(dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()
    shutil.rmtree(DATA_DIR / "filestore" / name, ignore_errors=True)


def copy_database(template, name):
    drop_database(name)
    connection = psycopg2.connect(dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    connection.close()
    # createdb -T copies the tables, not the attachments' files
    if (DATA_DIR / "filestore" / template).is_dir():
        shutil.copytree(DATA_DIR / "filestore" / template, DATA_DIR / "filestore" / name)


def run_script(script, *args, env=None, timeout=120):
    """Run one of scripts/*.sh with extra environment; return the CompletedProcess."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        check=False,
        stdin=subprocess.DEVNULL,
    )


TEST_DB = os.environ.get("LMC_TEST_DB", "lmc_test")


def stop_server(process):
    """Stop an ``odoo-bin`` started in its own session: gracefully, else its whole process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
