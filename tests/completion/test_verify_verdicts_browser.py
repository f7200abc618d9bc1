"""The verdicts in Chromium on a 360 px phone, in Swedish: a file signed again after our seal, on
the upload page and in the fingerprint page's compare (scrolled to the answer), reads without
sideways scrolling, names the later signer, and passes axe-core."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.extensions import db
from core.models import Case
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import support
from tests.browser.test_accessibility import AXE, violations
from tests.completion.test_sealing_job import sign
from tests.completion.test_verify_verdicts import signed_update
from tests.signing.helpers import make_case, signer

pytestmark = pytest.mark.browser


def sealed_case(live_server, people) -> tuple[bytes, str]:
    app = live_server.app
    with app.app_context():
        made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])],
                         methods=["touch"])
        sign(app.test_client(), made, "Sara Svensson")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db.session.expire_all()
            with tenant_context(made.case.tenant_id):
                document = db.session.get(Case, made.case.id).documents[0]
                if document.sealed_sha256:
                    return blobs().get(document.sealed_sha256), document.fingerprint
            time.sleep(0.2)
    raise AssertionError("the case was not sealed within 60 s")


@pytest.fixture
def small_phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True,
                                  locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def upload(page, data: bytes) -> None:
    page.set_input_files("#verify-file", files=[{"name": "avtal.pdf", "mimeType": "application/pdf", "buffer": data}])
    support.click_and_load(page, page.get_by_role("button", name="Kontrollera filen"))


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_later_signature_reads_well_on_a_phone_on_both_pages(live_server, people, small_phone):
    assert AXE.exists()
    sealed, fingerprint = sealed_case(live_server, people)
    with ThreadPoolExecutor(1) as pool:  # pyHanko's asyncio.run must not meet Playwright's loop
        later = pool.submit(signed_update, sealed).result()
    page = small_phone

    page.goto(live_server.url + "/verify/")
    upload(page, later)
    assert page.get_by_role("heading", name="Signerad igen efter förseglingen").is_visible()
    assert page.get_by_text("Mallory Mallorysson (Skuggbolaget AB)").is_visible()
    assert fits(page) and violations(page) == []

    page.goto(f"{live_server.url}/verify/{fingerprint}")
    upload(page, later)
    assert page.locator("[data-compare]").get_attribute("data-compare") == "contains"
    assert page.get_by_role("heading", name="Signerad igen efter förseglingen").is_visible()
    page.wait_for_function("() => window.scrollY > 0")  # the answer is scrolled into view, below the summary
    assert fits(page) and violations(page) == []
