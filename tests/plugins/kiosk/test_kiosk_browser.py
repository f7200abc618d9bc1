"""The counter in Chromium: the officer (1280 px) pairs a tablet (800x1280, touch), sends a party to
it, the party reviews, draws and signs on the tablet, and the tablet is idle again with nothing of
the case left in its history or storage."""

from __future__ import annotations

import pytest

from core.extensions import db
from core.models import Tenant
from tests import support
from tests.signing.test_signer_browser import draw_with_mouse, send_live_case, signer

pytestmark = pytest.mark.browser


@pytest.fixture
def contexts(browser):
    officer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    tablet = browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True, is_mobile=True,
                                 locale="en-GB")
    pages = officer.new_page(), tablet.new_page()
    for page in pages:
        page.set_default_timeout(15000)
    yield pages
    officer.close()
    tablet.close()


def switch_on(live_server, people):
    with live_server.app.app_context():
        db.session.get(Tenant, people.acme.id).enabled_plugins = ["kiosk"]
        db.session.commit()


def pair_tablet(live_server, office, tablet, name="Counter 2"):
    support.browser_login(office, live_server.url, "alice@acme.example")
    support.click_and_load(office, office.get_by_role("link", name="Kiosk"))  # else content() is the old page's
    address = live_server.url + "/kiosk/o/acme/"
    assert address in office.content()
    support.click_and_load(office, office.get_by_role("button", name="Show a pairing code"))
    code = office.locator("#kiosk-code").inner_text()
    assert office.locator(".kiosk-qr svg").count() == 1
    tablet.goto(address)
    tablet.get_by_label("Pairing code").fill(code)
    tablet.get_by_label("Name of this tablet").fill(name)
    tablet.get_by_role("button", name="Pair").click()
    tablet.locator("#kiosk-idle").wait_for()


def generation(tablet) -> int:
    """How many pages the tablet's script has run on in this window (a form's answer is written in
    place of the page, in the same window)."""
    return tablet.evaluate("window.__kioskGeneration || 0")


def written(tablet, before: int) -> None:
    """A form's answer, sent by the tablet's script with fetch, has been written in place of the
    page and its scripts have run again. Until then a link there is a plain navigation (one more
    history entry) and a form posts past the script: the answer's text alone does not tell."""
    tablet.wait_for_function("before => window.__kioskGeneration > before && document.readyState === 'complete'",
                             arg=before)


def push(office, made, party="Sara Svensson", tablet="Counter 2"):
    office.goto(office.url.split("/kiosk")[0].split("/cases")[0] + f"/cases/{made.case_id}")
    panel = office.locator("#kiosk")
    panel.get_by_label("Party").select_option(label=party)
    panel.get_by_label("Tablet").select_option(label=tablet)
    support.click_and_load(office, panel.get_by_role("button", name="Sign on tablet"))


def test_pair_push_review_draw_sign_and_back_to_idle(live_server, people, contexts):
    office, tablet = contexts
    switch_on(live_server, people)
    made, _original = send_live_case(live_server, people, [signer("Sara Svensson", "sara@example.com",
                                                                  methods=["touch"])], methods=["touch"])
    pair_tablet(live_server, office, tablet)
    assert tablet.locator("h1").inner_text() == "Acme AB"

    push(office, made)
    tablet.locator("h1", has_text="Lease 12").wait_for()  # the idle screen polls (how fast: not timed here)
    # The officer sees it live: opened, then signing once the party touches the page.
    office.locator('.kiosk-progress[data-state="opened"]').wait_for()

    tablet.locator("img[alt^='Page 1 of 2']").wait_for()  # review: the core's own viewer
    tablet.get_by_label("I have read the documents and agree to sign them").check()
    draw_with_mouse(tablet, "#touch-pad")
    office.locator('.kiosk-progress[data-state="signing"]').wait_for()
    tablet.get_by_role("button", name="Sign with my drawn signature").click()
    tablet.get_by_role("heading", name="Thank you for signing").wait_for()
    office.locator('.kiosk-progress[data-state="signed"]').wait_for()
    assert "Sara Svensson has signed" in office.locator("#kiosk").inner_text()

    tablet.locator("#kiosk-idle").wait_for(timeout=15000)  # a few seconds after signing
    assert tablet.evaluate("localStorage.length + sessionStorage.length") == 0
    # Back leads to nothing of the case: the push's link is dead and nothing was cached.
    tablet.go_back()
    assert "Lease 12" not in tablet.content() and "Sara Svensson" not in tablet.content()
    tablet.goto(live_server.url + "/kiosk/o/acme/")
    tablet.locator("#kiosk-idle").wait_for()
    office.locator('.kiosk-progress[data-state="idle"]').wait_for()

    with live_server.app.app_context():
        from core.models import Signature
        from tenants.scoping import tenant_context

        with tenant_context(people.acme.id):
            [signature] = db.session.query(Signature).filter_by(case_id=made.case_id).all()
            assert signature.evidence["plugins"]["kiosk"]["device"] == "Counter 2"


def test_an_untouched_tablet_goes_back_to_idle_and_the_officer_can_cancel(live_server, people, contexts):
    office, tablet = contexts
    switch_on(live_server, people)
    made, _original = send_live_case(live_server, people, [signer("Sara Svensson", "sara@example.com",
                                                                  methods=["touch"])], methods=["touch"])
    pair_tablet(live_server, office, tablet)
    length_before = tablet.evaluate("history.length")
    push(office, made)
    tablet.locator("h1", has_text="Lease 12").wait_for()
    office.goto(live_server.url + "/kiosk/")  # the overview follows the tablet live
    row = office.locator("tr.kiosk-progress", has_text="Counter 2")
    assert row.get_attribute("data-state") in ("opened", "pushed")
    # Only now the idle time becomes short (the tablet asks for it every second): however slow the
    # machine, the overview above was loaded before the tablet could go idle.
    live_server.app.config["KIOSK_IDLE_SECONDS"] = 3
    tablet.locator("#kiosk-idle").wait_for()  # 3 s without a touch
    assert tablet.evaluate("history.length") == length_before  # Back cannot lead to the case
    office.locator('tr.kiosk-progress[data-state="idle"]').wait_for()
    assert "Idle" in row.inner_text()

    live_server.app.config["KIOSK_IDLE_SECONDS"] = 120  # before the push: the cancel below is the officer's
    push(office, made)
    tablet.locator("h1", has_text="Lease 12").wait_for()
    office.get_by_role("button", name="Back to idle on Counter 2").click()
    tablet.locator("#kiosk-idle").wait_for()
    assert "Lease 12" not in tablet.content()
    assert tablet.evaluate("history.length") == length_before
    tablet.go_back()
    tablet.wait_for_load_state()
    assert "Lease 12" not in tablet.content() and "Sara Svensson" not in tablet.content()
