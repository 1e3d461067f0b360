/** @odoo-module **/
import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { pick } from "@web/core/utils/objects";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { LotScanDialog } from "./lot_scan_dialog";

/**
 * The transfer's Scan header button: saves the transfer, opens the scan dialog,
 * reloads on close. The dialog's Validate runs the transfer's own Validate button
 * (with its backorder and expiry wizards), so a phone needs no trip back to the
 * action menu.
 */
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
        const env = this.env;
        this.dialog.add(
            LotScanDialog,
            {
                pickingId: record.resId,
                pickingName: record.data.name || "",
                isReceipt: record.data.picking_type_code === "incoming",
                onValidate: () =>
                    env.onClickViewButton({
                        clickParams: { type: "object", name: "button_validate" },
                        getResParams: () => pick(record, "context", "evalContext", "resModel", "resId", "resIds"),
                    }),
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
