"""18.0.1.2.0 puts each warehouse's quarantine location beside its stock location, not under it.

Under WH/Stock it changed what Odoo (and its own tests) expect of the stock location's
children, and deliveries from stock could reach it. Released lots that were in it go to
the stock location, where they could already be reserved.

Recall trace lines now carry the company of the move they come from (they had the
recall's): lines of moves get it here; stock-on-hand lines and the reconciliation are
rebuilt by tracing the recall again.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["stock.warehouse"].with_context(active_test=False).search([])._move_lot_quarantine_beside_stock()
    env.cr.execute(
        """
        UPDATE stock_lot_recall_line line
           SET company_id = move_line.company_id
          FROM stock_move_line move_line
         WHERE move_line.id = line.move_line_id
           AND line.company_id IS DISTINCT FROM move_line.company_id
        """
    )
