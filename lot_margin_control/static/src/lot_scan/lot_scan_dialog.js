/** @odoo-module **/
import { Component, onMounted, useRef, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { Dialog } from "@web/core/dialog/dialog";
import * as BarcodeScanner from "@web/core/barcode/barcode_dialog";
import { isBarcodeScannerSupported } from "@web/core/barcode/barcode_video_scanner";
import { browser } from "@web/core/browser/browser";
import { useService } from "@web/core/utils/hooks";

// Alert colour of each scan result (stock.lot.scan.result).
const RESULT_CLASSES = {
    confirmed: "alert-success",
    created: "alert-success",
    switched: "alert-warning",
    refused: "alert-danger",
};

/**
 * Scan lots on a transfer (PRODUCT.md §13): a code field that a keyboard-wedge
 * scanner or a person types into (Enter scans), a camera button that reads the
 * code with the web client's own scanBarcode, the result of the last scan and
 * the transfer's lot lines with a tick on each scanned one. Every scan goes to
 * stock.picking.action_scan_lot, which decides and keeps it.
 */
export class LotScanDialog extends Component {
    static template = "lot_margin_control.LotScanDialog";
    static components = { Dialog };
    static props = {
        pickingId: Number,
        pickingName: String,
        isReceipt: Boolean,
        onValidate: { type: Function, optional: true },
        close: Function,
    };

    setup() {
        this.orm = useService("orm");
        this.input = useRef("code");
        this.state = useState({
            code: "",
            quantity: 1,
            lines: [],
            result: false,
            message: "",
            busy: false,
        });
        this.cameraSupported = isBarcodeScannerSupported();
        onMounted(async () => {
            this.state.lines = await this.orm.call("stock.picking", "get_lot_scan_lines", [[this.props.pickingId]]);
            this.focusCode();
        });
    }

    get scannedCount() {
        return this.state.lines.filter((line) => line.scanned).length;
    }

    get allScanned() {
        return this.state.lines.length > 0 && this.scannedCount === this.state.lines.length;
    }

    async onValidateClick() {
        this.props.close();
        await this.props.onValidate();
    }

    get resultClass() {
        return RESULT_CLASSES[this.state.result] || "alert-danger";
    }

    focusCode() {
        this.input.el?.focus();
    }

    onKeydown(ev) {
        if (ev.key === "Enter") {
            ev.preventDefault();
            this.scan(this.state.code);
        }
    }

    async onCameraClick() {
        let code;
        try {
            code = await BarcodeScanner.scanBarcode(this.env);
        } catch (error) {
            this.showResult("error", error.message || _t("The camera could not read a code."));
            return;
        }
        if (!code) {
            this.showResult("error", _t("No code read: please scan again."));
            return;
        }
        if ("vibrate" in browser.navigator) {
            browser.navigator.vibrate(100);
        }
        await this.scan(code);
    }

    showResult(result, message) {
        this.state.result = result;
        this.state.message = message;
    }

    async scan(code) {
        code = (code || "").trim();
        if (!code || this.state.busy) {
            return;
        }
        this.state.busy = true;
        this.state.code = code;
        try {
            const kwargs = this.props.isReceipt ? { quantity: Number(this.state.quantity) || 1 } : {};
            const response = await this.orm.call(
                "stock.picking",
                "action_scan_lot",
                [[this.props.pickingId], code],
                kwargs
            );
            this.state.lines = response.lines;
            this.showResult(response.result, response.message);
            this.state.code = "";
        } catch (error) {
            if (error.name !== "RPC_ERROR" || !error.data?.message) {
                throw error;
            }
            // A code the server cannot read: say why, keep the code to correct it.
            this.showResult("error", error.data.message);
        } finally {
            this.state.busy = false;
            this.focusCode();
        }
    }
}
