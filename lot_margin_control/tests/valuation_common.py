from datetime import datetime, timedelta

from odoo import Command
from odoo.addons.stock_account.tests.test_stockvaluation import _create_accounting_data
from odoo.tests import Form, new_test_user

from .common import LotControlCommon


class ValuationCommon(LotControlCommon):
    """Products under each costing method, valued by lot or not, and helpers that move real stock.

    Stock only moves through done stock moves here, so that core creates the
    valuation layers the report must tie out to. ``_backdate`` moves what was
    done so far into the past (layers have no date: their ``create_date`` is
    the accounting instant, tests set it in SQL).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        (
            cls.stock_input_account,
            cls.stock_output_account,
            cls.stock_valuation_account,
            cls.expense_account,
            cls.stock_journal,
        ) = _create_accounting_data(cls.env)
        cls.shelf = cls.env["stock.location"].create(
            {"name": "LMC Shelf 1", "usage": "internal", "location_id": cls.stock.id}
        )
        cls.accountant = new_test_user(
            cls.env,
            login="lmc_accountant",
            groups="account.group_account_readonly,lot_margin_control.group_lot_control_user",
        )
        cls.stock_manager = new_test_user(cls.env, login="lmc_stock_manager", groups="stock.group_stock_manager")

    @classmethod
    def _valuation_category(cls, name, cost_method, valuation):
        values = {"name": name, "property_cost_method": cost_method, "property_valuation": valuation}
        if valuation == "real_time":
            values.update(
                {
                    "property_stock_account_input_categ_id": cls.stock_input_account.id,
                    "property_stock_account_output_categ_id": cls.stock_output_account.id,
                    "property_stock_valuation_account_id": cls.stock_valuation_account.id,
                    "property_stock_journal": cls.stock_journal.id,
                }
            )
        return cls.env["product.category"].create(values)

    @classmethod
    def _valued_product(cls, name, category, lot_valuated=False, standard_price=0.0, list_price=0.0):
        return cls.env["product.product"].create(
            {
                "name": name,
                "is_storable": True,
                "tracking": "lot",
                "categ_id": category.id,
                "use_expiration_date": True,
                "expiration_time": 120,
                "lot_valuated": lot_valuated,
                "standard_price": standard_price,
                "list_price": list_price,
            }
        )

    @classmethod
    def _ordinary_product(cls, name, category, standard_price=0.0):
        """A lot-tracked product created as Odoo's forms create it: ``lot_valuated`` is never written."""
        return cls.env["product.product"].create(
            {
                "name": name,
                "is_storable": True,
                "tracking": "lot",
                "categ_id": category.id,
                "standard_price": standard_price,
            }
        )

    @classmethod
    def _count(cls, lot, counted_quantity):
        """Apply an inventory count of ``lot`` in stock: the difference goes to the inventory-loss location."""
        quant = (
            cls.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create(
                {
                    "product_id": lot.product_id.id,
                    "location_id": cls.stock.id,
                    "lot_id": lot.id,
                    "inventory_quantity": counted_quantity,
                }
            )
        )
        quant.action_apply_inventory()

    @classmethod
    def _move(cls, product, source, destination, lots, price_unit=0.0, picking_type=None, partner=None):
        """One done move of ``product`` with one move line per ``(lot, quantity)`` in ``lots``."""
        picking_type = picking_type or (
            cls.warehouse.in_type_id
            if source.usage == "supplier"
            else cls.warehouse.out_type_id
            if destination.usage == "customer"
            else cls.warehouse.int_type_id
        )
        if not partner:
            partner = cls.vendor if source.usage == "supplier" else cls.customer
        picking = cls.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "partner_id": partner.id,
            }
        )
        quantity = sum(qty for _lot, qty in lots)
        move = cls.env["stock.move"].create(
            {
                "name": product.name,
                "picking_id": picking.id,
                "product_id": product.id,
                "product_uom": product.uom_id.id,
                "product_uom_qty": quantity,
                "price_unit": price_unit,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "picking_type_id": picking_type.id,
            }
        )
        move._action_confirm()
        move.move_line_ids.unlink()
        move.move_line_ids = [
            Command.create(
                {
                    "product_id": product.id,
                    "location_id": source.id,
                    "location_dest_id": destination.id,
                    "lot_id": lot.id,
                    "quantity": qty,
                }
            )
            for lot, qty in lots
        ]
        move.picked = True
        move._action_done()
        return move

    @classmethod
    def _receive(cls, product, lots, price_unit):
        return cls._move(product, cls.suppliers, cls.stock, lots, price_unit=price_unit)

    @classmethod
    def _deliver(cls, product, lots, source=None):
        return cls._move(product, source or cls.stock, cls.customers, lots)

    @classmethod
    def _return(cls, delivery_move, lot, quantity):
        """Return ``quantity`` of ``lot`` from a done delivery, through core's return wizard."""
        picking = delivery_move.picking_id
        wizard = Form(
            cls.env["stock.return.picking"].with_context(
                active_ids=picking.ids, active_id=picking.id, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = quantity
        return_picking = cls.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        return_move = return_picking.move_ids
        return_move.move_line_ids.unlink()
        return_move.move_line_ids = [
            Command.create(
                {
                    "product_id": return_move.product_id.id,
                    "location_id": return_move.location_id.id,
                    "location_dest_id": return_move.location_dest_id.id,
                    "lot_id": lot.id,
                    "quantity": quantity,
                }
            )
        ]
        return_move.picked = True
        return_move._action_done()
        return return_move

    @classmethod
    def _scrap(cls, lot, quantity, location=None):
        scrap = cls.env["stock.scrap"].create(
            {
                "product_id": lot.product_id.id,
                "product_uom_id": lot.product_id.uom_id.id,
                "lot_id": lot.id,
                "scrap_qty": quantity,
                "location_id": (location or cls.stock).id,
            }
        )
        scrap.do_scrap()
        return scrap

    @classmethod
    def _backdate(cls, instant):
        """Move every done move line, move and valuation layer not yet backdated to ``instant``."""
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE stock_valuation_layer SET create_date = %s WHERE create_date > %s", [instant, instant]
        )
        cls.env.cr.execute(
            "UPDATE stock_move_line SET date = %s WHERE state = 'done' AND date > %s", [instant, instant]
        )
        cls.env.cr.execute("UPDATE stock_move SET date = %s WHERE state = 'done' AND date > %s", [instant, instant])
        cls.env.invalidate_all()
        # the layers and lines were dated back by SQL: their sums per month and the movements too
        cls.env["stock.lot.valuation.month"]._rebuild()
        cls.env["stock.lot.valuation.movement"]._rebuild()

    @staticmethod
    def _days_ago(days):
        return datetime.now() - timedelta(days=days)
