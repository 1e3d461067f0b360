/** @odoo-module **/
import { registry } from "@web/core/registry";

const BARCODE_DIALOG = "@web/core/barcode/barcode_dialog";

function typeCode(code) {
    return [
        {
            content: `Type or scan ${code}`,
            trigger: ".o_lot_scan_dialog input.o_lot_scan_code:enabled",
            run: `edit ${code}`,
        },
        {
            content: "Enter sends it, as a hardware scanner does",
            trigger: ".o_lot_scan_dialog input.o_lot_scan_code",
            run: "press Enter",
        },
    ];
}

function openScan() {
    return [
        {
            content: "Open the transfer's actions (the header buttons live there on a phone)",
            trigger: ".o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            content: "Open Scan",
            trigger: ".o_lot_scan_button",
            run: "click",
        },
        {
            content: "Three lot lines, none scanned yet",
            trigger: ".o_lot_scan_dialog .o_lot_scan_progress:contains('0 / 3')",
        },
    ];
}

// A delivery of three lots scanned on a phone-sized screen: a garbled code, a blocked lot,
// two lots typed or sent by a hardware scanner, and one read by the camera (scanBarcode
// stubbed: headless Chrome has no camera).
registry.category("web_tour.tours").add("lot_margin_control_lot_scan_tour", {
    steps: () => [
        ...openScan(),
        ...typeCode("%%garbled%%"),
        {
            content: "A garbled code is explained, nothing scanned",
            trigger: ".o_lot_scan_result[data-result='error']:contains('neither a lot')",
        },
        ...typeCode("TOUR-BLOCKED"),
        {
            content: "A blocked lot is refused with its reason",
            trigger: ".o_lot_scan_result[data-result='refused']:contains('Foreign body')",
        },
        ...typeCode("TOUR-YOGURT"),
        {
            content: "The directed lot is confirmed",
            trigger: ".o_lot_scan_result[data-result='confirmed']:contains('TOUR-YOGURT')",
        },
        ...typeCode("TOUR-CHEESE"),
        {
            content: "Two of three scanned",
            trigger: ".o_lot_scan_progress:contains('2 / 3')",
        },
        {
            content: "The camera reads the next label (stubbed scanBarcode)",
            trigger: ".o_lot_scan_dialog .o_lot_scan_camera",
            run() {
                odoo.loader.modules.get(BARCODE_DIALOG).scanBarcode = async () => "TOUR-MILK-2";
                this.anchor.click();
            },
        },
        {
            content: "The scanned lot replaces the directed one",
            trigger: ".o_lot_scan_result[data-result='switched']:contains('TOUR-MILK-2')",
        },
        {
            content: "Every line ticked",
            trigger: ".o_lot_scan_progress:contains('3 / 3')",
        },
        {
            content: "Ticks on every line",
            trigger: ".o_lot_scan_lines:not(:has(.o_lot_scan_line:not(.o_lot_scan_line_done)))",
        },
    ],
});

// Scan the three lots and validate from the dialog: the transfer's own Validate runs.
registry.category("web_tour.tours").add("lot_margin_control_lot_scan_validate_tour", {
    steps: () => [
        ...openScan(),
        ...typeCode("TOUR-YOGURT"),
        ...typeCode("TOUR-CHEESE"),
        ...typeCode("TOUR-MILK-1"),
        {
            content: "Every line scanned: Validate is the main button",
            trigger: ".o_lot_scan_progress:contains('3 / 3')",
        },
        {
            content: "Validate from the dialog",
            trigger: ".o_lot_scan_dialog .o_lot_scan_validate.btn-primary",
            run: "click",
        },
        {
            content: "The transfer is done",
            // the current stage, not the "Done" label every statusbar shows
            trigger: ".o_field_statusbar button.o_arrow_button_current:contains('Done')",
        },
    ],
});
