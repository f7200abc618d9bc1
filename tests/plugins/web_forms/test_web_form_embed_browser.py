"""The web form embedded in Chromium: the office lists an origin and copies the snippet; a page of
that origin (another site: localhost beside the service's 127.0.0.1, a second loopback server)
shows the form, which sizes its frame; a visitor on a 360 px phone fills it in and submits inside
the frame (no cookie reaches a cross-site frame) and signs in the top window. A page of an origin
not listed gets nothing: the browser refuses to frame the form."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Case, Officer
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.web_forms.helpers import fill_and_sign_in_browser, form_template

pytestmark = pytest.mark.browser


class Site:
    """Another website on loopback that serves one page with the office's snippet in it."""

    def __init__(self):
        self.snippet = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802  (http.server's name)
                data = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                        "content=\"width=device-width, initial-scale=1\"><title>Shop</title></head><body "
                        f"style=\"margin:0\"><h1>Our shop</h1>{site.snippet}<p id=\"below\">Below the form</p>"
                        "</body></html>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args):
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.httpd.server_address[1]}"  # another site than 127.0.0.1
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def sites():
    made = []

    def make() -> Site:
        made.append(Site())
        return made[-1]

    yield make
    for site in made:
        site.close()


def test_a_listed_site_embeds_the_form_a_visitor_submits_in_the_frame_and_an_unlisted_site_is_refused(
        live_server, people, browser, sites):
    people.acme.enabled_plugins = ["web_forms"]
    db.session.commit()
    with live_server.app.app_context():
        with tenant_context(people.acme.id):
            alice = db.session.get(Officer, people.alice.id)
        template_id = form_template(alice)

    # The office lists the shop's origin and copies the snippet.
    shop, stranger = sites(), sites()  # the stranger is not listed
    office_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    office_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    office = office_context.new_page()
    office.set_default_timeout(20000)
    try:
        support.browser_login(office, live_server.url, "alice@acme.example")
        office.goto(f"{live_server.url}/templates/{template_id}")
        panel = office.locator("#web-form-panel")
        panel.get_by_label("Websites that may embed the form (optional)").fill(shop.origin)
        panel.get_by_label("Thank-you text, shown after signing").fill("Thanks, we will call you.")
        # The answer's page loaded: its script, which copies the snippet, is there before the click below.
        support.click_and_load(office, panel.get_by_role("button", name="Turn on", exact=True))
        office.locator("#web-form-embed").wait_for()
        office.locator("#web-form-embed summary").click()
        office.get_by_role("button", name="Copy the code").click()
        office.locator("#web-form-copy-status", has_text="Copied.").wait_for()
        snippet = office.evaluate("navigator.clipboard.readText()")
    finally:
        office_context.close()
    assert snippet.startswith("<iframe id=\"sigill-form-") and f"{live_server.url}/f/" in snippet
    shop.snippet = stranger.snippet = snippet

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="en-GB")
    visitor = context.new_page()
    visitor.set_default_timeout(20000)
    console: list[str] = []
    visitor.on("console", lambda message: console.append(message.text))
    try:
        # A site not listed: the browser refuses to show the form in its frame.
        visitor.goto(stranger.origin + "/")
        visitor.locator("#below").wait_for()
        for _ in range(40):
            if any("frame-ancestors" in line for line in console):
                break
            visitor.wait_for_timeout(250)
        assert any(f"frame-ancestors {shop.origin}" in line and ("blocked" in line or "Refused" in line)
                   for line in console), console
        framed = [f for f in visitor.frames if f != visitor.main_frame]
        assert all(f.locator("#wf-name").count() == 0 for f in framed)

        # The listed site: the form shows in the frame, which takes the form's height.
        visitor.goto(shop.origin + "/")
        form_frame = visitor.frame_locator("iframe[id^=sigill-form-]")
        form_frame.get_by_text("From Acme AB").wait_for()
        frame = next(f for f in visitor.frames if "/f/" in f.url)
        visitor.wait_for_function(
            "() => document.querySelector('iframe').style.height !== '640px'")
        for _ in range(100):  # the frame follows the form as its page finishes loading: until it has caught up
            content_height = frame.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
            frame_height = visitor.evaluate("document.querySelector('iframe').getBoundingClientRect().height")
            if abs(frame_height - content_height) <= 2:
                break
            visitor.wait_for_timeout(100)
        assert abs(frame_height - content_height) <= 2, (frame_height, content_height)
        assert visitor.evaluate("document.documentElement.scrollWidth") <= 360

        # Errors make the form taller: the frame follows.
        form_frame.get_by_role("button", name="Continue to the document").click()
        form_frame.locator("#wf-name-error", has_text="Give your name.").wait_for()
        visitor.wait_for_function(f"() => document.querySelector('iframe').getBoundingClientRect().height > "
                                  f"{frame_height + 10}")

        # The visitor fills in and submits inside the frame (no cookie: a cross-site frame keeps none).
        form_frame.get_by_label("Your name").fill("Åsa Öberg")
        form_frame.get_by_label("Your email address").fill("asa@example.com")
        form_frame.get_by_role("button", name="Continue to the document").click()
        form_frame.get_by_text("Your document is ready").wait_for()
        assert visitor.url.startswith(shop.origin)
        with live_server.app.app_context(), tenant_context(people.acme.id):
            [case] = db.session.scalars(sa.select(Case)).all()
            assert case.status == "pending"

        # The document opens in the top window (the signer page is never framed), where they sign.
        form_frame.get_by_role("link", name="Open the document").click()
        visitor.wait_for_url(re.compile(re.escape(live_server.url) + r"/s/[A-Za-z0-9_-]+$"))
        fill_and_sign_in_browser(visitor, "en")
        visitor.get_by_text("Thanks, we will call you.").wait_for()
    finally:
        context.close()

    with live_server.app.app_context(), tenant_context(people.acme.id):
        [case] = db.session.scalars(sa.select(Case)).all()
        party = next(p for p in case.parties if p.role_key == "tenant")
        assert (party.name, party.status) == ("Åsa Öberg", "signed")


def test_an_embedded_form_that_requires_a_confirmed_email_starts_the_case_once_confirmed_and_exports(
        live_server, people, browser, sites, tmp_path):
    """The issue's whole path: embedded on a listed site, a visitor on a phone gives a personal
    number, confirms the emailed link, fills in and signs; the organisation signs; the officer
    downloads the Excel file, whose cells have the right values and types."""
    import io
    import time
    from datetime import datetime

    from openpyxl import load_workbook

    from core.models import Document
    from plugins.web_forms.models import WebForm
    from tests.plugins.web_forms.helpers import turn_on
    from tests.plugins.web_forms.test_web_form import sign

    people.acme.enabled_plugins = ["web_forms"]
    db.session.commit()
    shop = sites()
    with live_server.app.app_context():
        with tenant_context(people.acme.id):
            alice = db.session.get(Officer, people.alice.id)
        template_id = form_template(alice)
        client = live_server.app.test_client()
        support.login(client, "alice@acme.example")
        assert turn_on(client, template_id, frame_origins=shop.origin, require_confirmation="1",
                       require_personal_number="1").status_code == 302
        page = client.get(f"/templates/{template_id}").get_data(as_text=True)
    import html as html_lib

    shop.snippet = html_lib.unescape(re.search(r'<textarea id="web-form-snippet"[^>]*>(.*?)</textarea>', page,
                                               re.S).group(1))

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="sv-SE")
    visitor = context.new_page()
    visitor.set_default_timeout(20000)
    try:
        visitor.goto(shop.origin + "/")
        frame = visitor.frame_locator("iframe[id^=sigill-form-]")
        frame.get_by_label("Ditt namn").fill("Åsa Öberg")
        frame.get_by_label("Din e-postadress").fill("asa@example.com")
        frame.get_by_label("Ditt personnummer").fill("19811218-9876")
        frame.get_by_role("button", name="Fortsätt till dokumentet").click()
        frame.get_by_text("Kolla din e-post").wait_for()
        with live_server.app.app_context(), tenant_context(people.acme.id):
            assert db.session.scalars(sa.select(Case)).all() == []

        [mail] = live_server.smtp.wait_for("asa@example.com")
        link = re.search(r"http://127\.0\.0\.1:\d+/f/confirm/[A-Za-z0-9_-]+", support.body_text(mail)).group(0)
        visitor.goto(link)  # from the mail app: the top window
        visitor.get_by_role("button", name="Bekräfta och fortsätt").click()
        visitor.wait_for_url(re.compile(re.escape(live_server.url) + r"/s/[A-Za-z0-9_-]+$"))
        fill_and_sign_in_browser(visitor, "sv")
        visitor.get_by_text("Thanks, we will call you.").wait_for()
    finally:
        context.close()

    # The organisation's own signatory signs; the case is sealed.
    [invite] = live_server.smtp.wait_for("per@acme.example", timeout=60)
    landlord_path = re.search(r"/s/[A-Za-z0-9_-]+", support.body_text(invite)).group(0)
    with live_server.app.app_context():
        sign(live_server.app.test_client(), landlord_path)
    deadline = time.monotonic() + 120
    while True:
        with live_server.app.app_context(), tenant_context(people.acme.id):
            [case] = db.session.scalars(sa.select(Case)).all()
            codes = list(db.session.scalars(sa.select(Document.fingerprint).where(Document.case_id == case.id)))
            form_id = db.session.scalars(sa.select(WebForm.id)).one()
            if case.status == "completed" and all(codes):
                break
        assert time.monotonic() < deadline, case.status
        time.sleep(1)

    office_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB",
                                         accept_downloads=True)
    office = office_context.new_page()
    office.set_default_timeout(20000)
    try:
        support.browser_login(office, live_server.url, "alice@acme.example")
        office.goto(f"{live_server.url}/web-forms/{form_id}")
        office.get_by_text("19811218-XXXX").wait_for()
        office.get_by_text(codes[0]).wait_for()
        with office.expect_download() as download:
            office.get_by_role("link", name="Download as Excel").click()
        saved = tmp_path / "submissions.xlsx"
        download.value.save_as(saved)
    finally:
        office_context.close()
    sheet = load_workbook(io.BytesIO(saved.read_bytes())).active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert isinstance(row["Submitted (UTC)"], datetime)
    assert (row["Visitor"], row["Email"], row["Personal identity number"]) == ("Åsa Öberg", "asa@example.com",
                                                                               "19811218-XXXX")
    assert row["Status"] == "Signed" and row["Signed by"] == "Åsa Öberg; Per Persson"
    assert row["Rent"] == 9500 and isinstance(row["Rent"], int | float)
    assert row["Fingerprint"] == codes[0] and row["Case"] == case.id
    assert row["Case link"].endswith(f"/cases/{case.id}")
