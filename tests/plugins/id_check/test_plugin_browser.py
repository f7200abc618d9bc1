"""The ID check in Chromium on a 360 px phone: the officer requires it on the case, the signer
photographs (uploads) a specimen passport, the check passes, the officer approves it, the party
signs and the receipt has the check's line; a failed check blocks signing with a clear message."""

from __future__ import annotations

import io
import threading

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from core.extensions import db
from core.jobs import drain
from core.models import Case, Officer, Signature, Tenant
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import support
from tests.browser.test_accessibility import violations
from tests.conftest import free_port
from tests.plugins.id_check.images import RETAKES, Shot, photo_of
from tests.plugins.id_check.specimens import ANNA, passport
from tests.signing.helpers import make_case, signer
from tests.signing.test_signer_browser import draw_with_touch

pytestmark = pytest.mark.browser

ANNA_NAME = ANNA["party"]


@pytest.fixture
def served(app_factory):
    """The app on loopback; acme has ID check on and wants remote checks approved by an officer."""
    from werkzeug.serving import make_server

    port = free_port()
    app = app_factory(BASE_URL=f"http://127.0.0.1:{port}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        people = support.make_people()
        people.acme.enabled_plugins = ["id_check"]
        people.acme.plugin_settings = {"id_check": {"approve_remote": True}}
        db.session.commit()
        server_ids = (people.acme.id, people.alice.id, people.alice.name)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url, server.app = f"http://127.0.0.1:{port}", app
    server.acme_id, server.alice_id, server.alice_name = server_ids
    yield server
    server.shutdown()


def new_case(served, language: str):
    with served.app.app_context():
        with tenant_context(served.acme_id):
            alice = db.session.get(Officer, served.alice_id)
        return make_case(alice, [signer(ANNA_NAME, "anna@example.com", language=language,
                                                      personal_number=ANNA["personal_number"])], methods=["touch"])


def _phone(browser, locale: str):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale=locale)
    page = context.new_page()
    page.set_default_timeout(20000)
    return page


@pytest.fixture
def phone(browser):
    page = _phone(browser, "en-GB")
    yield page
    page.context.close()


@pytest.fixture
def officer(browser):
    page = _phone(browser, "en-GB")
    yield page
    page.context.close()


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width} px wide"


def _jpeg(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


def test_required_checked_approved_signed_and_on_the_receipt(served, phone, officer):
    made = new_case(served, "en")
    support.browser_login(officer, served.url, "alice@acme.example")
    officer.goto(f"{served.url}/cases/{made.case_id}")
    officer.get_by_label(f"ID check for {ANNA_NAME}").select_option("remote")
    support.click_and_load(officer, officer.get_by_role("button", name="Save the ID check"))
    officer.get_by_text(f"The ID check for {ANNA_NAME} is saved.").wait_for()
    _fits(officer)  # measured on the loaded answer, not mid-navigation

    phone.goto(served.url + made.path(ANNA_NAME))
    assert phone.locator("#sign-form").count() == 0
    _fits(phone)
    phone.get_by_role("link", name="Check your ID document").click()
    phone.wait_for_url("**/id-check/s/**")
    _fits(phone)
    assert violations(phone) == []
    front = phone.locator("#id-front")
    assert front.get_attribute("accept") == "image/*" and front.get_attribute("capture") == "environment"
    # A blurred photo is refused in the browser before any upload, with the reason at the field.
    phone.set_input_files("#id-front", files=[_jpeg("blurred.jpg", photo_of(passport(), RETAKES["blurred"]))])
    phone.wait_for_function("() => document.getElementById('id-front').getAttribute('aria-invalid') === 'true'")
    assert "The photo is blurred." in phone.locator("#id-front-check").inner_text()
    phone.get_by_role("button", name="Check the document").click()
    assert "/id-check/s/" in phone.url and phone.locator("#id-check-errors").count() == 0  # not sent
    phone.set_input_files("#id-front", files=[_jpeg("passport.jpg", photo_of(passport(), Shot("turned +4°",
                                                                                               angle=4)))])
    phone.wait_for_function("() => document.getElementById('id-front').getAttribute('aria-invalid') === 'false'")
    support.click_and_load(phone, phone.get_by_role("button", name="Check the document"))
    phone.get_by_text("An officer must approve the check before you can sign.").wait_for()
    support.click_and_load(phone, phone.get_by_role("link", name="Back to signing"))
    assert phone.locator("#sign-form").count() == 0  # on the signer page, not the check's

    officer.reload()
    assert officer.locator("#id-check img").count() == 1  # the photo, for the officer
    _fits(officer)
    assert violations(officer) == []
    officer.get_by_role("button", name=f"Approve the ID check of {ANNA_NAME}").click()
    officer.get_by_text("The ID check is approved: the party can sign.").wait_for()

    phone.reload()
    phone.get_by_label("I have read the documents and agree to sign them").check()
    draw_with_touch(phone, "#touch-pad")
    phone.get_by_role("button", name="Sign with my drawn signature").click()
    phone.get_by_role("heading", name="Thank you for signing").wait_for()

    with served.app.app_context():
        drain()
        with tenant_context(served.acme_id):
            signature = db.session.scalars(sa.select(Signature)).one()
            assert signature.evidence["plugins"]["id_check"]["approved_by"] == served.alice_name
            receipt = blobs().get(db.session.get(Case, made.case_id).documents[0].receipt_sha256)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt)).pages)
    assert "ID-kontroll" in text and "4567" in text and "AA1234567" not in text


def test_a_failed_check_blocks_signing_with_a_clear_message_in_swedish(served, browser):
    with served.app.app_context():
        acme = db.session.scalars(sa.select(Tenant).where(Tenant.slug == "acme")).one()
        acme.plugin_settings = {"id_check": {"require_mode": "remote"}}
        db.session.commit()
    made = new_case(served, "sv")
    page = _phone(browser, "sv-SE")
    try:
        page.goto(served.url + made.path(ANNA_NAME))
        page.get_by_role("link", name="Kontrollera din id-handling").click()
        page.wait_for_url("**/id-check/s/**")
        page.set_input_files("#id-front", files=[_jpeg("pass.jpg", photo_of(passport(broken="document_number"),
                                                                              Shot("flat")))])
        page.wait_for_function("() => document.getElementById('id-front').getAttribute('aria-invalid') === 'false'")
        support.click_and_load(page, page.get_by_role("button", name="Kontrollera handlingen"))
        alert = page.locator("#id-check-failed")
        alert.wait_for()
        assert "Kontrollen av din id-handling misslyckades" in alert.inner_text()
        _fits(page)
        support.click_and_load(page, page.get_by_role("link", name="Tillbaka till underskriften"))
        assert page.locator("#sign-form").count() == 0
        assert "Kontrollen av din id-handling misslyckades:" in page.locator("#steps").inner_text()
    finally:
        page.context.close()


# A webcam for the test: getUserMedia answers with a canvas showing the given photo, so the page's
# own video, outline, snapshot and checks run as they would with a real camera.
FAKE_CAMERA = """
(() => {
  const devices = navigator.mediaDevices || (navigator.mediaDevices = {});
  devices.getUserMedia = async () => {
    const image = new Image();
    image.src = window.__cameraPhoto;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const context = canvas.getContext("2d");
    const paint = () => context.drawImage(image, 0, 0);
    paint();
    setInterval(paint, 50);
    return canvas.captureStream(20);
  };
})();
"""


def _camera_page(browser, photo: bytes):
    import base64

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.add_init_script("window.__cameraPhoto = 'data:image/jpeg;base64," + base64.b64encode(photo).decode()
                            + "';" + FAKE_CAMERA)
    page = context.new_page()
    page.set_default_timeout(20000)
    return page


@pytest.mark.parametrize("shot, passes", [(RETAKES["blurred"], False), (Shot("flat"), True)],
                         ids=["blurred: take it again", "sharp: checked"])
def test_the_officer_photographs_the_document_with_the_webcam_in_person(served, browser, shot, passes):
    with served.app.app_context():
        acme = db.session.scalars(sa.select(Tenant).where(Tenant.slug == "acme")).one()
        acme.plugin_settings = {"id_check": {"require_mode": "in_person"}}
        db.session.commit()
    made = new_case(served, "en")
    page = _camera_page(browser, photo_of(passport(), shot))
    try:
        support.browser_login(page, served.url, "alice@acme.example")
        page.goto(f"{served.url}/cases/{made.case_id}")
        panel = page.locator("#id-check")
        panel.get_by_role("button", name="Use the camera").first.click()
        assert panel.locator(".id-camera-outline").count() == 1  # the guide to fit the document in
        panel.get_by_role("button", name="Take the photo").click()
        if not passes:
            message = panel.locator("[id$='-camera-message']").first
            message.wait_for()
            page.wait_for_function("(e) => e.textContent.includes('blurred')", arg=message.element_handle())
            assert panel.get_by_role("button", name="Take the photo").is_visible()  # still open: take it again
            return
        panel.get_by_text("Photo taken.").wait_for()
        panel.get_by_label("I have seen the person and the document").check()
        support.click_and_load(page, panel.get_by_role("button", name="Check the document"))
        page.get_by_text(f"The ID check of {ANNA_NAME} passed.").wait_for()
        assert page.locator("#id-check img").count() == 1
    finally:
        page.context.close()
