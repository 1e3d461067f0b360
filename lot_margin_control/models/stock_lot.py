from datetime import timedelta

from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

SHELF_LIFE_STATES = [
    ("no_expiry", "No Expiry"),
    ("fresh", "Fresh"),
    ("near_expiry", "Near Expiry"),
    ("expired", "Expired"),
]
QUALITY_STATES = [
    ("quarantine", "Quarantine"),
    ("released", "Released"),
    ("blocked", "Blocked"),
    ("recalled", "Recalled"),
]
# target state -> states it may come from
QUALITY_TRANSITIONS = {
    "released": ("quarantine", "blocked"),
    "quarantine": ("released", "blocked"),
    "blocked": ("released", "quarantine"),
    "recalled": ("released", "quarantine", "blocked"),
}
DATES_FOLLOWING_EXPIRATION = ("use_date", "removal_date", "alert_date")
SHELF_LIFE_DATE_FIELDS = ("expiration_date", "alert_date", "use_date", "removal_date", "production_date")
NUMERIC_OPERATORS = ("=", "!=", "<", "<=", ">", ">=")
QUALITY_MANAGER_GROUP = "lot_margin_control.group_lot_control_quality_manager"
ALERT_ACTIVITY = "product_expiry.mail_activity_type_alert_date_reached"


class StockLot(models.Model):
    """Lots that know how long they can still be sold and whether quality lets them move.

    Dates come from product_expiry (expiration, best before, removal, alert) and
    OCA stock_lot_production_date (production date). ``shelf_life_state`` is
    stored so that lists, reports and reservation can filter on it; time
    passing is caught up by a daily set-based refresh (``_cron_refresh_shelf_life_state``).
    ``quality_state`` is the gate checked by every reservation (see stock.move
    ``_get_lot_gate``).
    """

    _inherit = "stock.lot"

    supplier_lot_name = fields.Char(
        string="Supplier Lot",
        index="btree_not_null",
        tracking=True,
        help="The vendor's own lot or batch code, as printed on the goods received. "
        "Recalls announced by a supplier quote this code.",
    )
    gs1_scanned = fields.Boolean(
        string="Received by GS1 Scan",
        readonly=True,
        copy=False,
        help="The lot and its dates were read from a GS1 barcode at receipt.",
    )
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
    quality_state = fields.Selection(
        QUALITY_STATES,
        string="Quality Status",
        default="released",
        required=True,
        index=True,
        tracking=True,
        copy=False,
        help="Only Released lots are reserved for deliveries, manufacturing and internal "
        "transfers. Quarantined, blocked and recalled lots may only go to scrap, to a "
        "quarantine location or back to the vendor.",
    )
    quality_state_reason = fields.Char(string="Quality Reason", tracking=True, copy=False)
    # --- Near-date pricing (stock.lot.markdown.rule): fields -------------------
    # Written by ``_refresh_markdown`` (daily cron, date changes, rule changes).
    markdown_rule_id = fields.Many2one(
        "stock.lot.markdown.rule",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The first markdown rule (by sequence) this lot meets today. Expired lots and lots "
        "without an expiration date are never marked down.",
    )
    markdown_discount = fields.Float(
        string="Markdown (%)", digits="Discount", readonly=True, copy=False, aggregator="avg"
    )
    markdown_price = fields.Monetary(
        currency_field="markdown_currency_id",
        compute="_compute_markdown_price",
        store=True,
        readonly=True,
        copy=False,
        help="The product's sales price less the markdown, in the company currency. Empty when the "
        "lot is not marked down.",
    )
    markdown_currency_id = fields.Many2one("res.currency", compute="_compute_markdown_currency_id")
    markdown_recovered_value = fields.Monetary(
        string="Recovered by Markdown",
        currency_field="markdown_currency_id",
        compute="_compute_markdown_recovered_value",
        help="Revenue (untaxed, net of discounts, less returns) of this lot's sales at a markdown "
        "delivered before its expiry: value that would otherwise have been written off. See "
        "Lot Control > Reporting > Markdown Recovery.",
    )
    # --- end of near-date pricing fields ---------------------------------------

    # ------------------------------------------------------------------
    # Shelf life
    # ------------------------------------------------------------------
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
        if operator not in NUMERIC_OPERATORS or not isinstance(value, int | float):
            raise UserError(self.env._("Days left can only be compared with a number."))
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
        if operator not in NUMERIC_OPERATORS or not isinstance(value, int | float):
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
        self._refresh_shelf_life_state()
        self._refresh_markdown()

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

    @api.model
    def parse_gs1_barcode(self, barcode):
        """Read a scanned GS1-128 / DataMatrix string into product, lot and dates.

        Public API (UI and RPC clients): see barcode.nomenclature
        ``_parse_gs1_lot_barcode`` for the returned keys and the errors.
        """
        return self.env["barcode.nomenclature"]._parse_gs1_lot_barcode(barcode)

    # ------------------------------------------------------------------
    # Quality status
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        products = self.env["product.product"].browse(
            [vals["product_id"] for vals in vals_list if vals.get("product_id")]
        )
        quarantine_products = products.filtered(lambda p: p.product_tmpl_id._requires_lot_quarantine())
        for vals in vals_list:
            if "quality_state" not in vals and vals.get("product_id") in quarantine_products.ids:
                vals["quality_state"] = "quarantine"
                vals.setdefault("quality_state_reason", self.env._("Quarantine on receipt"))
        lots = super().create(vals_list)
        lots._refresh_markdown(lot_ids=lots.ids)
        return lots

    def write(self, vals):
        if "quality_state" in vals:
            self._check_quality_transition(vals["quality_state"], vals.get("quality_state_reason"))
        old_states = {}
        if any(fname in vals for fname in SHELF_LIFE_DATE_FIELDS):
            old_states = {lot.id: lot.shelf_life_state for lot in self}
        if vals.get("expiration_date") and self._dates_follow_expiration(vals):
            result = True
            for lot in self:
                result &= super(StockLot, lot).write(lot._shift_dates_with_expiration(vals))
        else:
            result = super().write(vals)
        if old_states:
            self._refresh_markdown(lot_ids=self.ids)
            newly_alerted = self.filtered(
                lambda lot: lot.shelf_life_state in ("near_expiry", "expired")
                and lot.shelf_life_state != old_states.get(lot.id)
            )
            newly_alerted._schedule_shelf_life_activities()
        if vals.get("quality_state") and vals["quality_state"] != "released":
            self._unreserve_blocked_lots()
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

    def _check_quality_transition(self, new_state, reason):
        """Refuse transitions that the workflow or the user's rights do not allow."""
        lots = self.filtered(lambda lot: lot.quality_state != new_state)
        if not lots:
            return
        if new_state not in QUALITY_TRANSITIONS:
            raise UserError(self.env._("Unknown quality status %(state)s.", state=new_state))
        labels = dict(self._fields["quality_state"]._description_selection(self.env))
        for lot in lots:
            if lot.quality_state not in QUALITY_TRANSITIONS[new_state] and not (
                new_state == "released" and self.env.context.get("lot_recall_release")
            ):
                raise UserError(
                    self.env._(
                        "Lot %(lot)s is %(current)s and cannot be set to %(new)s.",
                        lot=lot.display_name,
                        current=labels[lot.quality_state],
                        new=labels[new_state],
                    )
                )
        if new_state in ("quarantine", "blocked", "recalled") and not (reason or "").strip():
            raise UserError(
                self.env._(
                    "Give a reason to set %(lots)s to %(new)s.",
                    lots=", ".join(lots.mapped("display_name")),
                    new=labels[new_state],
                )
            )
        needs_manager = new_state != "quarantine"
        if needs_manager and not self.env.su and not self.env.user.has_group(QUALITY_MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "Only a Lot Control Quality Manager may set lots to %(new)s (%(lots)s).",
                    new=labels[new_state],
                    lots=", ".join(lots.mapped("display_name")),
                )
            )

    def _set_quality_state(self, new_state, reason=None):
        self.write({"quality_state": new_state, "quality_state_reason": reason or False})
        return True

    def action_quality_release(self, reason=None):
        """Release the lots: they may be reserved again. Quality managers only."""
        return self._set_quality_state("released", reason)

    def action_quality_quarantine(self, reason=None):
        """Put the lots in quarantine; without a reason, open the wizard that asks for one."""
        if not reason:
            return self._open_quality_wizard("quarantine")
        return self._set_quality_state("quarantine", reason)

    def action_quality_block(self, reason=None):
        """Block the lots; without a reason, open the wizard that asks for one."""
        if not reason:
            return self._open_quality_wizard("blocked")
        return self._set_quality_state("blocked", reason)

    def _open_quality_wizard(self, new_state):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Change Quality Status"),
            "res_model": "stock.lot.quality.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lot_ids": self.ids, "default_new_state": new_state},
        }

    def _get_lot_gate_refusal(self, gate):
        """Why ``gate`` (see stock.move ``_get_lot_gate``) refuses this lot, or False."""
        self.ensure_one()
        if not gate:
            return False
        allowed_states, expiry_limit, required_days = gate
        if self.quality_state not in allowed_states:
            labels = dict(self._fields["quality_state"]._description_selection(self.env))
            reason = labels[self.quality_state]
            if self.quality_state_reason:
                reason = f"{reason}: {self.quality_state_reason}"
            return reason
        if expiry_limit and self.expiration_date and self.expiration_date <= expiry_limit:
            scheduled = expiry_limit - timedelta(days=required_days)
            if self.expiration_date <= scheduled:
                return self.env._("expired on %(date)s", date=self.expiration_date)
            return self.env._(
                "too short-dated: %(left)s days left on the scheduled date, %(required)s required",
                left=(self.expiration_date - scheduled).days,
                required=required_days,
            )
        return False

    def _unreserve_blocked_lots(self):
        """Take these lots out of every reservation their quality status now forbids.

        The moves then try to reserve other lots, and each picking says why.
        """
        lines = self.env["stock.move.line"].search(
            [("lot_id", "in", self.ids), ("state", "not in", ("done", "cancel")), ("move_id", "!=", False)]
        )
        refused = lines.filtered(lambda line: line.lot_id._get_lot_gate_refusal(line.move_id._get_lot_gate()))
        if not refused:
            return
        moves = refused.move_id
        messages = {}
        for line in refused:
            if line.picking_id:
                messages.setdefault(line.picking_id, []).append(
                    self.env._(
                        "%(qty)s %(uom)s of %(product)s, lot %(lot)s: %(reason)s",
                        qty=line.quantity,
                        uom=line.product_uom_id.name,
                        product=line.product_id.display_name,
                        lot=line.lot_id.name,
                        reason=line.lot_id._get_lot_gate_refusal(line.move_id._get_lot_gate()),
                    )
                )
        refused.unlink()
        moves._recompute_state()
        moves._action_assign()
        for picking, notes in messages.items():
            picking.message_post(
                body=Markup("<p>%s</p><ul>%s</ul>")
                % (
                    self.env._("Reservation removed by a quality status change:"),
                    Markup().join(Markup("<li>%s</li>") % note for note in notes),
                )
            )

    # ------------------------------------------------------------------
    # Near-date pricing (stock.lot.markdown.rule)
    # ------------------------------------------------------------------
    def _get_markdown_currency(self):
        """The lot's company currency; shared lots use the rule's, else the current company's."""
        self.ensure_one()
        company = self.company_id or self.markdown_rule_id.company_id or self.env.company
        return company.currency_id

    @api.depends("company_id", "markdown_rule_id")
    def _compute_markdown_currency_id(self):
        for lot in self:
            lot.markdown_currency_id = lot._get_markdown_currency()

    @api.depends("markdown_discount", "product_id.list_price", "product_id.price_extra", "company_id")
    def _compute_markdown_price(self):
        """Follows sales price changes; ``_refresh_markdown`` is its SQL twin when the markdown changes."""
        for lot in self:
            if not lot.markdown_discount:
                lot.markdown_price = 0.0
                continue
            sales_price = lot.product_id.list_price + lot.product_id.price_extra
            lot.markdown_price = lot._get_markdown_currency().round(sales_price * (100 - lot.markdown_discount) / 100)

    def _compute_markdown_recovered_value(self):
        """One grouped read of the recovery report for all the lots in ``self``."""
        recovered = dict(
            self.env["stock.lot.markdown.recovery.report"]
            .sudo()
            ._read_group([("lot_id", "in", self.ids)], ["lot_id"], ["recovered_value:sum"])
        )
        for lot in self:
            lot.markdown_recovered_value = recovered.get(lot._origin, 0.0)

    def _refresh_markdown(self, now=None, lot_ids=None):
        """Apply the markdown rules at ``now`` in one UPDATE: to every lot, or to ``lot_ids`` only.

        Each lot with an expiration date after ``now`` takes the first active rule
        (by sequence, then id) of its company (shared lots: of any company) that
        covers its product (listed, in a listed category or a subcategory of one,
        or no scope at all) and whose trigger it meets: days left (whole days, as
        ``remaining_shelf_life_days``) or shelf life left (as
        ``remaining_shelf_life_ratio``, rounded to its 4 digits, as the lot shows it)
        at most the threshold. Other lots lose their markdown. ``markdown_price``
        is the product's sales price (with its variant extra) less the discount,
        rounded in the company currency, as ``_compute_markdown_price`` gives it.
        The query count does not depend on the number of lots or rules. Returns
        the ids of the lots that changed.
        """
        if lot_ids is not None and not lot_ids:
            return []
        now = now or self._shelf_life_now()
        for model in (
            "stock.lot",
            "stock.lot.markdown.rule",
            "product.product",
            "product.template",
            "product.category",
            "product.template.attribute.value",
            "res.company",
            "res.currency",
        ):
            self.env[model].flush_model()
        only_lots = SQL("AND id = ANY(%s)", list(lot_ids)) if lot_ids is not None else SQL()
        # what every branch checks once its join has matched a rule's scope to a lot: company and trigger
        rule_applies = SQL(
            """(lot.company_id IS NULL OR lot.company_id = rule.company_id)
               AND CASE WHEN rule.by_days THEN lot.days_left <= rule.threshold_days
                        ELSE lot.ratio <= rule.threshold_ratio END"""
        )
        rows = self.env.execute_query(
            SQL(
                """
                WITH rule AS (
                    -- rank: sequence then id in one bigint, so that the first rule of a lot is a MIN()
                    SELECT rule.id, rule.company_id, rule.trigger = 'remaining_days' AS by_days,
                           rule.threshold_days, rule.threshold_ratio::float8 AS threshold_ratio,
                           rule.sequence::bigint * 4294967296 + rule.id AS rank,
                           NOT EXISTS (SELECT 1 FROM stock_lot_markdown_rule_product_rel rel
                                        WHERE rel.rule_id = rule.id)
                           AND NOT EXISTS (SELECT 1 FROM stock_lot_markdown_rule_category_rel rel
                                            WHERE rel.rule_id = rule.id) AS for_all
                      FROM stock_lot_markdown_rule rule
                     WHERE rule.active
                ), lot AS (
                    -- unexpired lots that meet the loosest trigger of some rule
                    SELECT *
                      FROM (SELECT id, product_id, company_id,
                                   FLOOR(EXTRACT(EPOCH FROM expiration_date - %(now)s) / 86400)::int AS days_left,
                                   ROUND((%(ratio)s)::numeric, 4)::float8 AS ratio
                              FROM stock_lot
                             WHERE expiration_date > %(now)s %(only_lots)s) lot
                     WHERE lot.days_left <= (SELECT MAX(threshold_days) FROM rule WHERE by_days)
                        OR lot.ratio <= (SELECT MAX(threshold_ratio) FROM rule WHERE NOT by_days)
                ), rule_category AS (
                    -- every category with the rules that cover it, itself or through a parent
                    SELECT DISTINCT categ.id AS categ_id, rel.rule_id
                      FROM stock_lot_markdown_rule_category_rel rel
                      JOIN product_category scope ON scope.id = rel.category_id
                      JOIN product_category categ ON categ.parent_path LIKE scope.parent_path || %(any)s
                ), candidate AS (
                    SELECT lot.id AS lot_id, rule.rank
                      FROM lot
                      JOIN stock_lot_markdown_rule_product_rel rel ON rel.product_id = lot.product_id
                      JOIN rule ON rule.id = rel.rule_id
                     WHERE %(rule_applies)s
                    UNION ALL
                    SELECT lot.id, rule.rank
                      FROM lot
                      JOIN product_product product ON product.id = lot.product_id
                      JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                      JOIN rule_category ON rule_category.categ_id = tmpl.categ_id
                      JOIN rule ON rule.id = rule_category.rule_id
                     WHERE %(rule_applies)s
                    UNION ALL
                    SELECT lot.id, rule.rank
                      FROM lot
                      JOIN rule ON rule.for_all
                     WHERE %(rule_applies)s
                ), matched AS (
                    SELECT lot_id, MIN(rank) & 4294967295 AS rule_id
                      FROM candidate
                     GROUP BY lot_id
                ), priced AS (
                    SELECT matched.lot_id, rule.id AS rule_id, rule.discount,
                           ROUND((tmpl.list_price + COALESCE(extra.price_extra, 0)) * (100 - rule.discount) / 100
                                 / currency.rounding) * currency.rounding AS price
                      FROM matched
                      JOIN stock_lot_markdown_rule rule ON rule.id = matched.rule_id
                      JOIN lot ON lot.id = matched.lot_id
                      JOIN product_product product ON product.id = lot.product_id
                      JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                      JOIN res_company company ON company.id = COALESCE(lot.company_id, rule.company_id)
                      JOIN res_currency currency ON currency.id = company.currency_id
                      LEFT JOIN LATERAL (
                          SELECT SUM(ptav.price_extra) AS price_extra
                            FROM product_variant_combination combination
                            JOIN product_template_attribute_value ptav
                              ON ptav.id = combination.product_template_attribute_value_id
                           WHERE combination.product_product_id = product.id
                      ) extra ON TRUE
                ), target AS (
                    SELECT COALESCE(priced.lot_id, stale.id) AS lot_id, priced.rule_id,
                           COALESCE(priced.discount, 0) AS discount, COALESCE(priced.price, 0) AS price
                      FROM priced
                      FULL JOIN (SELECT id FROM stock_lot
                                  WHERE (markdown_rule_id IS NOT NULL OR markdown_discount != 0) %(only_lots)s) stale
                        ON stale.id = priced.lot_id
                )
                UPDATE stock_lot lot
                   SET markdown_rule_id = target.rule_id,
                       markdown_discount = target.discount,
                       markdown_price = target.price
                  FROM target
                 WHERE lot.id = target.lot_id
                   AND (lot.markdown_rule_id IS DISTINCT FROM target.rule_id
                        OR lot.markdown_discount IS DISTINCT FROM target.discount
                        OR lot.markdown_price IS DISTINCT FROM target.price)
             RETURNING lot.id
                """,
                ratio=self._sql_remaining_ratio(now),
                now=now,
                only_lots=only_lots,
                rule_applies=rule_applies,
                any="%",
            )
        )
        self.env["stock.lot"].invalidate_model(["markdown_rule_id", "markdown_discount", "markdown_price"])
        return [lot_id for (lot_id,) in rows]
