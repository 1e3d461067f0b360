import gc
from contextlib import contextmanager

from odoo import api, models
from odoo.models import regex_order
from odoo.tools import SQL
from odoo.tools.query import Query

# For the transaction only (set_config(..., TRUE) is SET LOCAL): no JIT compilation, and room to
# sort and hash 100,000 rows in memory instead of on disk (64 MB, or the server's setting when
# larger). Measured on the valuation queries at 100,000 lots and 1,000,000 layers: compiling them
# took longer than running them (README, Performance). Allowed on a hot-standby read replica.
BULK_SESSION_SQL = """
    SELECT set_config('jit', 'off', TRUE),
           set_config('work_mem', GREATEST(pg_size_bytes(current_setting('work_mem')), 64 * 1024 * 1024) / 1024
                                  || 'kB', TRUE)
"""

# For one statement: no nested loops (``_execute_hashed``, ``_bulk_statement``), set back by
# ``_end_hash_joins``. Allowed on a hot-standby read replica.
HASH_JOINS_SQL = "set_config('enable_nestloop', 'off', TRUE)"


# What ``read`` gives for NULL in each field type the fast read formats (the ORM's
# convert_to_record then convert_to_read); other types go through the ORM.
FAST_READ_TYPES = {
    "many2one": False,
    "float": 0.0,
    "monetary": 0.0,
    "integer": 0,
    "selection": False,
    "date": False,
    "datetime": False,
}


@contextmanager
def gc_paused():
    """Python's cyclic garbage collector paused while many containers without cycles are made (the
    dicts of 100,000 rows: it would otherwise scan the growing heap again and again, a third of their
    formatting); set back as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class StockLotBulkReadMixin(models.AbstractModel):
    """Reports of 100,000 rows (valuation, roll-forward, snapshot lines):

    - every ORM read of them first tunes the transaction for one large analytical query
      (``_tune_bulk_session``);
    - ``search_read`` (RPC clients, reading a report whole) runs one query for the rows, the names
      of records named by a column (lots, locations) joined in it, and one per other many2one column
      for the names, and formats the values without the ORM's loop over every value of every record
      (nine tenths of the time of reading a 100,000-row report whole). The
      dicts are the ORM's, value for value (test_valuation_snapshot,
      ``test_fast_read_is_the_orm_read``); fields of other types go through the ORM's read.
    """

    _name = "stock.lot.bulk.read.mixin"
    _description = "Lot Control: reports read by one large query"
    # The model's query joins sets of 100,000 rows built in CTEs, which PostgreSQL cannot estimate:
    # its statements are planned without nested loops (``_bulk_statement``).
    _bulk_hash_joins = False
    # Many2one columns ordered by their record's rank in the comodel's order instead of by the
    # comodel's columns (``_order_field_to_sql``): the same order, without sorting every row by the
    # names of its company, category and product.
    _bulk_ranked_orders = ()

    @api.model
    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        """A many2one of ``_bulk_ranked_orders`` orders by ``ROW_NUMBER()`` over its comodel's table in
        the comodel's order (a window over the comodel's table) joined on the column, instead of the
        ORM's join whose names then sort every row: measured on the roll-forward's 100,000 rows, 2 s
        of sorting on names. Orders made only of such columns also get them packed into one key
        first (``_order_to_sql``)."""
        if field_name not in self._bulk_ranked_orders:
            return super()._order_field_to_sql(alias, field_name, direction, nulls, query)
        comodel = self.env[self._fields[field_name].comodel_name]
        ranks = Query(self.env, comodel._table, comodel._table_sql)
        ranked = ranks.select(
            SQL.identifier(comodel._table, "id"),
            SQL("ROW_NUMBER() OVER (ORDER BY %s) AS rank", comodel._order_to_sql(comodel._order, ranks)),
        )
        rank_alias = query.make_alias(alias, f"{field_name}__rank")
        query.add_join(
            "LEFT JOIN",
            rank_alias,
            SQL("(%s)", ranked),
            SQL("%s = %s", self._field_to_sql(alias, field_name, query), SQL.identifier(rank_alias, "id")),
        )
        rank = SQL.identifier(rank_alias, "rank")
        if query.groupby:
            query.groupby = SQL("%s, %s", query.groupby, rank)
        return SQL("%s %s %s", rank, direction, nulls)

    @api.model
    def _order_to_sql(self, order, query, alias=None, reverse=False):
        """An order made only of ``_bulk_ranked_orders`` columns, all in one direction (the reports'
        default orders), is led by their ranks packed into one bigint, unique per row: PostgreSQL
        then sorts the rows by that one value and never reads the other keys out of its wide rows
        (measured on the roll-forward's 100,000 rows: 1.6 s sorting by company, category, product
        and lot ranks, 0.07 s by one key). The ORM's terms follow unchanged: when the ranks do not fit
        in 62 bits, the key is NULL for every row and they decide alone."""
        sql = super()._order_to_sql(order, query, alias=alias, reverse=reverse)
        packable = self._bulk_packable_order(order or self._order, reverse)
        if not packable or query.groupby:
            return sql
        terms, direction = packable
        alias = alias or self._table
        # the bits each rank takes (its comodel's size: ranks 1..n, and all ones for NULL): scalar
        # subqueries, which PostgreSQL evaluates once per statement (init plans) whatever the plan, so
        # that each row only shifts and adds integers (a joined one-row layout was evaluated again for
        # each of 100,000 rows when a plan put it inside a nested loop without materializing it)
        bits = [
            SQL(
                "(SELECT floor(log(2, COUNT(*) + 1))::int + 2 FROM %s ranked)",
                self.env[self._fields[field_name].comodel_name]._table_sql,
            )
            for field_name, _null_high in terms
        ]
        parts = []
        for index, (field_name, null_high) in enumerate(terms):
            rank = SQL.identifier(query.make_alias(alias, f"{field_name}__rank"), "rank")
            null_value = SQL("((1::bigint << %s) - 1)", bits[index]) if null_high else SQL("0")
            shift = SQL(" + ").join(bits[index + 1 :]) if index + 1 < len(terms) else SQL("0")
            parts.append(SQL("(COALESCE(%s, %s) << (%s))", rank, null_value, shift))
        packed = SQL(
            "CASE WHEN %s <= 62 THEN %s END %s",
            SQL(" + ").join(bits),
            SQL(" + ").join(parts),
            SQL(direction),
        )
        return SQL("%s, %s", packed, sql)

    @api.model
    def _bulk_packable_order(self, order, reverse):
        """``([(field, null_high)], direction)`` when every term of ``order`` is a column of
        ``_bulk_ranked_orders`` and all go one way (``null_high``: a NULL sorts as the highest rank, as
        the ORM's term puts it), else None."""
        terms, directions = [], set()
        for part in order.split(","):
            match = regex_order.match(part)
            if not match or match["property"] or match["func"] or match["field"] not in self._bulk_ranked_orders:
                return None
            direction = (match["direction"] or "ASC").upper()
            nulls = (match["nulls"] or "").upper()
            if reverse:  # as the ORM reverses an order
                direction = "ASC" if direction == "DESC" else "DESC"
                if nulls:
                    nulls = "NULLS LAST" if nulls == "NULLS FIRST" else "NULLS FIRST"
            # PostgreSQL puts NULLs last going up and first going down, unless told
            nulls_last = nulls == "NULLS LAST" or (not nulls and direction == "ASC")
            terms.append((match["field"], nulls_last == (direction == "ASC")))
            directions.add(direction)
        if len(terms) < 2 or len(directions) != 1:
            return None
        return terms, directions.pop()

    @api.model
    def _tune_bulk_session(self):
        """Tune the current transaction for one large analytical query (``BULK_SESSION_SQL``)."""
        self.env.cr.execute(BULK_SESSION_SQL)

    @api.model
    def _execute_hashed(self, query, fetch=True):
        """Run ``query`` planned without nested loops (for this statement only); its rows when ``fetch``.

        For the statements that join sets of 100,000 rows built in CTEs: PostgreSQL cannot estimate
        those (it assumes one row) and probes an index once per row where hashing the other side
        once is several times faster (measured at 100,000 lots: the overview's valuation 3.7 s
        planned as it likes, 2.7 s without nested loops; making a snapshot 3.7 s, 3.4 s)."""
        # one round trip: the setting, then the statement (whose rows the cursor holds)
        self.env.cr.execute(SQL("SELECT %s; %s", SQL(HASH_JOINS_SQL), query))
        rows = self.env.cr.fetchall() if fetch else None
        self._end_hash_joins()
        return rows

    @api.model
    def _end_hash_joins(self):
        """Set the planner back to the server's setting after a statement without nested loops."""
        self.env.cr.execute("SET LOCAL enable_nestloop TO DEFAULT")

    @contextmanager
    def _bulk_statement(self):
        """Tune the transaction (``_tune_bulk_session``) and, for a model with ``_bulk_hash_joins``, plan
        the statements run inside without nested loops (the planner's setting is set back after; a
        failed statement leaves it to the transaction's rollback)."""
        if not self._bulk_hash_joins:
            self._tune_bulk_session()
            yield
            return
        self.env.cr.execute(SQL("%s, %s", SQL(BULK_SESSION_SQL), SQL(HASH_JOINS_SQL)))
        yield
        self._end_hash_joins()

    @api.model
    def _read_group(self, *args, **kwargs):
        with self._bulk_statement():
            return super()._read_group(*args, **kwargs)

    @api.model
    def search_count(self, domain, limit=None):
        with self._bulk_statement():
            return super().search_count(domain, limit=limit)

    def _fetch_query(self, query, fields):
        with self._bulk_statement():
            return super()._fetch_query(query, fields)

    @api.model
    def _is_fast_readable(self, fnames):
        return all(self._fields[name].store and self._fields[name].type in FAST_READ_TYPES for name in fnames)

    @api.model
    @api.readonly
    def search_read(self, domain=None, fields=None, offset=0, limit=None, order=None, **read_kwargs):
        fnames = self.check_field_access_rights("read", fields)
        if not self._is_fast_readable(fnames) or set(read_kwargs) - {"load"}:
            return super().search_read(domain, fields, offset=offset, limit=limit, order=order, **read_kwargs)
        load = read_kwargs.get("load", "_classic_read")
        query, columns, named = self._fast_read_query(domain, fnames, offset, limit, order, load)
        if query.is_empty():
            return []
        with self._bulk_statement(), gc_paused():
            rows = self.env.execute_query(query.select(*columns))
            return self._format_rows(rows, fnames, load, named=named)

    @api.model
    @api.readonly
    def web_search_read(self, domain, specification, offset=0, limit=None, order=None, count_limit=None):
        """A page of a report read by a SQL view (``_table_query``: the valuation, the roll-forward)
        and the number of its rows from one run of the view's statement (the rows' count is a window,
        ``COUNT(*) OVER ()``, computed before the page is cut), where the web client's list makes the
        ORM run it twice, for the page and again for ``search_count`` (on the roll-forward of 100,000
        lots, a run is seconds). The same result as the ORM's (``test_web_search_read_is_the_orms``);
        specifications the fast read does not cover (fields not stored, related records' own fields,
        a context) and unpaged reads go to the ORM."""
        # the class's attribute: the roll-forward's query is a property that reads the kept month ends
        if not (type(self)._table_query and limit and self._is_web_fast_readable(specification)):
            return super().web_search_read(
                domain, specification, offset=offset, limit=limit, order=order, count_limit=count_limit
            )
        fnames = self.check_field_access_rights("read", list(specification))
        query, columns, named = self._fast_read_query(domain, fnames, offset, limit, order, "_classic_read")
        if query.is_empty():
            return {"length": 0, "records": []}
        with self._bulk_statement():
            rows = self.env.execute_query(query.select(*columns, SQL("COUNT(*) OVER ()")))
        if not rows:  # a page past the end: no row to carry the count (and the ORM answers 0)
            return {"length": 0, "records": []}
        total = rows[0][-1]
        records = self._format_rows([row[:-1] for row in rows], fnames, "_classic_read", named=named)
        for name, field_spec in specification.items():
            if self._fields[name].type == "many2one":
                # web_read's many2one: its id; {"id"} when its fields are asked for (the web client
                # asks none of a field always invisible), with its display name when asked for
                fields_spec = field_spec.get("fields")
                for record in records:
                    value = record[name]
                    if not value:
                        continue
                    if fields_spec is None:
                        record[name] = value[0]
                    elif fields_spec:
                        record[name] = {"id": value[0], "display_name": value[1]}
                    else:
                        record[name] = {"id": value[0]}
        # _format_web_search_read_results, with the count already known
        current_length = len(records) + offset
        count_limit_reached = count_limit and count_limit <= current_length
        if (len(records) == limit and not count_limit_reached) or self.env.context.get("force_search_count"):
            length = min(total, count_limit) if count_limit else total
        else:
            length = current_length
        return {"length": length, "records": records}

    @api.model
    def _is_web_fast_readable(self, specification):
        """Whether ``web_search_read``'s one statement can give ``specification``: stored fields of the
        fast read's types, many2ones asked for their id or their display name only (the web client's
        specifications of a list of such fields: ``getFieldsSpec``)."""
        if not specification or not all(name in self._fields for name in specification):
            return False
        many2one_specs = ({}, {"fields": {}}, {"fields": {"display_name": {}}})
        return self._is_fast_readable(list(specification)) and all(
            field_spec in (many2one_specs if self._fields[name].type == "many2one" else ({},))
            for name, field_spec in specification.items()
        )

    @api.model
    def _fast_read_query(self, domain, fnames, offset, limit, order, load):
        """The fast read's query of ``fnames`` (the ORM's ``_search``: access rights and record rules,
        active_test, default order), its columns (the id, each field, then the record id and name of
        each many2one named by a column, joined: one hash join instead of a query of the names of
        100,000 ids) and the names of those many2ones."""
        query = self._search(domain or [], offset=offset, limit=limit, order=order or self._order)
        table = query.table
        columns = [SQL.identifier(table, "id")]
        columns += [self._sql_fast_read_column(table, name) for name in fnames]
        named = []
        if query.is_empty():
            return query, columns, named
        for name in fnames:
            field = self._fields[name]
            name_field = self._name_column(field) if field.type == "many2one" and load == "_classic_read" else None
            if name_field:
                comodel = self.env[field.comodel_name]
                comodel.flush_model([name_field.name])
                alias = query.make_alias(table, f"{name}__named")
                query.add_join(
                    "LEFT JOIN",
                    alias,
                    comodel._table,
                    SQL("%s = %s", SQL.identifier(alias, "id"), SQL.identifier(table, name)),
                )
                columns += [SQL.identifier(alias, "id"), SQL.identifier(alias, name_field.name)]
                named.append(name)
        return query, columns, named

    @api.model
    def _sql_fast_read_column(self, alias, name):
        """The column ``name`` of ``alias`` as the fast read fetches it: numbers never NULL (the ORM's
        0), and floats as float8 (PostgreSQL's conversion is the ORM's float(Decimal), both correctly
        rounded, without a Decimal made for every value: half the fetch of 100,000 rows)."""
        field_type = self._fields[name].type
        if field_type in ("float", "monetary"):
            return SQL("COALESCE(%s::float8, 0)", SQL.identifier(alias, name))
        if field_type == "integer":
            return SQL("COALESCE(%s, 0)", SQL.identifier(alias, name))
        return SQL.identifier(alias, name)

    @api.model
    def _format_rows(self, rows, fnames, load="_classic_read", named=()):
        """``read``'s dicts of ``rows`` (tuples ``(id, *values of fnames, *(record id, name) of each
        of named)``, numbers fetched by ``_sql_fast_read_column``), as the ORM formats them: NULL as
        the ORM's empty value of the type, many2ones as ``(id, display name)`` (or the id alone when
        ``load`` is not ``_classic_read``). Many2ones not in ``named`` get their names in one query per
        column. One dict per row, made straight from the row: 100,000 roll-forward rows in about 0.3 s
        (column by column, then zipped: 0.75 s)."""
        keys = ["id", *fnames]
        joined, mapped, nullable = [], [], []
        for index, name in enumerate(fnames, 1):
            field = self._fields[name]
            if field.type == "many2one" and load == "_classic_read":
                if name in named:
                    joined.append((name, len(keys) + 2 * named.index(name)))
                else:
                    # one (id, name) pair per record, shared by its rows
                    names = self._display_names(field, {row[index] for row in rows if row[index]})
                    mapped.append((name, {record_id: (record_id, display) for record_id, display in names.items()}))
            elif field.type not in ("float", "monetary", "integer"):
                nullable.append((name, FAST_READ_TYPES[field.type]))
        result = []
        for row in rows:
            record = dict(zip(keys, row, strict=False))  # the joined names after the values left out
            for name, null in nullable:
                if record[name] is None:
                    record[name] = null
            for name, position in joined:
                # a char column's display name (Field.convert_to_display_name): the text, False if empty
                record[name] = (row[position], row[position + 1] or False) if row[position] else False
            for name, pairs in mapped:
                record[name] = pairs.get(record[name], False)
            result.append(record)
        return result

    @api.model
    def _name_column(self, field):
        """The stored, untranslated char field naming the records of ``field``'s model the ORM's way
        (lots, locations…: their display name is that column), else None."""
        comodel = self.env[field.comodel_name]
        name_field = comodel._fields.get(comodel._rec_name or "")
        if (
            type(comodel)._compute_display_name is models.BaseModel._compute_display_name
            and name_field
            and name_field.type == "char"
            and name_field.store
            and not name_field.translate
        ):
            return name_field
        return None

    @api.model
    def _display_names(self, field, ids):
        """``{id: display name}`` of the records of ``field``'s model among ``ids`` that exist, as
        ``read`` shows them (as superuser, in this context). Models named by a column
        (``_name_column``): that column, in one query; others through the ORM, their names fetched in
        one query."""
        comodel = self.env[field.comodel_name].sudo().with_context(active_test=False)
        name_field = self._name_column(field)
        if name_field:
            comodel.flush_model([name_field.name])
            rows = self.env.execute_query(
                SQL(
                    "SELECT record.id, record.%s FROM unnest(%s::integer[]) AS wanted(id) JOIN %s record "
                    "ON record.id = wanted.id",
                    SQL.identifier(name_field.name),
                    list(ids),
                    SQL.identifier(comodel._table),
                )
            )
            return {record_id: name_field.convert_to_display_name(name, comodel) for record_id, name in rows}
        records = comodel.browse(ids).exists()
        name_field = comodel._fields.get(comodel._rec_name or "")
        if name_field and name_field.store:
            records.fetch([name_field.name])
        return {record.id: record.display_name for record in records}
