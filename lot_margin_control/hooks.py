def post_init_hook(env):
    """On a reinstall where products still ask for quarantine, warehouses get their quarantine location."""
    env["stock.warehouse"]._ensure_lot_quarantine_locations()


def uninstall_hook(env):
    """Drop the quarantine putaway rules: without their flag they would catch every product."""
    env["stock.putaway.rule"].search([("lot_quarantine", "=", True)]).unlink()
