"""The addon ships as a wheel that Odoo loads from site-packages, without the repository."""

import ast
import json
import subprocess
import textwrap
import zipfile

import pytest
from lmc_helpers import ODOO_SRC, PYTHON, REPO_ROOT

ADDON = REPO_ROOT / "lot_margin_control"
MANIFEST = ast.literal_eval((ADDON / "__manifest__.py").read_text())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            PYTHON,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(REPO_ROOT),
        ],
        check=True,
        cwd=out,
    )
    (built,) = out.glob("*.whl")
    return built


def test_wheel_name_and_version_come_from_the_manifest(wheel):
    assert wheel.name.startswith(f"odoo_addon_lot_margin_control-{MANIFEST['version']}-")


def test_wheel_holds_every_addon_file_under_odoo_addons(wheel):
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if not name.startswith("odoo_addon_")}
    expected = {
        f"odoo/addons/lot_margin_control/{path.relative_to(ADDON)}"
        for path in ADDON.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert expected <= shipped, sorted(expected - shipped)
    assert all(name.startswith("odoo/addons/lot_margin_control/") for name in shipped)
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith("METADATA"))
        requires = [line for line in archive.read(metadata).decode().splitlines() if line.startswith("Requires-Dist")]
    assert any("odoo-addon-stock_restrict_lot" in line or "stock-restrict-lot" in line for line in requires)


def test_odoo_loads_the_installed_wheel_without_the_repository(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([PYTHON, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True)
    probe = textwrap.dedent(
        f"""
        import importlib, json
        import odoo
        from odoo.tools import config
        config.parse_config(["--addons-path", "{ODOO_SRC}/addons,{ODOO_SRC}/odoo/addons"])
        from odoo.modules import module
        module.initialize_sys_path()
        addon = importlib.import_module("odoo.addons.lot_margin_control")
        print(json.dumps({{
            "path": module.get_module_path("lot_margin_control"),
            "file": addon.__file__,
            "version": module.get_manifest("lot_margin_control")["version"],
            "models": sorted(m for m in dir(addon.models) if not m.startswith("_")),
        }}))
        """
    )
    result = subprocess.run(
        [PYTHON, "-c", probe],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["path"] == str(target / "odoo" / "addons" / "lot_margin_control")
    assert loaded["file"].startswith(str(target))
    assert loaded["version"] == MANIFEST["version"]
    assert "stock_lot" in loaded["models"]
