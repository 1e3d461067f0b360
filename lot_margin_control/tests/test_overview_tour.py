import base64
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, time
from pathlib import Path
from unittest.mock import patch

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser
from odoo.tools import SQL

SCREENSHOT_NAME = "lot_control_overview.png"


@contextmanager
def last_screen_saved(name):
    """Save the tour browser's last screen as ``name`` (a PNG); yields its path.

    Into the folder named by the environment variable ``LMC_SCREENSHOT_DIR`` when set
    (the README's pictures are made so), else into a temporary folder.
    """
    folder = os.environ.get("LMC_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="lmc_tour_")
    path = Path(folder) / name
    stop = ChromeBrowser.stop

    def screenshot_then_stop(browser):
        """The browser's last screen, saved before it closes."""
        try:
            shot = browser._websocket_request("Page.captureScreenshot", params={"format": "png"})
            path.write_bytes(base64.b64decode(shot["data"]))
        finally:
            stop(browser)

    with patch.object(ChromeBrowser, "stop", screenshot_then_stop):
        yield path


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
        with last_screen_saved(SCREENSHOT_NAME) as path:
            self.start_tour("/odoo", "lot_margin_control_overview_tour", login="admin")
        self.assertTrue(path.read_bytes().startswith(b"\x89PNG"), path)
