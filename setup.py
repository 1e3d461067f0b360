"""Packaging for the lot_margin_control Odoo addon.

Builds the distribution ``odoo-addon-lot_margin_control`` that installs the
addon as ``odoo.addons.lot_margin_control``, so that Odoo finds it in
site-packages without the repository on its addons path (as OCA wheels do).
The version is the manifest's.
"""

import ast
from pathlib import Path

from setuptools import setup

ADDON = "lot_margin_control"
HERE = Path(__file__).parent
MANIFEST = ast.literal_eval((HERE / ADDON / "__manifest__.py").read_text())


def _packages():
    """Python packages of the addon, mapped under odoo.addons."""
    found = []
    for init in sorted((HERE / ADDON).rglob("__init__.py")):
        relative = init.parent.relative_to(HERE)
        found.append(".".join(("odoo", "addons", *relative.parts)))
    return found


def _data_files():
    """Every file the addon ships besides its packages: XML, CSV, assets, migration scripts."""
    root = HERE / ADDON
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.suffix != ".pyc" and "__pycache__" not in path.parts
    )


setup(
    name=f"odoo-addon-{ADDON}",
    version=MANIFEST["version"],
    description=MANIFEST["summary"],
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license=MANIFEST["license"],
    author=MANIFEST["author"],
    python_requires=">=3.10",
    packages=_packages(),
    package_dir={f"odoo.addons.{ADDON}": ADDON},
    package_data={f"odoo.addons.{ADDON}": _data_files()},
    include_package_data=False,
    install_requires=[
        "odoo>=18.0a,<18.1dev",
        "odoo-addon-stock_lot_production_date>=18.0,<18.1dev",
        "odoo-addon-sale_order_lot_selection>=18.0,<18.1dev",
        "odoo-addon-stock_restrict_lot>=18.0,<18.1dev",
        "xlsxwriter",
    ],
    classifiers=[
        "Programming Language :: Python",
        "Framework :: Odoo",
        "Framework :: Odoo :: 18.0",
        "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)",
    ],
    zip_safe=False,
)
