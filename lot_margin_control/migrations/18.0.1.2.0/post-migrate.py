"""18.0.1.2.0 puts each warehouse's quarantine location beside its stock location, not under it.

Under WH/Stock it changed what Odoo (and its own tests) expect of the stock location's
children, and deliveries from stock could reach it. Released lots that were in it go to
the stock location, where they could already be reserved.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["stock.warehouse"].with_context(active_test=False).search([])._move_lot_quarantine_beside_stock()
