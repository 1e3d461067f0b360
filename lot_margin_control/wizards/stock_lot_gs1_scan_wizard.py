import datetime

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, formatLang

# Scanned dates and the lot fields they fill.
LOT_DATE_FIELDS = ("expiration_date", "use_date", "production_date")


class StockLotGs1ScanWizard(models.TransientModel):
    """Scan lots on a transfer: receive them by their GS1-128 / DataMatrix code, or check them out.

    The code carries the GTIN, the lot or serial number and the supplier's
    dates: typing them by hand is slow and error-prone, and a wrong expiry
    date breaks FEFO and shelf-life control later. One scan adds one picked
    move line with its lot (found or created with the scanned dates) to the
    receipt, then the wizard reopens empty for the next case. On other
    transfers a scan confirms, switches or refuses the lot
    (``stock.picking.action_scan_lot``). The input is a plain text field so
    that a phone browser or a keyboard-wedge scanner works without the
    barcode app.
    """

    _name = "stock.lot.gs1.scan.wizard"
    _description = "Scan lots on a transfer"

    picking_id = fields.Many2one(
        "stock.picking",
        string="Transfer",
        required=True,
        ondelete="cascade",
    )
    barcode = fields.Char(
        help="Scan the GS1-128 or GS1 DataMatrix code of the case, or type its human-readable "
        "form, e.g. (01)09506000134352(10)ABC123(17)260531.",
    )
    quantity = fields.Float(
        default=1.0,
        digits="Product Unit of Measure",
        help="Quantity received for this scan, in the unit of measure of the receipt line. "
        "Always 1 for products tracked by serial number.",
    )
    last_result = fields.Char(
        string="Last Scan",
        readonly=True,
        help="What the previous scan did on the transfer.",
    )
    last_refused = fields.Boolean(readonly=True, help="The previous scan was refused.")
    picking_type_code = fields.Selection(related="picking_id.picking_type_code")
    # Previews of what the scan contains, so the user sees it before adding it.
    product_id = fields.Many2one("product.product", compute="_compute_scan_preview")
    tracking = fields.Selection(related="product_id.tracking")
    lot_name = fields.Char(string="Lot/Serial Number", compute="_compute_scan_preview")
    expiration_date = fields.Date(compute="_compute_scan_preview")
    use_date = fields.Date(string="Best Before Date", compute="_compute_scan_preview")
    production_date = fields.Date(compute="_compute_scan_preview")
    scan_error = fields.Char(compute="_compute_scan_preview")

    @api.depends("barcode")
    def _compute_scan_preview(self):
        """Show what the scanned code says, or why it cannot be read, as soon as it is entered."""
        product_model = self.env["product.product"]
        for wizard in self:
            values = {
                "product_id": False,
                "lot_name": False,
                "expiration_date": False,
                "use_date": False,
                "production_date": False,
                "scan_error": False,
            }
            if wizard.barcode:
                try:
                    parsed = wizard._parse_barcode()
                except UserError as error:
                    values["scan_error"] = error.args[0]
                else:
                    product = product_model.browse(parsed["product_id"])
                    values.update(
                        product_id=product.id,
                        lot_name=self._scanned_lot_name(parsed, product),
                        **{fname: parsed[fname] for fname in LOT_DATE_FIELDS},
                    )
            wizard.update(values)

    @api.onchange("barcode")
    def _onchange_barcode_serial_quantity(self):
        """A serial number is one unit: the quantity of a serial scan is always 1."""
        if self.tracking == "serial":
            self.quantity = 1.0

    def _parse_barcode(self):
        """The parsed scan (see ``barcode.nomenclature._parse_gs1_lot_barcode``)."""
        self.ensure_one()
        return self.env["barcode.nomenclature"]._parse_gs1_lot_barcode(self.barcode or "")

    @api.model
    def _scanned_lot_name(self, parsed, product):
        """The lot/serial number of the scan for ``product``.

        Serial-tracked goods carry their number in AI 21, lot-tracked ones in
        AI 10; a code with only the other one still names the lot.
        """
        if product.tracking == "serial":
            return parsed["serial"] or parsed["lot_name"]
        return parsed["lot_name"] or parsed["serial"]

    @api.model
    def _date_to_datetime(self, date_string):
        """Midnight of a scanned date in the user's time zone, as a UTC datetime.

        Lot dates are datetimes shown in the user's time zone: midnight UTC
        would show the previous day west of Greenwich.
        """
        tz_name = self.env.context.get("tz") or self.env.user.tz or "UTC"
        local = pytz.timezone(tz_name).localize(
            datetime.datetime.combine(fields.Date.to_date(date_string), datetime.time.min)
        )
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    def _datetime_to_date(self, value):
        """The calendar date of a lot datetime in the user's time zone."""
        return fields.Datetime.context_timestamp(self, value).date()

    def _check_receipt(self):
        """Refuse to receive into a transfer that is not an open receipt."""
        picking = self.picking_id
        if picking.picking_type_code != "incoming" or picking.state in ("done", "cancel"):
            raise UserError(
                self.env._(
                    "%(picking)s is not a receipt waiting for goods: scanning is only possible on "
                    "receipts that are neither done nor cancelled.",
                    picking=picking.display_name,
                )
            )

    def _get_receipt_move(self, product):
        """The receipt's open move of ``product``; the scan is refused for any other product."""
        self.ensure_one()
        self._check_receipt()
        picking = self.picking_id
        moves = picking.move_ids.filtered(
            lambda move: move.product_id == product and move.state not in ("done", "cancel")
        )
        if not moves:
            raise UserError(
                self.env._(
                    "The scanned product %(product)s is not on receipt %(picking)s: "
                    "check the goods or add the product to the receipt first.",
                    product=product.display_name,
                    picking=picking.display_name,
                )
            )
        return moves[0]

    def _lot_date_values(self, lot, parsed):
        """The dates to write on ``lot`` from the scan, or a ``UserError`` on a conflict.

        A lot's dates are its shelf-life and FEFO data: empty ones are filled
        from the scan, but a scan never silently replaces a date the lot
        already has; a different date means a misprint or a wrong lot.
        """
        values, conflicts = {}, []
        for fname in LOT_DATE_FIELDS:
            scanned = parsed[fname]
            if not scanned or fname not in lot._fields:
                continue
            if not lot[fname]:
                values[fname] = self._date_to_datetime(scanned)
                continue
            current = self._datetime_to_date(lot[fname])
            if current != fields.Date.to_date(scanned):
                conflicts.append(
                    self.env._(
                        "%(date)s: %(current)s on the lot, %(scanned)s scanned",
                        date=lot._fields[fname].get_description(self.env)["string"],
                        current=fields.Date.to_string(current),
                        scanned=scanned,
                    )
                )
        if conflicts:
            raise UserError(
                self.env._(
                    "Lot %(lot)s of %(product)s already exists with other dates than the scanned "
                    "code (%(conflicts)s). Nothing was changed: check the label, or correct the "
                    "lot's dates first if the label is right.",
                    lot=lot.name,
                    product=lot.product_id.display_name,
                    conflicts="; ".join(conflicts),
                )
            )
        if "expiration_date" in values:
            # product_expiry derives the other dates from a new expiration date:
            # keep the ones the lot already has.
            for fname in ("use_date", "removal_date", "alert_date"):
                if fname in lot._fields and fname not in values and lot[fname]:
                    values[fname] = lot[fname]
        return values

    def _check_scan(self, product, move, lot_name, quantity):
        """Refuse a scan that cannot be received as it is, before anything is written."""
        if product.tracking == "none":
            raise UserError(
                self.env._(
                    "%(product)s is not tracked by lot or serial number: receive it on the receipt line directly.",
                    product=product.display_name,
                )
            )
        if not lot_name:
            raise UserError(
                self.env._(
                    "The scanned code has no %(kind)s for %(product)s (AI 10 for a lot, AI 21 for a serial number).",
                    kind=self.env._("serial number") if product.tracking == "serial" else self.env._("lot number"),
                    product=product.display_name,
                )
            )
        if float_compare(quantity, 0.0, precision_rounding=move.product_uom.rounding) <= 0:
            raise UserError(self.env._("The quantity received must be positive."))
        if product.tracking == "serial":
            in_receipt = self.picking_id.move_line_ids.filtered(
                lambda line: line.product_id == product and lot_name in (line.lot_id.name, line.lot_name)
            )
            if in_receipt:
                raise UserError(
                    self.env._(
                        "Serial number %(serial)s of %(product)s is already in receipt %(picking)s.",
                        serial=lot_name,
                        product=product.display_name,
                        picking=self.picking_id.display_name,
                    )
                )

    def _find_lot(self, product, lot_name):
        """The existing lot of that name for that product in the receipt's company, if any."""
        return self.env["stock.lot"].search(
            [
                ("name", "=", lot_name),
                ("product_id", "=", product.id),
                ("company_id", "in", [self.picking_id.company_id.id, False]),
            ],
            limit=1,
        )

    def action_scan(self):
        """Scan the code on the transfer, whatever its type, and reopen the wizard for the next scan."""
        self.ensure_one()
        result = self.picking_id.action_scan_lot(self.barcode, self.quantity)
        return self._action_scan_next(result["message"], refused=result["result"] == "refused")

    def action_add_to_receipt(self):
        """Add the scanned case to the receipt and reopen the wizard for the next scan."""
        self.ensure_one()
        self._check_receipt()
        return self.action_scan()

    def _add_to_receipt(self):
        """Add the scanned case to the receipt; returns the new move line and what it added.

        All checks run before the first write, so a refused scan changes
        nothing: no lot is created, no move line added.
        """
        self.ensure_one()
        parsed = self._parse_barcode()
        product = self.env["product.product"].browse(parsed["product_id"])
        move = self._get_receipt_move(product)
        lot_name = self._scanned_lot_name(parsed, product)
        quantity = 1.0 if product.tracking == "serial" else self.quantity
        self._check_scan(product, move, lot_name, quantity)
        lot = self._find_lot(product, lot_name)
        lot_values = self._lot_date_values(lot, parsed) if lot else {}

        # Everything is checked: write.
        lot_model = self.env["stock.lot"]
        if lot_values:
            if "gs1_scanned" in lot._fields:
                lot_values["gs1_scanned"] = True
            lot.write(lot_values)
        elif not lot:
            create_values = {
                "name": lot_name,
                "product_id": product.id,
                "company_id": self.picking_id.company_id.id,
            }
            for fname in LOT_DATE_FIELDS:
                if parsed[fname] and fname in lot_model._fields:
                    create_values[fname] = self._date_to_datetime(parsed[fname])
            if "gs1_scanned" in lot_model._fields:
                create_values["gs1_scanned"] = True
            lot = lot_model.create(create_values)
        line_values = move._prepare_move_line_vals()
        line_values.update(lot_id=lot.id, quantity=quantity, picked=True)
        line = self.env["stock.move.line"].create(line_values)

        message = self.env._(
            "Added %(quantity)s %(uom)s of %(product)s, lot %(lot)s.",
            quantity=formatLang(self.env, quantity, dp="Product Unit of Measure"),
            uom=move.product_uom.name,
            product=product.display_name,
            lot=lot.name,
        )
        return line, message

    def _action_scan_next(self, message, refused=False):
        """A fresh wizard on the same transfer, telling what the last scan did."""
        next_wizard = self.create({"picking_id": self.picking_id.id, "last_result": message, "last_refused": refused})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Scan Lots"),
            "res_model": self._name,
            "res_id": next_wizard.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_picking_id": self.picking_id.id},
        }
