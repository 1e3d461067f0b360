# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
import logging
import random
import time
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.tools import SQL

# A year of months before the current one, and the current one up to now.
HISTORY_MONTHS = 12
# When things happen in a month, as fractions of it (the current month: of the part gone by).
RECEIPT_AT = (0.03, 0.5)
DELIVERY_AT = (0.1, 0.35, 0.6, 0.85)
# Delivery rounds reserved and validated together (in date order: the earlier round reserves first),
# by their index in DELIVERY_AT: those before and those after the month's second receipt.
DELIVERY_BATCHES = ((0, 1), (2, 3))
MOCK_RECALL_AT = 0.25
MARKDOWN_SALE_AT = 0.4
SCRAP_AT = 0.7
COUNT_AT = 0.95
REAL_RECALL_MONTHS = (4, 0)
# The share of delivery lines whose lot the picker scanned, a year ago and this month.
SCAN_SHARE_FIRST, SCAN_SHARE_LAST = 0.55, 0.95
# Transfers and scraps are made without a creation message or field tracking in their chatter.
QUIET = {"tracking_disable": True, "mail_create_nolog": True}

_logger = logging.getLogger(__name__)


class StockLotKpi(models.AbstractModel):
    """Demo data: a year of FreshMed Distribution's lot history, so that the overview tells its story.

    Butter, orange juice and paracetamol are received twice a month (more and
    more of them by GS1 scan), delivered several times a month with FEFO (the
    reservation's own choice; now and then a picker takes a later lot, and the
    validation records it as not compliant), sold marked down when near expiry,
    scrapped once expired, counted at month end (a few counts find less), drilled
    with a mock recall every month, and recalled for real twice (contained). Every
    operation goes through the ORM as a user's would, in the order it happened,
    with the move's scheduled date set to its day (the lot gate and the FEFO check
    judge it then); its records are then dated back to that day in a few
    set-based UPDATEs per month (moves, move lines, valuation layers, pickings,
    scraps, counts, orders, recalls).
    """

    _inherit = "stock.lot.kpi"

    @api.model
    def _demo_load_history(self):
        DemoHistory(self.env).run()


class DemoHistory:
    """The simulation behind ``stock.lot.kpi._demo_load_history`` (deterministic: seeded)."""

    def __init__(self, env):
        self.env = env
        self.rng = random.Random(14)
        ref = env.ref
        self.company = ref("base.main_company")
        self.warehouse = ref("stock.warehouse0")
        self.stock = self.warehouse.lot_stock_id
        self.suppliers = ref("stock.stock_location_suppliers")
        self.customers = ref("stock.stock_location_customers")
        butter = ref("lot_margin_control.product_organic_butter")
        juice = ref("lot_margin_control.product_orange_juice")
        paracetamol = ref("lot_margin_control.product_paracetamol")
        # product: (vendor, lot prefix, quantity received, receipts a month, shelf days)
        self.products = {
            butter: (ref("lot_margin_control.supplier_nordic_dairy"), "BUT", 140, 1, 45),
            juice: (ref("lot_margin_control.supplier_nordic_dairy"), "OJ", 65, 2, 14),
            paracetamol: (ref("lot_margin_control.supplier_pharmasource"), "PCM", 600, 1, 730),
        }
        # the first month also brings the paracetamol the year starts with
        self.opening_quantity = {paracetamol: 2000}
        # customer: {product: quantity per delivery}
        self.orders = {
            ref("lot_margin_control.customer_greenleaf"): {butter: 16, juice: 18},
            ref("lot_margin_control.customer_corner_deli"): {butter: 6, juice: 9},
            ref("lot_margin_control.customer_city_hospital"): {paracetamol: 120},
            ref("lot_margin_control.customer_care_home"): {paracetamol: 60},
        }
        self.gs1_credit = 0.0
        self.juice = juice
        self.butter = butter
        self.now = fields.Datetime.now().replace(microsecond=0)
        self.dates = {}  # table -> {id: date} of what this month made

    # ------------------------------------------------------------------
    def run(self):
        started = time.perf_counter()
        first_of_month = self.now.replace(day=1, hour=0, minute=0, second=0)
        for months_ago in range(HISTORY_MONTHS, -1, -1):
            start = first_of_month - relativedelta(months=months_ago)
            end = min(start + relativedelta(months=1), self.now - timedelta(hours=1))
            self._month(months_ago, start, end)
        # the layers and lines were dated back by SQL too: their sums per month and the roll-forward's
        # movements are made again
        self.env["stock.lot.valuation.month"]._rebuild()
        self.env["stock.lot.valuation.movement"]._rebuild()
        recalls = self.env["stock.lot.recall"].search([("reason", "=like", "Demo history:%")])
        recalls._refresh_scope_values()
        # the months were dated back by SQL (_date_back), after their validations counted the
        # deliveries as today's: the daily demand is summed again from the dated lines
        self.env["stock.lot.demand.day"]._rebuild()
        lots = self.env["stock.lot"]
        lots._refresh_shelf_life_state()
        lots._refresh_expiry_risk()
        lots._refresh_markdown()
        _logger.info("Demo history of the Lot Control overview loaded in %.1f s", time.perf_counter() - started)

    def _month(self, months_ago, start, end):
        def at(fraction):
            return start + (end - start) * fraction

        events = [(at(fraction), self._receive, (index,)) for index, fraction in enumerate(RECEIPT_AT)]
        events += [
            (
                at(DELIVERY_AT[batch[0]]),
                self._deliver,
                ([(at(DELIVERY_AT[index]), index) for index in batch], months_ago),
            )
            for batch in DELIVERY_BATCHES
        ]
        events += [
            (at(MOCK_RECALL_AT), self._mock_recall, ()),
            (at(MARKDOWN_SALE_AT), self._markdown_sale, ()),
            (at(SCRAP_AT), self._scrap_expired, ()),
            (at(COUNT_AT), self._count, (months_ago,)),
        ]
        if months_ago in REAL_RECALL_MONTHS:
            events.append((at(0.6), self._real_recall, (months_ago,)))
        self.gs1_share = 0.45 + 0.47 * (HISTORY_MONTHS - months_ago) / HISTORY_MONTHS
        for when, step, args in sorted(events, key=lambda event: event[0]):
            step(when, *args)
        self._date_back()

    # ------------------------------------------------------------------
    # Operations, each at its time
    # ------------------------------------------------------------------
    def _receive(self, when, index):
        lots = self.env["stock.lot"].create(
            [
                {
                    "name": f"{prefix}-{when:%y%m}-{index + 1}",
                    "product_id": product.id,
                    "company_id": self.company.id,
                    "supplier_lot_name": f"{vendor.name[:2].upper()}-{when:%y%m%d}",
                    "production_date": when - timedelta(days=2),
                    "expiration_date": when + timedelta(days=shelf_days),
                    "gs1_scanned": self._gs1_scanned(),
                }
                for product, (vendor, prefix, _quantity, receipts, shelf_days) in self.products.items()
                if index < receipts
            ]
        )
        vendors = list(dict.fromkeys(self.products[lot.product_id][0] for lot in lots))
        pickings = self._pickings(
            [
                (
                    vendor,
                    self.warehouse.in_type_id,
                    self.suppliers,
                    when,
                    [
                        (lot, self._received_quantity(lot.product_id))
                        for lot in lots
                        if self.products[lot.product_id][0] == vendor
                    ],
                )
                for vendor in vendors
            ]
        )
        pickings.action_confirm()
        # the lots received: the lines say which (one create for all of them)
        pickings.move_ids.move_line_ids.unlink()
        self.env["stock.move.line"].create(
            [
                {
                    "move_id": move.id,
                    "picking_id": move.picking_id.id,
                    "product_id": move.product_id.id,
                    "product_uom_id": move.product_uom.id,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                    "lot_id": move.restrict_lot_id.id,
                    "quantity": move.product_uom_qty,
                    "picked": True,
                }
                for move in pickings.move_ids
            ]
        )
        self._done(pickings, when)
        self._record("stock_lot", "create_date", lots.ids, when)

    def _deliver(self, _when, rounds, months_ago):
        """Delivery rounds ``[(when, index)]`` of the month: each customer's transfer of a round is
        scheduled at its time; they are reserved (FEFO, earlier rounds first) and validated at once."""
        care_home = self.env.ref("lot_margin_control.customer_care_home")
        by_round = []
        for when, index in rounds:
            by_round.append(
                (
                    when,
                    index,
                    self._pickings(
                        [
                            (
                                customer,
                                self.warehouse.out_type_id,
                                self.stock,
                                when,
                                [
                                    (product, round(quantity * self.rng.uniform(0.7, 1.3)))
                                    for product, quantity in lines.items()
                                ],
                            )
                            for customer, lines in self.orders.items()
                            if not (index % 2 and customer == care_home)
                        ]
                    ),
                )
            )
        pickings = self.env["stock.picking"].concat(*(round_pickings for _when, _index, round_pickings in by_round))
        pickings.action_confirm()
        pickings.action_assign()
        switched = {}
        for _when, index, round_pickings in by_round:
            # a picker takes a later lot than the one FEFO reserved, about twice a month
            if index == 1 and months_ago % 3 != 2:
                switched.update(self._override(round_pickings))
        self._validate(pickings.filtered(lambda picking: picking.move_ids.move_line_ids))
        for when, _index, round_pickings in by_round:
            done = round_pickings.filtered(lambda picking: picking.state == "done")
            self._date_pickings(done, when)
            self._scan(done, switched, months_ago, when)
        (pickings - pickings.filtered(lambda picking: picking.state == "done")).action_cancel()

    def _scan(self, pickings, switched, months_ago, when):
        """The pickers' scans of the lots they took: handheld scanners reach more of the lines month
        by month (Scan Coverage's trend); a lot taken instead of the one directed is a switch
        (Picking Accuracy's misses). Recorded as the scan screen records them (stock.lot.scan)."""
        share = SCAN_SHARE_FIRST + (SCAN_SHARE_LAST - SCAN_SHARE_FIRST) * (HISTORY_MONTHS - months_ago) / HISTORY_MONTHS
        lines = pickings.move_ids.move_line_ids.filtered(
            lambda line: line.lot_id and (line in switched or self.rng.random() < share)
        )
        if not lines:
            return
        lines.write({"lot_scanned": True})
        Scan = self.env["stock.lot.scan"]
        scans = Scan.create(
            [
                Scan._values(
                    line.picking_id,
                    "switched" if line in switched else "confirmed",
                    line.lot_id.name,
                    line=line,
                    directed_lot=switched.get(line),
                )
                for line in lines
            ]
        )
        self._record("stock_lot_scan", "date", scans.ids, when)

    def _override(self, pickings):
        """Give a later lot to the first butter line of ``pickings``; returns {line: the lot FEFO directed}."""
        switched = {}
        for line in pickings.move_ids.filtered(lambda move: move.product_id == self.butter).move_line_ids[:1]:
            later = (
                self.env["stock.quant"]
                .search(
                    [
                        ("product_id", "=", line.product_id.id),
                        ("location_id", "=", self.stock.id),
                        ("lot_id.quality_state", "=", "released"),
                        ("lot_id.expiration_date", ">", line.lot_id.expiration_date),
                    ],
                    order="expiration_date desc",
                )
                .filtered(lambda quant, line=line: quant.quantity - quant.reserved_quantity >= line.quantity)[:1]
            )
            if later:
                switched[line] = line.lot_id
                line.lot_id = later.lot_id
        return switched

    def _markdown_sale(self, when):
        """Corner Deli buys a near-date juice lot at its markdown (the lot chosen on the order line)."""
        lots = self.env["stock.lot"].search([("product_id", "=", self.juice.id), ("expiration_date", ">", when)])
        lots._refresh_markdown(now=when, lot_ids=lots.ids)
        quants = self.env["stock.quant"].search(
            [("lot_id", "in", lots.filtered("markdown_rule_id").ids), ("location_id", "=", self.stock.id)],
            order="expiration_date",
        )
        quant = quants.filtered(lambda quant: quant.quantity - quant.reserved_quantity >= 12)[:1]
        if not quant:
            return
        lot = quant.lot_id
        order = self.env["sale.order"].create(
            {
                "partner_id": self.env.ref("lot_margin_control.customer_corner_deli").id,
                "warehouse_id": self.warehouse.id,
                "commitment_date": when,
                "client_order_ref": "Near-date offer",
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.juice.id,
                            "product_uom_qty": 12,
                            "lot_id": lot.id,
                            "discount": lot.markdown_discount,
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        pickings = order.picking_ids
        pickings.action_assign()
        self._done(pickings, when)
        self._record("sale_order", "date_order", order.ids, when)
        # The line took the lot's markdown of that day; today the lot has expired and the line would
        # no longer take it: its rule is recorded as the line recorded it then.
        self.env.execute_query(
            SQL(
                "UPDATE sale_order_line SET markdown_rule_id = %s WHERE id = ANY(%s)",
                lot.markdown_rule_id.id,
                order.order_line.ids,
            )
        )

    def _scrap_expired(self, when):
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "in", [product.id for product in self.products]),
                ("location_id", "=", self.stock.id),
                ("lot_id.expiration_date", "<=", when),
                ("quantity", ">", 0),
            ]
        )
        self._scrap(quants, when)

    def _scrap(self, quants, when):
        scraps = (
            self.env["stock.scrap"]
            .with_context(**QUIET)
            .create(
                [
                    {
                        "product_id": quant.product_id.id,
                        "lot_id": quant.lot_id.id,
                        "scrap_qty": quant.quantity - quant.reserved_quantity,
                        "location_id": self.stock.id,
                        "company_id": self.company.id,
                    }
                    for quant in quants
                    if quant.quantity > quant.reserved_quantity
                ]
            )
        )
        scraps.do_scrap()
        self._dated_moves(scraps.move_ids, when)
        self._record("stock_scrap", "date_done", scraps.ids, when)

    def _count(self, when, months_ago):
        """Month-end count of every lot on the shelf; now and then a few units are missing."""
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "in", [product.id for product in self.products]),
                ("location_id", "=", self.stock.id),
                ("quantity", ">", 0),
            ],
            order="id",
        )
        short = quants[self.rng.randrange(len(quants))] if quants and months_ago % 3 != 1 else None
        for quant in quants:
            quant.inventory_quantity = quant.quantity - (self.rng.randint(1, 3) if quant == short else 0)
        moves_before = self._last_id("stock_move")
        counts_before = self._last_id("stock_lot_count")
        quants.action_apply_inventory()
        self.env.flush_all()
        self._dated_moves(self.env["stock.move"].search([("id", ">", moves_before)]), when)
        count_ids = self.env["stock.lot.count"].search([("id", ">", counts_before)]).ids
        self._record("stock_lot_count", "date", count_ids, when)

    def _mock_recall(self, when):
        lot = self.env["stock.lot"].search([("product_id", "=", self.butter.id)], order="id desc", limit=1)
        recall = self.env["stock.lot.recall"].create(
            {
                "lot_ids": [Command.set(lot.ids)],
                "is_mock": True,
                "recall_class": "2",
                "reason": f"Demo history: monthly mock recall drill on butter lot {lot.name}.",
            }
        )
        recall.action_trace()
        self._record("stock_lot_recall", "create_date", recall.ids, when)
        self._record("stock_lot_recall", "traced_date", recall.ids, when + timedelta(minutes=12))

    def _real_recall(self, when, months_ago):
        """A real recall of one juice lot, contained within the day."""
        lot = self.env["stock.lot"].search(
            [("product_id", "=", self.juice.id), ("product_qty", ">", 0), ("expiration_date", ">", when)],
            order="expiration_date desc",
            limit=1,
        )
        if not lot:
            return
        recall = self.env["stock.lot.recall"].create(
            {
                "lot_ids": [Command.set(lot.ids)],
                "recall_class": "2",
                "reason": f"Demo history: Nordic Dairy reports a sealing defect on juice lot {lot.name}.",
            }
        )
        recall.action_trace()
        recall.action_contain()
        hours = 20 if months_ago else 9
        contained = min(when + timedelta(hours=hours), self.now - timedelta(minutes=30))
        if months_ago:
            # long closed: its stock was destroyed instead of moved to quarantine
            recall.containment_picking_ids.action_cancel()
            self._scrap(
                self.env["stock.quant"].search([("lot_id", "=", lot.id), ("location_id", "=", self.stock.id)]),
                contained,
            )
        self._record("stock_lot_recall", "create_date", recall.ids, when)
        self._record("stock_lot_recall", "traced_date", recall.ids, when + timedelta(minutes=20))
        self._record("stock_lot_recall", "contained_date", recall.ids, contained)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _gs1_scanned(self):
        """Whether the next lot received was scanned: the month's share, spread evenly over its lots."""
        self.gs1_credit += self.gs1_share
        if self.gs1_credit >= 1:
            self.gs1_credit -= 1
            return True
        return False

    def _received_quantity(self, product):
        quantity = self.opening_quantity.pop(product, 0) + self.products[product][2]
        return round(quantity * self.rng.uniform(0.9, 1.1))

    def _pickings(self, transfers):
        """Draft transfers, created at once: ``(partner, picking type, source, when, lines)`` each, its
        ``lines`` ``(lot or product, quantity)``, scheduled at ``when``."""
        vals_list = []
        for partner, picking_type, source, when, lines in transfers:
            destination = picking_type.default_location_dest_id
            moves = []
            for item, quantity in lines:
                product = item.product_id if item._name == "stock.lot" else item
                moves.append(
                    Command.create(
                        {
                            "name": product.display_name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": source.id,
                            "location_dest_id": destination.id,
                            "date": when,
                            "restrict_lot_id": item.id if item._name == "stock.lot" else False,
                        }
                    )
                )
            vals_list.append(
                {
                    "partner_id": partner.id,
                    "picking_type_id": picking_type.id,
                    "location_id": source.id,
                    "location_dest_id": destination.id,
                    "scheduled_date": when,
                    "move_ids": moves,
                }
            )
        # a year of transfers without a chatter line each (Odoo's own keys for bulk imports)
        return self.env["stock.picking"].with_context(**QUIET).create(vals_list)

    def _done(self, pickings, when):
        self._validate(pickings)
        self._date_pickings(pickings, when)

    def _validate(self, pickings):
        """Validate ``pickings`` as reserved or as their lines say, in one go, without backorders."""
        pickings.move_ids.move_line_ids.picked = True
        pickings.move_ids.picked = True
        pickings.with_context(cancel_backorder=True)._action_done()

    def _date_pickings(self, pickings, when):
        self._dated_moves(pickings.move_ids, when)
        self._record("stock_picking", "date_done", pickings.ids, when)
        self._record("stock_picking", "scheduled_date", pickings.ids, when)
        self._record("stock_picking", "date", pickings.ids, when)

    def _dated_moves(self, moves, when):
        self._record("stock_move", "date", moves.ids, when)

    def _record(self, table, column, ids, when):
        self.dates.setdefault((table, column), {}).update(dict.fromkeys(ids, when))

    def _last_id(self, table):
        self.env.flush_all()
        [(last,)] = self.env.execute_query(SQL("SELECT COALESCE(MAX(id), 0) FROM %s", SQL.identifier(table)))
        return last

    def _date_back(self):
        """Give what the month made the dates it happened at: one UPDATE per table and column.

        Move lines and valuation layers follow their move, quants' incoming dates their lot's receipt.
        """
        self.env.flush_all()
        dates = self.dates
        self.dates = {}
        followers = {
            ("stock_move", "date"): [
                ("stock_move_line", "date", "move_id"),
                ("stock_valuation_layer", "create_date", "stock_move_id"),
            ],
            ("stock_lot", "create_date"): [("stock_quant", "in_date", "lot_id")],
        }
        for (table, column), by_id in dates.items():
            if not by_id:
                continue
            values = SQL(", ").join(SQL("(%s, %s::timestamp)", record_id, when) for record_id, when in by_id.items())
            targets = [(table, column, "id"), *followers.get((table, column), [])]
            for target, target_column, key in targets:
                self.env.execute_query(
                    SQL(
                        "UPDATE %(target)s SET %(column)s = dated.at FROM (VALUES %(values)s) AS dated(id, at) "
                        "WHERE %(target)s.%(key)s = dated.id",
                        target=SQL.identifier(target),
                        column=SQL.identifier(target_column),
                        values=values,
                        key=SQL.identifier(key),
                    )
                )
        self.env.invalidate_all()
