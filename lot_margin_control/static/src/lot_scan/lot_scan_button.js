/** @odoo-module **/
import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { LotScanDialog } from "./lot_scan_dialog";

/** The transfer's Scan header button: saves the transfer, opens the scan dialog, reloads on close. */
export class LotScanButton extends Component {
    static template = "lot_margin_control.LotScanButton";
    static props = { ...standardWidgetProps };

    setup() {
        this.dialog = useService("dialog");
    }

    async onClick() {
        const record = this.props.record;
        if (!(await record.save())) {
            return;
        }
        this.dialog.add(
            LotScanDialog,
            {
                pickingId: record.resId,
                pickingName: record.data.name || "",
                isReceipt: record.data.picking_type_code === "incoming",
            },
            { onClose: () => record.load() }
        );
    }
}

registry.category("view_widgets").add("lmc_lot_scan_button", {
    component: LotScanButton,
    fieldDependencies: [
        { name: "name", type: "char" },
        { name: "picking_type_code", type: "selection" },
    ],
});
