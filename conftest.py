"""Repository-wide pytest hooks.

Odoo skips a browser tour when Chromium or websocket-client is missing; here a
skipped HttpCase is a failure, so that a tour never passes by not running.
"""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    instance = getattr(item, "instance", None)
    if not report.skipped or instance is None:
        return
    from odoo.tests.common import HttpCase

    if isinstance(instance, HttpCase):
        report.outcome = "failed"
        report.longrepr = f"Browser test {item.name} was skipped: {report.longrepr}"
