from odoo import api, models

# For the transaction only (set_config(..., TRUE) is SET LOCAL): no JIT compilation, and room to
# sort and hash 100,000 rows in memory instead of on disk. Measured on the valuation queries at
# 100,000 lots and 1,000,000 layers: compiling them took longer than running them (README,
# Performance). Read-only statements: also allowed on a hot-standby read replica.
BULK_SESSION_SQL = "SELECT set_config('jit', 'off', TRUE), set_config('work_mem', '64MB', TRUE)"


class StockLotBulkReadMixin(models.AbstractModel):
    """Reports whose rows come from one large analytical query (valuation, roll-forward): every ORM
    read of them first tunes the transaction for that query (``_tune_bulk_session``)."""

    _name = "stock.lot.bulk.read.mixin"
    _description = "Lot Control: reports read by one large query"

    @api.model
    def _tune_bulk_session(self):
        """Tune the current transaction for one large analytical query (``BULK_SESSION_SQL``)."""
        self.env.cr.execute(BULK_SESSION_SQL)

    @api.model
    def _read_group(self, *args, **kwargs):
        self._tune_bulk_session()
        return super()._read_group(*args, **kwargs)

    @api.model
    def search_count(self, domain, limit=None):
        self._tune_bulk_session()
        return super().search_count(domain, limit=limit)

    def _fetch_query(self, query, fields):
        self._tune_bulk_session()
        return super()._fetch_query(query, fields)
