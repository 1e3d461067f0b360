from datetime import datetime, time

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tools import SQL

from .tour_screenshot import last_screen_saved_as

SCREENSHOT_NAME = "lot_control_overview.png"


@tagged("post_install", "-at_install", "is_tour")
class TestLotControlOverviewTour(HttpCase):
    """A real browser opens Inventory > Lot Control > Overview, changes the period and opens two tiles.

    The browser's last screen (the overview on last month) is saved as a PNG: into the folder
    named by the environment variable ``LMC_SCREENSHOT_DIR`` when set (the README's picture is
    made so), else into a temporary folder; the test checks it is a picture either way.
    """

    def _last_month(self, day=15, hour=12):
        first = fields.Date.today().replace(day=1) - relativedelta(months=1)
        return datetime.combine(first.replace(day=day), time(hour))

    def _make_last_months_data(self):
        company = self.env.ref("base.main_company")
        product = self.env["product.product"].create(
            {"name": "LMC Overview Cheese", "is_storable": True, "tracking": "lot"}
        )
        stock = self.env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1).lot_stock_id
        lots = self.env["stock.lot"].create(
            [{"name": name, "product_id": product.id} for name in ("LMC-OVERVIEW-A", "LMC-OVERVIEW-B")]
        )
        self.env["stock.lot.count"].create(
            [
                {
                    "lot_id": lot.id,
                    "product_id": product.id,
                    "location_id": stock.id,
                    "system_qty": 10,
                    "counted_qty": counted,
                    "difference_qty": counted - 10,
                    "is_accurate": counted == 10,
                    "date": self._last_month(),
                    "company_id": company.id,
                }
                for lot, counted in zip(lots, (10, 9), strict=True)
            ]
        )
        recall = self.env["stock.lot.recall"].create(
            {"lot_ids": [Command.set(lots[:1].ids)], "reason": "Drill", "is_mock": True}
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE stock_lot_recall SET state = 'traced', traced_date = %s, trace_duration_ms = 120 WHERE id = %s",
                self._last_month(),
                recall.id,
            )
        )

    def test_overview_tour(self):
        self._make_last_months_data()
        with last_screen_saved_as(SCREENSHOT_NAME) as path:
            self.start_tour("/odoo", "lot_margin_control_overview_tour", login="admin")
        self.assertTrue(path.read_bytes().startswith(b"\x89PNG"), path)
