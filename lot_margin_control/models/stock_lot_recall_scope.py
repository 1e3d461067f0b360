# One file per concern of the model (README, Architecture): pylint would merge them.
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.tools import SQL

from ..report.stock_lot_margin_report import COST_READERS


class StockLotRecall(models.Model):
    """Targeted against broad scope: what recalling by lot saves against recalling every recent lot.

    A broad recall would take back every lot of the recalled products received
    or produced within the company's recall window (``recall_window_days``,
    centred on the first receipt of the recalled lots); lot control recalls the
    affected lots only (the recalled lots and the lots made from them). Both
    scopes are valued at their cost received or produced, from the valuation
    layers of their receipt or production moves (the lot's own layers for
    products valued by lot, else the move's layers shared by quantity). The
    broad scope also holds the affected lots, so nothing avoided is negative.
    Refreshed when the recall is created and at each trace (derived lots come
    from the trace).
    """

    _inherit = "stock.lot.recall"

    currency_id = fields.Many2one(related="company_id.currency_id")
    scope_date_from = fields.Date(
        string="Broad Scope From", readonly=True, copy=False, help="First day of the recall window."
    )
    scope_date_to = fields.Date(
        string="Broad Scope To", readonly=True, copy=False, help="Last day of the recall window."
    )
    broad_scope_lot_count = fields.Integer(
        string="Lots in a Broad Recall",
        readonly=True,
        copy=False,
        help="Lots of the recalled products received or produced within the recall window, and the affected lots.",
    )
    targeted_scope_lot_count = fields.Integer(string="Lots Recalled by Lot", readonly=True, copy=False)
    broad_scope_value = fields.Monetary(
        string="Broad Recall Value",
        readonly=True,
        copy=False,
        groups=COST_READERS,
        help="Cost received or produced of every lot of the recalled products whose first receipt or "
        "production falls within the company's recall window.",
    )
    targeted_scope_value = fields.Monetary(
        string="Targeted Recall Value",
        readonly=True,
        copy=False,
        groups=COST_READERS,
        help="Cost received or produced of the affected lots: the recalled lots and the lots made from them.",
    )
    scope_avoided_value = fields.Monetary(
        string="Avoided by Targeting",
        readonly=True,
        copy=False,
        groups=COST_READERS,
        help="Broad minus targeted recall value: the stock a lot-by-lot recall did not have to take back.",
    )
    scope_avoided_pct = fields.Float(
        string="Avoided (%)",
        readonly=True,
        copy=False,
        digits=(16, 1),
        aggregator="avg",
        help="Avoided value as a share of the broad recall value.",
    )

    def _refresh_scope_values(self):
        """Value the broad and targeted scopes of these recalls in one UPDATE (see the class docstring)."""
        if not self:
            return
        self.env.flush_all()
        self.env.execute_query(self._sql_update_scope())
        self.invalidate_recordset(
            [
                "scope_date_from",
                "scope_date_to",
                "broad_scope_lot_count",
                "targeted_scope_lot_count",
                "broad_scope_value",
                "targeted_scope_value",
                "scope_avoided_value",
                "scope_avoided_pct",
            ]
        )

    def _sql_update_scope(self):
        return SQL(
            """
            WITH recall AS (
                SELECT recall.id, recall.company_id, company.recall_window_days AS window_days
                  FROM stock_lot_recall recall
                  JOIN res_company company ON company.id = recall.company_id
                 WHERE recall.id = ANY(%(ids)s)
            ),
            recalled AS (
                SELECT rel.recall_id, rel.lot_id FROM stock_lot_recall_lot_rel rel WHERE rel.recall_id = ANY(%(ids)s)
            ),
            affected AS (
                SELECT recall_id, lot_id FROM recalled
                 UNION
                SELECT line.recall_id, line.lot_id
                  FROM stock_lot_recall_line line
                 WHERE line.recall_id = ANY(%(ids)s) AND line.lot_relation = 'derived'
            ),
            recall_product AS (
                SELECT DISTINCT recalled.recall_id, lot.product_id
                  FROM recalled JOIN stock_lot lot ON lot.id = recalled.lot_id
            ),
            lot_in AS (%(lot_in)s),
            window_of AS (
                SELECT recall.id AS recall_id,
                       (MIN(lot_in.first_date) - make_interval(days => recall.window_days / 2))::date AS date_from,
                       (MAX(lot_in.first_date)
                        + make_interval(days => recall.window_days - recall.window_days / 2))::date AS date_to
                  FROM recall
                  JOIN recalled ON recalled.recall_id = recall.id
                  JOIN lot_in ON lot_in.lot_id = recalled.lot_id AND lot_in.company_id = recall.company_id
                 GROUP BY recall.id, recall.window_days
            ),
            broad AS (
                SELECT window_of.recall_id, lot_in.lot_id
                  FROM window_of
                  JOIN recall ON recall.id = window_of.recall_id
                  JOIN recall_product ON recall_product.recall_id = window_of.recall_id
                  JOIN lot_in ON lot_in.product_id = recall_product.product_id
                             AND lot_in.company_id = recall.company_id
                             AND lot_in.first_date::date BETWEEN window_of.date_from AND window_of.date_to
                 UNION
                SELECT recall_id, lot_id FROM affected
            ),
            valued AS (
                SELECT recall.id AS recall_id,
                       COUNT(*) FILTER (WHERE scope.targeted) AS targeted_count,
                       COUNT(*) AS broad_count,
                       COALESCE(SUM(lot_in.value) FILTER (WHERE scope.targeted), 0) AS targeted_value,
                       COALESCE(SUM(lot_in.value), 0) AS broad_value
                  FROM recall
                  JOIN (
                        SELECT broad.recall_id, broad.lot_id,
                               EXISTS (SELECT 1 FROM affected
                                        WHERE affected.recall_id = broad.recall_id
                                          AND affected.lot_id = broad.lot_id) AS targeted
                          FROM broad
                       ) scope ON scope.recall_id = recall.id
             LEFT JOIN lot_in ON lot_in.lot_id = scope.lot_id AND lot_in.company_id = recall.company_id
                 GROUP BY recall.id
            )
            UPDATE stock_lot_recall target
               SET scope_date_from = window_of.date_from,
                   scope_date_to = window_of.date_to,
                   targeted_scope_lot_count = COALESCE(valued.targeted_count, 0),
                   broad_scope_lot_count = COALESCE(valued.broad_count, 0),
                   targeted_scope_value = ROUND(COALESCE(valued.targeted_value, 0) / currency.rounding)
                                          * currency.rounding,
                   broad_scope_value = ROUND(COALESCE(valued.broad_value, 0) / currency.rounding) * currency.rounding,
                   scope_avoided_value = ROUND(COALESCE(valued.broad_value - valued.targeted_value, 0)
                                               / currency.rounding) * currency.rounding,
                   scope_avoided_pct = CASE WHEN valued.broad_value > 0
                                            THEN 100.0 * (valued.broad_value - valued.targeted_value)
                                                 / valued.broad_value
                                            ELSE 0 END
              FROM recall
              JOIN res_company company ON company.id = recall.company_id
              JOIN res_currency currency ON currency.id = company.currency_id
         LEFT JOIN window_of ON window_of.recall_id = recall.id
         LEFT JOIN valued ON valued.recall_id = recall.id
             WHERE target.id = recall.id
            """,
            ids=self.ids,
            lot_in=self._sql_lot_received_value(
                SQL(
                    "(ml.lot_id IN (SELECT lot_id FROM affected) "
                    "OR ml.product_id IN (SELECT product_id FROM recall_product))"
                )
            ),
        )

    def _sql_lot_received_value(self, line_filter):
        """Per lot and company: its first receipt or production date and the cost it came in at.

        Columns ``lot_id, product_id, company_id, first_date, value``. A line counts
        when it brings the lot from a vendor or production into stock; its value is
        the move's layers: those of the lot (products valued by lot) plus the
        move's layers without lot shared by quantity over the move's lots.
        ``line_filter`` narrows the move lines read (alias ``ml``).
        """
        return SQL(
            """
            WITH in_line AS (
                SELECT ml.move_id, ml.lot_id, ml.product_id, ml.company_id,
                       SUM(ml.quantity_product_uom) AS qty, MIN(ml.date) AS date
                  FROM stock_move_line ml
                  JOIN stock_location source ON source.id = ml.location_id
                                            AND source.usage IN ('supplier', 'production')
                  JOIN stock_location destination ON destination.id = ml.location_dest_id
                                                 AND destination.usage IN ('internal', 'transit')
                 WHERE ml.state = 'done' AND ml.lot_id IS NOT NULL AND %(line_filter)s
                 GROUP BY ml.move_id, ml.lot_id, ml.product_id, ml.company_id
            ),
            move_qty AS (
                SELECT move_id, SUM(qty) AS qty FROM in_line GROUP BY move_id
            ),
            move_layer AS (
                SELECT svl.stock_move_id AS move_id, svl.lot_id, SUM(svl.value) AS value
                  FROM stock_valuation_layer svl
                 WHERE svl.stock_move_id IN (SELECT move_id FROM move_qty)
                 GROUP BY svl.stock_move_id, svl.lot_id
            )
            SELECT in_line.lot_id, in_line.product_id, in_line.company_id, MIN(in_line.date) AS first_date,
                   SUM(COALESCE(move_layer.value * in_line.qty / NULLIF(move_qty.qty, 0), 0)
                       + COALESCE(lot_layer.value, 0)) AS value
              FROM in_line
              JOIN move_qty ON move_qty.move_id = in_line.move_id
         LEFT JOIN move_layer ON move_layer.move_id = in_line.move_id AND move_layer.lot_id IS NULL
         LEFT JOIN move_layer lot_layer ON lot_layer.move_id = in_line.move_id AND lot_layer.lot_id = in_line.lot_id
             GROUP BY in_line.lot_id, in_line.product_id, in_line.company_id
            """,
            line_filter=line_filter,
        )

    @api.model_create_multi
    def create(self, vals_list):
        recalls = super().create(vals_list)
        recalls._refresh_scope_values()
        return recalls

    def action_trace(self):
        result = super().action_trace()
        self._refresh_scope_values()
        return result
