/** @odoo-module **/
import { registry } from "@web/core/registry";

// A recall's Genealogy tab: expand the folded customers, open a lot from the graph, then the lot's own
// genealogy (its Genealogy button): the last screen, saved as the README's picture.
registry.category("web_tour.tours").add("lot_margin_control_genealogy_tour", {
    steps: () => [
        {
            content: "Open the recall's Genealogy tab",
            trigger: ".o_notebook .nav-link:contains('Genealogy')",
            run: "click",
        },
        {
            content: "The recalled milk lot is drawn in the recalled colour",
            trigger: ".o_genealogy_lot.o_genealogy_kind_recalled[data-node-label='MILK-0425']",
        },
        {
            content: "The blocked yogurt lot is marked",
            trigger: ".o_genealogy_lot.o_genealogy_kind_derived.o_genealogy_blocked[data-node-label='YOG-0426-B']",
        },
        {
            content: "Twelve customers of one lot are folded: expand them",
            trigger: ".o_genealogy_customers[data-node-label='12 customers']",
            run: "click",
        },
        {
            content: "Each customer now has its own node",
            trigger: ".o_genealogy_customer[data-node-label='Corner Shop 14']",
        },
        {
            content: "Fold them again",
            trigger: ".o_genealogy_collapse",
            run: "click",
        },
        {
            content: "Folded again",
            trigger: ".o_genealogy_customers[data-node-label='12 customers']",
        },
        {
            content: "Zoom in, then fit",
            trigger: ".o_genealogy_zoom_in",
            run: "click",
        },
        {
            trigger: ".o_genealogy_fit",
            run: "click",
        },
        {
            content: "Open a derived lot from the graph",
            trigger: ".o_genealogy_lot[data-node-label='YOG-0426-A']",
            run: "click",
        },
        {
            content: "The lot's form",
            trigger: ".o_form_view .o_breadcrumb .active:contains('YOG-0426-A')",
        },
        {
            content: "Its Genealogy button",
            trigger: ".o_form_view button[name='action_open_genealogy']",
            run: "click",
        },
        {
            content: "The lot's genealogy: milk and culture went into it, the culture is expired",
            trigger: ".o_genealogy_action .o_genealogy_lot.o_genealogy_kind_component.o_genealogy_expired[data-node-label='CULT-77']",
        },
        {
            content: "and its vendors upstream",
            trigger: ".o_genealogy_action .o_genealogy_vendor[data-node-label='CultureLab']",
        },
    ],
});
