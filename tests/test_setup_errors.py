"""The set-up scripts stop with one clear line on bad input, and leave nothing behind."""

import socket

import pytest
from lmc_helpers import run_script


def _error_lines(result):
    return [line for line in result.stderr.splitlines() if line.strip()]


def _assert_one_clear_error(result, *words):
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    errors = _error_lines(result)
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("ERROR: ")
    for word in words:
        assert word in errors[0], errors[0]


def test_missing_odoo_tree_says_where_to_put_it(tmp_path):
    missing = tmp_path / "no-odoo-here"
    result = run_script("test.sh", env={"ODOO_SRC": str(missing), "ODOO_GIT_URL": "https://127.0.0.1:9/odoo.git"})
    _assert_one_clear_error(result, str(missing), "Odoo 18.0 source tree")
    assert not missing.exists()
    assert not (tmp_path / "no-odoo-here.partial").exists()


def test_wrong_odoo_version_is_refused(tmp_path):
    fake = tmp_path / "odoo-17"
    (fake / "odoo").mkdir(parents=True)
    (fake / "odoo" / "release.py").write_text("version_info = (17, 0, 0, 'final', 0, '')\n")
    result = run_script("test.sh", env={"ODOO_SRC": str(fake)})
    _assert_one_clear_error(result, "17.0", "not 18.0")


def test_unreachable_postgresql_is_reported():
    result = run_script("test.sh", env={"PGHOST": "127.0.0.1", "PGPORT": "1"})
    _assert_one_clear_error(result, "PostgreSQL is unreachable", "127.0.0.1:1")


@pytest.fixture
def busy_port():
    with socket.socket() as server:
        server.bind(("0.0.0.0", 0))
        server.listen(1)
        yield server.getsockname()[1]


def test_demo_refuses_a_taken_port(busy_port):
    result = run_script("demo.sh", env={"LMC_HTTP_PORT": str(busy_port)})
    _assert_one_clear_error(result, f"Port {busy_port} is already in use")
