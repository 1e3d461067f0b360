"""18.0.1.3.0 keeps the expiry risk in its own table and values recalls' scope.

- The expiry risk figures moved from columns of ``stock_lot`` (rewritten for every lot
  every night) to ``stock_lot_expiry_risk``, one row per lot and warehouse: the old
  columns go, and the risk is computed now rather than at the next nightly run.
- Recalls made before the targeted-against-broad scope get their values now instead
  of at their next trace.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

OLD_RISK_COLUMNS = (
    "demand_daily_qty",
    "fefo_ahead_qty",
    "projected_unsold_qty",
    "projected_unsold_ratio",
    "projected_sellout_date",
    "expiry_value_at_risk",
    "risk_warehouse_id",
)


def migrate(cr, version):
    if not version:
        return
    for column in OLD_RISK_COLUMNS:
        cr.execute(SQL("ALTER TABLE stock_lot DROP COLUMN IF EXISTS %s", SQL.identifier(column)))
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["stock.lot"]._refresh_expiry_risk()
    env["stock.lot.recall"].with_context(active_test=False).search([])._refresh_scope_values()
