/** @odoo-module **/
import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";
import { GenealogyGraph } from "./genealogy_graph";

/** Reads get_genealogy() of a record; a UserError (e.g. a recall not traced yet) is shown, not raised. */
async function loadGenealogy(orm, state, resModel, resId) {
    try {
        state.graph = await orm.call(resModel, "get_genealogy", [[resId]]);
        state.error = false;
    } catch (error) {
        if (error.data?.name !== "odoo.exceptions.UserError") {
            throw error;
        }
        state.graph = null;
        state.error = error.data.message;
    }
}

/** The lot's Genealogy button: the graph in its own screen (client action lot_margin_control.genealogy). */
export class GenealogyAction extends Component {
    static template = "lot_margin_control.GenealogyAction";
    static components = { Layout, GenealogyGraph };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.state = useState({ graph: null, error: false });
        const { res_model: resModel, res_id: resId } = this.props.action.params || {};
        onWillStart(() => loadGenealogy(this.orm, this.state, resModel, resId));
    }
}

registry.category("actions").add("lot_margin_control.genealogy", GenealogyAction);

/** The Genealogy tab of the recall form: `<widget name="lot_genealogy"/>`, reloaded after each trace. */
export class GenealogyWidget extends Component {
    static template = "lot_margin_control.GenealogyWidget";
    static components = { GenealogyGraph };
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService("orm");
        this.state = useState({ graph: null, error: false });
        this.tracedDate = this.props.record.data.traced_date;
        onWillStart(() => this.load(this.props.record));
        onWillUpdateProps((nextProps) => {
            const tracedDate = nextProps.record.data.traced_date;
            if (String(tracedDate) !== String(this.tracedDate)) {
                this.tracedDate = tracedDate;
                return this.load(nextProps.record);
            }
        });
    }

    load(record) {
        if (!record.resId) {
            return;
        }
        return loadGenealogy(this.orm, this.state, record.resModel, record.resId);
    }
}

registry.category("view_widgets").add("lot_genealogy", { component: GenealogyWidget });
