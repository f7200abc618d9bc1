"""The signer's journey in a real browser (Chromium): a phone with touch and a desktop.

The case is made through the case service on the live server; the link comes from the email the
real SMTP server received; SMS codes come from the local 46elks server.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from core.extensions import db
from core.models import Case, Officer, Signature
from core.models.base import utcnow
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import support
from tests.signing.helpers import LEASE_LINES, drawn_signature, make_case, pdf, signer

pytestmark = pytest.mark.browser

PHONE = "+46701234567"


def send_live_case(live_server, people, signers, **kwargs):
    with live_server.app.app_context():
        with tenant_context(people.acme.id):
            bob = db.session.get(Officer, people.bob.id)
        made = make_case(bob, signers, issue_links=False, **kwargs)
        with tenant_context(people.acme.id):
            original = blobs().get(made.document_sha256)
    return made, original


def link_from_email(live_server, email: str) -> str:
    """The signing link from the invitation to `email`. Mails are delivered by background jobs, so
    a later notice (e.g. "revoked") may arrive first: wait for the one that carries a link."""
    for count in range(1, 4):
        for message in live_server.smtp.wait_for(email, count=count):
            links = [link for link in support.links_in(message) if "/s/" in link]
            if links:
                return links[0]
    raise AssertionError(f"no signing link in the mails to {email}")


def signatures(live_server, tenant_id: int) -> list[Signature]:
    with live_server.app.app_context(), tenant_context(tenant_id):
        return db.session.scalars(sa.select(Signature)).all()


def _ready_to_draw(page, selector: str) -> None:
    """The pad's script has run and the page's images have their place (a picture loading above the
    pad would move it under a stroke drawn at its old position), and the pad is in view."""
    page.wait_for_load_state("load")
    page.locator(selector).scroll_into_view_if_needed()


def draw_with_touch(page, selector: str) -> None:
    """A finger stroke: real touch events through the DevTools protocol."""
    _ready_to_draw(page, selector)
    box = page.locator(selector).bounding_box()
    cdp = page.context.new_cdp_session(page)
    x0, y = box["x"] + 30, box["y"] + box["height"] / 2
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y}]})
    for step in range(1, 16):
        point = {"x": x0 + step * 15, "y": y + (12 if step % 2 else -12)}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def draw_with_mouse(page, selector: str) -> None:
    _ready_to_draw(page, selector)
    box = page.locator(selector).bounding_box()
    x0, y = box["x"] + 40, box["y"] + box["height"] / 2
    page.mouse.move(x0, y)
    page.mouse.down()
    for step in range(1, 16):
        page.mouse.move(x0 + step * 20, y + (15 if step % 2 else -15))
    page.mouse.up()


def test_a_phone_signer_opens_the_email_link_compares_and_signs_by_touch(live_server, people, phone_page):
    made, original = send_live_case(live_server, people, [signer(language="en")])
    page = phone_page
    page.goto(link_from_email(live_server, "sara@example.com"))
    assert page.locator("h1").inner_text() == "Lease 12"
    page.locator("img[alt^='Page 1 of 2']").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

    page.set_input_files(f"#copy-{made.document_id}",
                         files=[{"name": "lease.pdf", "mimeType": "application/pdf", "buffer": original}])
    page.wait_for_function("id => document.getElementById(id).textContent.startsWith('Identical')",
                           arg=f"copy-{made.document_id}-result")
    assert not page.get_by_role("button", name="Show the differences").is_visible()
    changed = pdf([line.replace("9 500", "5 500") for line in LEASE_LINES])
    page.set_input_files(f"#copy-{made.document_id}",
                         files=[{"name": "lease.pdf", "mimeType": "application/pdf", "buffer": changed}])
    page.wait_for_function("id => document.getElementById(id).textContent.startsWith('Not identical')",
                           arg=f"copy-{made.document_id}-result")
    support.click_and_load(page, page.get_by_role("button", name="Show the differences"))  # on the server
    assert page.get_by_text("Page 1 differs").is_visible()
    assert page.locator("ins", has_text="5 500 SEK").count() == 2
    support.click_and_load(page, page.get_by_role("link", name="Back to the documents"))  # its script ran

    page.get_by_label("I have read the documents and agree to sign them").check()
    page.get_by_role("button", name="Sign with my drawn signature").click()
    assert page.get_by_text("The signature pad is empty").is_visible()  # refused in the browser
    draw_with_touch(page, "#touch-pad")
    page.get_by_role("button", name="Sign with my drawn signature").click()
    page.get_by_role("heading", name="Thank you for signing").wait_for()
    [signature] = signatures(live_server, people.acme.id)
    assert signature.method == "touch" and signature.evidence["point_count"] >= 10


def test_a_desktop_signer_signs_by_sms_code_from_46elks(live_server, people, page, elks_server):
    live_server.app.config.update(SMS_GATEWAY="46elks", ELKS_URL=elks_server.url,
                                  ELKS_USERNAME=elks_server.username, ELKS_PASSWORD=elks_server.password)
    send_live_case(live_server, people, [signer(language="en")])
    page.goto(link_from_email(live_server, "sara@example.com"))
    page.get_by_role("radio", name="Code by text message").check()
    support.click_and_load(page, page.get_by_role("button", name="Send the code"))
    page.get_by_text("We sent a code to +4670XXXXX67").wait_for()
    [code] = elks_server.codes_to(PHONE)
    page.get_by_label("I have read the documents and agree to sign them").check()
    page.get_by_label("Code from the text message").fill(code)
    page.get_by_role("button", name="Sign with the code").click()
    page.get_by_role("heading", name="Thank you for signing").wait_for()
    [signature] = signatures(live_server, people.acme.id)
    assert signature.method == "sms" and signature.identity["phone"] == PHONE


def test_parallel_sign_requests_give_one_signature(live_server, people):
    made, _ = send_live_case(live_server, people, [signer(language="en", methods=["touch"])])
    url = link_from_email(live_server, "sara@example.com")
    session = requests.Session()
    html = session.get(url, timeout=10).text
    form = {"csrf_token": re.search(r'name="csrf-token" content="([^"]+)"', html).group(1),
            "documents_digest": re.search(r'name="documents_digest" value="([^"]+)"', html).group(1),
            "method": "touch", "consent": "yes", **drawn_signature()}
    barrier = threading.Barrier(4)
    answers = []

    def post():
        barrier.wait()
        answers.append(session.post(url + "/sign", data=form, timeout=30))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 4
    assert all("Thank you for signing" in a.text for a in answers)
    assert len(signatures(live_server, people.acme.id)) == 1


def test_a_signer_declines_and_closed_links_explain_themselves(live_server, people, page):
    send_live_case(live_server, people, [signer(language="en"), signer("Per Persson", "per@example.com",
                                                                        language="en")])
    sara, per = link_from_email(live_server, "sara@example.com"), link_from_email(live_server, "per@example.com")
    page.goto(per)
    page.get_by_text("Decline to sign").first.click()
    page.get_by_label("Why do you decline?").fill("The rent is wrong")
    page.get_by_role("button", name="Decline to sign").click()
    page.get_by_role("heading", name="You have declined to sign").wait_for()
    page.goto(sara)
    page.get_by_role("heading", name="This case has been declined").wait_for()

    made, _ = send_live_case(live_server, people, [signer("Rut Revoked", "rut@example.com", language="en")],
                             title="Old lease")
    with live_server.app.app_context(), tenant_context(people.acme.id):
        from core.cases import service as cases

        cases.revoke_case(db.session.get(Case, made.case_id), db.session.get(Officer, people.bob.id), "Wrong flat")
        db.session.commit()
    page.goto(link_from_email(live_server, "rut@example.com"))
    page.get_by_role("heading", name="The sender has withdrawn this case").wait_for()
    assert page.get_by_text("Wrong flat").is_visible()

    made, _ = send_live_case(live_server, people, [signer("Eva Expired", "eva@example.com", language="en")],
                             title="Late offer")
    with live_server.app.app_context(), tenant_context(people.acme.id):
        db.session.get(Case, made.case_id).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    page.goto(link_from_email(live_server, "eva@example.com"))
    page.get_by_role("heading", name="This link has expired").wait_for()
