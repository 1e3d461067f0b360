"""Odoo in multi-worker (prefork) mode, as production runs it, from the project's own venv.

With ``--workers`` Odoo also runs a gevent process for websockets. It must start
once and stay up: in a venv where gevent's plugins cannot be resolved through
pkg_resources it crash-looped several times a second (issue 11, point 8).
"""

import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import websocket
from lmc_helpers import ODOO_CONF, ODOO_SRC, PYTHON, TEST_DB, free_port, stop_server

OBSERVE_SECONDS = 10
STARTUP_TIMEOUT = 90
HANDSHAKE_TIMEOUT = 120


def _children(pid):
    """PIDs and command lines of the live child processes of ``pid``."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append((int(entry.name), [part.decode() for part in cmdline if part]))
    return children


def _gevent_pids(master_pid):
    return sorted(pid for pid, cmdline in _children(master_pid) if "gevent" in cmdline[1:3])


def _alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def prefork_server(tmp_path):
    http_port, gevent_port = free_port(), free_port()
    log_path = tmp_path / "odoo-workers.log"
    command = [
        PYTHON,
        str(ODOO_SRC / "odoo-bin"),
        "-c",
        ODOO_CONF,
        "-d",
        TEST_DB,
        f"--db-filter=^{TEST_DB}$",
        "--workers=2",
        "--max-cron-threads=0",
        f"--http-port={http_port}",
        f"--gevent-port={gevent_port}",
        "--log-level=info",
        f"--logfile={log_path}",
    ]
    # What crashes before Odoo's logging is set up (an import error in the gevent
    # process, which inherits these descriptors) goes to the output file.
    output_path = tmp_path / "odoo-workers.out"
    with output_path.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    server = {
        "process": process,
        "log": log_path,
        "output": output_path,
        "http_port": http_port,
        "gevent_port": gevent_port,
    }
    try:
        yield server
    finally:
        stop_server(process)


def _log(server):
    """Odoo's log file, then whatever the processes wrote to their output."""
    return "\n".join(path.read_text(errors="replace") for path in (server["log"], server["output"]) if path.exists())


def test_prefork_server_keeps_its_websocket_process_up(prefork_server):
    process, gevent_port = prefork_server["process"], prefork_server["gevent_port"]

    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and not (
        _accepts(prefork_server["http_port"]) and _accepts(gevent_port) and _gevent_pids(process.pid)
    ):
        assert process.poll() is None, f"odoo-bin --workers exited:\n{_log(prefork_server)[-4000:]}"
        assert "Traceback" not in _log(prefork_server), _log(prefork_server)[-4000:]
        time.sleep(0.5)
    assert _accepts(gevent_port), f"nothing listens on the gevent port {gevent_port}:\n{_log(prefork_server)[-4000:]}"

    # One gevent process, the same one, for the whole observation.
    first = _gevent_pids(process.pid)
    assert len(first) == 1, f"gevent processes: {first}"
    seen = set(first)
    end = time.monotonic() + OBSERVE_SECONDS
    while time.monotonic() < end:
        seen.update(_gevent_pids(process.pid))
        time.sleep(0.2)
    assert seen == set(first), f"the gevent process restarted: {sorted(seen)}\n{_log(prefork_server)[-4000:]}"
    assert _gevent_pids(process.pid) == first

    # The websocket endpoint completes a real handshake on the gevent port.
    # The first request loads the database's registry in the gevent process: over 10 s
    # when the machine is busy (measured 2026-11-26, load average 6-7 on 2 cores).
    url = f"ws://127.0.0.1:{gevent_port}/websocket"
    connection = websocket.create_connection(url, origin=f"http://127.0.0.1:{gevent_port}", timeout=HANDSHAKE_TIMEOUT)
    try:
        assert connection.getstatus() == 101
    finally:
        connection.close()
    assert _gevent_pids(process.pid) == first

    log = _log(prefork_server)
    assert log.count("Evented Service (longpolling) running") == 1, log[-4000:]
    assert "DistributionNotFound" not in log, log[-4000:]
    assert "Traceback" not in log, log[-4000:]

    # A clean stop: the master exits and takes its gevent process with it.
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, _log(prefork_server)[-4000:]
    deadline = time.monotonic() + 15
    while _alive(first[0]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(first[0]), "the gevent process outlived the server"
    assert not _accepts(gevent_port)
