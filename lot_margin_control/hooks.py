from odoo.tools import SQL


def post_init_hook(env):
    """On a reinstall where products still ask for quarantine, warehouses get their quarantine location."""
    env["stock.warehouse"]._ensure_lot_quarantine_locations()


# The indexes the addon adds to core's tables (its own tables go with it).
CORE_TABLE_INDEXES = (
    "stock_move_line_lmc_done_date_index",
    "stock_move_line_lmc_fefo_date_index",
    "stock_move_line_lmc_lot_date_index",
    "stock_valuation_layer_lmc_create_date_index",
)


def uninstall_hook(env):
    """Drop the quarantine putaway rules (without their flag they would catch every product) and the
    indexes the addon added to core's tables (every validation would keep paying for them)."""
    env["stock.putaway.rule"].search([("lot_quarantine", "=", True)]).unlink()
    for index in CORE_TABLE_INDEXES:
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(index)))
