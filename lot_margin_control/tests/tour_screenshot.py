import base64
import contextlib
import os
import tempfile
from pathlib import Path
from unittest.mock import patch

from odoo.tests.common import ChromeBrowser


@contextlib.contextmanager
def last_screen_saved_as(name):
    """Save the browser's last screen of the tours run inside as ``name`` (PNG); yields its path.

    Into the folder named by the environment variable ``LMC_SCREENSHOT_DIR`` when
    set (the README's pictures are made so), else into a temporary folder.
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
