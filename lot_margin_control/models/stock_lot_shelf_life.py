# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
import logging
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .lot_limits import MAX_DAYS

_logger = logging.getLogger(__name__)

SHELF_LIFE_STATES = [
    ("no_expiry", "No Expiry"),
    ("fresh", "Fresh"),
    ("near_expiry", "Near Expiry"),
    ("expired", "Expired"),
]
DATES_FOLLOWING_EXPIRATION = ("use_date", "removal_date", "alert_date")
SHELF_LIFE_DATE_FIELDS = ("expiration_date", "alert_date", "use_date", "removal_date", "production_date")
NUMERIC_OPERATORS = ("=", "!=", "<", "<=", ">", ">=")
ALERT_ACTIVITY = "product_expiry.mail_activity_type_alert_date_reached"
DAILY_REFRESH_CRON = "lot_margin_control.ir_cron_refresh_shelf_life_state"
# The PostgreSQL advisory lock of the daily refresh (any number: unique among the
# database's advisory locks; "LMC" and 1).
DAILY_REFRESH_LOCK = 0x4C4D43_0001
DAILY_REFRESH_RETRY = timedelta(minutes=5)


class StockLot(models.Model):
    """Shelf life: how long a lot can still be sold.

    Dates come from product_expiry (expiration, best before, removal, alert) and
    OCA stock_lot_production_date (production date). ``shelf_life_state`` is
    stored so that lists, reports and reservation can filter on it; time
    passing is caught up by a daily set-based refresh (``_cron_refresh_shelf_life_state``).
    """

    _inherit = "stock.lot"

    shelf_life_state = fields.Selection(
        SHELF_LIFE_STATES,
        string="Shelf Life",
        compute="_compute_shelf_life_state",
        store=True,
        index=True,
        readonly=True,
        help="No Expiry: the lot has no expiration date. Near Expiry: from the alert date, or, "
        "without one, from the product's (or its category's) near-expiry threshold. "
        "Refreshed every day and on every date change.",
    )
    remaining_shelf_life_days = fields.Integer(
        string="Days Left",
        compute="_compute_remaining_shelf_life",
        search="_search_remaining_shelf_life_days",
        help="Whole days until the expiration date (negative once expired). "
        "Lots without an expiration date match no comparison.",
    )
    remaining_shelf_life_ratio = fields.Float(
        string="Shelf Life Left",
        compute="_compute_remaining_shelf_life",
        search="_search_remaining_shelf_life_ratio",
        digits=(16, 4),
        help="Remaining shelf life over total shelf life (from the production date, or the "
        "date the lot was recorded), between 0 and 1.",
    )

    @api.model
    def _shelf_life_now(self):
        """The instant shelf-life states are computed for (tests freeze it)."""
        return fields.Datetime.now()

    def _get_shelf_life_state(self, now):
        """One lot's state at ``now``; ``_refresh_shelf_life_state`` is its SQL twin."""
        self.ensure_one()
        if not self.expiration_date:
            return "no_expiry"
        if self.expiration_date <= now:
            return "expired"
        if self.alert_date:
            return "near_expiry" if self.alert_date <= now else "fresh"
        days = self.product_id.product_tmpl_id._get_lot_near_expiry_days()
        if days > 0 and self.expiration_date - timedelta(days=days) <= now:
            return "near_expiry"
        return "fresh"

    def _get_shelf_life_shortfall(self, partner, delivery_date):
        """``(days left on delivery_date, days required)`` when this lot is too short-dated for
        ``partner`` on that date, else False. The lot gate refuses exactly these lots
        (``LotGate.refusal``); the sale line and the clearance wizard warn with them.
        """
        self.ensure_one()
        if not self.expiration_date:
            return False
        required = self.product_id._get_required_shelf_life_days(partner)
        if self.expiration_date > delivery_date + timedelta(days=required):
            return False
        return (self.expiration_date - delivery_date).days, required

    @api.depends(
        "expiration_date",
        "alert_date",
        "product_id.lot_near_expiry_days",
        "product_id.categ_id.lot_near_expiry_days",
    )
    def _compute_shelf_life_state(self):
        now = self._shelf_life_now()
        for lot in self:
            lot.shelf_life_state = lot._get_shelf_life_state(now)

    @api.depends("expiration_date", "production_date")
    def _compute_remaining_shelf_life(self):
        now = self._shelf_life_now()
        for lot in self:
            if not lot.expiration_date:
                lot.remaining_shelf_life_days = 0
                lot.remaining_shelf_life_ratio = 0.0
                continue
            remaining = lot.expiration_date - now
            lot.remaining_shelf_life_days = remaining.days
            start = lot.production_date or lot.create_date or now
            total = (lot.expiration_date - start).total_seconds()
            ratio = remaining.total_seconds() / total if total > 0 else 0.0
            lot.remaining_shelf_life_ratio = min(max(ratio, 0.0), 1.0)

    def _search_remaining_shelf_life_days(self, operator, value):
        """Days left compare whole days: ``>= n`` means at least n full days before expiry."""
        if (
            operator not in NUMERIC_OPERATORS
            or isinstance(value, bool)
            or not isinstance(value, int | float)
            or not -MAX_DAYS <= value <= MAX_DAYS
        ):
            raise UserError(
                self.env._(
                    "Days left can only be compared with a number of days between -%(max)s and %(max)s.", max=MAX_DAYS
                )
            )
        now = self._shelf_life_now()
        value = int(value)

        def at_least(days):
            return [("expiration_date", ">=", now + timedelta(days=days))]

        def below(days):
            return [("expiration_date", "<", now + timedelta(days=days))]

        domains = {
            ">=": at_least(value),
            ">": at_least(value + 1),
            "<": below(value),
            "<=": below(value + 1),
            "=": at_least(value) + below(value + 1),
            "!=": ["|", *below(value), *at_least(value + 1)],
        }
        return [("expiration_date", "!=", False), *domains[operator]]

    def _search_remaining_shelf_life_ratio(self, operator, value):
        if operator not in NUMERIC_OPERATORS or isinstance(value, bool) or not isinstance(value, int | float):
            raise UserError(self.env._("Shelf life left can only be compared with a number between 0 and 1."))
        sql_operator = SQL("<>") if operator == "!=" else SQL(operator)
        self.env["stock.lot"].flush_model(["expiration_date", "production_date"])
        return [
            (
                "id",
                "in",
                SQL(
                    """(
                    SELECT id FROM stock_lot
                     WHERE expiration_date IS NOT NULL
                       AND %(ratio)s %(operator)s %(value)s
                    )""",
                    ratio=self._sql_remaining_ratio(self._shelf_life_now()),
                    operator=sql_operator,
                    value=float(value),
                ),
            )
        ]

    @api.model
    def _sql_remaining_ratio(self, now):
        """SQL twin of ``remaining_shelf_life_ratio`` on table stock_lot."""
        return SQL(
            """
            CASE WHEN EXTRACT(EPOCH FROM expiration_date - COALESCE(production_date, create_date, %(now)s)) > 0
                 THEN LEAST(GREATEST(
                        EXTRACT(EPOCH FROM expiration_date - %(now)s)
                        / EXTRACT(EPOCH FROM expiration_date - COALESCE(production_date, create_date, %(now)s)),
                        0), 1)
                 ELSE 0 END
            """,
            now=now,
        )

    @api.model
    def _sql_days_left(self, now, alias="lot"):
        """SQL twin of ``remaining_shelf_life_days`` for the stock_lot aliased ``alias``: whole days
        from ``now`` to the expiration date, floored like ``timedelta.days`` (negative once expired,
        NULL without an expiration date)."""
        return SQL(
            "FLOOR(EXTRACT(EPOCH FROM %(expiration)s - %(now)s) / 86400)::integer",
            expiration=SQL.identifier(alias, "expiration_date"),
            now=now,
        )

    @api.constrains(*SHELF_LIFE_DATE_FIELDS)
    def _check_shelf_life_dates(self):
        for lot in self.filtered("expiration_date"):
            expiry = lot.expiration_date
            if lot.production_date and expiry < lot.production_date:
                raise ValidationError(
                    self.env._(
                        "Lot %(lot)s expires on %(expiry)s, before it was produced (%(production)s). "
                        "Correct the expiration or production date.",
                        lot=lot.display_name,
                        expiry=expiry,
                        production=lot.production_date,
                    )
                )
            labels = {
                "use_date": self.env._("best before date"),
                "removal_date": self.env._("removal date"),
                "alert_date": self.env._("alert date"),
            }
            for fname, label in labels.items():
                if lot[fname] and lot[fname] > expiry:
                    raise ValidationError(
                        self.env._(
                            "The %(label)s of lot %(lot)s (%(date)s) is after its expiration date "
                            "(%(expiry)s). It must be on or before the expiration date.",
                            label=label,
                            lot=lot.display_name,
                            date=lot[fname],
                            expiry=expiry,
                        )
                    )
                if lot[fname] and lot.production_date and lot[fname] < lot.production_date:
                    raise ValidationError(
                        self.env._(
                            "The %(label)s of lot %(lot)s (%(date)s) is before its production date "
                            "(%(production)s).",
                            label=label,
                            lot=lot.display_name,
                            date=lot[fname],
                            production=lot.production_date,
                        )
                    )

    @api.model
    def _sql_shelf_life_state(self, now):
        """SQL twin of ``_get_shelf_life_state``: a lot's state at ``now``.

        Reads the aliases ``lot`` (stock_lot), ``tmpl`` (product_template) and
        ``categ`` (product_category), which the caller's query must join.
        """
        return SQL(
            """
            CASE
                WHEN lot.expiration_date IS NULL THEN 'no_expiry'
                WHEN lot.expiration_date <= %(now)s THEN 'expired'
                WHEN lot.alert_date IS NOT NULL THEN
                    CASE WHEN lot.alert_date <= %(now)s THEN 'near_expiry' ELSE 'fresh' END
                WHEN COALESCE(NULLIF(tmpl.lot_near_expiry_days, 0), categ.lot_near_expiry_days, 0) > 0
                     AND lot.expiration_date - make_interval(days =>
                         COALESCE(NULLIF(tmpl.lot_near_expiry_days, 0), categ.lot_near_expiry_days)
                     ) <= %(now)s THEN 'near_expiry'
                ELSE 'fresh'
            END
            """,
            now=now,
        )

    @api.model
    def _cron_refresh_shelf_life_state(self):
        """Daily: bring every lot's shelf-life state, and what follows it, to today.

        One refresh at a time in the database, whatever runs it: Odoo's cron workers never run
        this job twice at once (they lock its ``ir_cron`` row), but the manual refresh of the
        expiry risk may run meanwhile, on another worker. When another refresh holds the lock,
        this one does nothing (no second alert, no second refresh) and comes back in a few minutes.
        """
        if not self._try_lock_daily_refresh():
            _logger.info("Lot Control daily refresh skipped: another refresh is running; retrying soon.")
            cron = self.env.ref(DAILY_REFRESH_CRON, raise_if_not_found=False)
            if cron:
                cron._trigger(fields.Datetime.now() + DAILY_REFRESH_RETRY)
            return False
        self._daily_refresh()
        return True

    @api.model
    def _try_lock_daily_refresh(self):
        """Take the daily refresh's lock for this transaction (PostgreSQL releases it at commit or
        rollback, also when the worker dies); False when another transaction holds it. Never waits."""
        [(locked,)] = self.env.execute_query(SQL("SELECT pg_try_advisory_xact_lock(%s)", DAILY_REFRESH_LOCK))
        return locked

    @api.model
    def _daily_refresh(self):
        """The daily refresh's steps, under its lock; other concerns add theirs after this one."""
        self._refresh_shelf_life_state()

    @api.model
    def _refresh_shelf_life_state(self, now=None):
        """Bring ``shelf_life_state`` of every lot up to ``now`` in one UPDATE.

        Same rules as ``_get_shelf_life_state``. Lots that just became near
        expiry or expired get the expiry alert activity. Returns the ids of the
        lots that changed, by new state.
        """
        now = now or self._shelf_life_now()
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                WITH computed AS (
                    SELECT lot.id,
                           %(state)s AS state
                      FROM stock_lot lot
                      JOIN product_product product ON product.id = lot.product_id
                      JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                      LEFT JOIN product_category categ ON categ.id = tmpl.categ_id
                )
                UPDATE stock_lot lot
                   SET shelf_life_state = computed.state
                  FROM computed
                 WHERE computed.id = lot.id
                   AND lot.shelf_life_state IS DISTINCT FROM computed.state
             RETURNING lot.id, computed.state
                """,
                state=self._sql_shelf_life_state(now),
            )
        )
        self.env["stock.lot"].invalidate_model(["shelf_life_state"])
        changed = {}
        for lot_id, state in rows:
            changed.setdefault(state, []).append(lot_id)
        alert_ids = changed.get("near_expiry", []) + changed.get("expired", [])
        if alert_ids:
            self.browse(alert_ids)._schedule_shelf_life_activities()
        return changed

    def _schedule_shelf_life_activities(self):
        """Give near-expiry and expired lots still in stock one alert activity each.

        Reuses product_expiry's activity type and its ``product_expiry_reminded``
        flag, so that neither this addon nor product_expiry alerts twice.
        """
        activity_type = self.env.ref(ALERT_ACTIVITY, raise_if_not_found=False)
        if not activity_type or not self:
            return
        in_stock = self.env["stock.quant"]._read_group(
            [("lot_id", "in", self.ids), ("quantity", ">", 0), ("location_id.usage", "=", "internal")],
            ["lot_id"],
        )
        lots = self.browse([lot.id for (lot,) in in_stock])
        already = self.env["mail.activity"]._read_group(
            [
                ("res_model", "=", "stock.lot"),
                ("res_id", "in", lots.ids),
                ("activity_type_id", "=", activity_type.id),
            ],
            ["res_id"],
        )
        lots -= self.browse([res_id for (res_id,) in already])
        if not lots:
            return
        model_id = self.env["ir.model"]._get_id("stock.lot")
        today = fields.Date.context_today(self)
        values = []
        for lot in lots:
            expired = lot.shelf_life_state == "expired"
            values.append(
                {
                    "res_model_id": model_id,
                    "res_id": lot.id,
                    "activity_type_id": activity_type.id,
                    "user_id": activity_type.default_user_id.id
                    or lot.product_id.with_company(lot.company_id).responsible_id.id
                    or SUPERUSER_ID,
                    "date_deadline": today,
                    "summary": self.env._("Lot expired") if expired else self.env._("Lot near expiry"),
                    "note": self.env._(
                        "Lot %(lot)s of %(product)s expires on %(date)s: sell, mark down or write it off.",
                        lot=lot.name,
                        product=lot.product_id.display_name,
                        date=lot.expiration_date,
                    ),
                }
            )
        self.env["mail.activity"].sudo().create(values)
        lots.sudo().write({"product_expiry_reminded": True})

    def write(self, vals):
        """New dates: carry the dependent dates along, then alert lots that just became near expiry."""
        dates_changed = any(fname in vals for fname in SHELF_LIFE_DATE_FIELDS)
        old_states = {lot.id: lot.shelf_life_state for lot in self} if dates_changed else {}
        if vals.get("expiration_date") and self._dates_follow_expiration(vals):
            result = True
            for lot in self:
                result &= super(StockLot, lot).write(lot._shift_dates_with_expiration(vals))
        else:
            result = super().write(vals)
        if dates_changed:
            newly_alerted = self.filtered(
                lambda lot: lot.shelf_life_state in ("near_expiry", "expired")
                and lot.shelf_life_state != old_states.get(lot.id)
            )
            newly_alerted._schedule_shelf_life_activities()
        return result

    def _dates_follow_expiration(self, vals):
        """Whether a new expiration date must carry the other dates along (see below)."""
        return any(
            lot.expiration_date and any(fname not in vals and lot[fname] for fname in DATES_FOLLOWING_EXPIRATION)
            for lot in self
        )

    def _shift_dates_with_expiration(self, vals):
        """Move best before, removal and alert dates by as much as the expiration date moves.

        The lot form does this in product_expiry's onchange; doing it on write as
        well keeps imports and RPC writes coherent with the date checks.
        """
        self.ensure_one()
        vals = dict(vals)
        if self.expiration_date:
            delta = fields.Datetime.to_datetime(vals["expiration_date"]) - self.expiration_date
            for fname in DATES_FOLLOWING_EXPIRATION:
                if fname not in vals and self[fname]:
                    vals[fname] = self[fname] + delta
        return vals
