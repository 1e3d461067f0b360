# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero, formatLang

# Longest code a scanner sends that we read: GS1 DataMatrix codes stay far below.
MAX_BARCODE_LENGTH = 256
# Largest quantity one receipt scan may add: more is a typing error.
MAX_SCAN_QUANTITY = 1_000_000


class StockPicking(models.Model):
    """Scan lots on any transfer: receive them, confirm the directed lot, switch to another one (PRODUCT.md §13).

    ``action_scan_lot`` is the one server-side entry point: the scan dialog of
    the web client, the scan wizard and RPC clients call it. A code that cannot
    be read (garbled, unknown product, a lot this company does not have) is a
    ``UserError`` and nothing is written. A readable scan is kept in
    ``stock.lot.scan`` whatever it did, refusals included (nothing else is
    changed then), so that picking accuracy can be measured.
    """

    _inherit = "stock.picking"

    lot_scan_ids = fields.One2many("stock.lot.scan", "picking_id", string="Lot Scans")
    lot_scan_required = fields.Boolean(related="picking_type_id.lot_scan_required")

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    def action_scan_lot(self, barcode, quantity=None):
        """Scan one lot (its GS1 code or its lot/serial number) on this transfer.

        Receipts add the lot with its dates (``quantity`` received, 1 by
        default). Other transfers confirm the line holding the lot, or switch an
        unscanned line of the product to it when its lot gate allows it, or
        refuse it with the reason. Returns ``{result, message, scan_id,
        line_id, lines}`` (``lines``: see ``get_lot_scan_lines``).
        """
        self.ensure_one()
        if not self.env.user.has_group("stock.group_stock_user"):
            raise AccessError(self.env._("Scanning lots on transfers is for inventory users."))
        self.check_access("write")
        barcode = self._check_lot_scan_input(barcode)
        if self.picking_type_code == "incoming":
            scan, message = self._scan_lot_receipt(barcode, self._check_lot_scan_quantity(quantity))
        else:
            scan, message = self._scan_lot_outgoing(barcode)
        return {
            "result": scan.result,
            "message": message,
            "scan_id": scan.id,
            "line_id": scan.move_line_id.id,
            "lines": self.get_lot_scan_lines(),
        }

    @api.readonly
    def get_lot_scan_lines(self):
        """The transfer's lines of lot/serial-tracked products, for the scan dialog."""
        self.ensure_one()
        lines = self.move_line_ids.filtered(lambda line: line.product_id.tracking != "none")
        return [
            {
                "id": line.id,
                "product": line.product_id.display_name,
                "lot": line.lot_id.name or line.lot_name or "",
                "quantity": formatLang(self.env, line.quantity, dp="Product Unit of Measure"),
                "uom": line.product_uom_id.name,
                "location": line.location_id.display_name,
                "scanned": line.lot_scanned,
            }
            for line in lines
        ]

    # ------------------------------------------------------------------
    # Input
    # ------------------------------------------------------------------
    def _check_lot_scan_input(self, barcode):
        """The scanned code, stripped; a ``UserError`` when there is nothing to scan into."""
        if self.state in ("done", "cancel"):
            raise UserError(
                self.env._(
                    "%(picking)s is %(state)s: lots can only be scanned on transfers that are neither done "
                    "nor cancelled.",
                    picking=self.display_name,
                    state=dict(self._fields["state"]._description_selection(self.env))[self.state],
                )
            )
        if not isinstance(barcode, str) or not barcode.strip():
            raise UserError(self.env._("Scan or type a lot's code first: the code is empty."))
        if len(barcode) > MAX_BARCODE_LENGTH:
            raise UserError(
                self.env._(
                    "The scanned code is %(length)s characters long: no lot label is longer than %(max)s. "
                    "Scan the label again.",
                    length=len(barcode),
                    max=MAX_BARCODE_LENGTH,
                )
            )
        return barcode.strip()

    def _check_lot_scan_quantity(self, quantity):
        """The quantity of a receipt scan: 1 by default, else a positive number within reason."""
        if quantity is None or quantity is False:
            return 1.0
        # (zero and negative numbers are refused with the receipt's own message)
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int | float)
            or not abs(quantity) <= MAX_SCAN_QUANTITY
        ):
            raise UserError(
                self.env._(
                    "The quantity of a scan must be a positive number up to %(max)s, not %(value)s.",
                    max=MAX_SCAN_QUANTITY,
                    value=repr(quantity)[:40],
                )
            )
        return float(quantity)

    def _find_scanned_lot(self, barcode):
        """The lot and product a code names: a lot/serial number of a product of this transfer, or a GS1 code.

        Returns ``(lot, product)``; the lot is empty when the code names a
        product that is not on the transfer (a refusal, kept). Any other
        unreadable code is a ``UserError``.
        """
        lot_model = self.env["stock.lot"]
        company_domain = [("company_id", "in", [self.company_id.id, False])]
        products = self.move_ids.product_id.filtered(lambda product: product.tracking != "none")
        lots = lot_model.search([("name", "=", barcode), ("product_id", "in", products.ids), *company_domain])
        if len(lots) > 1:
            raise UserError(
                self.env._(
                    "Several products of %(picking)s have a lot named %(lot)s (%(products)s): scan the GS1 "
                    "code of the case, which names the product too.",
                    picking=self.display_name,
                    lot=barcode,
                    products=", ".join(lots.product_id.mapped("display_name")),
                )
            )
        if lots:
            return lots, lots.product_id
        try:
            parsed = self.env["barcode.nomenclature"]._parse_gs1_lot_barcode(barcode)
        except UserError as error:
            other_product_lot = lot_model.search([("name", "=", barcode), *company_domain], limit=1)
            if other_product_lot:
                return other_product_lot, other_product_lot.product_id
            raise UserError(
                self.env._(
                    "%(code)s is neither a lot or serial number of a product of %(picking)s nor a GS1 "
                    "code that can be read (%(error)s). Nothing was changed: scan the lot's label again.",
                    code=barcode,
                    picking=self.display_name,
                    error=error.args[0],
                )
            ) from error
        product = self.env["product.product"].browse(parsed["product_id"])
        if product.tracking == "none":
            raise UserError(
                self.env._(
                    "%(product)s is not tracked by lot or serial number: there is no lot to scan.",
                    product=product.display_name,
                )
            )
        lot_name = self.env["stock.lot.gs1.scan.wizard"]._scanned_lot_name(parsed, product)
        if product not in products:
            lot = lot_name and lot_model.search(
                [("name", "=", lot_name), ("product_id", "=", product.id), *company_domain], limit=1
            )
            return lot or lot_model, product
        if not lot_name:
            raise UserError(
                self.env._(
                    "The scanned code names %(product)s but no lot or serial number (AI 10 or 21): scan the "
                    "code that carries the lot.",
                    product=product.display_name,
                )
            )
        lot = lot_model.search([("name", "=", lot_name), ("product_id", "=", product.id), *company_domain], limit=1)
        if not lot:
            raise UserError(
                self.env._(
                    "%(company)s has no lot %(lot)s of %(product)s. Nothing was changed: check the label, "
                    "or receive the lot first.",
                    company=self.company_id.name,
                    lot=lot_name,
                    product=product.display_name,
                )
            )
        return lot, product

    # ------------------------------------------------------------------
    # Receipts
    # ------------------------------------------------------------------
    def _scan_lot_receipt(self, barcode, quantity):
        """Receive the scanned case as the GS1 scan wizard does; the new line counts as scanned."""
        wizard = self.env["stock.lot.gs1.scan.wizard"].create(
            {"picking_id": self.id, "barcode": barcode, "quantity": quantity}
        )
        line, message = wizard._add_to_receipt()
        line.sudo().lot_scanned = True
        return self.env["stock.lot.scan"]._record(self, "created", barcode, line=line), message

    # ------------------------------------------------------------------
    # Outgoing and internal transfers
    # ------------------------------------------------------------------
    def _scan_lot_outgoing(self, barcode):
        """Confirm, switch or refuse the scanned lot on this transfer; returns ``(scan, message)``."""
        lot, product = self._find_scanned_lot(barcode)
        lines = self.move_line_ids.filtered(
            lambda line: line.product_id == product and line.state not in ("done", "cancel")
        )
        if not lines and product not in self.move_ids.product_id:
            reason = self.env._("%(product)s is not on this transfer", product=product.display_name)
            return self._refuse_lot_scan(barcode, lot, product, reason)
        held = lines.filtered(lambda line: line.lot_id == lot)
        if held:
            line = held.filtered(lambda line: not line.lot_scanned)[:1]
            if not line and product.tracking == "serial":
                reason = self.env._("serial number %(serial)s is already scanned here", serial=lot.name)
                return self._refuse_lot_scan(barcode, lot, product, reason)
            return self._confirm_lot_scan(barcode, line or held[:1])
        open_lines = lines.filtered(lambda line: not line.lot_scanned)
        if not open_lines:
            reason = self.env._(
                "no line of %(product)s waits for a lot here (every line is already scanned, or nothing "
                "is reserved yet)",
                product=product.display_name,
            )
            return self._refuse_lot_scan(barcode, lot, product, reason)
        line = open_lines[:1]
        reason = self._get_lot_switch_refusal(line.move_id, lot)
        if reason:
            return self._refuse_lot_scan(barcode, lot, product, reason)
        quant = self._get_lot_scan_quant(line.move_id, lot)
        if not quant:
            reason = self.env._("it has no free stock in %(location)s", location=line.move_id.location_id.display_name)
            return self._refuse_lot_scan(barcode, lot, product, reason)
        return self._switch_lot_scan(barcode, line, lot, quant)

    def _get_lot_switch_refusal(self, move, lot):
        """Why ``move`` may not take ``lot`` instead of the lot it was given, or False."""
        if "restrict_lot_id" in move._fields and move.restrict_lot_id and move.restrict_lot_id != lot:
            return self.env._("the order asks for lot %(lot)s", lot=move.restrict_lot_id.name)
        gate = move._get_lot_gate()
        return gate and gate.refusal(lot)

    def _get_lot_scan_quant(self, move, lot):
        """The quant of ``lot`` under the move's source location with the most free quantity, if any."""
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "=", move.product_id.id),
                ("lot_id", "=", lot.id),
                ("location_id", "child_of", move.location_id.id),
            ]
        )
        rounding = move.product_id.uom_id.rounding
        quants = quants.filtered(
            lambda quant: float_compare(quant.quantity - quant.reserved_quantity, 0, precision_rounding=rounding) > 0
        )
        return quants and max(quants, key=lambda quant: quant.quantity - quant.reserved_quantity)

    def _confirm_lot_scan(self, barcode, line):
        line.sudo().write({"lot_scanned": True, "picked": True})
        scan = self.env["stock.lot.scan"]._record(self, "confirmed", barcode, line=line)
        message = self.env._(
            "Lot %(lot)s of %(product)s confirmed: %(quantity)s %(uom)s.",
            lot=line.lot_id.name,
            product=line.product_id.display_name,
            quantity=formatLang(self.env, line.quantity, dp="Product Unit of Measure"),
            uom=line.product_uom_id.name,
        )
        return scan, message

    def _switch_lot_scan(self, barcode, line, lot, quant):
        """Put ``lot`` (from ``quant``) on ``line`` instead of its lot, for as much as the quant has free.

        When the quant has less than the line, the line keeps its lot for the
        rest and a new line takes the scanned lot; reservations follow.
        """
        directed = line.lot_id
        free = quant.quantity - quant.reserved_quantity
        free_in_line_uom = line.product_id.uom_id._compute_quantity(
            free, line.product_uom_id, rounding_method="HALF-UP"
        )
        if float_compare(free_in_line_uom, line.quantity, precision_rounding=line.product_uom_id.rounding) >= 0:
            line.write({"lot_id": lot.id, "location_id": quant.location_id.id, "package_id": quant.package_id.id})
        else:
            line.write({"quantity": line.quantity - free_in_line_uom})
            values = line.move_id._prepare_move_line_vals(quantity=free, reserved_quant=quant)
            line = self.env["stock.move.line"].create(values)
        line.sudo().write({"lot_scanned": True, "picked": True})
        scan = self.env["stock.lot.scan"]._record(self, "switched", barcode, line=line, directed_lot=directed)
        message = self.env._(
            "Lot %(lot)s of %(product)s replaces lot %(directed)s: %(quantity)s %(uom)s moved over.",
            lot=lot.name,
            product=line.product_id.display_name,
            directed=directed.name or "-",
            quantity=formatLang(self.env, line.quantity, dp="Product Unit of Measure"),
            uom=line.product_uom_id.name,
        )
        return scan, message

    def _refuse_lot_scan(self, barcode, lot, product, reason):
        scan = self.env["stock.lot.scan"]._record(self, "refused", barcode, lot=lot, product=product, reason=reason)
        message = self.env._(
            "Lot %(lot)s of %(product)s refused: %(reason)s. Nothing was changed: put it back and take the "
            "lot the transfer directs.",
            lot=lot.name or barcode,
            product=product.display_name,
            reason=reason,
        )
        return scan, message

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------
    def _check_lot_scans(self):
        """Refuse to validate a transfer whose operation type requires scans while a lot line is not scanned."""
        for picking in self.filtered("picking_type_id.lot_scan_required"):
            lines = picking.move_line_ids.filtered(
                lambda line: line.state not in ("done", "cancel")
                and line.product_id.tracking != "none"
                and not float_is_zero(line.quantity, precision_rounding=line.product_uom_id.rounding)
            )
            if any(lines.mapped("picked")):
                lines = lines.filtered("picked")
            missing = lines.filtered(lambda line: not line.lot_scanned)
            if missing:
                raise UserError(
                    self.env._(
                        "%(picking)s cannot be validated yet: its operation type requires every lot to be "
                        "scanned, and %(count)s line(s) are not (%(lines)s). Open Scan and scan them.",
                        picking=picking.display_name,
                        count=len(missing),
                        lines=", ".join(
                            f"{line.product_id.display_name} {line.lot_id.name or line.lot_name or ''}".strip()
                            for line in missing[:5]
                        ),
                    )
                )

    def _pre_action_done_hook(self):
        self._check_lot_scans()
        return super()._pre_action_done_hook()

    def _action_done(self):
        self._check_lot_scans()
        return super()._action_done()


class StockPickingType(models.Model):
    _inherit = "stock.picking.type"

    lot_scan_required = fields.Boolean(
        string="Require Lot Scans",
        help="Transfers of this type can only be validated when every line of a lot- or serial-tracked "
        "product has been scanned (Scan button on the transfer).",
    )
