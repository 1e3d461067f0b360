from odoo import api, models
from odoo.tools import SQL


class StockLotKeptSummaryMixin(models.AbstractModel):
    """A table of sums kept by the records they sum, instead of summing those at every read.

    A model using it names its key columns (``_summary_keys``, the period column among them,
    ``_summary_period``) and its summed columns with their aggregate (``_summary_sums``), and
    says in SQL what its source rows are (``_sql_summary_rows``: already grouped by key). Then:

    - ``_add_summary(condition, sign)``: one INSERT of the source rows ``condition`` keeps, times
      ``sign`` (-1 takes them out): what the sources' ``create``/``write``/``unlink`` call;
    - ``_rebuild``: the whole table recomputed from its sources (one DELETE, one INSERT), at every
      module update and after code that writes the sources by SQL;
    - ``_compact(before)``: the rows of each key of periods before ``before`` summed into one.

    Append-only between compactions: each transaction inserts its own rows, so concurrent ones
    never wait for each other here, and a compaction leaves the rows inserted meanwhile (not in
    its snapshot): they still count, as the table is only ever read by sums. Nothing else writes
    it: the ORM may only read it (ir.model.access).
    """

    _name = "stock.lot.kept.summary.mixin"
    _description = "Lot Control: sums kept by their sources"
    # key columns (those that may be NULL: ``_summary_nullable``) and the period column among them
    _summary_keys = ()
    _summary_nullable = ()
    _summary_period = None
    # summed column -> its SQL aggregate when rows are compacted ("SUM", "MIN"); ``SUM`` columns are
    # the ones ``sign`` multiplies
    _summary_sums = {}
    # rows whose ``SUM`` columns are all zero are left out (when added and compacted)
    _summary_drop_zero = False

    @api.model
    def _sql_summary_rows(self, condition):
        """SQL rows of ``_summary_keys`` then ``_summary_sums``' columns: the sources ``condition``
        keeps, summed per key."""
        raise NotImplementedError

    @api.model
    def _flush_summary_sources(self):
        """Write what ``_sql_summary_rows`` reads."""
        self.env.flush_all()

    @api.model
    def _summary_columns(self):
        return [*self._summary_keys, *self._summary_sums]

    @api.model
    def _sql_insert_summary(self, rows):
        """INSERT of ``rows`` (SQL rows of ``_summary_columns``) into the table."""
        return SQL(
            "INSERT INTO %s (%s) %s",
            SQL.identifier(self._table),
            SQL(", ").join(SQL.identifier(column) for column in self._summary_columns()),
            rows,
        )

    @api.model
    def _add_summary(self, condition, sign=1):
        """Add (``sign`` 1) or take out (-1) the sources ``condition`` keeps, as they are in the
        database now: one INSERT whatever their number (with ``_summary_drop_zero``, rows adding up
        to nothing are left out)."""
        self._flush_summary_sources()
        summed = [column for column, aggregate in self._summary_sums.items() if aggregate == "SUM"]
        columns = [
            SQL("%s * rows.%s", sign, SQL.identifier(column))
            if column in summed
            else SQL("rows.%s", SQL.identifier(column))
            for column in self._summary_columns()
        ]
        nonzero = SQL("TRUE")
        if self._summary_drop_zero:
            nonzero = SQL(" OR ").join(SQL("rows.%s != 0", SQL.identifier(column)) for column in summed)
        self.env.cr.execute(
            self._sql_insert_summary(
                SQL(
                    "SELECT %s FROM (%s) rows WHERE %s",
                    SQL(", ").join(columns),
                    self._sql_summary_rows(condition),
                    nonzero,
                )
            )
        )
        self.invalidate_model()

    @api.model
    def _rebuild(self):
        """Recompute the whole table from its sources (one DELETE and one INSERT)."""
        self._flush_summary_sources()
        self.env.cr.execute(SQL("DELETE FROM %s", SQL.identifier(self._table)))
        self.env.cr.execute(self._sql_insert_summary(self._sql_summary_rows(SQL("TRUE"))))
        self.invalidate_model()

    @api.model
    def _compact(self, before):
        """Sum the rows of each key with a period before ``before`` (a date) into one row (one statement).

        Rows inserted by transactions running meanwhile are not in this one's snapshot: the DELETE
        leaves them, and they still count (the table is read by sums)."""
        self.flush_model()
        period = SQL.identifier(self._summary_period)

        def key(alias, column):
            ref = SQL("%s.%s", SQL.identifier(alias), SQL.identifier(column))
            return SQL("COALESCE(%s, 0)", ref) if column in self._summary_nullable else ref

        keys = self._summary_keys
        having = SQL()
        if self._summary_drop_zero:
            having = SQL(
                "HAVING %s",
                SQL(" OR ").join(
                    SQL("SUM(%s) != 0", SQL.identifier(column))
                    for column, aggregate in self._summary_sums.items()
                    if aggregate == "SUM"
                ),
            )
        self.env.cr.execute(
            SQL(
                """
                WITH split AS (
                    SELECT %(split_select)s
                      FROM %(table)s summary
                     WHERE summary.%(period)s < %(before)s
                     GROUP BY %(summary_keys)s
                    HAVING COUNT(*) > 1
                ), gone AS (
                    DELETE FROM %(table)s summary
                     USING split
                     WHERE summary.%(period)s < %(before)s AND (%(summary_keys)s) = (%(split_columns)s)
                    RETURNING summary.*
                )
                %(insert)s
                """,
                table=SQL.identifier(self._table),
                period=period,
                before=before,
                split_select=SQL(", ").join(
                    SQL("%s AS %s", key("summary", column), SQL.identifier(f"key_{index}"))
                    for index, column in enumerate(keys)
                ),
                summary_keys=SQL(", ").join(key("summary", column) for column in keys),
                split_columns=SQL(", ").join(
                    SQL("split.%s", SQL.identifier(f"key_{index}")) for index, _column in enumerate(keys)
                ),
                insert=self._sql_insert_summary(
                    SQL(
                        "SELECT %s, %s FROM gone GROUP BY %s %s",
                        SQL(", ").join(SQL.identifier(column) for column in keys),
                        SQL(", ").join(
                            SQL("%s(%s)", SQL(aggregate), SQL.identifier(column))
                            for column, aggregate in self._summary_sums.items()
                        ),
                        SQL(", ").join(SQL.identifier(column) for column in keys),
                        having,
                    )
                ),
            )
        )
        self.invalidate_model()
