"""Fixtures committed for tests that open transactions of their own (two cursors, as two workers):
the other cursor must see them, so they are committed, and removed by SQL afterwards (validated
moves cannot be deleted through the ORM)."""

import uuid
from contextlib import closing

from odoo import SUPERUSER_ID, api

# What a validated delivery of a new product leaves, in the order its rows must go.
DELIVERY_TABLES = ("stock_lot_demand_day", "stock_valuation_layer", "stock_move_line", "stock_move", "stock_quant")


def validated_deliveries(env, name, quantities):
    """A new storable product named ``name`` and one validated delivery from the main warehouse's stock
    to customers per quantity of ``quantities`` (their moves, done; not committed)."""
    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    product = env["product.product"].create({"name": f"{name} {uuid.uuid4().hex[:8]}", "is_storable": True})
    moves = env["stock.move"].create(
        [
            {
                "name": product.name,
                "product_id": product.id,
                "product_uom_qty": quantity,
                "product_uom": product.uom_id.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": env.ref("stock.stock_location_customers").id,
                "quantity": quantity,
                "picked": True,
            }
            for quantity in quantities
        ]
    )
    moves._action_confirm()
    moves._action_done()
    return moves


def remove_product(registry, product_id):
    """Delete what ``validated_deliveries`` made of ``product_id``, then the product (committed)."""
    with closing(registry.cursor()) as cr:
        for table in DELIVERY_TABLES:
            cr.execute(f"DELETE FROM {table} WHERE product_id = %s", [product_id])
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["product.product"].browse(product_id).product_tmpl_id.unlink()
        cr.commit()  # pylint: disable=invalid-commit
