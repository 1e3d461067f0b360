"""GS1 identifiers of the traceability exports: GTIN-14, GLN, GS1 Digital Link and private URIs.

Plain functions (no model): the EPCIS writer calls them once per row it already
holds, the GLN fields call them in their constraint.

- A product whose barcode is a GTIN (EAN-8, UPC-A, EAN-13 or GTIN-14 with a valid
  check digit) identifies its lots by GS1 Digital Link,
  ``https://id.gs1.org/01/<GTIN-14>/10/<lot>``, when the lot name is a valid GS1
  batch/lot (AI 10: 1 to 20 characters of GS1 character set 82).
- Warehouses and partners with a GLN are ``https://id.gs1.org/414/<GLN>`` (a
  place; a stock location inside it adds the extension ``/254/<location>``) and
  ``https://id.gs1.org/417/<GLN>`` (a party).
- Everything else gets a stable private identifier,
  ``urn:lot-margin-control:<database uuid>:<kind>:<key>``: the same record gives the
  same URI in every export of the database (ids never change), another database
  gives others.
"""

import re
from urllib.parse import quote

from odoo.tools.barcode import get_barcode_check_digit

DIGITAL_LINK = "https://id.gs1.org"
PRIVATE_NAMESPACE = "urn:lot-margin-control"
# GS1 character set 82, up to 20 characters: AI 10 (batch/lot) and AI 254 (GLN extension).
CSET82_20 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")
GTIN_LENGTHS = (8, 12, 13, 14)


def _valid_check_digit(digits):
    return get_barcode_check_digit(digits) == int(digits[-1])


def gtin14(barcode):
    """The product barcode as a GTIN-14, or None when it is not a GTIN."""
    if not barcode or not barcode.isdigit() or len(barcode) not in GTIN_LENGTHS:
        return None
    padded = barcode.zfill(14)
    return padded if _valid_check_digit(padded) else None


def is_gln(value):
    """Whether ``value`` is a GS1 Global Location Number: 13 digits with a valid check digit."""
    return bool(value) and len(value) == 13 and value.isdigit() and _valid_check_digit(value)


def is_gs1_lot(value):
    """Whether ``value`` may be written as a GS1 batch/lot (AI 10) or GLN extension (AI 254)."""
    return bool(value) and bool(CSET82_20.match(value))


def _segment(value):
    """A Digital Link path segment or URN part: everything but unreserved characters percent-encoded."""
    return quote(str(value), safe="")


def private_uri(database_uuid, kind, *keys):
    """``urn:lot-margin-control:<database uuid>:<kind>:<key>[:<key>…]``: a stable identifier in this database."""
    return ":".join([PRIVATE_NAMESPACE, database_uuid, kind, *(_segment(key) for key in keys)])


def lot_class_uri(database_uuid, barcode, product_id, lot_name):
    """The class-level identifier of a lot: GS1 Digital Link (GTIN + lot) when possible, else private."""
    gtin = gtin14(barcode)
    if gtin and is_gs1_lot(lot_name):
        return f"{DIGITAL_LINK}/01/{gtin}/10/{_segment(lot_name)}"
    return private_uri(database_uuid, "lot", product_id, lot_name)


def place_uri(database_uuid, gln, kind, key, extension=None):
    """A place: ``https://id.gs1.org/414/<GLN>[/254/<extension>]`` with a GLN, else private ``<kind>:<key>``.

    ``extension`` (a stock location inside the GLN's site) is written only when it
    is a valid AI 254 value; otherwise the location's private key is used.
    """
    if is_gln(gln):
        if extension is None:
            return f"{DIGITAL_LINK}/414/{gln}"
        if is_gs1_lot(extension):
            return f"{DIGITAL_LINK}/414/{gln}/254/{_segment(extension)}"
    return private_uri(database_uuid, kind, key)


def party_uri(database_uuid, gln, partner_id):
    """A party (owner, possessor): ``https://id.gs1.org/417/<GLN>`` with a GLN, else private."""
    if is_gln(gln):
        return f"{DIGITAL_LINK}/417/{gln}"
    return private_uri(database_uuid, "party", partner_id)


def document_uri(database_uuid, company_gln, reference):
    """A business document: CBV ``urn:epcglobal:cbv:bt:<GLN>:<reference>`` with the company's GLN, else private."""
    if is_gln(company_gln):
        return f"urn:epcglobal:cbv:bt:{company_gln}:{_segment(reference)}"
    return private_uri(database_uuid, "document", reference)
