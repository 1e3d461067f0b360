/** @odoo-module **/
import { Component, onMounted, onWillStart, useRef, useState } from "@odoo/owl";
import { loadJS } from "@web/core/assets";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { formatFloat } from "@web/views/fields/formatters";

/** The layout library, vendored from the npm registry (see static/lib/dagre/LICENSE and the README). */
export const DAGRE_URL = "/lot_margin_control/static/lib/dagre/dagre.min.js";

const NODE_SIZES = {
    lot: [200, 54],
    customers: [180, 44],
    more: [180, 36],
};
const DEFAULT_SIZE = [180, 36];
const LABEL_CHARS = 26;
const ZOOM_MIN = 0.1;
const ZOOM_MAX = 3;

function shorten(text, size = LABEL_CHARS) {
    text = text || "";
    return text.length > size ? `${text.slice(0, size - 1)}…` : text;
}

/**
 * The genealogy graph: the nodes and edges of get_genealogy() (stock.lot.recall or stock.lot) laid out
 * left to right by dagre (upstream left, downstream right), drawn as SVG by OWL; pan (drag), zoom
 * (wheel, buttons), fit; a click opens the node's record; a folded customers node expands in place.
 */
export class GenealogyGraph extends Component {
    static template = "lot_margin_control.GenealogyGraph";
    static props = {
        graph: Object,
        height: { type: String, optional: true },
    };
    static defaultProps = { height: "70vh" };

    setup() {
        this.action = useService("action");
        this.svgRef = useRef("svg");
        this.state = useState({ expanded: {}, x: 0, y: 0, k: 1 });
        this.drag = null;
        onWillStart(() => loadJS(DAGRE_URL));
        onMounted(() => this.fit());
    }

    // ------------------------------------------------------------------
    // Data and layout
    // ------------------------------------------------------------------
    /** Nodes and edges to draw: the server's, with expanded customers nodes replaced by their members. */
    get visible() {
        const nodes = new Map();
        const edges = [];
        const { expanded } = this.state;
        for (const node of this.props.graph.nodes) {
            if (node.type === "customers" && expanded[node.id]) {
                for (const member of node.members) {
                    if (!nodes.has(member.id)) {
                        nodes.set(member.id, { ...member, type: "customer", member_of: node.id });
                    }
                    edges.push({ source: node.lot_node, target: member.id, quantity: member.quantity, uom: "" });
                }
                if (node.more_count) {
                    const moreId = `${node.id}-more`;
                    nodes.set(moreId, {
                        id: moreId,
                        type: "more",
                        label: _t("%(count)s more customers", { count: node.more_count }),
                        action: node.more_action,
                        member_of: node.id,
                    });
                    edges.push({ source: node.lot_node, target: moreId, quantity: null, uom: "" });
                }
            } else if (!nodes.has(node.id)) {
                nodes.set(node.id, node);
            }
        }
        for (const edge of this.props.graph.edges) {
            if (nodes.has(edge.target) && nodes.has(edge.source)) {
                edges.push(edge);
            }
        }
        return { nodes: [...nodes.values()], edges };
    }

    get layout() {
        const key = JSON.stringify(this.state.expanded);
        if (this._layout && this._layoutKey === key && this._layoutGraph === this.props.graph) {
            return this._layout;
        }
        const { nodes, edges } = this.visible;
        const g = new window.dagre.graphlib.Graph({ multigraph: true });
        g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 90, marginx: 20, marginy: 20 });
        g.setDefaultEdgeLabel(() => ({}));
        for (const node of nodes) {
            const [width, height] = NODE_SIZES[node.type] || DEFAULT_SIZE;
            g.setNode(node.id, { width, height });
        }
        edges.forEach((edge, index) => g.setEdge(edge.source, edge.target, {}, String(index)));
        window.dagre.layout(g);
        const laidNodes = nodes.map((node) => {
            const box = g.node(node.id);
            return { ...node, x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height };
        });
        const laidEdges = edges.map((edge, index) => {
            const points = g.edge(edge.source, edge.target, String(index)).points;
            const middle = points[Math.floor(points.length / 2)];
            return {
                ...edge,
                key: `${edge.source}>${edge.target}>${index}`,
                path: points.map((point, i) => `${i ? "L" : "M"}${point.x},${point.y}`).join(" "),
                labelX: middle.x,
                labelY: middle.y - 4,
                label: edge.quantity === null ? "" : `${formatFloat(edge.quantity, { digits: [16, 2] })} ${edge.uom || ""}`,
            };
        });
        const { width, height } = g.graph();
        this._layout = { nodes: laidNodes, edges: laidEdges, width, height };
        this._layoutKey = key;
        this._layoutGraph = this.props.graph;
        return this._layout;
    }

    get transform() {
        return `translate(${this.state.x},${this.state.y}) scale(${this.state.k})`;
    }

    nodeClass(node) {
        const classes = [`o_genealogy_node`, `o_genealogy_${node.type}`];
        if (node.kind) {
            classes.push(`o_genealogy_kind_${node.kind}`);
        }
        if (node.blocked) {
            classes.push("o_genealogy_blocked");
        }
        if (node.expired) {
            classes.push("o_genealogy_expired");
        }
        return classes.join(" ");
    }

    nodeLines(node) {
        const flags = [];
        if (node.blocked) {
            flags.push(_t("blocked"));
        }
        if (node.expired) {
            flags.push(_t("expired"));
        }
        if (node.type === "lot") {
            return [shorten(node.label), shorten([node.detail, ...flags].filter(Boolean).join(" · "), 32)];
        }
        if (node.type === "customers") {
            return [node.label, _t("click to expand")];
        }
        return [shorten(node.label)];
    }

    // ------------------------------------------------------------------
    // Pan, zoom, fit
    // ------------------------------------------------------------------
    fit() {
        const svg = this.svgRef.el;
        if (!svg) {
            return;
        }
        const { width, height } = this.layout;
        const box = svg.getBoundingClientRect();
        const k = Math.max(ZOOM_MIN, Math.min(1.2, box.width / (width || 1), box.height / (height || 1)));
        Object.assign(this.state, {
            k,
            x: (box.width - width * k) / 2,
            y: Math.max(0, (box.height - height * k) / 2),
        });
    }

    zoom(factor, centerX, centerY) {
        const svg = this.svgRef.el;
        const box = svg.getBoundingClientRect();
        const cx = centerX ?? box.width / 2;
        const cy = centerY ?? box.height / 2;
        const k = Math.max(ZOOM_MIN, Math.min(ZOOM_MAX, this.state.k * factor));
        const ratio = k / this.state.k;
        Object.assign(this.state, {
            k,
            x: cx - (cx - this.state.x) * ratio,
            y: cy - (cy - this.state.y) * ratio,
        });
    }

    onWheel(ev) {
        ev.preventDefault();
        const box = this.svgRef.el.getBoundingClientRect();
        this.zoom(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.clientX - box.left, ev.clientY - box.top);
    }

    onPointerDown(ev) {
        if (ev.target.closest(".o_genealogy_node")) {
            return;
        }
        this.drag = { x: ev.clientX - this.state.x, y: ev.clientY - this.state.y };
    }

    onPointerMove(ev) {
        if (this.drag) {
            this.state.x = ev.clientX - this.drag.x;
            this.state.y = ev.clientY - this.drag.y;
        }
    }

    onPointerUp() {
        this.drag = null;
    }

    // ------------------------------------------------------------------
    // Clicks
    // ------------------------------------------------------------------
    onNodeClick(node) {
        if (node.type === "customers") {
            this.state.expanded[node.id] = true;
            return;
        }
        if (node.type === "more") {
            return this.action.doAction({
                type: "ir.actions.act_window",
                name: _t("Deliveries"),
                res_model: node.action.res_model,
                domain: node.action.domain,
                views: [
                    [false, "list"],
                    [false, "form"],
                ],
            });
        }
        if (node.res_model && node.res_id) {
            return this.action.doAction({
                type: "ir.actions.act_window",
                res_model: node.res_model,
                res_id: node.res_id,
                views: [[false, "form"]],
            });
        }
    }

    collapse(groupId) {
        delete this.state.expanded[groupId];
    }

    get expandedGroups() {
        return this.props.graph.nodes.filter((node) => this.state.expanded[node.id]);
    }
}
