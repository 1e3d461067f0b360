from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools import float_is_zero

from ..report.stock_lot_valuation_rollforward import FLOWS, last_month_end
from .valuation_common import ValuationCommon

# (costing method, valued by lot): products valued by product are created the ordinary way
# (``lot_valuated`` never written, NULL in the database)
CONFIGS = [
    ("fifo", True),
    ("fifo", False),
    ("average", True),
    ("average", False),
    ("standard", True),
    ("standard", False),
]
MOVEMENT_FIELDS = [f"{flow}_{kind}" for flow, _label, _sign in FLOWS for kind in ("qty", "value")]
ROW_FIELDS = [
    "lot_id",
    "product_id",
    "company_id",
    "valuation_basis",
    "opening_qty",
    "opening_value",
    *MOVEMENT_FIELDS,
    "revaluation_value",
    "closing_qty",
    "closing_value",
]


def expected_flow(layer):
    """The movement a layer belongs to, from its stock move, as the roll-forward documents it."""
    move = layer.stock_move_id
    if not move or float_is_zero(layer.quantity, precision_digits=6):
        return "revaluation"
    inflow = layer.quantity > 0
    usage = (move.location_id if inflow else move.location_dest_id).usage
    if usage == "supplier":
        return "receipt"
    if usage == "production":
        return "production" if inflow else "consumption"
    if usage == "customer":
        return "return" if inflow else "delivery"
    if usage == "inventory":
        return "writeoff"
    return "receipt" if inflow else "delivery"


class RollforwardCommon(ValuationCommon):
    """Each costing method, valued by lot or not: stock before the period, every kind of movement in
    it (receipt, production, consumption, delivery, customer return, scrap, count loss, a layer
    without quantity like a landed cost, a standard price change), and more after its end."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.production = cls.env["stock.location"].search(
            [("usage", "=", "production"), ("company_id", "in", (cls.env.company.id, False))], limit=1
        )
        cls.products = cls.env["product.product"]
        cls.lots = {}
        for cost_method, by_lot in CONFIGS:
            category = cls._valuation_category(f"LMC Roll {cost_method} {by_lot}", cost_method, "real_time")
            name = f"LMC Roll {cost_method} {'lot' if by_lot else 'product'}"
            if by_lot:
                product = cls._valued_product(name, category, lot_valuated=True, standard_price=6.0)
            else:
                product = cls._ordinary_product(name, category, standard_price=6.0)
            cls.products |= product
            cls.lots[product] = {key: cls._lot(f"{name} {key}", product=product) for key in "ABCPD"}
        # before the period
        for product, lots in cls.lots.items():
            cls._receive(product, [(lots["A"], 10)], 5.0)
            cls._receive(product, [(lots["B"], 10)], 7.0)
            cls._deliver(product, [(lots["A"], 4)])
        cls._backdate(cls._days_ago(45))
        # in the period
        for product, lots in cls.lots.items():
            receipt = cls._receive(product, [(lots["C"], 5)], 9.0)
            delivery = cls._deliver(product, [(lots["B"], 3)])
            cls._return(delivery, lots["B"], 1)
            cls._scrap(lots["C"], 2)
            cls._count(lots["A"], 5)  # 6 on hand: one lost
            cls._move(product, cls.stock, cls.production, [(lots["A"], 1)])
            cls._move(product, cls.production, cls.stock, [(lots["P"], 2)], price_unit=8.0)
            cls.env["stock.valuation.layer"].create(
                {
                    "company_id": cls.env.company.id,
                    "product_id": product.id,
                    "lot_id": lots["C"].id if product.lot_valuated else False,
                    "stock_move_id": receipt.id,
                    "stock_valuation_layer_id": receipt.stock_valuation_layer_ids[:1].id,
                    "quantity": 0,
                    "value": 3.5,
                    "description": "LMC landed cost",
                }
            )
            if product.cost_method == "standard":
                product.standard_price = 6.5
        cls._backdate(cls._days_ago(20))
        # after the period
        for product, lots in cls.lots.items():
            cls._receive(product, [(lots["D"], 4)], 11.0)
            cls._deliver(product, [(lots["B"], 1)])
        cls.opening_date = (fields.Datetime.now() - timedelta(days=30)).date()
        cls.closing_date = (fields.Datetime.now() - timedelta(days=10)).date()
        cls.Rollforward = cls.env["stock.lot.valuation.rollforward"].with_context(
            valuation_date_from=fields.Date.to_string(cls.opening_date),
            valuation_date=fields.Date.to_string(cls.closing_date),
        )

    def _rows(self, products=None, rollforward=None):
        rollforward = rollforward if rollforward is not None else self.Rollforward
        return rollforward.search_read([("product_id", "in", (products or self.products).ids)], ROW_FIELDS)

    def _layers(self, products, after=None, until=None):
        domain = [("product_id", "in", products.ids), ("company_id", "=", self.env.company.id)]
        if after:
            domain.append(("create_date", ">", after))
        if until:
            domain.append(("create_date", "<=", until))
        return self.env["stock.valuation.layer"].search(domain)

    def assertRowAddsUp(self, row):
        currency = self.env.company.currency_id
        signs = dict((flow, sign) for flow, _label, sign in FLOWS)
        value = row["opening_value"] + row["revaluation_value"]
        qty = row["opening_qty"]
        for flow, sign in signs.items():
            value += sign * row[f"{flow}_value"]
            qty += sign * row[f"{flow}_qty"]
        self.assertTrue(currency.is_zero(value - row["closing_value"]), f"{row['lot_id']}: {value} vs {row}")
        self.assertAlmostEqual(qty, row["closing_qty"], places=6, msg=row["lot_id"])
        for flow, _label, _sign in FLOWS:
            self.assertTrue(currency.is_zero(currency.round(row[f"{flow}_value"]) - row[f"{flow}_value"]))


@tagged("post_install", "-at_install")
class TestValuationRollforward(RollforwardCommon):
    """The roll-forward by lot ties out to core's valuation layers, row by row and in total."""

    def _jit_after(self, read):
        self.env.cr.execute("SELECT set_config('jit', 'on', TRUE)")
        result = read()
        self.env.cr.execute("SHOW jit")
        return self.env.cr.fetchone()[0], result

    def test_reads_run_without_jit(self):
        """Compiling the roll-forward's and the valuation's queries took longer than running them at
        100,000 lots: every read of them turns JIT off for its transaction (README, Performance)."""
        domain = [("product_id", "in", self.products.ids)]
        valuation = self.env["stock.lot.valuation.report"]
        reads = {
            "search_read": lambda: self._rows(),
            "read_group": lambda: self.Rollforward.read_group(domain, ["closing_value:sum"], ["product_id"]),
            "search_count": lambda: self.Rollforward.search_count(domain),
            "export": lambda: self.Rollforward._read_export_rows(domain),
            "valuation list": lambda: valuation.search_read(domain, ["value"]),
            "valuation pivot": lambda: valuation.read_group(domain, ["value:sum"], ["product_id"]),
        }
        for name, read in reads.items():
            with self.subTest(read=name):
                jit, result = self._jit_after(read)
                self.assertEqual(jit, "off")
                self.assertTrue(result)

    def test_every_row_adds_up_to_the_cent(self):
        rows = self._rows()
        self.assertEqual({row["product_id"][0] for row in rows}, set(self.products.ids))
        for row in rows:
            with self.subTest(lot=row["lot_id"]):
                self.assertRowAddsUp(row)

    def test_opening_and_closing_totals_are_core_valuation(self):
        opening, closing, closing_is_now = self.Rollforward._get_period()
        self.assertFalse(closing_is_now)
        for product in self.products:
            with self.subTest(product=product.name):
                rows = self._rows(product)
                opening_total = sum(self._layers(product, until=opening).mapped("value"))
                closing_total = sum(self._layers(product, until=closing).mapped("value"))
                self.assertAlmostEqual(sum(row["opening_value"] for row in rows), opening_total, places=2)
                self.assertAlmostEqual(sum(row["closing_value"] for row in rows), closing_total, places=2)
                self.assertAlmostEqual(closing_total, product.with_context(to_date=closing).value_svl, places=2)
                self.assertAlmostEqual(
                    sum(row["closing_qty"] for row in rows), product.with_context(to_date=closing).qty_available
                )
        rows = self._rows()
        self.assertAlmostEqual(
            sum(row["closing_value"] for row in rows),
            sum(self._layers(self.products, until=closing).mapped("value")),
            places=2,
        )

    def test_each_movement_is_its_layers(self):
        """Per product, each movement column is the sum of the period's layers of that kind (to a cent per
        lot for products valued by product, whose layers are shared among lots), revaluation included."""
        opening, closing, _now = self.Rollforward._get_period()
        for product in self.products:
            with self.subTest(product=product.name):
                rows = self._rows(product)
                layers = self._layers(product, after=opening, until=closing)
                kinds = {expected_flow(layer) for layer in layers}
                self.assertEqual(
                    kinds, {"receipt", "delivery", "return", "writeoff", "production", "consumption", "revaluation"}
                )
                tolerance = 0.005 if product.lot_valuated else 0.01 * len(rows)
                for flow, _label, sign in [*FLOWS, ("revaluation", "", 1)]:
                    expected = sum(layer.value for layer in layers if expected_flow(layer) == flow)
                    shown = sum(row[f"{flow}_value"] for row in rows)
                    self.assertAlmostEqual(sign * shown, expected, delta=tolerance, msg=flow)

    def test_lot_figures(self):
        opening, closing, _now = self.Rollforward._get_period()
        for product, lots in self.lots.items():
            with self.subTest(product=product.name):
                rows = {row["lot_id"] and row["lot_id"][0]: row for row in self._rows(product)}
                self.assertNotIn(lots["D"].id, rows, "received after the period")
                a, b, c, p = (rows[lots[key].id] for key in "ABCP")
                self.assertEqual(
                    (a["opening_qty"], a["writeoff_qty"], a["consumption_qty"], a["closing_qty"]), (6, 1, 1, 4)
                )
                self.assertEqual(
                    (b["opening_qty"], b["delivery_qty"], b["return_qty"], b["closing_qty"]), (10, 3, 1, 8)
                )
                self.assertEqual(
                    (c["opening_qty"], c["receipt_qty"], c["writeoff_qty"], c["closing_qty"]), (0, 5, 2, 3)
                )
                self.assertEqual((p["opening_qty"], p["production_qty"], p["closing_qty"]), (0, 2, 2))
                report = self.env["stock.lot.valuation.report"]
                for day, side in ((self.opening_date, "opening"), (self.closing_date, "closing")):
                    report_rows = report.with_context(valuation_date=fields.Date.to_string(day)).search(
                        [("product_id", "=", product.id)]
                    )
                    for lot_id, row in rows.items():
                        lot_rows = report_rows.filtered(lambda r, lot_id=lot_id: r.lot_id.id == lot_id)
                        self.assertAlmostEqual(row[f"{side}_qty"], sum(lot_rows.mapped("quantity")))
                        # one location per lot: the report's value of the lot
                        self.assertAlmostEqual(row[f"{side}_value"], sum(lot_rows.mapped("value")), places=2)
                if product.lot_valuated:
                    for key, lot in lots.items():
                        if key == "D":
                            continue
                        row = rows[lot.id]
                        self.assertAlmostEqual(
                            row["opening_value"], lot.with_context(to_date=opening).value_svl, places=2
                        )
                        self.assertAlmostEqual(
                            row["closing_value"], lot.with_context(to_date=closing).value_svl, places=2
                        )
                    # at cost, or at the standard price of 6.00 (changed to 6.50 at the end of the period)
                    standard = product.cost_method == "standard"
                    self.assertAlmostEqual(c["receipt_value"], 5 * (6.0 if standard else 9.0), places=2)
                    self.assertAlmostEqual(b["delivery_value"], 3 * (6.0 if standard else 7.0), places=2)
                    self.assertAlmostEqual(b["return_value"], 6.0 if standard else 7.0, places=2)
                    self.assertAlmostEqual(p["production_value"], 2 * (6.0 if standard else 8.0), places=2)
                    # the landed cost; at standard cost the price change then brings the lot's 3 units to 6.50
                    self.assertAlmostEqual(c["revaluation_value"], 3 * 6.5 - 3 * 6.0 if standard else 3.5, places=2)

    def test_query_count_does_not_grow_with_lots(self):
        fields_read = ["opening_value", "closing_value", "delivery_value", "revaluation_value"]
        self.env.flush_all()
        # the month-end closes kept at the period's ends, the transaction's tuning (no JIT, see
        # test_reads_run_without_jit; no nested loops), the query, and the planner's setting set back
        with self.assertQueryCount(4):
            self.Rollforward.search_fetch([], fields_read)
        product = self.products[0]
        for index in range(5):
            lot = self._lot(f"LMC Roll extra {index}", product=product)
            self._receive(product, [(lot, 3)], 4.0)
        self._backdate(self._days_ago(20))
        self.env.flush_all()
        with self.assertQueryCount(4):
            records = self.Rollforward.search_fetch([], fields_read)
        # the planner's setting was for the roll-forward's statement only
        self.env.cr.execute("SHOW enable_nestloop")
        self.assertEqual(self.env.cr.fetchone()[0], "on")
        self.assertTrue(len(records) > len(self._rows()) - 1)

    def test_rows_come_in_the_orm_order(self):
        """Company, category, product (and the valuation's location) are ordered by their rank in their
        own model's order (not by joining their names to every row): the order the ORM gives them,
        ascending and descending, in searches and in groups; the roll-forward and the valuation."""
        domain = [("product_id", "in", self.products.ids)]

        def position(records):
            return {record.id: index for index, record in enumerate(records.search([("id", "in", records.ids)]))}

        valuation = self.env["stock.lot.valuation.report"].with_context(
            valuation_date=fields.Date.to_string(self.closing_date)
        )
        for model in (self.Rollforward, valuation):
            with self.subTest(model=model._name):
                rows = model.search(domain)
                self.assertTrue(len(rows) > len(self.products))
                products = position(rows.product_id)
                # the fixture's names do not sort like their ids: the test can fail
                self.assertNotEqual(list(products), sorted(products))
                categories = position(rows.product_categ_id)
                companies = position(rows.company_id)
                lots = position(rows.lot_id)
                locations = position(rows.location_id) if "location_id" in model._fields else {}

                def key(
                    row, products=products, categories=categories, companies=companies, lots=lots, locations=locations
                ):
                    return (
                        companies[row.company_id.id],
                        categories[row.product_categ_id.id],
                        products[row.product_id.id],
                        (1, 0) if not row.lot_id else (0, lots[row.lot_id.id]),
                        locations.get(row.location_id.id, 0) if locations else 0,
                    )

                self.assertEqual(rows.ids, rows.sorted(key).ids)
                descending = model.search(domain, order="product_id desc, id")
                self.assertEqual(
                    [products[row.product_id.id] for row in descending],
                    sorted((products[row.product_id.id] for row in rows), reverse=True),
                )
                groups = model.read_group(
                    domain,
                    ["quantity:sum" if locations else "closing_value:sum"],
                    ["product_id"],
                    orderby="product_id desc",
                )
                self.assertEqual(
                    [group["product_id"][0] for group in groups], sorted(products, key=products.get, reverse=True)
                )
                # the default order reversed, and rows without lot asked first: the ranks packed into one
                # key (_order_to_sql) give the ORM's order too
                terms = model._order.split(", ")
                reversed_rows = model.search(domain, order=", ".join(f"{term} desc" for term in terms))
                self.assertEqual(reversed_rows.ids, rows.sorted(key, reverse=True).ids)
                nulls_first = model.search(
                    domain, order=", ".join(f"{term} nulls first" if term == "lot_id" else term for term in terms)
                )

                def key_nulls_first(row, key=key):
                    company, category, product, lot, location = key(row)
                    return company, category, product, (0, 0) if lot == (1, 0) else (1, lot[1]), location

                self.assertEqual(nulls_first.ids, rows.sorted(key_nulls_first).ids)


@tagged("post_install", "-at_install")
class TestRollforwardFromCloses(RollforwardCommon):
    """An end of the period at which the company keeps a month-end close (a whole-company valuation
    snapshot kept as a period end) is read from that close: the valuation as it was closed, instead of
    being recomputed from every quant, line and layer."""

    def _close(self, day, **values):
        return self.env["stock.lot.valuation.snapshot"].create(
            {"name": f"LMC close {day}", "company_id": self.env.company.id, "valuation_date": day, **values}
        )

    def _by_key(self, rollforward=None):
        return {row["id"]: row for row in self._rows(rollforward=rollforward)}

    def assertSameRows(self, rows, expected):
        self.assertEqual(set(rows), set(expected))
        for key, row in rows.items():
            for name in ROW_FIELDS:
                if name.endswith("_value"):
                    self.assertAlmostEqual(row[name], expected[key][name], places=2, msg=f"{name} {row}")
                elif name.endswith("_qty"):
                    self.assertAlmostEqual(row[name], expected[key][name], places=6, msg=f"{name} {row}")
                else:
                    self.assertEqual(row[name], expected[key][name], msg=f"{name} {row}")
            self.assertRowAddsUp(row)

    def test_closes_at_either_end_give_the_computed_rows(self):
        computed = self._by_key()
        self.assertTrue(computed)
        closing_close = self._close(self.closing_date, is_period_end=True)
        self.assertSameRows(self._by_key(), computed)
        opening_close = self._close(self.opening_date, is_period_end=True)
        self.assertSameRows(self._by_key(), computed)
        closing_close.unlink()
        self.assertSameRows(self._by_key(), computed)
        # the default period: from the end of last month (kept) to now
        opening_close.unlink()
        default = self.env["stock.lot.valuation.rollforward"]
        now = self._by_key(default)
        self.assertTrue(now)
        self._close(last_month_end(fields.Date.context_today(default)), is_period_end=True)
        self.assertSameRows(self._by_key(default), now)

    def test_a_close_is_read_as_it_was_closed(self):
        """What the close holds is the end's figure: a line of the opening close changed after it was
        made (here by SQL) is the opening, the revaluation takes the difference, the closing does not
        move. Working copies and filtered snapshots at an end are not closes."""
        computed = self._by_key()
        opening_close = self._close(self.opening_date, is_period_end=True)
        product = self.products.filtered(lambda product: product.lot_valuated)[:1]
        lot = self.lots[product]["A"]
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE stock_lot_valuation_snapshot_line SET value = value + 100, quantity = quantity + 2 "
            "WHERE snapshot_id = %s AND lot_id = %s",
            (opening_close.id, lot.id),
        )
        self.assertEqual(self.env.cr.rowcount, 1)
        self.env.invalidate_all()
        rows = self._by_key()
        key = next(key for key, row in rows.items() if row["lot_id"] and row["lot_id"][0] == lot.id)
        expected = dict(computed)
        expected[key] = dict(
            computed[key],
            opening_value=computed[key]["opening_value"] + 100,
            revaluation_value=computed[key]["revaluation_value"] - 100,
            opening_qty=computed[key]["opening_qty"] + 2,
        )
        self.assertEqual(set(rows), set(expected))
        for name in ("opening_value", "revaluation_value", "opening_qty", "closing_value", "closing_qty"):
            self.assertAlmostEqual(rows[key][name], expected[key][name], places=2, msg=name)
        for other in set(rows) - {key}:
            self.assertAlmostEqual(rows[other]["opening_value"], computed[other]["opening_value"], places=2)
        # at the closing: a working copy and a snapshot of one category, both changed, are not read
        working = self._close(self.closing_date)
        filtered = self._close(self.closing_date, is_period_end=True, categ_ids=[Command.set(product.categ_id.ids)])
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE stock_lot_valuation_snapshot_line SET value = value + 100 WHERE snapshot_id IN %s",
            ((working.id, filtered.id),),
        )
        self.assertTrue(self.env.cr.rowcount)
        self.env.invalidate_all()
        for key, row in self._by_key().items():
            self.assertAlmostEqual(row["closing_value"], computed[key]["closing_value"], places=2)
