"""The page after signing in Chromium: the last signer sees the sealing, then the download appears
without reloading, and focus moves to it."""

from __future__ import annotations

import threading

import pytest

from core.extensions import db
from core.jobs import drain
from core.models import Officer
from tenants.scoping import tenant_context
from tests.browser.test_accessibility import violations
from tests.signing.helpers import SARA, make_case, signer
from tests.signing.test_signer_browser import draw_with_mouse

pytestmark = pytest.mark.browser


def test_the_last_signer_sees_the_sealing_and_then_the_download_in_place(live_server, people, page):
    live_server.app.config["JOBS_MANUAL"] = True  # the test decides when the sealing job runs
    with live_server.app.app_context():
        with tenant_context(people.acme.id):
            bob = db.session.get(Officer, people.bob.id)
        made = make_case(bob, [signer(language="en", methods=["touch"])], methods=["touch"])
    page.goto(live_server.url + made.path(SARA))
    page.get_by_label("I have read the documents and agree to sign them").check()
    draw_with_mouse(page, "#touch-pad")
    page.get_by_role("button", name="Sign with my drawn signature").click()
    page.get_by_role("heading", name="Thank you for signing").wait_for()
    assert "being sealed right now" in page.locator("section.done").inner_text()
    assert "When every party has signed" not in page.content()
    assert violations(page) == []
    page.evaluate("window.sigillNotReloaded = true")

    def seal():  # in its own thread: pyHanko's asyncio.run() must not meet Playwright's loop
        with live_server.app.app_context():
            drain()

    sealing = threading.Thread(target=seal)
    sealing.start()
    sealing.join(60)
    download = page.get_by_role("link", name="Download lease.pdf (signed)")
    download.wait_for(timeout=30000)
    assert page.evaluate("window.sigillNotReloaded === true")  # updated in place, not reloaded
    assert page.evaluate("document.activeElement.tagName") == "H1"
    assert "being sealed" not in page.locator("section.done").inner_text()
    assert violations(page) == []
    with page.expect_download() as fetched:
        download.click()
    assert fetched.value.suggested_filename == "lease-signed.pdf"
