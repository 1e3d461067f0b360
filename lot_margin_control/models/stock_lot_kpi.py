from datetime import date, datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..report.stock_lot_margin_report import COST_READERS
from ..report.stock_lot_valuation_report import MIN_VALUATION_DATE
from .lot_limits import MAX_DAYS
from .res_company import KPI_TARGETS

# The overview's metrics, in tile order: code -> unit (names: ``StockLotKpi._get_names``). PRODUCT.md §7.
KPIS = {
    "lot_accuracy": "percent",
    "fefo_compliance": "percent",
    "gs1_capture": "percent",
    "scan_coverage": "percent",
    "picking_accuracy": "percent",
    "obsolescence": "percent",
    "shrinkage": "percent",
    "recall_response_hours": "hours",
    "mock_recall_trace_ms": "ms",
    "recall_scope_avoided": "currency",
    "recovered_value": "currency",
    "expiry_value_at_risk": "currency",
    "inventory_value": "currency",
    "expired_value": "currency",
    "near_expiry_value": "currency",
    "blocked_value": "currency",
}
# Who may open the overview: its menu's groups.
KPI_READERS = "lot_margin_control.group_lot_control_user,stock.group_stock_manager,account.group_account_readonly"
# Quality states whose value is held back from sale (PRODUCT.md §6: blocked/quarantined value).
HELD_QUALITY_STATES = ("quarantine", "blocked", "recalled")
# A tile is amber within this distance of its target: 5% under it (higher is better) or up to
# 1.5 times it (lower is better); red beyond.
AMBER_BELOW = 0.95
AMBER_ABOVE = 1.5
MAX_TREND_MONTHS = 24


class StockLotKpi(models.AbstractModel):
    """The Lot Control overview's numbers (PRODUCT.md §7), for the dashboard, RPC clients and tests.

    ``get_kpis`` measures each metric on a period and on the previous period of
    the same length, for the companies asked (default: the user's current
    companies). Every metric is one SQL statement over all the periods asked
    (``_compute``), so the query count does not grow with the data, the period
    or the number of months of a trend. Values at a date (inventory value and
    its buckets, and the denominators of obsolescence and shrinkage) are the
    valuation by lot's (``stock.lot.valuation.report``) at the end of each
    period, every period end in one pass (``_get_valuations``,
    stock_lot_kpi_valuation.py), so they equal that report. A metric with nothing to
    measure is ``None`` ("no data"), never 0 or 100%.
    """

    _name = "stock.lot.kpi"
    _description = "Lot Control Overview"

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    @api.model
    @api.readonly
    def get_kpis(self, date_from, date_to, company_ids=None):
        """The overview's tiles for ``date_from`` .. ``date_to`` (dates, both included) and companies.

        Returns a list of dicts ``{code, name, value, unit, previous, target, action}``
        plus ``status`` (``success``, ``warning``, ``danger`` against the target, or
        False), ``higher_is_better`` and ``currency_id``. Money tiles are for
        accountants and inventory administrators only; other users get the rest.
        """
        first, last = self._check_period(date_from, date_to)
        companies = self._check_companies(company_ids)
        length = (last - first).days + 1
        periods = [(first, last)]
        if first - timedelta(days=length) >= MIN_VALUATION_DATE:
            periods.append((first - timedelta(days=length), first - timedelta(days=1)))
        values = self._compute(periods, companies)
        currency = self._get_currency(companies)
        names = self._get_names()
        closes = self._get_kept_closes(self._end_of_day(last), companies)
        result = []
        for code in self._get_codes():
            unit = KPIS[code]
            current, *previous = values[code]
            target, higher = self._get_target(code, companies)
            result.append(
                {
                    "code": code,
                    "name": names[code],
                    "value": current,
                    "unit": unit,
                    "previous": previous[0] if previous else None,
                    "target": target,
                    "higher_is_better": higher,
                    "status": self._get_status(current, target, higher),
                    "currency_id": currency.id if unit == "currency" and currency else False,
                    "action": self._get_action(code, first, last, companies, closes),
                }
            )
        return result

    @api.model
    @api.readonly
    def get_kpi_trend(self, date_to, company_ids=None, months=6):
        """Each metric by calendar month, the ``months`` months up to ``date_to``'s (that one ends on it).

        Returns ``{"months": ["2026-01", …], "values": {code: [value or None, …]}}``.
        """
        first, last = self._check_period(date_to, date_to)
        companies = self._check_companies(company_ids)
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_TREND_MONTHS:
            raise UserError(
                self.env._(
                    "The trend covers 1 to %(max)s months; %(value)s is not a number of months.",
                    max=MAX_TREND_MONTHS,
                    value=repr(months)[:40],
                )
            )
        periods = []
        month_end = last
        for _index in range(months):
            month_start = month_end.replace(day=1)
            if month_start < MIN_VALUATION_DATE:
                break
            periods.insert(0, (month_start, month_end))
            month_end = month_start - timedelta(days=1)
        values = self._compute(periods, companies)
        return {
            "months": [start.strftime("%Y-%m") for start, _end in periods],
            "values": {code: values[code] for code in self._get_codes()},
        }

    # ------------------------------------------------------------------
    # Input
    # ------------------------------------------------------------------
    @api.model
    def _check_period(self, date_from, date_to):
        """``(first, last)`` dates of the period, or a UserError saying what is wrong with it."""
        if not self.env.su and not self.env.user.has_groups(KPI_READERS):
            raise AccessError(
                self.env._(
                    "The Lot Control overview is for Lot Control users, inventory administrators and accountants."
                )
            )
        first, last = self._to_date(date_from), self._to_date(date_to)
        if last < first:
            raise UserError(
                self.env._(
                    "The period ends (%(last)s) before it starts (%(first)s): choose an end date on or after the "
                    "start date.",
                    first=first.isoformat(),
                    last=last.isoformat(),
                )
            )
        latest = fields.Date.today() + timedelta(days=MAX_DAYS)
        for day in (first, last):
            if not MIN_VALUATION_DATE <= day <= latest:
                raise UserError(
                    self.env._(
                        "%(day)s is out of range: choose dates between %(min)s and %(max)s.",
                        day=day.isoformat(),
                        min=MIN_VALUATION_DATE.isoformat(),
                        max=latest.isoformat(),
                    )
                )
        return first, last

    @api.model
    def _to_date(self, value):
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        parsed = None
        if isinstance(value, str) and len(value) == 10:
            try:
                parsed = fields.Date.to_date(value)
            except ValueError:
                parsed = None
        if parsed:
            return parsed
        raise UserError(
            self.env._(
                "%(value)s is not a date: give dates as YYYY-MM-DD, e.g. %(today)s.",
                value=repr(value)[:60],
                today=fields.Date.to_string(fields.Date.today()),
            )
        )

    @api.model
    def _check_companies(self, company_ids):
        """The companies asked for (default: the current ones); each must be one the user may read."""
        if company_ids is None or company_ids is False:
            return self.env.companies
        if isinstance(company_ids, int) and not isinstance(company_ids, bool):
            company_ids = [company_ids]
        if (
            not isinstance(company_ids, list | tuple)
            or not company_ids
            or any(isinstance(cid, bool) or not isinstance(cid, int) for cid in company_ids)
        ):
            raise UserError(
                self.env._(
                    "Companies are given as a list of company ids, e.g. [1]; %(value)s is not.",
                    value=repr(company_ids)[:60],
                )
            )
        allowed = self.env["res.company"].sudo().browse(company_ids).exists()
        if not self.env.su:
            allowed &= self.env.user.company_ids
        unknown = sorted(set(company_ids) - set(allowed.ids))
        if unknown:
            raise UserError(
                self.env._(
                    "Companies %(ids)s are unknown or not among your companies: choose among yours.",
                    ids=", ".join(map(str, unknown)),
                )
            )
        return allowed

    # ------------------------------------------------------------------
    # Presentation
    # ------------------------------------------------------------------
    @api.model
    def _get_codes(self):
        """The codes this user sees: money tiles only for those who may read costs."""
        cost_reader = self.env.su or self.env.user.has_groups(COST_READERS)
        return [code for code, unit in KPIS.items() if cost_reader or unit != "currency"]

    @api.model
    def _get_names(self):
        """The tiles' names, in the user's language."""
        return {
            "lot_accuracy": self.env._("Lot Accuracy"),
            "fefo_compliance": self.env._("FEFO Compliance"),
            "gs1_capture": self.env._("GS1 Capture"),
            "scan_coverage": self.env._("Scan Coverage"),
            "picking_accuracy": self.env._("Picking Accuracy"),
            "obsolescence": self.env._("Obsolescence"),
            "shrinkage": self.env._("Shrinkage"),
            "recall_response_hours": self.env._("Recall Response"),
            "mock_recall_trace_ms": self.env._("Mock Recall Trace"),
            "recall_scope_avoided": self.env._("Avoided by Targeted Recalls"),
            "recovered_value": self.env._("Recovered by Markdowns"),
            "expiry_value_at_risk": self.env._("Value at Risk of Expiry"),
            "inventory_value": self.env._("Inventory Value"),
            "expired_value": self.env._("Expired Value"),
            "near_expiry_value": self.env._("Near Expiry Value"),
            "blocked_value": self.env._("Blocked Value"),
        }

    @api.model
    def _get_currency(self, companies):
        """The companies' one currency, or an empty recordset when they have several (no money sums)."""
        currencies = companies.sudo().currency_id
        return currencies if len(currencies) == 1 else currencies.browse()

    @api.model
    def _get_target(self, code, companies):
        """``(target or None, higher_is_better)``: the company's target (the first asked, if several)."""
        if code not in KPI_TARGETS:
            return None, None
        fname, _default, higher, _bound = KPI_TARGETS[code]
        target = companies[:1].sudo()[fname]
        return (target or None), higher

    @api.model
    def _get_status(self, value, target, higher):
        if value is None or not target:
            return False
        if higher:
            return "success" if value >= target else "warning" if value >= target * AMBER_BELOW else "danger"
        return "success" if value <= target else "warning" if value <= target * AMBER_ABOVE else "danger"

    # ------------------------------------------------------------------
    # Computation: one statement per metric for every period
    # ------------------------------------------------------------------
    @api.model
    def _end_of_day(self, day):
        """The instant (naive UTC) a day ends in the user's time zone, as the valuation report counts it."""
        timezone = self.env["stock.lot.valuation.report"]._get_timezone()
        return timezone.localize(datetime.combine(day, time.max)).astimezone(pytz.utc).replace(tzinfo=None)

    @api.model
    def _compute(self, periods, companies):
        """Every metric on every period: ``{code: [value or None per period]}``.

        Events count in a period when they happen after the end of the day
        before its first day and up to the end of its last day (user's time zone).
        """
        self.env.flush_all()
        self.env["stock.lot.bulk.read.mixin"]._tune_bulk_session()
        bounds = [(self._end_of_day(first - timedelta(days=1)), self._end_of_day(last)) for first, last in periods]
        period_sql = SQL(
            "(VALUES %s) AS period(idx, date_from, date_to)",
            SQL(", ").join(
                SQL("(%s, %s::timestamp, %s::timestamp)", index, start, end)
                for index, (start, end) in enumerate(bounds)
            ),
        )
        company_ids = companies.ids
        count = len(periods)
        one_currency = bool(self._get_currency(companies))
        rows = {}
        span = (min(start for start, _end in bounds), max(end for _start, end in bounds))
        for key, query in self._get_event_queries(period_sql, company_ids, span).items():
            rows[key] = {row[0]: row[1:] for row in self.env.execute_query(query)}
        valuation = self._get_valuations([end for _start, end in bounds], company_ids)
        risk_value = self._get_value_at_risk(bounds, company_ids)

        def ratio(numerator, denominator):
            return round(100.0 * numerator / denominator, 2) if denominator else None

        def money(value):
            return round(value, 2) if one_currency and value is not None else None

        result = {code: [None] * count for code in KPIS}
        for index in range(count):
            matched, checked = rows["lot_accuracy"].get(index, (0, 0))
            result["lot_accuracy"][index] = ratio(matched, checked)
            compliant, checked = rows["fefo_compliance"].get(index, (0, 0))
            result["fefo_compliance"][index] = ratio(compliant, checked)
            scanned, received = rows["gs1_capture"].get(index, (0, 0))
            result["gs1_capture"][index] = ratio(scanned, received)
            scanned, shipped = rows["scan_coverage"].get(index, (0, 0))
            result["scan_coverage"][index] = ratio(scanned, shipped)
            directed, scans = rows["picking_accuracy"].get(index, (0, 0))
            result["picking_accuracy"][index] = ratio(directed, scans)
            hours, median_ms, avoided, real_opened = rows["recalls"].get(index, (None, None, None, 0))
            result["recall_response_hours"][index] = round(hours, 2) if hours is not None else None
            result["mock_recall_trace_ms"][index] = round(median_ms, 1) if median_ms is not None else None
            result["recall_scope_avoided"][index] = money(avoided) if real_opened else None
            recovered, sales = rows["recovered_value"].get(index, (0.0, 0))
            result["recovered_value"][index] = money(recovered) if sales else None
            total, expired, near, held = valuation[index]
            has_stock = total is not None and total > 0
            lost, loss_moves = rows["shrinkage"].get(index, (0.0, 0))
            result["shrinkage"][index] = ratio(lost, total) if has_stock and loss_moves is not None else None
            result["obsolescence"][index] = ratio(expired, total) if has_stock else None
            result["inventory_value"][index] = money(total)
            result["expired_value"][index] = money(expired)
            result["near_expiry_value"][index] = money(near)
            result["blocked_value"][index] = money(held)
            result["expiry_value_at_risk"][index] = money(risk_value[index])
        return result

    @api.model
    def _get_event_queries(self, period_sql, company_ids, span):
        """The SQL of the metrics counted over a period's events: key -> query of ``(idx, …)`` rows.

        ``span``: the instants every period lies in, ``(after, up to)``: the same bounds as constants,
        so that PostgreSQL reads the events of those days by their date index instead of every row
        (a join to the periods' VALUES cannot use an index).
        """
        recovery = self.env["stock.lot.markdown.recovery.report"]
        after, until = span

        def within(column):
            return SQL("%s > %s AND %s <= %s", SQL(column), after, SQL(column), until)

        return {
            "lot_accuracy": SQL(
                """
                SELECT period.idx, COUNT(*) FILTER (WHERE count.is_accurate), COUNT(*)
                  FROM %(period)s
                  JOIN stock_lot_count count ON count.date > period.date_from AND count.date <= period.date_to
                 WHERE count.company_id = ANY(%(company_ids)s) AND %(within)s
                 GROUP BY period.idx
                """,
                period=period_sql,
                company_ids=company_ids,
                within=within("count.date"),
            ),
            "fefo_compliance": SQL(
                """
                SELECT period.idx, COUNT(*) FILTER (WHERE line.fefo_compliant), COUNT(*)
                  FROM %(period)s
                  JOIN stock_move_line line ON line.date > period.date_from AND line.date <= period.date_to
                 WHERE line.fefo_checked AND line.state = 'done' AND line.company_id = ANY(%(company_ids)s)
                   AND %(within)s
                 GROUP BY period.idx
                """,
                period=period_sql,
                company_ids=company_ids,
                within=within("line.date"),
            ),
            "gs1_capture": SQL(
                """
                SELECT period.idx, COUNT(DISTINCT lot.id) FILTER (WHERE lot.gs1_scanned), COUNT(DISTINCT lot.id)
                  FROM %(period)s
                  JOIN stock_move_line line ON line.date > period.date_from AND line.date <= period.date_to
                  JOIN stock_location source ON source.id = line.location_id AND source.usage = 'supplier'
                  JOIN stock_location destination ON destination.id = line.location_dest_id
                                                 AND destination.usage IN ('internal', 'transit')
                  JOIN stock_lot lot ON lot.id = line.lot_id
                 WHERE line.state = 'done' AND line.company_id = ANY(%(company_ids)s) AND %(within)s
                 GROUP BY period.idx
                """,
                period=period_sql,
                company_ids=company_ids,
                within=within("line.date"),
            ),
            # lots leaving stock on transfers (pickings, internal moves, deliveries) that a scan confirmed
            "scan_coverage": SQL(
                """
                SELECT period.idx, COUNT(line.id) FILTER (WHERE line.lot_scanned), COUNT(line.id)
                  FROM %(period)s
                  JOIN stock_move_line line ON line.date > period.date_from AND line.date <= period.date_to
                  JOIN stock_location source ON source.id = line.location_id
                                            AND source.usage IN ('internal', 'transit')
                 WHERE line.state = 'done' AND line.lot_id IS NOT NULL AND line.picking_id IS NOT NULL
                   AND line.company_id = ANY(%(company_ids)s) AND %(within)s
                 GROUP BY period.idx
                """,
                period=period_sql,
                company_ids=company_ids,
                within=within("line.date"),
            ),
            # scans that confirmed the directed lot, of all scans outside receipts
            "picking_accuracy": SQL(
                """
                SELECT period.idx, COUNT(scan.id) FILTER (WHERE scan.result = 'confirmed'), COUNT(scan.id)
                  FROM %(period)s
                  JOIN stock_lot_scan scan ON scan.date > period.date_from AND scan.date <= period.date_to
                 WHERE scan.result != 'created' AND scan.company_id = ANY(%(company_ids)s) AND %(within)s
                 GROUP BY period.idx
                """,
                period=period_sql,
                company_ids=company_ids,
                within=within("scan.date"),
            ),
            "recalls": SQL(
                """
                SELECT period.idx,
                       AVG(EXTRACT(EPOCH FROM recall.contained_date - recall.create_date) / 3600.0)
                           FILTER (WHERE recall.is_mock IS NOT TRUE AND recall.contained_date > period.date_from
                                   AND recall.contained_date <= period.date_to),
                       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY recall.trace_duration_ms)
                           FILTER (WHERE recall.is_mock AND recall.traced_date > period.date_from
                                   AND recall.traced_date <= period.date_to),
                       SUM(recall.scope_avoided_value) FILTER (WHERE %(opened)s),
                       COUNT(*) FILTER (WHERE %(opened)s)
                  FROM %(period)s
                  JOIN stock_lot_recall recall
                    ON recall.company_id = ANY(%(company_ids)s)
                   AND ((recall.contained_date > period.date_from AND recall.contained_date <= period.date_to)
                        OR (recall.traced_date > period.date_from AND recall.traced_date <= period.date_to)
                        OR (recall.create_date > period.date_from AND recall.create_date <= period.date_to))
                 GROUP BY period.idx
                """,
                period=period_sql,
                company_ids=company_ids,
                opened=SQL(
                    "recall.is_mock IS NOT TRUE AND recall.state != 'cancelled' "
                    "AND recall.create_date > period.date_from AND recall.create_date <= period.date_to"
                ),
            ),
            "recovered_value": SQL(
                """
                SELECT period.idx, SUM(recovery.recovered_value), COUNT(*)
                  FROM %(period)s
                  JOIN (%(recovery)s) recovery ON recovery.date > period.date_from AND recovery.date <= period.date_to
                 WHERE recovery.company_id = ANY(%(company_ids)s)
                 GROUP BY period.idx
                """,
                period=period_sql,
                recovery=recovery._table_query,
                company_ids=company_ids,
            ),
            "shrinkage": SQL(
                """
                SELECT period.idx, -SUM(layer.value), COUNT(DISTINCT move.id)
                  FROM %(period)s
                  JOIN stock_move move ON move.date > period.date_from AND move.date <= period.date_to
                  JOIN stock_location source ON source.id = move.location_id
                                            AND source.usage IN ('internal', 'transit')
                  JOIN stock_location destination ON destination.id = move.location_dest_id
                                                 AND destination.usage = 'inventory'
                  JOIN product_product product ON product.id = move.product_id
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id AND tmpl.tracking != 'none'
                  JOIN stock_valuation_layer layer ON layer.stock_move_id = move.id
                 WHERE move.state = 'done' AND move.company_id = ANY(%(company_ids)s) AND %(within)s
                 GROUP BY period.idx
                """,
                period=period_sql,
                company_ids=company_ids,
                within=within("move.date"),
            ),
        }

    @api.model
    def _get_value_at_risk(self, bounds, company_ids):
        """The value projected to expire unsold (PRODUCT.md §9) for periods that end now or later.

        The projection is kept for the present only (the nightly refresh): a period that
        ended in the past has no data.
        """
        now = fields.Datetime.now()
        current = [index for index, (_start, end) in enumerate(bounds) if end >= now]
        result = [None] * len(bounds)
        if current:
            [(value,)] = self.env.execute_query(
                SQL(
                    "SELECT SUM(expiry_value_at_risk) FROM stock_lot_expiry_risk WHERE company_id = ANY(%s)",
                    company_ids,
                )
            )
            for index in current:
                result[index] = value or 0.0
        return result

    # ------------------------------------------------------------------
    # Drill-down
    # ------------------------------------------------------------------
    @api.model
    def _get_action(self, code, first, last, companies, closes=None):
        """The ``ir.actions.act_window`` of the records behind a tile's number on the period; a value
        tile of a closed month opens ``closes`` (``_get_kept_closes`` of the period's end)."""
        start = fields.Datetime.to_string(self._end_of_day(first - timedelta(days=1)))
        end = fields.Datetime.to_string(self._end_of_day(last))
        company_domain = [("company_id", "in", companies.ids)]

        def between(fname):
            return [(fname, ">", start), (fname, "<=", end)]

        def window(name, model, domain, views=("list",), context=None):
            return {
                "type": "ir.actions.act_window",
                "name": name,
                "res_model": model,
                "views": [[False, view] for view in views],
                "domain": domain + company_domain,
                "context": context or {},
                "target": "current",
            }

        title = self._get_names()[code]
        valuation_context = {"valuation_date": fields.Date.to_string(last)}
        valuation_domains = {
            "inventory_value": [],
            "expired_value": [("expiry_bucket", "=", "expired")],
            "obsolescence": [("expiry_bucket", "=", "expired")],
            "near_expiry_value": [("shelf_life_state", "=", "near_expiry")],
            "blocked_value": [("quality_state", "in", list(HELD_QUALITY_STATES))],
        }
        if code in valuation_domains and (code != "obsolescence" or self.env.user.has_groups(COST_READERS)):
            if closes is None:
                closes = self._get_kept_closes(self._end_of_day(last), companies)
            if closes:
                # the tile came from the month-end close: its lines, as they stood when it was kept
                return window(
                    title,
                    "stock.lot.valuation.snapshot.line",
                    [("snapshot_id", "in", closes.ids), *valuation_domains[code]],
                    ("list", "pivot"),
                )
            return window(
                title, "stock.lot.valuation.report", valuation_domains[code], ("list", "pivot"), valuation_context
            )
        actions = {
            "obsolescence": lambda: window(
                title, "stock.lot", [("shelf_life_state", "=", "expired"), ("product_qty", ">", 0)]
            ),
            "lot_accuracy": lambda: window(title, "stock.lot.count", between("date"), ("list", "pivot")),
            "fefo_compliance": lambda: window(
                title,
                "stock.move.line",
                [("fefo_checked", "=", True), ("fefo_compliant", "=", False), ("state", "=", "done"), *between("date")],
                context={"list_view_ref": "lot_margin_control.fefo_compliance_view_list"},
            ),
            "gs1_capture": lambda: window(
                title,
                "stock.move.line",
                [
                    ("state", "=", "done"),
                    ("lot_id", "!=", False),
                    ("location_id.usage", "=", "supplier"),
                    ("location_dest_id.usage", "in", ("internal", "transit")),
                    ("lot_id.gs1_scanned", "=", False),
                    *between("date"),
                ],
            ),
            "scan_coverage": lambda: window(
                title,
                "stock.move.line",
                [
                    ("state", "=", "done"),
                    ("lot_id", "!=", False),
                    ("picking_id", "!=", False),
                    ("location_id.usage", "in", ("internal", "transit")),
                    ("lot_scanned", "=", False),
                    *between("date"),
                ],
            ),
            "picking_accuracy": lambda: window(
                title,
                "stock.lot.scan",
                [("result", "!=", "created"), *between("date")],
                ("list", "pivot"),
                {"search_default_by_result": 1},
            ),
            "shrinkage": lambda: window(
                title,
                "stock.move",
                [
                    ("state", "=", "done"),
                    ("quantity", ">", 0),
                    ("location_id.usage", "in", ("internal", "transit")),
                    ("location_dest_id.usage", "=", "inventory"),
                    ("product_id.tracking", "!=", "none"),
                    *between("date"),
                ],
            ),
            "recall_response_hours": lambda: window(
                title, "stock.lot.recall", [("is_mock", "=", False), *between("contained_date")], ("list", "form")
            ),
            "mock_recall_trace_ms": lambda: window(
                title, "stock.lot.recall", [("is_mock", "=", True), *between("traced_date")], ("list", "form")
            ),
            "recall_scope_avoided": lambda: window(
                title,
                "stock.lot.recall",
                [("is_mock", "=", False), ("state", "!=", "cancelled"), *between("create_date")],
                ("list", "form"),
            ),
            "recovered_value": lambda: window(
                title, "stock.lot.markdown.recovery.report", between("date"), ("list", "pivot")
            ),
            "expiry_value_at_risk": lambda: window(
                title, "stock.lot.expiry.risk", [("expiry_value_at_risk", ">", 0)], ("list", "pivot")
            ),
        }
        return actions[code]()
