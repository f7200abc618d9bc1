"""The stamp signature with BankID in Chromium, against the BankID simulator: the QR code on a
desktop, and the app on the same phone (out to the app and back to the stamp page)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Officer, Signature
from tenants.scoping import tenant_context
from tests.plugins.stamp_signature.helpers import SARA, sign_with_bankid_by_qr, stamp_on
from tests.signing.helpers import make_case, pdf, signer
from tests.signing_bankid.conftest import ALICE, bankid_server, control  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def cases_for_sara(server, people, count: int) -> list:
    stamp_on(server.app, people.acme.id)
    with server.app.app_context():
        with tenant_context(people.acme.id):
            alice, bob = db.session.get(Officer, people.alice.id), db.session.get(Officer, people.bob.id)
        return [make_case(alice if n % 2 else bob,
                          [signer(SARA, "sara@example.com", methods=["bankid", "touch"],
                                  personal_number=ALICE.personal_number)],
                          methods=["bankid", "touch"], title=f"Lease {n}", document=pdf([f"Lease {n}"]))
                for n in range(1, count + 1)]


def signed_cases(server, people) -> set[int]:
    with server.app.app_context(), tenant_context(people.acme.id):
        return {s.case_id for s in db.session.scalars(sa.select(Signature).where(Signature.method == "bankid"))}


def test_one_bankid_signature_from_the_qr_code_signs_every_ticked_case(bankid_server, people, sim, page):  # noqa: F811
    made = cases_for_sara(bankid_server, people, 3)
    page.goto(bankid_server.url + f"/stamp/s/{made[0].token(SARA)}")
    page.get_by_label("Select all").check()
    sign_with_bankid_by_qr(page, sim, ALICE.personal_number)
    page.get_by_text("You signed 3 cases in one stamp signature.").wait_for(timeout=20000)
    assert signed_cases(bankid_server, people) == {m.case_id for m in made}


def test_on_a_phone_bankid_opens_on_the_same_device_and_returns_to_the_stamp_page(
        bankid_server, people, sim, browser):  # noqa: F811
    made = cases_for_sara(bankid_server, people, 2)
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True,
                                  device_scale_factor=2, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(bankid_server.url + f"/stamp/s/{made[0].token(SARA)}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.get_by_label("Select all").check()
        page.get_by_label("I have read the ticked documents and agree to sign them.").check()
        assert page.locator("[data-bankid-start] button").first.get_attribute("id") == "bankid-same"
        page.locator("#bankid-same").click()
        page.wait_for_url(lambda url: url.startswith(sim.control_url + "?order="))  # the simulated app
        # The simulated app lays the long listing out wider than the phone; approve by keyboard.
        page.locator(".order.selected").get_by_role("button", name="Approve").press("Enter")
        page.get_by_text("You signed 2 cases in one stamp signature.").wait_for()
        assert "/stamp/s/" in page.url
    finally:
        context.close()
    assert signed_cases(bankid_server, people) == {m.case_id for m in made}


def test_the_page_shows_only_the_methods_every_ticked_case_allows(bankid_server, people, sim, page):  # noqa: F811
    made = cases_for_sara(bankid_server, people, 2)
    with bankid_server.app.app_context(), tenant_context(people.acme.id):
        bob = db.session.get(Officer, people.bob.id)
        drawn = make_case(bob, [signer(SARA, "sara@example.com", methods=["touch"],
                                       personal_number=ALICE.personal_number)],
                          methods=["touch"], title="Drawn only", document=pdf(["Drawn only"]))
    page.goto(bankid_server.url + f"/stamp/s/{made[0].token(SARA)}")
    bankid, touch = page.locator("[data-stamp-method='bankid']"), page.locator("[data-stamp-method='touch']")
    assert bankid.is_visible() and touch.is_visible()
    page.get_by_label("Lease 1").check()
    assert bankid.is_visible() and touch.is_visible()
    page.get_by_label("Drawn only").check()
    assert not bankid.is_visible() and touch.is_visible()
    page.get_by_label("Drawn only").uncheck()
    assert bankid.is_visible()
    page.get_by_label("Select all").check()
    assert not bankid.is_visible() and touch.is_visible()
    assert drawn.case_id
