from odoo import Command
from odoo.tests import tagged
from odoo.tools import SQL

from .test_valuation_rollforward import RollforwardCommon

COLUMNS = "move_id, date, company_id, product_id, COALESCE(lot_id, 0), flow, kind"


@tagged("post_install", "-at_install")
class TestValuationMovement(RollforwardCommon):
    """The roll-forward's movements kept per move (stock.lot.valuation.movement) are always what
    classifying the moves' lines and layers as they are now gives, whatever changed them."""

    def _kept(self):
        """The table, summed per key, numbers to 6 decimals."""
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                f"SELECT {COLUMNS}, ROUND(SUM(quantity), 6), ROUND(SUM(value), 6) "
                "FROM stock_lot_valuation_movement GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7"
            )
        )

    def _fresh(self):
        """What the moves' lines and layers give now, summed the same way."""
        Movement = self.env["stock.lot.valuation.movement"]
        Movement._flush_sources()
        return self.env.execute_query(
            SQL(
                f"SELECT {COLUMNS}, ROUND(SUM(quantity), 6), ROUND(SUM(value), 6) "
                "FROM (%s) fresh GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7",
                Movement._sql_movement_rows(SQL("TRUE")),
            )
        )

    def assertKeptIsFresh(self):
        kept, fresh = self._kept(), self._fresh()
        self.assertTrue(kept)
        self.assertEqual(kept, fresh)

    def test_validations_returns_scraps_and_counts_are_kept(self):
        """The fixture's operations after its last back-dating (receipts, deliveries) went through the
        hooks only; more of every kind now."""
        self.assertKeptIsFresh()
        product = self.products[0]
        lots = self.lots[product]
        delivery = self._deliver(product, [(lots["C"], 1)])
        self._return(delivery, lots["C"], 1)
        self._scrap(lots["P"], 1)
        self._count(lots["D"], 3)
        moves = self.env["stock.lot.valuation.movement"].search([("move_id", "=", delivery.id)])
        self.assertEqual(set(moves.mapped("kind")), {"quantity", "layer", "spread"})
        self.assertEqual(set(moves.mapped("flow")), {"delivery"})
        self.assertKeptIsFresh()

    def test_a_done_line_changed_after_validation(self):
        """Core makes correction layers inside the line's write, before the new quantity is written:
        the move's value is shared by the new quantities all the same (failing first without the
        line's hook)."""
        for product in self.products:
            lots = self.lots[product]
            delivery = self._deliver(product, [(lots["C"], 1), (lots["P"], 1)])
            line = delivery.move_line_ids.filtered(lambda line, lot=lots["C"]: line.lot_id == lot)
            layer_count = len(delivery.stock_valuation_layer_ids)
            line.quantity = 2  # one more of C: a correction layer
            self.assertEqual(len(delivery.stock_valuation_layer_ids), layer_count + 1)
            self.assertKeptIsFresh()
            delivery.move_line_ids.filtered(lambda line, lot=lots["P"]: line.lot_id == lot).lot_id = lots["D"]
        self.assertKeptIsFresh()
        # the spread of a move valued by product follows the lines: C 2 of 3, D 1 of 3
        ordinary = self.products.filtered(lambda product: not product.lot_valuated)[0]
        delivery = self.env["stock.move"].search([("product_id", "=", ordinary.id)], order="id desc", limit=1)
        spread = self.env["stock.lot.valuation.movement"].search(
            [("move_id", "=", delivery.id), ("kind", "=", "spread")]
        )
        total = sum(delivery.stock_valuation_layer_ids.mapped("value"))
        by_lot = {}
        for row in spread:
            by_lot[row.lot_id] = by_lot.get(row.lot_id, 0.0) + row.value
        self.assertEqual(set(by_lot), {self.lots[ordinary]["C"], self.lots[ordinary]["D"]})
        self.assertAlmostEqual(by_lot[self.lots[ordinary]["C"]], total * 2 / 3, places=6)
        self.assertAlmostEqual(by_lot[self.lots[ordinary]["D"]], total / 3, places=6)

    def test_a_line_added_to_a_validated_move(self):
        product = self.products.filtered(lambda product: not product.lot_valuated)[0]
        lots = self.lots[product]
        receipt = self._receive(product, [(lots["C"], 2)], 4.0)
        receipt.move_line_ids = [
            Command.create(
                {
                    "product_id": product.id,
                    "location_id": receipt.location_id.id,
                    "location_dest_id": receipt.location_dest_id.id,
                    "lot_id": lots["D"].id,
                    "quantity": 2,
                }
            )
        ]
        self.assertEqual(receipt.quantity, 4)
        self.assertKeptIsFresh()

    def test_layers_changed_or_deleted(self):
        product = self.products[0]
        receipt = self._receive(product, [(self.lots[product]["C"], 2)], 4.0)
        layer = receipt.stock_valuation_layer_ids
        layer.value = 11.0
        self.assertKeptIsFresh()
        layer.create_date = receipt.date.replace(year=receipt.date.year - 1)
        self.assertKeptIsFresh()
        layer.unlink()
        self.assertKeptIsFresh()
        self.assertFalse(
            self.env["stock.lot.valuation.movement"].search([("move_id", "=", receipt.id), ("kind", "!=", "quantity")])
        )

    def test_a_location_changing_type_reclassifies_every_move(self):
        """A vendor location (it holds no stock: what came from it is negative there) becomes a production
        one: what was received from it is production."""
        product = self.products[0]
        workshop = self.env["stock.location"].create({"name": "LMC Outside workshop", "usage": "supplier"})
        receipt = self._move(product, workshop, self.stock, [(self.lots[product]["C"], 2)], price_unit=4.0)
        Movement = self.env["stock.lot.valuation.movement"]
        self.assertEqual(set(Movement.search([("move_id", "=", receipt.id)]).mapped("flow")), {"receipt"})
        workshop.usage = "production"
        self.assertEqual(set(Movement.search([("move_id", "=", receipt.id)]).mapped("flow")), {"production"})
        self.assertKeptIsFresh()

    def test_the_rollforward_reads_the_kept_movements(self):
        """Rows read from a table tampered with by SQL show the tampering: the movements are read from it,
        not classified again at every read."""
        product = self.products.filtered(lambda product: product.lot_valuated)[0]
        lot = self.lots[product]["C"]
        (before,) = [row for row in self._rows(product) if row["lot_id"] and row["lot_id"][0] == lot.id]
        self.env.cr.execute(
            "UPDATE stock_lot_valuation_movement SET quantity = quantity * 2 WHERE lot_id = %s AND flow = 'receipt' "
            "AND kind = 'quantity'",
            [lot.id],
        )
        self.env.invalidate_all()
        (after,) = [row for row in self._rows(product) if row["lot_id"] and row["lot_id"][0] == lot.id]
        self.assertEqual(before["receipt_qty"], 5)
        self.assertEqual(after["receipt_qty"], 10)
