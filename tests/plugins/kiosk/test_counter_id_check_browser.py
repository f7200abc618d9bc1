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

from core.extensions import db
from core.models import Tenant
from tests.plugins.id_check.images import Shot, photo_of
from tests.plugins.id_check.specimens import ANNA, passport
from tests.plugins.id_check.test_plugin_browser import FAKE_CAMERA
from tests.plugins.kiosk.test_kiosk_browser import generation, pair_tablet, push, written
from tests.signing.test_signer_browser import draw_with_mouse, send_live_case, signer

pytestmark = pytest.mark.browser

NAME = ANNA["party"]


@pytest.fixture
def contexts(browser):
    photo = photo_of(passport(), Shot("flat"))
    officer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    officer.add_init_script("window.__cameraPhoto = 'data:image/jpeg;base64," + base64.b64encode(photo).decode()
                            + "';" + FAKE_CAMERA)
    tablet = browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True, is_mobile=True,
                                 locale="en-GB")
    pages = officer.new_page(), tablet.new_page()
    for page in pages:
        page.set_default_timeout(20000)
    yield pages
    officer.close()
    tablet.close()


def switch_on(live_server, people, mode: str):
    with live_server.app.app_context():
        tenant = db.session.get(Tenant, people.acme.id)
        tenant.enabled_plugins = ["kiosk", "id_check"]
        tenant.plugin_settings = {"id_check": {"require_mode": mode}}
        db.session.commit()


def anna_case(live_server, people):
    made, _original = send_live_case(live_server, people, [signer(NAME, "anna@example.com", methods=["touch"],
                                                                  personal_number=ANNA["personal_number"])],
                                     methods=["touch"])
    return made


def shown(tablet):
    """The pushed party's page is on the tablet, with its script running (as before a person's tap)."""
    tablet.locator("h1", has_text="Lease 12").wait_for()
    tablet.wait_for_function("() => window.__kioskGeneration > 0")


def sign_and_check_nothing_is_left(live_server, tablet, length_before: int):
    tablet.get_by_label("I have read the documents and agree to sign them").check()
    draw_with_mouse(tablet, "#touch-pad")
    tablet.get_by_role("button", name="Sign with my drawn signature").click()
    tablet.get_by_role("heading", name="Thank you for signing").wait_for()
    tablet.locator("#kiosk-idle").wait_for()  # a few seconds after signing
    # Every page of the signing replaced the one before: the history is as long as before the push.
    assert tablet.evaluate("history.length") == length_before
    assert tablet.evaluate("localStorage.length + sessionStorage.length") == 0
    tablet.go_back()
    tablet.wait_for_load_state()
    content = tablet.content()
    assert "Lease 12" not in content and NAME not in content and "sign-form" not in content


def test_the_officer_checks_the_id_at_the_counter_and_the_tablet_opens_signing(live_server, people, contexts):
    office, tablet = contexts
    switch_on(live_server, people, "in_person")
    made = anna_case(live_server, people)
    pair_tablet(live_server, office, tablet)
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
    sign_and_check_nothing_is_left(live_server, tablet, length_before)


def test_the_check_by_the_signer_on_the_tablet_has_the_idle_timer(live_server, people, contexts):
    office, tablet = contexts
    switch_on(live_server, people, "remote")
    made = anna_case(live_server, people)
    pair_tablet(live_server, office, tablet)
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
    sign_and_check_nothing_is_left(live_server, tablet, length_before)
