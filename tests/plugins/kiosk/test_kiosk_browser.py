"""The counter in Chromium: the officer (1280 px) pairs a tablet (800x1280, touch), sends a party to
it, the party reviews, draws and signs on the tablet, and the tablet is idle again with nothing of
the case left in its history or storage."""

from __future__ import annotations

import pytest

from core.extensions import db
from tests import support
from tests.plugins.kiosk.browser_helpers import (  # noqa: F401  (contexts: a fixture)
    at_the_counter,
    back_to_idle_with_nothing_left,
    contexts,
    pair_tablet,
    push,
    switch_on,
)
from tests.signing.test_signer_browser import draw_with_mouse, send_live_case, signer

pytestmark = pytest.mark.browser


def test_pair_push_review_draw_sign_and_back_to_idle(live_server, people, contexts):  # noqa: F811
    office, tablet = contexts
    made = at_the_counter(live_server, people, office, tablet, [signer("Sara Svensson", "sara@example.com",
                                                                       methods=["touch"])], ["touch"])
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

    # A few seconds after signing; Back leads to nothing of the case: the push's link is dead and
    # nothing was cached.
    back_to_idle_with_nothing_left(tablet, None)
    tablet.goto(live_server.url + "/kiosk/o/acme/")
    tablet.locator("#kiosk-idle").wait_for()
    office.locator('.kiosk-progress[data-state="idle"]').wait_for()

    with live_server.app.app_context():
        from core.models import Signature
        from tenants.scoping import tenant_context

        with tenant_context(people.acme.id):
            [signature] = db.session.query(Signature).filter_by(case_id=made.case_id).all()
            assert signature.evidence["plugins"]["kiosk"]["device"] == "Counter 2"


def test_an_untouched_tablet_goes_back_to_idle_and_the_officer_can_cancel(
        live_server, people, contexts):  # noqa: F811
    office, tablet = contexts
    made = at_the_counter(live_server, people, office, tablet, [signer("Sara Svensson", "sara@example.com",
                                                                       methods=["touch"])], ["touch"])
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


def test_a_cancel_before_the_tablet_first_asked_takes_it_back_to_idle(live_server, people, contexts):  # noqa: F811
    """The officer cancels while the tablet's page has not had its first answer yet (its script
    has only just asked): the tablet must still go back to idle, not stay on the documents."""
    office, tablet = contexts
    switch_on(live_server, people)
    made, _original = send_live_case(live_server, people, [signer("Sara Svensson", "sara@example.com",
                                                                  methods=["touch"])], methods=["touch"])
    pair_tablet(live_server, office, tablet)
    held = []

    def first_question_waits(route):
        if not held:
            held.append(route)  # the page's first question waits on the way
        else:
            route.continue_()

    tablet.route("**/kiosk/w/**", first_question_waits)
    push(office, made)
    tablet.locator("h1", has_text="Lease 12").wait_for()
    for _ in range(300):
        if held:
            break
        tablet.wait_for_timeout(50)
    assert held, "the tablet's page never asked"
    support.click_and_load(office, office.get_by_role("button", name="Back to idle on Counter 2"))
    held[0].continue_()
    tablet.locator("#kiosk-idle").wait_for()
    assert "Lease 12" not in tablet.content() and "Sara Svensson" not in tablet.content()
