# One file per concern (README, Architecture): the genealogy read of the recall and of the lot.
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..report.genealogy_svg import genealogy_svg

# More customers than this for one lot fold into one expandable node.
FOLD_THRESHOLD = 8
# A folded node carries at most this many of its customers (largest quantities first); the
# rest are counted and opened as a list: a drawing of thousands of boxes is not readable.
FOLDED_MEMBERS_LIMIT = 50


class StockLotGenealogy(models.AbstractModel):
    """Vendors → lots → locations on hand → customers, as nodes and edges, from trace lines.

    One SQL statement reads a set of trace lines (a recall's stored lines, or a lot's
    trace computed on the fly by the same recursive query) and returns them grouped:
    one row per lot, per vendor and lot, per lot and location, per lot and customer,
    per scrap, and per component lot and the lot made from it. Python only shapes
    those rows into the graph the genealogy widget and the recall PDF draw.
    """

    _name = "stock.lot.genealogy"
    _description = "Lot Genealogy"

    @api.model
    def _genealogy_rows_sql(self, lines, roots):
        """The grouped rows of the graph, from ``lines`` (an SQL yielding trace line columns).

        ``roots``: lots drawn even without a line (the recalled lots). Each row is
        ``(row_type, lot_id, target_id, name, quantity, rank, member_count, member_quantity)``.
        """
        lang = self.env.lang or "en_US"
        return SQL(
            """
            WITH lines AS (%(lines)s),
            lots AS (
                SELECT lot_id, MIN(depth) AS depth,
                       -- a recalled lot stays recalled; otherwise derived before component
                       MIN(CASE lot_relation WHEN 'recalled' THEN 0 WHEN 'derived' THEN 1 ELSE 2 END) AS relation
                  FROM lines GROUP BY lot_id
                UNION ALL
                SELECT id, 0, 0 FROM stock_lot
                 WHERE id = ANY(%(roots)s) AND id NOT IN (SELECT lot_id FROM lines)
            ),
            customers AS (
                SELECT lot_id, partner_id, SUM(quantity) AS quantity,
                       ROW_NUMBER() OVER (PARTITION BY lot_id ORDER BY SUM(quantity) DESC, partner_id) AS rank,
                       COUNT(*) OVER (PARTITION BY lot_id) AS member_count,
                       SUM(SUM(quantity)) OVER (PARTITION BY lot_id) AS member_quantity
                  FROM lines
                 WHERE event = 'delivery' AND partner_id IS NOT NULL
              GROUP BY lot_id, partner_id
            )
            SELECT 'lot', lots.lot_id, lots.relation, lot.name,
                   NULL::double precision, lots.depth, NULL::bigint, NULL::double precision,
                   COALESCE(template.name->>%(lang)s, template.name->>'en_US'),
                   COALESCE(uom.name->>%(lang)s, uom.name->>'en_US'), lot.quality_state, lot.shelf_life_state,
                   product.default_code
              FROM lots
              JOIN stock_lot lot ON lot.id = lots.lot_id
              JOIN product_product product ON product.id = lot.product_id
              JOIN product_template template ON template.id = product.product_tmpl_id
              JOIN uom_uom uom ON uom.id = template.uom_id
            UNION ALL
            %(grouped_edges)s
            UNION ALL
            SELECT 'customer', customers.lot_id, customers.partner_id, partner.complete_name,
                   customers.quantity, customers.rank, customers.member_count, customers.member_quantity,
                   NULL, NULL, NULL, NULL, NULL
              FROM customers
              JOIN res_partner partner ON partner.id = customers.partner_id
             WHERE customers.rank <= %(members_limit)s
            UNION ALL
            -- a component lot consumed into a lot made from it: the consumed line, through core's
            -- consume relation, to the finished line's lot
            SELECT 'transform', lines.lot_id, finished.lot_id, NULL,
                   SUM(lines.quantity), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
              FROM lines
              JOIN stock_move_line_consume_rel rel ON rel.produce_line_id = lines.move_line_id
              JOIN stock_move_line finished ON finished.id = rel.consume_line_id
             WHERE lines.event = 'consumption'
               AND finished.lot_id IN (SELECT lot_id FROM lots)
          GROUP BY lines.lot_id, finished.lot_id
            """,
            lines=lines,
            grouped_edges=SQL(" UNION ALL ").join(
                self._grouped_edge_sql(row_type, event, column, table)
                for row_type, event, column, table in (
                    ("vendor", "receipt", "partner_id", "res_partner"),
                    ("location", "on_hand", "location_id", "stock_location"),
                    ("scrap", "scrap", "location_dest_id", "stock_location"),
                )
            ),
            roots=list(roots),
            lang=lang,
            members_limit=FOLDED_MEMBERS_LIMIT,
        )

    @api.model
    def _grouped_edge_sql(self, row_type, event, column, table):
        """Rows of ``row_type``: the ``event`` lines by lot and ``column``, named from ``table``."""
        return SQL(
            """
            SELECT %(row_type)s, lines.lot_id, %(target)s, MIN(named.complete_name),
                   SUM(lines.quantity), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
              FROM lines
         LEFT JOIN %(table)s named ON named.id = %(target)s
             WHERE lines.event = %(event)s
          GROUP BY lines.lot_id, %(target)s
            """,
            row_type=row_type,
            target=SQL.identifier("lines", column),
            table=SQL.identifier(table),
            event=event,
        )

    @api.model
    def _build_genealogy(self, lines, roots, more_action=None):
        """Nodes and edges of the graph, in one query (see ``_genealogy_rows_sql``).

        Node ids are strings (``lot-12``, ``vendor-5``, ``location-8``, ``scrap-4``,
        ``customer-7``, ``customers-12`` for the folded customers of lot 12); each
        node names the record it opens (``res_model``, ``res_id``). Edges run left to
        right: vendor → lot, component → derived lot, lot → location, lot → customer.
        ``more_action(lot_id)`` returns the action that lists all the deliveries of a
        folded lot (its node carries at most FOLDED_MEMBERS_LIMIT customers).
        """
        rows = self.env.execute_query(self._genealogy_rows_sql(lines, roots))
        relations = ("recalled", "derived", "component")
        nodes, edges, folded = {}, [], {}
        for row_type, lot_id, target_id, name, quantity, rank, member_count, member_quantity, *lot_info in rows:
            lot_node = f"lot-{lot_id}"
            if row_type == "lot":  # its relation in target_id, its depth in rank
                product_name, uom_name, quality_state, shelf_life_state, default_code = lot_info
                nodes[lot_node] = {
                    "id": lot_node,
                    "type": "lot",
                    "kind": relations[target_id],
                    "label": name,
                    "detail": f"[{default_code}] {product_name}" if default_code else product_name,
                    "uom": uom_name,
                    "depth": rank,
                    "quality_state": quality_state,
                    "blocked": quality_state in ("blocked", "recalled"),
                    "expired": shelf_life_state == "expired",
                    "res_model": "stock.lot",
                    "res_id": lot_id,
                }
            elif row_type == "transform":
                edges.append({"source": lot_node, "target": f"lot-{target_id}", "quantity": quantity})
            elif row_type == "customer" and member_count > FOLD_THRESHOLD:
                group = folded.setdefault(
                    lot_id,
                    {
                        "id": f"customers-{lot_id}",
                        "type": "customers",
                        "lot_node": lot_node,
                        "count": member_count,
                        "quantity": member_quantity,
                        "members": [],
                        "more_count": max(member_count - FOLDED_MEMBERS_LIMIT, 0),
                        "more_action": more_action(lot_id) if more_action else False,
                    },
                )
                group["members"].append(
                    {
                        "id": f"customer-{target_id}",
                        "label": name,
                        "quantity": quantity,
                        "res_model": "res.partner",
                        "res_id": target_id,
                        "rank": rank,
                    }
                )
            else:
                kind = "customer" if row_type == "customer" else row_type
                node_id = f"{kind}-{target_id or 0}"
                if node_id not in nodes:
                    nodes[node_id] = {
                        "id": node_id,
                        "type": kind,
                        "label": name or self.env._("Unknown vendor"),
                        "res_model": "res.partner" if kind in ("vendor", "customer") else "stock.location",
                        "res_id": target_id or False,
                    }
                source, target = (node_id, lot_node) if kind == "vendor" else (lot_node, node_id)
                edges.append({"source": source, "target": target, "quantity": quantity})
        for group in folded.values():
            group["members"].sort(key=lambda member: member["rank"])
            group["label"] = self.env._("%(count)s customers", count=group["count"])
            nodes[group["id"]] = group
            edges.append({"source": group["lot_node"], "target": group["id"], "quantity": group["quantity"]})
        for edge in edges:
            lot = nodes.get(edge["source"]) if edge["source"].startswith("lot-") else nodes.get(edge["target"])
            edge["uom"] = (lot or {}).get("uom") or ""
        return {
            "nodes": list(nodes.values()),
            "edges": edges,
            "fold_threshold": FOLD_THRESHOLD,
        }


class StockLotRecall(models.Model):
    _inherit = "stock.lot.recall"

    @api.readonly
    def get_genealogy(self):
        """The recall's genealogy graph, from its trace lines the user may read (record rules)."""
        self.ensure_one()
        self.check_access("read")
        if not self.traced_date:
            raise UserError(self.env._("Trace recall %(recall)s to see its genealogy.", recall=self.name))
        Line = self.env["stock.lot.recall.line"]
        visible = Line._search([("recall_id", "=", self.id)])
        lines = SQL("SELECT * FROM stock_lot_recall_line WHERE id IN %s", visible.subselect())
        graph = self.env["stock.lot.genealogy"]._build_genealogy(
            lines, self.lot_ids.ids, more_action=lambda lot_id: self._genealogy_deliveries_domain(lot_id)
        )
        graph["title"] = self.name
        graph["root_label"] = self.env._("Recalled lot")
        graph["event_count"] = Line.search_count([("recall_id", "=", self.id)])
        return graph

    def _genealogy_drawing(self):
        """The simplified genealogy drawing of the recall PDF (inline SVG), False before the trace."""
        self.ensure_one()
        if not self.traced_date:
            return False
        flags = {"blocked": self.env._("blocked"), "expired": self.env._("expired")}
        return genealogy_svg(self.get_genealogy(), flags)

    def _genealogy_deliveries_domain(self, lot_id):
        return {
            "res_model": "stock.lot.recall.line",
            "domain": [("recall_id", "=", self.id), ("lot_id", "=", lot_id), ("event", "=", "delivery")],
        }


class StockLot(models.Model):
    _inherit = "stock.lot"

    @api.readonly
    def get_genealogy(self):
        """The lot's genealogy, traced now by the recall's recursive query, in the companies the user works in."""
        self.ensure_one()
        self.check_access("read")
        self.env.flush_all()
        company_ids = (self.env.companies & self.env.user.company_ids).ids
        lines = self.env["stock.lot.recall.line"]._trace_sql(self.ids, company_ids, fields.Datetime.now())
        graph = self.env["stock.lot.genealogy"]._build_genealogy(
            lines, self.ids, more_action=lambda lot_id: self._genealogy_deliveries_domain(lot_id)
        )
        graph["title"] = self.display_name
        graph["root_label"] = self.env._("This lot")
        return graph

    def _genealogy_deliveries_domain(self, lot_id):
        return {
            "res_model": "stock.move.line",
            "domain": [
                ("lot_id", "=", lot_id),
                ("state", "=", "done"),
                ("location_dest_id.usage", "=", "customer"),
            ],
        }

    @api.readonly
    def action_open_genealogy(self):
        """The Genealogy button of the lot: the graph in a client action."""
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "lot_margin_control.genealogy",
            "name": self.env._("Genealogy of %(lot)s", lot=self.display_name),
            "params": {"res_model": "stock.lot", "res_id": self.id},
        }
