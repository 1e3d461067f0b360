import json
import tempfile
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..models import gs1_identifiers as gs1
from .streaming import file_download_action, stream_rows

EPCIS_MIMETYPE = "application/ld+json"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
# Our own JSON-LD terms (document notes); the project's address, as in the manifest.
LMC_NAMESPACE = "https://github.com/lot-margin-control/lot_margin_control/epcis#"
# UN/CEFACT Recommendation 20 codes of the reference units Odoo ships (uom module xml ids).
# Quantities are written in their unit category's reference unit; "Units" is a count (no uom).
REFERENCE_UOM_CODES = {
    "product_uom_unit": None,
    "product_uom_kgm": "KGM",
    "product_uom_litre": "LTR",
    "product_uom_meter": "MTR",
    "uom_square_meter": "MTK",
    "product_uom_day": "DAY",
}
# Trace event (stock.lot.recall.line EVENTS) -> (bizStep, disposition) of its ObjectEvent.
OBJECT_EVENTS = {
    "receipt": ("receiving", "in_progress"),
    "customer_return": ("receiving", "returned"),
    "delivery": ("shipping", "in_transit"),
    "vendor_return": ("shipping", "returned"),
    "scrap": ("destroying", "destroyed"),
    "internal": ("storing", "sellable_not_accessible"),
    "adjustment": ("cycle_counting", None),
}
TRANSFORMATION_EVENTS = ("consumption", "production")
# Events that bring a lot into the company's stock: the first one of a lot carries its ilmd.
INBOUND = ("receipt", "customer_return", "adjustment", "internal")
SHIPMENTS = ("delivery", "vendor_return")
RECEIPTS = ("receipt", "customer_return")


class _UnionFind:
    """Groups the consumption and production lines linked by core's consume relation into transformations."""

    def __init__(self):
        self.parent = {}

    def find(self, key):
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, left, right):
        self.parent[self.find(left)] = self.find(right)


class EpcisDocument(models.AbstractModel):
    """A GS1 EPCIS 2.0 JSON-LD document (``EPCISDocument``) of a trace's done move lines.

    One event per done move line of the trace: receipts and customer returns are
    ``receiving`` ObjectEvents, deliveries and returns to vendors ``shipping``,
    scraps ``destroying``, internal transfers ``storing``, inventory adjustments
    ``cycle_counting``; consumption and production lines linked by core's
    consume relation are grouped into TransformationEvents (one per output lot,
    sharing a ``transformationID``). Lots are identified at class level
    (``quantityList``), by GS1 Digital Link when the product has a GTIN
    (``gs1_identifiers``). The first event that brings a lot in carries its lot
    number and dates (``ilmd``, action ``ADD``). Lots a real recall contained get an
    ``OBSERVE`` event with disposition ``recalled`` at containment, and every
    later event of theirs (strictly later: Odoo dates have whole seconds) that
    disposition too.

    Set-based and streamed: one SQL statement reads every line with all it needs
    (lot, product, unit, locations, warehouses, partners, company, consume links),
    fetched in batches from a server-side cursor (``streaming.stream_rows``); one
    more groups the transformation lines (their ids only) and one reads the
    containments. The document is written event by event to a temporary file,
    stored as the attachment in chunks. The query count does not depend on the
    size of the trace, and memory holds one batch of rows, the lines of a
    transformation not yet complete, and the master data (one entry per lot class
    and place), not the events.
    """

    _name = "report.lot_margin_control.epcis_document"
    _description = "EPCIS 2.0 Traceability Document"

    # ------------------------------------------------------------------
    # SQL: the events of a set of move lines
    # ------------------------------------------------------------------
    @api.model
    def _sql_event(self):
        """The trace event of ``line`` (``stock.lot.recall.line._sql_event``), from its locations."""
        return self.env["stock.lot.recall.line"]._sql_event(
            SQL("source.usage"),
            SQL("destination.usage"),
            SQL("(source.scrap_location OR destination.scrap_location)"),
        )

    @api.model
    def _sql_linked_line_ids(self):
        """The lines linked to ``line`` by core's consume relation (either side), as an array."""
        return SQL(
            """ARRAY(SELECT rel.consume_line_id FROM stock_move_line_consume_rel rel
                      WHERE rel.produce_line_id = line.id
                     UNION ALL
                     SELECT rel.produce_line_id FROM stock_move_line_consume_rel rel
                      WHERE rel.consume_line_id = line.id)"""
        )

    @api.model
    def _select(self):
        lang = self.env.lang or "en_US"
        return SQL(
            """
            SELECT line.id, line.date, line.lot_id, line.product_id, line.company_id,
                   %(event)s AS event,
                   ROUND((line.quantity / line_uom.factor)::numeric, 6)::double precision AS quantity,
                   reference_uom_data.name AS reference_uom_xmlid, reference_uom.name AS reference_uom_name,
                   lot.name AS lot_name, lot.expiration_date, lot.use_date,
                   product.barcode, COALESCE(template.name->>%(lang)s, template.name->>'en_US') AS product_name,
                   product.default_code,
                   source.id AS source_id, source.complete_name AS source_name, source.barcode AS source_barcode,
                   source.usage AS source_usage,
                   destination.id AS destination_id, destination.complete_name AS destination_name,
                   destination.barcode AS destination_barcode, destination.usage AS destination_usage,
                   source_warehouse.id AS source_warehouse_id, source_warehouse.name AS source_warehouse_name,
                   source_warehouse.gln AS source_warehouse_gln,
                   destination_warehouse.id AS destination_warehouse_id,
                   destination_warehouse.name AS destination_warehouse_name,
                   destination_warehouse.gln AS destination_warehouse_gln,
                   partner.id AS partner_id, partner.name AS partner_name, partner.gln AS partner_gln,
                   commercial.id AS commercial_id, commercial.name AS commercial_name,
                   commercial.gln AS commercial_gln,
                   company.partner_id AS company_partner_id, company.name AS company_name,
                   company_partner.gln AS company_gln,
                   COALESCE(picking.name, line.reference) AS reference
            """,
            event=self._sql_event(),
            lang=lang,
        )

    @api.model
    def _from(self):
        return SQL(
            """
              FROM traced
              JOIN stock_move_line line ON line.id = traced.id AND line.state = 'done' AND line.lot_id IS NOT NULL
              JOIN stock_lot lot ON lot.id = line.lot_id
              JOIN product_product product ON product.id = line.product_id
              JOIN product_template template ON template.id = product.product_tmpl_id
              JOIN uom_uom line_uom ON line_uom.id = line.product_uom_id
              JOIN uom_uom reference_uom ON reference_uom.category_id = line_uom.category_id
                                        AND reference_uom.uom_type = 'reference' AND reference_uom.active
         LEFT JOIN ir_model_data reference_uom_data ON reference_uom_data.model = 'uom.uom'
                                                   AND reference_uom_data.module = 'uom'
                                                   AND reference_uom_data.res_id = reference_uom.id
              JOIN stock_location source ON source.id = line.location_id
              JOIN stock_location destination ON destination.id = line.location_dest_id
         LEFT JOIN stock_warehouse source_warehouse ON source_warehouse.id = source.warehouse_id
         LEFT JOIN stock_warehouse destination_warehouse ON destination_warehouse.id = destination.warehouse_id
              JOIN res_company company ON company.id = line.company_id
              JOIN res_partner company_partner ON company_partner.id = company.partner_id
         LEFT JOIN stock_move move ON move.id = line.move_id
         LEFT JOIN stock_picking picking ON picking.id = line.picking_id
         LEFT JOIN res_partner partner ON partner.id = COALESCE(picking.partner_id, move.partner_id)
         LEFT JOIN res_partner commercial ON commercial.id = COALESCE(partner.commercial_partner_id, partner.id)
            """
        )

    @api.model
    def _where(self, company_ids):
        return SQL("WHERE line.company_id = ANY(%s)", list(company_ids))

    @api.model
    def _order_by(self):
        return SQL("ORDER BY line.date, line.id")

    @api.model
    def _events_sql(self, traced, company_ids):
        """The rows of the events: ``traced`` is the SQL of the CTEs, the last one ``traced(id)`` (move line ids)."""
        return SQL(
            "WITH RECURSIVE %s %s %s %s %s",
            traced,
            self._select(),
            self._from(),
            self._where(company_ids),
            self._order_by(),
        )

    @api.model
    def _transformation_groups(self, traced, company_ids):
        """``({line id: group}, {group: line count})``: the transformation lines, grouped by core's consume links.

        Reads only the ids of the consumption and production lines among the
        events (the same ``_from``/``_where``), so the streamed events know when a
        transformation's last line has come.
        """
        rows = self.env.execute_query(
            SQL(
                "WITH RECURSIVE %s SELECT line.id, %s %s %s AND %s IN %s",
                traced,
                self._sql_linked_line_ids(),
                self._from(),
                self._where(company_ids),
                self._sql_event(),
                TRANSFORMATION_EVENTS,
            )
        )
        groups = _UnionFind()
        for line_id, linked_ids in rows:
            groups.find(line_id)
            for linked in linked_ids or ():
                groups.union(line_id, linked)
        group_of = {line_id: groups.find(line_id) for line_id, _linked in rows}
        sizes = defaultdict(int)
        for group in group_of.values():
            sizes[group] += 1
        return group_of, dict(sizes)

    @api.model
    def _containments(self, traced, company_ids, recall_ids=None):
        """The first real recall that contained each lot of the events, with what its event names.

        ``{lot_id: {"date", "recall", and the lot's class columns (as ``_select``'s)}}``.
        ``recall_ids`` restricts to those recalls (a recall's export shows its own containment).
        """
        lang = self.env.lang or "en_US"
        rows = self.env.execute_query_dict(
            SQL(
                """
                WITH RECURSIVE %(traced)s,
                event_lots AS (SELECT DISTINCT line.lot_id %(from)s %(where)s)
                SELECT DISTINCT ON (contained.lot_id) contained.lot_id, recall.contained_date AS date,
                       recall.name AS recall, lot.name AS lot_name, lot.expiration_date, lot.product_id,
                       product.barcode, product.default_code,
                       COALESCE(template.name->>%(lang)s, template.name->>'en_US') AS product_name
                  FROM stock_lot_recall_contained_lot contained
                  JOIN stock_lot_recall recall ON recall.id = contained.recall_id
                  JOIN stock_lot lot ON lot.id = contained.lot_id
                  JOIN product_product product ON product.id = lot.product_id
                  JOIN product_template template ON template.id = product.product_tmpl_id
                 WHERE contained.lot_id IN (SELECT event_lots.lot_id FROM event_lots) AND NOT recall.is_mock
                   AND recall.contained_date IS NOT NULL
                   AND recall.state IN ('contained', 'notified', 'closed')
                   AND (%(all)s OR recall.id = ANY(%(recalls)s))
              ORDER BY contained.lot_id, recall.contained_date
                """,
                traced=traced,
                **{"from": self._from()},
                where=self._where(company_ids),
                lang=lang,
                all=recall_ids is None,
                recalls=list(recall_ids or []),
            )
        )
        return {row["lot_id"]: row for row in rows}

    # ------------------------------------------------------------------
    # Document
    # ------------------------------------------------------------------
    @api.model
    def _write(self, stream, traced, company_ids, recall_ids=None, notes=()):
        """Write the EPCIS document (UTF-8 JSON) of the lines ``traced`` selects to the binary ``stream``.

        Returns the number of events. ``notes``: sentences for the reader (e.g. what
        was left out), written as ``lmc:note`` at the top of the document.
        """
        self.env.flush_all()
        group_of, group_sizes = self._transformation_groups(traced, company_ids)
        containments = self._containments(traced, company_ids, recall_ids)
        rows = stream_rows(self.env, self._events_sql(traced, company_ids), as_dict=True)
        writer = _EpcisWriter(self.env, rows, containments, group_of, group_sizes)
        return writer.write_document(stream, notes)

    @api.model
    def _download(self, record, name, traced, company_ids, empty_message, recall_ids=None, notes=()):
        """The document as an attachment of ``record`` (``ir.actions.act_url``); ``empty_message`` when no event."""
        with tempfile.TemporaryFile() as stream:
            if not self._write(stream, traced, company_ids, recall_ids=recall_ids, notes=notes):
                raise UserError(empty_message)
            return file_download_action(record, name, stream, EPCIS_MIMETYPE)


class _EpcisWriter:
    """Turns the event rows into EPCIS 2.0 events and writes the document, one event at a time."""

    def __init__(self, env, rows, containments, group_of, group_sizes):
        self.env = env
        self.rows = rows  # an iterator, read once
        self.containments = containments
        self.group_of = group_of
        self.group_sizes = group_sizes
        self.database_uuid = env["ir.config_parameter"].sudo().get_param("database.uuid") or "unknown"
        tz_name = env.company.partner_id.tz or env.user.tz or "UTC"
        try:
            self.tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            self.tz = ZoneInfo("UTC")
        self.classes = {}  # class URI -> master data attributes
        self.places = {}  # place URI -> name
        self.lots_seen = set()

    # identifiers ---------------------------------------------------------
    def _class(self, row):
        uri = gs1.lot_class_uri(self.database_uuid, row["barcode"], row["product_id"], row["lot_name"])
        if uri not in self.classes:
            attributes = {"cbvmda:lotNumber": row["lot_name"], "cbvmda:descriptionShort": row["product_name"]}
            if row["expiration_date"]:
                attributes["cbvmda:itemExpirationDate"] = row["expiration_date"].date().isoformat()
            if row["default_code"]:
                attributes["cbvmda:additionalTradeItemID"] = row["default_code"]
            self.classes[uri] = attributes
        return uri

    def _quantity(self, row, quantity=None):
        element = {"epcClass": self._class(row), "quantity": row["quantity"] if quantity is None else quantity}
        code = REFERENCE_UOM_CODES.get(row["reference_uom_xmlid"])
        if code:
            element["uom"] = code
        return element

    def _place(self, uri, name):
        self.places.setdefault(uri, name)
        return uri

    def _location(self, row, side):
        """The stock location ``side`` (``source``/``destination``) of the row, inside its warehouse's GLN."""
        location_id = row[f"{side}_id"]
        uri = gs1.place_uri(
            self.database_uuid,
            row[f"{side}_warehouse_gln"],
            "location",
            location_id,
            extension=row[f"{side}_barcode"] or str(location_id),
        )
        return self._place(uri, row[f"{side}_name"])

    def _warehouse(self, row, side):
        warehouse_id = row[f"{side}_warehouse_id"]
        if not warehouse_id:
            return None
        uri = gs1.place_uri(self.database_uuid, row[f"{side}_warehouse_gln"], "warehouse", warehouse_id)
        return self._place(uri, row[f"{side}_warehouse_name"])

    def _parties(self, row, key, side):
        """owning_party and possessing_party for the row's partner or company (``key``: source or destination)."""
        if side == "company":
            party = self._place(
                gs1.party_uri(self.database_uuid, row["company_gln"], row["company_partner_id"]), row["company_name"]
            )
        elif row["commercial_id"]:
            party = self._place(
                gs1.party_uri(self.database_uuid, row["commercial_gln"], row["commercial_id"]), row["commercial_name"]
            )
        else:
            return []
        return [{"type": "owning_party", key: party}, {"type": "possessing_party", key: party}]

    def _partner_place(self, row):
        if not row["partner_id"]:
            return None
        uri = gs1.place_uri(self.database_uuid, row["partner_gln"], "address", row["partner_id"])
        return self._place(uri, row["partner_name"])

    # events --------------------------------------------------------------
    def _time(self, moment):
        offset = moment.replace(tzinfo=UTC).astimezone(self.tz).utcoffset()
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        minutes = abs(minutes)
        return {
            "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "eventTimeZoneOffset": f"{sign}{minutes // 60:02d}:{minutes % 60:02d}",
        }

    def _event_id(self, *keys):
        return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, ":".join([self.database_uuid, *map(str, keys)])))

    def _ilmd(self, row):
        ilmd = {"cbvmda:lotNumber": row["lot_name"]}
        if row["expiration_date"]:
            ilmd["cbvmda:itemExpirationDate"] = row["expiration_date"].date().isoformat()
        if row["use_date"]:
            ilmd["cbvmda:bestBeforeDate"] = row["use_date"].date().isoformat()
        return ilmd

    def _disposition(self, row, default):
        containment = self.containments.get(row["lot_id"])
        if containment and row["date"] > containment["date"]:
            return "recalled"
        return default

    def _document(self, row, transaction_type):
        if not row["reference"]:
            return []
        entry = {"bizTransaction": gs1.document_uri(self.database_uuid, row["company_gln"], row["reference"])}
        if transaction_type:
            entry["type"] = transaction_type
        return [entry]

    def _object_event(self, row):
        kind = row["event"]
        biz_step, disposition = OBJECT_EVENTS[kind]
        outbound = kind in SHIPMENTS or kind == "scrap" or row["destination_usage"] not in ("internal", "transit")
        first_sight = kind in INBOUND and not outbound and row["lot_id"] not in self.lots_seen
        self.lots_seen.add(row["lot_id"])
        event = {
            "type": "ObjectEvent",
            **self._time(row["date"]),
            "eventID": self._event_id("move-line", row["id"]),
            "action": "ADD" if first_sight else ("DELETE" if kind == "scrap" else "OBSERVE"),
            "bizStep": biz_step,
            "quantityList": [self._quantity(row)],
        }
        disposition = self._disposition(row, disposition)
        if disposition:
            event["disposition"] = disposition
        event["readPoint"] = {"id": self._location(row, "source" if outbound else "destination")}
        if not outbound:
            warehouse = self._warehouse(row, "destination")
            if warehouse:
                event["bizLocation"] = {"id": warehouse}
        transactions = self._document(
            row, {"receipt": "recadv", "customer_return": "rma", "delivery": "desadv"}.get(kind)
        )
        if transactions:
            event["bizTransactionList"] = transactions
        if kind in RECEIPTS:
            event["sourceList"] = self._parties(row, "source", "partner")
            event["destinationList"] = self._parties(row, "destination", "company")
        elif kind in SHIPMENTS:
            event["sourceList"] = self._parties(row, "source", "company")
            event["destinationList"] = self._parties(row, "destination", "partner")
            address = self._partner_place(row)
            if address:
                event["destinationList"].append({"type": "location", "destination": address})
        if kind in RECEIPTS or kind in SHIPMENTS:
            warehouse = self._warehouse(row, "destination" if kind in RECEIPTS else "source")
            if warehouse:
                side = event["destinationList"] if kind in RECEIPTS else event["sourceList"]
                key = "destination" if kind in RECEIPTS else "source"
                side.append({"type": "location", key: warehouse})
            for key in ("sourceList", "destinationList"):
                if not event[key]:
                    del event[key]
        if first_sight:
            event["ilmd"] = self._ilmd(row)
        return event

    def _transformation_events(self, rows):
        """One TransformationEvent per output lot of a transformation (the first one also lists the inputs)."""
        inputs = [row for row in rows if row["event"] == "consumption"]
        outputs = [row for row in rows if row["event"] == "production"]
        moment = max(row["date"] for row in rows)
        transformation_id = gs1.private_uri(self.database_uuid, "transformation", min(row["id"] for row in rows))
        anchor = (outputs or inputs)[0]
        common = {
            "type": "TransformationEvent",
            **self._time(moment),
            "transformationID": transformation_id,
            "bizStep": "commissioning",
            "readPoint": {"id": self._location(anchor, "destination" if outputs else "source")},
        }
        warehouse = self._warehouse(anchor, "destination" if outputs else "source")
        if warehouse:
            common["bizLocation"] = {"id": warehouse}
        output_lots = defaultdict(list)
        for row in outputs:
            output_lots[row["lot_id"]].append(row)
        events = []
        for index, lot_rows in enumerate(output_lots.values() or [[]]):
            event = {**common, "eventID": self._event_id("transformation", transformation_id, index)}
            if index == 0 and inputs:
                event["inputQuantityList"] = [self._quantity(row) for row in inputs]
                for row in inputs:
                    self.lots_seen.add(row["lot_id"])
            if lot_rows:
                first = lot_rows[0]
                event["outputQuantityList"] = [self._quantity(first, sum(row["quantity"] for row in lot_rows))]
                event["disposition"] = self._disposition(first, "active")
                if first["lot_id"] not in self.lots_seen:
                    event["ilmd"] = self._ilmd(first)
                    self.lots_seen.add(first["lot_id"])
            events.append(event)
        return events

    def _containment_event(self, lot_rows, moment, recall_name):
        return {
            "type": "ObjectEvent",
            **self._time(moment),
            "eventID": self._event_id("recall", recall_name, moment.isoformat()),
            "action": "OBSERVE",
            "bizStep": "holding",
            "disposition": "recalled",
            "quantityList": [{"epcClass": self._class(row)} for row in lot_rows],
        }

    def _events(self):
        """Every event in time order: object events as their lines come, a transformation at its last line."""
        remaining = dict(self.group_sizes)
        members = defaultdict(list)  # the lines of transformations not yet complete
        # containment events go in at their time, before the first later line
        pending = defaultdict(list)
        for containment in self.containments.values():
            pending[(containment["date"], containment["recall"])].append(containment)
        containments = sorted(pending.items(), key=lambda item: item[0])
        for row in self.rows:
            while containments and containments[0][0][0] < row["date"]:
                (moment, name), lot_rows = containments.pop(0)
                yield self._containment_event(lot_rows, moment, name)
            if row["event"] not in TRANSFORMATION_EVENTS:
                yield self._object_event(row)
                continue
            key = self.group_of.get(row["id"], ("line", row["id"]))
            remaining.setdefault(key, 1)
            members[key].append(row)
            remaining[key] -= 1
            if not remaining[key]:
                yield from self._transformation_events(members.pop(key))
        for (moment, name), lot_rows in containments:
            yield self._containment_event(lot_rows, moment, name)

    def _master_data(self):
        classes = {
            "type": "urn:epcglobal:epcis:vtype:EPCClass",
            "vocabularyElementList": [
                {"id": uri, "attributes": [{"id": key, "attribute": value} for key, value in attributes.items()]}
                for uri, attributes in self.classes.items()
            ],
        }
        places = {
            "type": "urn:epcglobal:epcis:vtype:Location",
            "vocabularyElementList": [
                {"id": uri, "attributes": [{"id": "cbvmda:name", "attribute": name or ""}]}
                for uri, name in self.places.items()
            ],
        }
        return {"epcisMasterData": {"vocabularyList": [classes, places]}}

    def write_document(self, stream, notes):
        """Write the document to the binary ``stream``; returns the number of events."""
        head = {
            "@context": [EPCIS_CONTEXT, {"lmc": LMC_NAMESPACE}],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
        if notes:
            head["lmc:note"] = list(notes)
        stream.write(json.dumps(head, ensure_ascii=False)[:-1].encode())
        stream.write(b', "epcisBody": {"eventList": [\n')
        count = 0
        for event in self._events():
            if count:
                stream.write(b",\n")
            stream.write(json.dumps(event, ensure_ascii=False).encode())
            count += 1
        stream.write(b'\n]}, "epcisHeader": ')
        stream.write(json.dumps(self._master_data(), ensure_ascii=False).encode())
        stream.write(b"}\n")
        return count
