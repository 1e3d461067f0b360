/** @odoo-module **/
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Inventory > Lot Control > Lots, open a lot, record the supplier's lot code.
registry.category("web_tour.tours").add("lot_margin_control_smoke_tour", {
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
            content: "Open Lots",
            trigger: ".dropdown-item[data-menu-xmlid='lot_margin_control.menu_lot_control_lots']",
            run: "click",
        },
        {
            content: "Open the lot made by the test",
            trigger: ".o_data_row td[name='name']:contains(LMC-TOUR-LOT)",
            run: "click",
        },
        {
            content: "Type the supplier's lot code",
            trigger: ".o_field_widget[name='supplier_lot_name'] input",
            run: "edit SUP-TOUR-42",
        },
        ...stepUtils.saveForm(),
    ],
});
