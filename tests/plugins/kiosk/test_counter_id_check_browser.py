"""The ID check with the kiosk, in Chromium (officer at 1280 px, tablet 800x1280 touch).

In person: the tablet shows the party what to do; the officer photographs the ID document with
the office computer's camera on the case page; the tablet then opens the signing methods by itself.
By the signer: the check's page on the tablet runs the tablet's idle timer, and the party
photographs (uploads) the document there. Either way the tablet's history is as long after the
signing as before the push, and Back does not show the documents.
"""

from __future__ import annotations

import base64

import pytest

from tests.plugins.id_check.images import Shot, photo_of
from tests.plugins.id_check.specimens import ANNA, passport
from tests.plugins.id_check.test_plugin_browser import FAKE_CAMERA
from tests.plugins.kiosk.browser_helpers import (
    at_the_counter,
    back_to_idle_with_nothing_left,
    draw_and_sign,
    generation,
    office_and_tablet,
    push,
    shown,
    written,
)
from tests.signing.test_signer_browser import signer

pytestmark = pytest.mark.browser

NAME = ANNA["party"]


@pytest.fixture
def contexts(browser):
    photo = photo_of(passport(), Shot("flat"))
    camera = "window.__cameraPhoto = 'data:image/jpeg;base64," + base64.b64encode(photo).decode() + "';" + FAKE_CAMERA
    with office_and_tablet(browser, timeout=20000, office_script=camera) as pages:
        yield pages


def anna_at_the_counter(live_server, people, office, tablet, mode: str):
    """Kiosk and ID check (`mode`) on for Acme, a case for Anna, and the tablet paired."""
    anna = signer(NAME, "anna@example.com", methods=["touch"], personal_number=ANNA["personal_number"])
    return at_the_counter(live_server, people, office, tablet, [anna], ["touch"], plugins=("kiosk", "id_check"),
                          settings={"id_check": {"require_mode": mode}})


def sign_and_check_nothing_is_left(tablet, length_before: int):
    draw_and_sign(tablet)
    # A few seconds after signing; every page of the signing replaced the one before.
    back_to_idle_with_nothing_left(tablet, length_before, ("Lease 12", NAME, "sign-form"))


def test_the_officer_checks_the_id_at_the_counter_and_the_tablet_opens_signing(live_server, people, contexts):
    office, tablet = contexts
    made = anna_at_the_counter(live_server, people, office, tablet, "in_person")
    length_before = tablet.evaluate("history.length")

    push(office, made, party=NAME)
    shown(tablet)
    steps = tablet.locator("#steps")
    assert "Show your ID document to the officer in person" in steps.inner_text()
    assert tablet.locator("#sign-form").count() == 0
    steps.get_by_role("link", name="Show your ID document to the officer in person").click()
    tablet.wait_for_url("**/id-check/s/**")
    tablet.get_by_role("heading", name="Show your ID document to the officer in person").wait_for()

    # The officer's case page says what the tablet waits for, and has the camera.
    office.wait_for_url(f"**/cases/{made.case_id}")
    assert "Before signing on the tablet: Show your ID document to the officer in person" in \
        office.locator("#kiosk").inner_text()
    panel = office.locator("#id-check")
    panel.get_by_role("button", name="Use the camera").first.click()
    panel.get_by_role("button", name="Take the photo").click()
    panel.get_by_text("Photo taken.").wait_for()
    panel.get_by_label("I have seen the person and the document").check()
    panel.get_by_role("button", name="Check the document").click()
    office.get_by_text(f"The ID check of {NAME} passed.").wait_for()

    # The tablet notices by itself and shows the signing methods.
    tablet.locator("#sign-form").wait_for()
    assert "/id-check/" not in tablet.url
    sign_and_check_nothing_is_left(tablet, length_before)


def test_the_check_by_the_signer_on_the_tablet_has_the_idle_timer(live_server, people, contexts):
    office, tablet = contexts
    made = anna_at_the_counter(live_server, people, office, tablet, "remote")
    length_before = tablet.evaluate("history.length")

    push(office, made, party=NAME)
    shown(tablet)
    tablet.get_by_role("link", name="Check your ID document").click()
    tablet.wait_for_url("**/id-check/s/**")
    tablet.locator("#id-front").wait_for()
    live_server.app.config["KIOSK_IDLE_SECONDS"] = 3
    tablet.locator("#kiosk-idle").wait_for()  # 3 s untouched on the check's page
    assert tablet.evaluate("history.length") == length_before

    live_server.app.config["KIOSK_IDLE_SECONDS"] = 120
    push(office, made, party=NAME)
    shown(tablet)
    tablet.get_by_role("link", name="Check your ID document").click()
    tablet.wait_for_url("**/id-check/s/**")
    tablet.set_input_files("#id-front", files=[{"name": "passport.jpg", "mimeType": "image/jpeg",
                                                "buffer": photo_of(passport(), Shot("flat"))}])
    before = generation(tablet)
    tablet.get_by_role("button", name="Check the document").click()
    tablet.get_by_role("heading", name="Your ID document is checked").wait_for()
    written(tablet, before)
    tablet.get_by_role("link", name="Back to signing").click()
    tablet.locator("#sign-form").wait_for()
    sign_and_check_nothing_is_left(tablet, length_before)
