"""BankID and the SMS code on the kiosk tablet (800x1280 touch), in Chromium: the customer scans the
tablet's QR code with their phone's BankID app (the BankID simulator plays the app), opens BankID on
the tablet itself, or types the code the local 46elks server received. Each signature says kiosk
mode; the tablet goes back to idle, and Back does not show the documents."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Signature
from tenants.scoping import tenant_context
from tests.plugins.kiosk.browser_helpers import (  # noqa: F401  (contexts: a fixture)
    at_the_counter,
    back_to_idle_with_nothing_left,
    contexts,
    generation,
    push,
    shown,
    written,
)
from tests.signing.conftest import elks_server  # noqa: F401  (the local 46elks server)
from tests.signing.test_signer_browser import signer
from tests.signing_bankid.conftest import ALICE, app, bankid_server, control  # noqa: F401

pytestmark = pytest.mark.browser

PHONE = "+46701234567"


def the_signature(server, people) -> Signature:
    with server.app.app_context(), tenant_context(people.acme.id):
        signature = db.session.scalars(sa.select(Signature)).one()
        db.session.expunge_all()
        return signature


def test_bankid_qr_code_on_the_tablet_for_the_customers_phone(bankid_server, people, sim, contexts):  # noqa: F811
    office, tablet = contexts
    made = at_the_counter(bankid_server, people, office, tablet, [signer(methods=["bankid"])], ["bankid"])
    length_before = tablet.evaluate("history.length")
    push(office, made)
    shown(tablet)
    tablet.get_by_label("I have read the documents and agree to sign them").check()
    tablet.locator("#bankid-other").click()
    qr = tablet.wait_for_function("() => { const f = document.getElementById('bankid-qr');"
                                  " return !f.hidden && f.dataset.qr; }").json_value()
    assert tablet.locator("#bankid-qr svg").count() == 1
    scanned = control(sim, "scan", qr=qr, personalNumber=ALICE.personal_number)
    control(sim, f"orders/{scanned['orderRef']}/approve")
    tablet.get_by_role("heading", name="Thank you for signing").wait_for()
    signature = the_signature(bankid_server, people)
    assert signature.method == "bankid" and signature.evidence["plugins"]["kiosk"]["device"] == "Counter 2"
    assert signature.evidence["same_device"] is False
    back_to_idle_with_nothing_left(tablet, length_before)


def test_bankid_on_the_tablet_itself(bankid_server, people, sim, contexts):  # noqa: F811
    office, tablet = contexts
    made = at_the_counter(bankid_server, people, office, tablet, [signer(methods=["bankid"])], ["bankid"])
    push(office, made)
    shown(tablet)
    tablet.get_by_label("I have read the documents and agree to sign them").check()
    tablet.locator("#bankid-same").click()
    tablet.wait_for_url(lambda url: url.startswith(sim.control_url + "?order="))  # the simulated app
    tablet.locator(".order.selected").get_by_role("button", name="Approve").click()
    tablet.get_by_role("heading", name="Thank you for signing").wait_for()
    signature = the_signature(bankid_server, people)
    assert signature.method == "bankid" and signature.evidence["same_device"] is True
    assert signature.evidence["plugins"]["kiosk"]["device"] == "Counter 2"
    # The simulated BankID app is a page in this tab (the real app is not), and the way back from it
    # is a navigation the tablet cannot replace: the history grows. Still no entry of ours shows
    # the documents: Back through all of them.
    tablet.locator("#kiosk-idle").wait_for(timeout=15000)
    ours = 0
    for _step in range(tablet.evaluate("history.length")):
        tablet.go_back()
        tablet.wait_for_load_state()
        if tablet.url.startswith(bankid_server.url):
            ours += 1
            content = tablet.content()
            assert "Lease 12" not in content and "Sara Svensson" not in content, tablet.url
    assert ours >= 1


def test_sms_code_on_the_tablet(live_server, people, contexts, elks_server):  # noqa: F811
    office, tablet = contexts
    live_server.app.config.update(SMS_GATEWAY="46elks", ELKS_URL=elks_server.url,
                                  ELKS_USERNAME=elks_server.username, ELKS_PASSWORD=elks_server.password)
    made = at_the_counter(live_server, people, office, tablet, [signer(methods=["sms"])], ["sms"])
    length_before = tablet.evaluate("history.length")
    push(office, made)
    shown(tablet)
    before = generation(tablet)
    tablet.get_by_role("button", name="Send the code").click()
    tablet.get_by_text("We sent a code to +4670XXXXX67").wait_for()
    written(tablet, before)
    [code] = elks_server.codes_to(PHONE)
    tablet.get_by_label("I have read the documents and agree to sign them").check()
    tablet.get_by_label("Code from the text message").fill("000000" if code != "000000" else "111111")
    before = generation(tablet)
    tablet.get_by_role("button", name="Sign with the code").click()
    tablet.get_by_text("wrong", exact=False).first.wait_for()  # refused in place, the page still works
    written(tablet, before)
    tablet.get_by_label("I have read the documents and agree to sign them").check()
    tablet.get_by_label("Code from the text message").fill(code)
    tablet.get_by_role("button", name="Sign with the code").click()
    tablet.get_by_role("heading", name="Thank you for signing").wait_for()
    signature = the_signature(live_server, people)
    assert signature.method == "sms" and signature.evidence["plugins"]["kiosk"]["device"] == "Counter 2"
    back_to_idle_with_nothing_left(tablet, length_before)
