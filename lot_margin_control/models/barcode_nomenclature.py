import re

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

FNC1_CHAR = "\x1d"
# Symbology identifiers a scanner may send in front of the data; core strips
# them too, but they must go before the human-readable form is recognised.
SYMBOLOGY_IDENTIFIERS = ("]C1", "]e0", "]d2", "]Q3", "]J1")
# One element of the human-readable form: "(AI)value".
HRI_ELEMENT = re.compile(r"\((\d{2,4})\)([^()]*)")
HRI_BARCODE = re.compile(r"(?:\(\d{2,4}\)[^()]*)+")
# Application identifiers read for a lot, and the key they fill in the result.
LOT_AI_KEYS = {
    "01": "gtin",
    "10": "lot_name",
    "21": "serial",
    "17": "expiration_date",
    "15": "use_date",
    "11": "production_date",
}
DATE_KEYS = ("expiration_date", "use_date", "production_date")


class BarcodeNomenclature(models.Model):
    """Read the lot data of a GS1-128 / GS1 DataMatrix code scanned on a receipt.

    Core ``barcodes_gs1_nomenclature`` splits a GS1 code into its elements,
    checks the GTIN check digit and converts the dates, but answers ``None``
    (or lets a ``ValueError`` through) when anything is wrong, and does not
    accept the human-readable ``(01)...(10)...`` form people type by hand.
    This layer normalises the input, keeps core's decomposition, and turns
    every failure into a ``UserError`` saying what is wrong with the code.
    """

    _inherit = "barcode.nomenclature"

    @api.model
    def _get_gs1_lot_nomenclature(self):
        """The company's nomenclature when it is a GS1 one, else core's default GS1 one.

        Companies usually keep the default (non GS1) nomenclature for their
        EAN-13 product barcodes; the receipt scan must read GS1 codes anyway.
        """
        nomenclature = self.env.company.nomenclature_id
        if nomenclature.is_gs1_nomenclature:
            return nomenclature
        return self.env.ref("barcodes_gs1_nomenclature.default_gs1_nomenclature")

    @api.model
    def _gs1_display(self, barcode):
        """The barcode as shown in messages: the invisible FNC1 separator made visible."""
        return barcode.replace(FNC1_CHAR, "<GS>")

    @api.model
    def _normalize_gs1_barcode(self, barcode):
        """Bring a scanned or typed code to the raw form core decomposes.

        Scanners add line ends and symbology identifiers; people type the
        human-readable form printed under the symbol. Core's lot pattern
        accepts parentheses, so ``(10)LOT(17)...`` would be read as one lot
        name: each human-readable element is rebuilt as AI + value and the
        elements are joined by the FNC1 separator, as a scanner sends them.
        """
        code = (barcode or "").strip(" \t\r\n")
        for identifier in SYMBOLOGY_IDENTIFIERS:
            if code.startswith(identifier):
                code = code[len(identifier) :]
                break
        code = code.lstrip(FNC1_CHAR)
        if not code:
            raise UserError(self.env._("The scanned barcode is empty."))
        if not code.startswith("("):
            return code
        if not HRI_BARCODE.fullmatch(code):
            raise UserError(
                self.env._(
                    "The barcode %(barcode)s is not a valid GS1 code in human-readable form: "
                    "each element must be an application identifier in parentheses followed "
                    "by its value, e.g. (01)09506000134352(10)ABC123.",
                    barcode=code,
                )
            )
        return FNC1_CHAR.join(ai + value.strip() for ai, value in HRI_ELEMENT.findall(code))

    def _gs1_decompose_or_raise(self, code, shown):
        """Core's decomposition of ``code``, or a ``UserError`` saying what is wrong.

        ``shown`` is the code as the user scanned or typed it, for the messages.
        """
        self.ensure_one()
        try:
            elements = self.gs1_decompose_extanded(code)
        except (ValueError, ValidationError):
            elements = None
        if elements is None:
            raise self._gs1_explain_failure(code, shown)
        return elements

    def _gs1_explain_failure(self, code, shown):
        """Find which element of ``code`` core could not read, and why.

        Core only says the code failed. This walks the code element by
        element with the same rules, separator and per-rule parsing as
        ``gs1_decompose_extanded`` (so the check digit and date checks are
        still core's) and returns the ``UserError`` for the first element
        that cannot be read.
        """
        self.ensure_one()
        separator = f"(?:{self.gs1_separator_fnc1})?" if self.gs1_separator_fnc1 else FNC1_CHAR + "?"
        rules = self.rule_ids.filtered(lambda rule: rule.encoding == "gs1-128")
        remaining = code
        while remaining:
            failure = None
            next_remaining = None
            for rule in rules:
                match = re.search("^" + rule.pattern + separator, remaining)
                if not match or len(match.groups()) < 2:
                    continue
                try:
                    result = self.parse_gs1_rule_pattern(match, rule)
                except (ValueError, ValidationError):
                    result = None
                if result and match.end():
                    next_remaining = remaining[match.end() :]
                    break
                failure = failure or (rule, match)
            if next_remaining is None:
                if failure:
                    return self._gs1_element_error(failure[0], failure[1], shown)
                break
            remaining = next_remaining
        return UserError(
            self.env._(
                "The barcode %(barcode)s cannot be read at “%(rest)s”: the code is truncated, "
                "garbled or not a GS1 code.",
                barcode=shown,
                rest=self._gs1_display(remaining),
            )
        )

    def _gs1_element_error(self, rule, match, shown):
        """The ``UserError`` for an element whose AI is known but whose value core refused."""
        ai, value = match.group(1), match.group(2)
        if rule.gs1_content_type == "identifier":
            return UserError(
                self.env._(
                    "The GTIN %(gtin)s (AI %(ai)s) in barcode %(barcode)s has a wrong check digit: "
                    "the code was misread or misprinted.",
                    gtin=value,
                    ai=ai,
                    barcode=shown,
                )
            )
        if rule.gs1_content_type == "date":
            return UserError(
                self.env._(
                    "The date %(date)s (AI %(ai)s, %(name)s) in barcode %(barcode)s is not a valid "
                    "date: GS1 dates are written YYMMDD.",
                    date=value,
                    ai=ai,
                    name=rule.name,
                    barcode=shown,
                )
            )
        return UserError(
            self.env._(
                "The value %(value)s of AI %(ai)s (%(name)s) in barcode %(barcode)s cannot be read.",
                value=value,
                ai=ai,
                name=rule.name,
                barcode=shown,
            )
        )

    @api.model
    def _gs1_find_product(self, gtin):
        """The product whose barcode is ``gtin``, as GTIN-14 or as its shorter form.

        GS1 codes always carry a 14-digit GTIN, while products are usually
        encoded with the EAN-13 or UPC-A barcode printed on the unit: that is
        the GTIN-14 without its leading zeros (EAN-8 likewise).
        """
        candidates = [gtin]
        for length in (13, 12, 8):
            if gtin[: 14 - length].strip("0") == "":
                candidates.append(gtin[14 - length :])
        products = self.env["product.product"].search([("barcode", "in", candidates)])
        if not products:
            raise UserError(
                self.env._(
                    "No product has the barcode %(gtin)s (GTIN-14) or its EAN-13/UPC-A form: "
                    "set it on the product or check the scanned code.",
                    gtin=gtin,
                )
            )
        if len(products) > 1:
            raise UserError(
                self.env._(
                    "Several products have the GTIN %(gtin)s as barcode: %(products)s. Keep it on one product only.",
                    gtin=gtin,
                    products=", ".join(products.mapped("display_name")),
                )
            )
        return products

    @api.model
    def _parse_gs1_lot_barcode(self, barcode):
        """Parse a GS1-128 / DataMatrix code into the lot data of a receipt.

        Accepts the raw form (FNC1 / GS separators, ``chr(29)``) and the
        human-readable form ``(01)...(10)...``. Returns a dict with ``gtin``,
        ``product_id`` (id of the product with that GTIN), ``lot_name`` (AI 10),
        ``serial`` (AI 21) and the ISO dates ``expiration_date`` (AI 17),
        ``use_date`` (AI 15) and ``production_date`` (AI 11), each False when
        absent. Raises a ``UserError`` saying what is wrong with a bad code;
        nothing is written either way.
        """
        code = self._normalize_gs1_barcode(barcode)
        nomenclature = self._get_gs1_lot_nomenclature()
        shown = self._gs1_display(barcode.strip(" \t\r\n"))
        result = dict.fromkeys(("gtin", "product_id", "lot_name", "serial", *DATE_KEYS), False)
        seen = {}
        for element in nomenclature._gs1_decompose_or_raise(code, shown):
            key = LOT_AI_KEYS.get(element["ai"])
            if not key:
                continue  # quantities, weights, ... are not lot data
            value = element["value"]
            if key in DATE_KEYS:
                value = fields.Date.to_string(value)
            elif not value:
                raise UserError(
                    self.env._(
                        "The %(name)s (AI %(ai)s) in barcode %(barcode)s is empty: the code is truncated.",
                        name=element["rule"].name,
                        ai=element["ai"],
                        barcode=shown,
                    )
                )
            if key in seen and seen[key] != value:
                raise UserError(
                    self.env._(
                        "The barcode %(barcode)s contains AI %(ai)s twice with different values "
                        "(%(first)s and %(second)s).",
                        barcode=shown,
                        ai=element["ai"],
                        first=seen[key],
                        second=value,
                    )
                )
            seen[key] = result[key] = value
        if not result["gtin"]:
            raise UserError(
                self.env._(
                    "The barcode %(barcode)s has no GTIN (AI 01): the product cannot be identified.",
                    barcode=shown,
                )
            )
        result["product_id"] = self._gs1_find_product(result["gtin"]).id
        return result
