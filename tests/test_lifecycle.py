"""Install, upgrade and uninstall on a database that already has lots and moves.

The base database (core + OCA dependencies, no lot_margin_control) is built
once and kept; each run copies it, so this test costs about a minute.
"""

import ast

import pytest
from lmc_helpers import REPO_ROOT, copy_database, database_exists, drop_database, odoo_shell, run_odoo, sql

BASE_DB = "lmc_base"
DB = "lmc_lifecycle"
DEPENDS = ast.literal_eval((REPO_ROOT / "lot_margin_control" / "__manifest__.py").read_text())["depends"]

EXISTING_STOCK = """
product = env["product.product"].create({
    "name": "Legacy Cheese", "is_storable": True, "tracking": "lot",
    "use_expiration_date": True, "expiration_time": 30,
})
stock = env.ref("stock.stock_location_stock")
lot = env["stock.lot"].create({"name": "LEGACY-1", "product_id": product.id})
receipt = env["stock.picking"].create({
    "picking_type_id": env.ref("stock.picking_type_in").id,
    "location_id": env.ref("stock.stock_location_suppliers").id,
    "location_dest_id": stock.id,
    "move_ids": [(0, 0, {
        "name": "legacy", "product_id": product.id, "product_uom_qty": 12,
        "location_id": env.ref("stock.stock_location_suppliers").id, "location_dest_id": stock.id,
    })],
})
receipt.action_confirm()
receipt.move_ids.move_line_ids.write({"lot_id": lot.id, "quantity": 12, "picked": True})
receipt.button_validate()
assert receipt.state == "done", receipt.state
"""


def module_state(database, name="lot_margin_control"):
    rows = sql(database, "SELECT state FROM ir_module_module WHERE name = %s", (name,))
    return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def legacy_database():
    if not database_exists(BASE_DB) or any(module_state(BASE_DB, name) != "installed" for name in DEPENDS):
        drop_database(BASE_DB)
        run_odoo(BASE_DB, "-i", ",".join(DEPENDS), "--without-demo=all", "--stop-after-init")
    copy_database(BASE_DB, DB)
    odoo_shell(DB, EXISTING_STOCK)
    yield DB
    drop_database(DB)


def test_install_upgrade_uninstall_keep_existing_lots(legacy_database):
    lots_before = sql(legacy_database, "SELECT id, name FROM stock_lot ORDER BY id")
    quants_before = sql(legacy_database, "SELECT lot_id, quantity FROM stock_quant WHERE lot_id IS NOT NULL")
    assert lots_before and quants_before

    run_odoo(legacy_database, "-i", "lot_margin_control", "--stop-after-init")
    assert module_state(legacy_database) == "installed"
    assert sql(legacy_database, "SELECT name FROM stock_lot ORDER BY id") == [(n,) for _i, n in lots_before]
    assert sql(
        legacy_database,
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'stock_lot' "
        "AND column_name = 'supplier_lot_name'",
    )

    run_odoo(legacy_database, "-u", "lot_margin_control", "--stop-after-init")
    assert module_state(legacy_database) == "installed"
    assert len(sql(legacy_database, "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%lmc%'")) == 4

    odoo_shell(
        legacy_database,
        'env["ir.module.module"].search([("name", "=", "lot_margin_control")]).button_immediate_uninstall()',
    )
    assert module_state(legacy_database) == "uninstalled"
    assert sql(legacy_database, "SELECT id, name FROM stock_lot ORDER BY id") == lots_before
    assert sql(legacy_database, "SELECT lot_id, quantity FROM stock_quant WHERE lot_id IS NOT NULL") == (quants_before)
    assert not sql(
        legacy_database,
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'stock_lot' "
        "AND column_name = 'supplier_lot_name'",
    )
    assert not sql(legacy_database, "SELECT 1 FROM res_groups WHERE name->>'en_US' = 'Quality Manager'")
    # the indexes it added to core's tables are gone with it
    assert not sql(legacy_database, "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%lmc%'")
