"""A simplified drawing of a genealogy graph as SVG, for the recall PDF (no JavaScript there).

Same data as the web client's graph (``get_genealogy``), simpler layout: each node
goes to the column of its longest path from a source (vendors left, customers
right), stacked top to bottom; edges are straight lines labelled with their
quantity. Folded customers stay folded. Colours are the web client's.
"""

from collections import defaultdict, deque

from markupsafe import Markup, escape

BOX_WIDTH, BOX_HEIGHT, COLUMN_GAP, ROW_GAP, MARGIN = 170, 36, 70, 10, 10
ROWS_PER_COLUMN = 30
COLORS = {
    "recalled": ("#fde2e4", "#c0392b"),
    "derived": ("#fff0d9", "#d97706"),
    "component": ("#dbeafe", "#1d4ed8"),
    "vendor": ("#e5e7eb", "#4b5563"),
    "location": ("#d1fae5", "#047857"),
    "scrap": ("#f3f4f6", "#6b7280"),
    "customer": ("#ede9fe", "#6d28d9"),
    "customers": ("#ede9fe", "#6d28d9"),
}


def _columns(nodes, edges):
    """Longest-path layering (Kahn); nodes left in a cycle go to the last column."""
    successors, indegree = defaultdict(list), dict.fromkeys(nodes, 0)
    for edge in edges:
        if edge["source"] in nodes and edge["target"] in nodes:
            successors[edge["source"]].append(edge["target"])
            indegree[edge["target"]] += 1
    column = dict.fromkeys(nodes, 0)
    queue = deque(node for node, degree in indegree.items() if not degree)
    placed = set()
    while queue:
        node = queue.popleft()
        placed.add(node)
        for successor in successors[node]:
            column[successor] = max(column[successor], column[node] + 1)
            indegree[successor] -= 1
            if not indegree[successor]:
                queue.append(successor)
    last = max(column.values(), default=0)
    for node in nodes:
        if node not in placed:
            column[node] = last + 1
    return column


def _shorten(text, size=24):
    text = text or ""
    return text if len(text) <= size else text[: size - 1] + "…"


def _format_quantity(quantity):
    return f"{quantity:,.2f}".rstrip("0").rstrip(".") if quantity is not None else ""


def genealogy_svg(graph, flag_labels):
    """The SVG markup of ``graph``; ``flag_labels``: translated words for blocked and expired."""
    nodes = {node["id"]: node for node in graph["nodes"]}
    column = _columns(nodes, graph["edges"])
    by_column = defaultdict(list)
    for node_id in nodes:
        by_column[column[node_id]].append(node_id)
    position, hidden = {}, defaultdict(int)
    for index, node_ids in by_column.items():
        for row, node_id in enumerate(node_ids):
            if row >= ROWS_PER_COLUMN:
                hidden[index] += 1
                continue
            position[node_id] = (
                MARGIN + index * (BOX_WIDTH + COLUMN_GAP),
                MARGIN + row * (BOX_HEIGHT + ROW_GAP),
            )
    rows = min(max((len(ids) for ids in by_column.values()), default=1), ROWS_PER_COLUMN + 1)
    width = MARGIN * 2 + (max(by_column, default=0) + 1) * (BOX_WIDTH + COLUMN_GAP) - COLUMN_GAP
    height = MARGIN * 2 + rows * (BOX_HEIGHT + ROW_GAP)
    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="o_genealogy_drawing" width="100%%" '
            'viewBox="0 0 %s %s" style="font-family: sans-serif;">'
        )
        % (width, height)
    ]
    for edge in graph["edges"]:
        if edge["source"] not in position or edge["target"] not in position:
            continue
        (x1, y1), (x2, y2) = position[edge["source"]], position[edge["target"]]
        x1, y1, y2 = x1 + BOX_WIDTH, y1 + BOX_HEIGHT / 2, y2 + BOX_HEIGHT / 2
        parts.append(
            Markup('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#8a8f98" stroke-width="1"/>') % (x1, y1, x2, y2)
        )
        parts.append(
            Markup('<text x="%s" y="%s" font-size="9" text-anchor="middle" fill="#374151">%s %s</text>')
            % ((x1 + x2) / 2, (y1 + y2) / 2 - 2, _format_quantity(edge["quantity"]), edge.get("uom") or "")
        )
    for node_id, (x, y) in position.items():
        node = nodes[node_id]
        fill, stroke = COLORS.get(node.get("kind") or node["type"], ("#ffffff", "#6b7280"))
        flags = [label for flag, label in flag_labels.items() if node.get(flag)]
        stroke_width = 3 if flags else 1.2
        dash = ' stroke-dasharray="4 2"' if node["type"] == "customers" or node.get("expired") else ""
        parts.append(
            Markup('<rect x="%s" y="%s" width="%s" height="%s" rx="5" fill="%s" stroke="%s" stroke-width="%s"%s/>')
            % (x, y, BOX_WIDTH, BOX_HEIGHT, fill, stroke, stroke_width, Markup(dash))
        )
        detail = node.get("detail") or ""
        if flags:
            detail = " · ".join([_shorten(detail, 16), *flags])
        parts.append(
            Markup('<text x="%s" y="%s" font-size="11" font-weight="bold" fill="#111827">%s</text>')
            % (x + 6, y + 14, _shorten(node["label"]))
        )
        if detail:
            parts.append(
                Markup('<text x="%s" y="%s" font-size="9" fill="#4b5563">%s</text>')
                % (x + 6, y + 28, _shorten(detail, 32))
            )
    for index, count in hidden.items():
        parts.append(
            Markup('<text x="%s" y="%s" font-size="10" fill="#4b5563">+ %s</text>')
            % (MARGIN + index * (BOX_WIDTH + COLUMN_GAP), height - MARGIN, count)
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(escape(part) for part in parts)
