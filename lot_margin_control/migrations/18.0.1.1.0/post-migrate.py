"""18.0.1.1.0 adds quarantine locations: give them to warehouses of databases already on 18.0.1.0.0."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["stock.warehouse"]._ensure_lot_quarantine_locations()
