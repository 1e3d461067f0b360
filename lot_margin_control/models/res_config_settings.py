from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lot_demand_window_days = fields.Integer(related="company_id.lot_demand_window_days", readonly=False)
    recall_window_days = fields.Integer(related="company_id.recall_window_days", readonly=False)
    lot_kpi_target_lot_accuracy = fields.Float(related="company_id.lot_kpi_target_lot_accuracy", readonly=False)
    lot_kpi_target_obsolescence = fields.Float(related="company_id.lot_kpi_target_obsolescence", readonly=False)
    lot_kpi_target_shrinkage = fields.Float(related="company_id.lot_kpi_target_shrinkage", readonly=False)
    lot_kpi_target_fefo_compliance = fields.Float(related="company_id.lot_kpi_target_fefo_compliance", readonly=False)
    lot_kpi_target_recall_response_hours = fields.Float(
        related="company_id.lot_kpi_target_recall_response_hours", readonly=False
    )
    lot_kpi_target_mock_recall_trace_ms = fields.Float(
        related="company_id.lot_kpi_target_mock_recall_trace_ms", readonly=False
    )
    lot_kpi_target_gs1_capture = fields.Float(related="company_id.lot_kpi_target_gs1_capture", readonly=False)
