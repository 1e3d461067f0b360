"""Linters run with the tests: ruff (check + format) and pylint-odoo's Odoo checks."""

import subprocess

from lmc_helpers import PYTHON, REPO_ROOT

PYTHON_TREES = [
    path
    for path in ("lot_margin_control", "tests", "bench", "scripts", "setup.py", "conftest.py")
    if (REPO_ROOT / path).exists()
]


def _run(*command):
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)


def test_ruff_check():
    result = _run(PYTHON, "-m", "ruff", "check", *PYTHON_TREES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = _run(PYTHON, "-m", "ruff", "format", "--check", *PYTHON_TREES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pylint_odoo():
    result = _run(PYTHON, "-m", "pylint", "--rcfile=.pylintrc", "lot_margin_control")
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_rst_is_built_from_the_fragments():
    """lot_margin_control/README.rst is what scripts/gen_readme.py builds from readme/*.md."""
    result = _run(PYTHON, "scripts/gen_readme.py", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
