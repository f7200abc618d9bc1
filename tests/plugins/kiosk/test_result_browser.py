"""In Chromium: a walk-in party with no email address signs on the tablet (800x1280 touch); once the
case is sealed the officer (1280 px) opens the print page (only the result on paper) and emails the
result to the address the party gives at the counter; a mistyped address gets a clear message."""

from __future__ import annotations

import pytest

from tests.plugins.kiosk.browser_helpers import at_the_counter, contexts, draw_and_sign, push  # noqa: F401
from tests.signing.test_signer_browser import signer

pytestmark = pytest.mark.browser


def test_print_or_email_the_result_for_a_walk_in_party(live_server, people, contexts):  # noqa: F811
    office, tablet = contexts
    made = at_the_counter(live_server, people, office, tablet, [signer("Walk In", "", phone=None, methods=["touch"])],
                          ["touch"])
    push(office, made, party="Walk In")
    tablet.locator("h1", has_text="Lease 12").wait_for()
    draw_and_sign(tablet)

    case_url = f"{live_server.url}/cases/{made.case_id}"
    for _attempt in range(60):  # sealing runs in the background
        office.goto(case_url)
        if office.locator("#kiosk-print").count():
            break
        office.wait_for_timeout(500)
    office.get_by_role("link", name="Print the result").click()
    office.wait_for_url("**/result")
    assert "Walk In" in office.locator("main").inner_text()
    office.get_by_role("link", name="The sealed PDF, to print").wait_for()
    assert office.get_by_role("button", name="Print").is_visible()
    office.emulate_media(media="print")
    assert not office.locator("header").first.is_visible()  # on paper: the result only
    assert not office.get_by_role("button", name="Print").is_visible()
    office.emulate_media(media="screen")

    office.get_by_role("link", name="Back to the case").click()
    office.wait_for_url(f"**/cases/{made.case_id}")
    field = office.get_by_label("Email the result to Walk In at")
    field.fill("walk.in@example")
    office.get_by_role("button", name="Email the result").click()
    office.get_by_text("Give a valid email address, like name@example.com.").wait_for()
    office.get_by_label("Email the result to Walk In at").fill("walk.in@example.com")
    office.get_by_role("button", name="Email the result").click()
    office.get_by_text("The signed result was emailed to walk.in@example.com.").wait_for()
    assert "The signed result for Walk In was emailed to walk.in@example.com from the counter" in office.content()
    [mail] = live_server.smtp.wait_for("walk.in@example.com")
    assert "/signed/" in mail.get_body(preferencelist=("plain",)).get_content()
