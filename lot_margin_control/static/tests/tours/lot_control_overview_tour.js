/** @odoo-module **/
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

function backToOverview() {
    return [
        {
            content: "Back to the overview (breadcrumbs)",
            trigger: ".o_breadcrumb .breadcrumb-item:not(.active) a",
            run: "click",
        },
        {
            content: "The overview keeps last month",
            trigger: "button[data-preset='last_month'].active",
        },
    ];
}

// Inventory > Lot Control > Overview: this month, then last month, then two tiles opened.
registry.category("web_tour.tours").add("lot_margin_control_overview_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open Inventory",
            trigger: ".o_app[data-menu-xmlid='stock.menu_stock_root']",
            run: "click",
        },
        {
            content: "Open the Lot Control menu",
            trigger: "button[data-menu-xmlid='lot_margin_control.menu_lot_control_root']",
            run: "click",
        },
        {
            content: "Open the overview",
            trigger: ".dropdown-item[data-menu-xmlid='lot_margin_control.menu_lot_control_overview']",
            run: "click",
        },
        {
            content: "This month: nothing counted yet",
            trigger: ".o_lot_kpi_tile[data-code='lot_accuracy'] .o_lot_kpi_value:contains('No data')",
        },
        {
            content: "Choose last month",
            trigger: "button[data-preset='last_month']",
            run: "click",
        },
        {
            content: "Last month: one count of two matched",
            trigger: ".o_lot_kpi_tile[data-code='lot_accuracy'] .o_lot_kpi_value:contains('50.0 %')",
        },
        {
            content: "The target colours the tile",
            trigger: ".o_lot_kpi_tile[data-code='lot_accuracy'].o_lot_kpi_danger",
        },
        {
            content: "Open the counts behind the number",
            trigger: ".o_lot_kpi_tile[data-code='lot_accuracy']",
            run: "click",
        },
        {
            content: "The two counts of last month",
            trigger: ".o_list_view .o_data_row:contains('LMC-OVERVIEW-B')",
        },
        ...backToOverview(),
        {
            content: "Mock recall trace time of last month",
            trigger: ".o_lot_kpi_tile[data-code='mock_recall_trace_ms'] .o_lot_kpi_value:contains('120 ms')",
        },
        {
            content: "Open the mock recalls behind it",
            trigger: ".o_lot_kpi_tile[data-code='mock_recall_trace_ms']",
            run: "click",
        },
        {
            content: "The mock recall of last month",
            trigger: ".o_list_view .o_data_row",
        },
        ...backToOverview(),
    ],
});
