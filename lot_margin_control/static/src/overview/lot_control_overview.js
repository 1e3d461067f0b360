/** @odoo-module **/
import { Component, onWillStart, useState } from "@odoo/owl";
import { serializeDate } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useSetupAction } from "@web/search/action_hook";
import { Layout } from "@web/search/layout";
import { formatFloat, formatMonetary } from "@web/views/fields/formatters";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

const { DateTime } = luxon;

/** The periods offered next to the date inputs: key -> [label, first day, last day]. */
function presetPeriods(today) {
    return {
        this_month: [_t("This Month"), today.startOf("month"), today],
        last_month: [
            _t("Last Month"),
            today.minus({ months: 1 }).startOf("month"),
            today.minus({ months: 1 }).endOf("month").startOf("day"),
        ],
        this_quarter: [_t("This Quarter"), today.startOf("quarter"), today],
        this_year: [_t("This Year"), today.startOf("year"), today],
    };
}

/**
 * Inventory > Lot Control > Overview: one tile per metric of stock.lot.kpi.get_kpis for a period and
 * company, with the previous period, the target's colour and a monthly trend (get_kpi_trend); a tile
 * opens the records behind its number.
 */
export class LotControlOverview extends Component {
    static template = "lot_margin_control.LotControlOverview";
    static components = { Layout };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.companyService = useService("company");
        const today = DateTime.local().startOf("day");
        this.presets = presetPeriods(today);
        const [, first, last] = this.presets.this_month;
        // back from a drill-down (breadcrumbs): the period and company the user had chosen
        const period = this.props.state?.period || {
            preset: "this_month",
            dateFrom: serializeDate(first),
            dateTo: serializeDate(last),
            companyId: "",
        };
        this.state = useState({
            ...period,
            kpis: [],
            trend: { months: [], values: {} },
            error: false,
            loading: true,
        });
        useSetupAction({
            getLocalState: () => ({
                period: {
                    preset: this.state.preset,
                    dateFrom: this.state.dateFrom,
                    dateTo: this.state.dateTo,
                    companyId: this.state.companyId,
                },
            }),
        });
        onWillStart(() => this.load());
    }

    get companies() {
        const allowed = this.companyService.allowedCompanies;
        return this.companyService.activeCompanyIds.map((id) => allowed[id]).filter(Boolean);
    }

    get companyIds() {
        return this.state.companyId ? [parseInt(this.state.companyId)] : null;
    }

    async load() {
        this.state.loading = true;
        this.state.error = false;
        try {
            const [kpis, trend] = await Promise.all([
                this.orm.call("stock.lot.kpi", "get_kpis", [this.state.dateFrom, this.state.dateTo, this.companyIds]),
                this.orm.call("stock.lot.kpi", "get_kpi_trend", [this.state.dateTo, this.companyIds, 6]),
            ]);
            this.state.kpis = kpis;
            this.state.trend = trend;
        } catch (error) {
            this.state.error = error.data?.message || error.message || String(error);
            this.state.kpis = [];
        } finally {
            this.state.loading = false;
        }
    }

    onPreset(key) {
        const [, first, last] = this.presets[key];
        Object.assign(this.state, { preset: key, dateFrom: serializeDate(first), dateTo: serializeDate(last) });
        return this.load();
    }

    onDateChange(field, ev) {
        if (!ev.target.value) {
            return;
        }
        this.state[field] = ev.target.value;
        this.state.preset = false;
        return this.load();
    }

    onCompanyChange(ev) {
        this.state.companyId = ev.target.value;
        return this.load();
    }

    openTile(kpi) {
        if (kpi.action) {
            return this.action.doAction(kpi.action);
        }
    }

    format(kpi, value) {
        if (value === null || value === undefined) {
            return _t("No data");
        }
        switch (kpi.unit) {
            case "percent":
                return `${formatFloat(value, { digits: [16, 1] })} %`;
            case "hours":
                return `${formatFloat(value, { digits: [16, 1] })} h`;
            case "ms":
                return `${formatFloat(value, { digits: [16, 0] })} ms`;
            case "currency":
                return formatMonetary(value, { currencyId: kpi.currency_id, digits: [16, 0] });
            default:
                return formatFloat(value, { digits: [16, 0] });
        }
    }

    statusClass(kpi) {
        return kpi.status ? `o_lot_kpi_${kpi.status}` : "";
    }

    /** Whether the change from the previous period is good (success), bad (danger) or neutral. */
    deltaClass(kpi) {
        if (kpi.value === null || kpi.previous === null || kpi.value === kpi.previous) {
            return "text-muted";
        }
        if (kpi.higher_is_better === null) {
            return "text-muted";
        }
        const better = kpi.higher_is_better ? kpi.value > kpi.previous : kpi.value < kpi.previous;
        return better ? "text-success" : "text-danger";
    }

    deltaIcon(kpi) {
        if (kpi.value === null || kpi.previous === null || kpi.value === kpi.previous) {
            return "fa-minus";
        }
        return kpi.value > kpi.previous ? "fa-arrow-up" : "fa-arrow-down";
    }

    /** The SVG polyline points of the tile's monthly trend (months without data are skipped). */
    sparkline(kpi) {
        const values = this.state.trend.values[kpi.code] || [];
        const known = values.filter((value) => value !== null);
        if (known.length < 2) {
            return "";
        }
        const min = Math.min(...known);
        const max = Math.max(...known);
        const step = 100 / Math.max(values.length - 1, 1);
        return values
            .map((value, index) =>
                value === null
                    ? null
                    : `${(index * step).toFixed(1)},${(28 - ((value - min) / (max - min || 1)) * 24).toFixed(1)}`
            )
            .filter(Boolean)
            .join(" ");
    }
}

registry.category("actions").add("lot_margin_control.overview", LotControlOverview);
