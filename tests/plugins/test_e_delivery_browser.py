"""The NDA flow in a real browser: the officer attaches the price list, two parties sign the NDA,
and the file appears for them only after the last signature."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.extensions import db
from core.models import Tenant
from tests import support
from tests.signing.test_signer_browser import draw_with_mouse, link_from_email, send_live_case, signer

pytestmark = pytest.mark.browser

PRICES = b"Confidential price list\nWidgets: 10 SEK\n"


def sign_by_drawing(page, link):
    page.goto(link)
    page.get_by_label("I have read the documents and agree to sign them").check()
    draw_with_mouse(page, "#touch-pad")
    page.get_by_role("button", name="Sign with my drawn signature").click()
    page.get_by_role("heading", name="Thank you for signing").wait_for()


def test_files_unlock_only_after_the_last_signature(live_server, people, page):
    with live_server.app.app_context():
        db.session.get(Tenant, people.acme.id).enabled_plugins = ["e_delivery"]
        db.session.commit()
    send_live_case(live_server, people, [
        signer("Sara Svensson", "sara@example.com", methods=["touch"]),
        signer("Per Persson", "per@example.com", methods=["touch"]),
    ], methods=["touch"], title="NDA")
    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill("alice@acme.example")
    page.get_by_label("Password").fill(support.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="NDA").first.click()
    page.set_input_files("#delivery-file", files=[{"name": "prices.txt", "mimeType": "text/plain", "buffer": PRICES}])
    page.get_by_label("Short description").fill("Price list under NDA")
    support.click_and_load(page, page.get_by_role("button", name="Attach the file"))
    assert page.locator("#e-delivery").get_by_role("link", name="prices.txt").is_visible()

    sara_link = link_from_email(live_server, "sara@example.com")
    per_link = link_from_email(live_server, "per@example.com")
    sign_by_drawing(page, sara_link)
    assert "prices.txt" not in page.content()  # one signature is missing: nothing shows

    sign_by_drawing(page, per_link)
    download_link = page.get_by_role("link", name="Download prices.txt")
    for _ in range(60):  # sealing runs in the background; the party reloads their page
        page.goto(per_link)
        if download_link.count():
            break
        page.wait_for_timeout(500)
    with page.expect_download() as download:
        download_link.click()
    assert Path(download.value.path()).read_bytes() == PRICES
