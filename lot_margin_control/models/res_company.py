from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .lot_limits import check_day_counts

# The overview's targets (stock.lot.kpi): KPI code -> (company field, default, higher is better, upper bound).
# A target of 0 means none is set.
KPI_TARGETS = {
    "lot_accuracy": ("lot_kpi_target_lot_accuracy", 99.0, True, 100.0),
    "obsolescence": ("lot_kpi_target_obsolescence", 2.0, False, 100.0),
    "shrinkage": ("lot_kpi_target_shrinkage", 1.0, False, 100.0),
    "fefo_compliance": ("lot_kpi_target_fefo_compliance", 98.0, True, 100.0),
    "recall_response_hours": ("lot_kpi_target_recall_response_hours", 24.0, False, 24.0 * 365),
    "mock_recall_trace_ms": ("lot_kpi_target_mock_recall_trace_ms", 5000.0, False, 3_600_000.0),
    "gs1_capture": ("lot_kpi_target_gs1_capture", 80.0, True, 100.0),
}


class ResCompany(models.Model):
    """The company's windows (demand for expiry risk, recall scope) and the Lot Control overview's targets."""

    _inherit = "res.company"

    lot_demand_window_days = fields.Integer(
        string="Demand Window (days)",
        default=90,
        required=True,
        help="Expiry risk averages each product's customer deliveries (net of customer returns) over "
        "this many past days to project which lots will not sell before they expire.",
    )
    recall_window_days = fields.Integer(
        string="Recall Window (days)",
        default=90,
        required=True,
        help="A broad recall (without lot control) would take back every lot of the recalled products "
        "received or produced within this many days, centred on the recalled lots' first receipt. "
        "Recalls compare it with the lots they actually recall.",
    )
    lot_kpi_target_lot_accuracy = fields.Float(string="Lot Accuracy Target (%)", default=99.0)
    lot_kpi_target_obsolescence = fields.Float(string="Obsolescence Target (%)", default=2.0)
    lot_kpi_target_shrinkage = fields.Float(string="Shrinkage Target (%)", default=1.0)
    lot_kpi_target_fefo_compliance = fields.Float(string="FEFO Compliance Target (%)", default=98.0)
    lot_kpi_target_recall_response_hours = fields.Float(string="Recall Response Target (hours)", default=24.0)
    lot_kpi_target_mock_recall_trace_ms = fields.Float(string="Mock Recall Trace Target (ms)", default=5000.0)
    lot_kpi_target_gs1_capture = fields.Float(string="GS1 Capture Target (%)", default=80.0)

    def write(self, vals):
        """The stock a company owns is the stock its partner owns: a new partner, every move's movements
        again (stock.lot.valuation.movement)."""
        result = super().write(vals)
        self.env["stock.lot.valuation.movement"]._rebuild_if_written(self._name, vals)
        return result

    @api.constrains("lot_demand_window_days", "recall_window_days")
    def _check_window_days(self):
        """Each window is at least a day and at most a century (``check_day_counts``)."""
        for company in self:
            for fname in ("lot_demand_window_days", "recall_window_days"):
                if company[fname] < 1:
                    raise ValidationError(
                        self.env._(
                            "%(window)s of %(company)s is %(days)s days: it must be at least 1 day "
                            "(90 days looks at the last quarter).",
                            window=company._fields[fname]._description_string(self.env),
                            company=company.display_name,
                            days=company[fname],
                        )
                    )
            check_day_counts(company, "lot_demand_window_days", "recall_window_days")

    @api.constrains(*(fname for fname, _default, _higher, _bound in KPI_TARGETS.values()))
    def _check_lot_kpi_targets(self):
        for company in self:
            for fname, _default, _higher, bound in KPI_TARGETS.values():
                if not 0 <= company[fname] <= bound:
                    raise ValidationError(
                        self.env._(
                            "%(target)s of %(company)s is %(value)s: it must be between 0 (no target) and %(max)s.",
                            target=company._fields[fname]._description_string(self.env),
                            company=company.display_name,
                            value=company[fname],
                            max=bound,
                        )
                    )
