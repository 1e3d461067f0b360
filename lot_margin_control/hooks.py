def post_init_hook(env):
    """Existing warehouses get their quarantine location and putaway rule."""
    env["stock.warehouse"].search([])._create_lot_quarantine_location()


def uninstall_hook(env):
    """Drop the quarantine putaway rules: without their flag they would catch every product."""
    env["stock.putaway.rule"].search([("lot_quarantine", "=", True)]).unlink()
