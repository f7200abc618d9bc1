"""Signing with BankID in Chromium: the QR code on a desktop, the app on a phone, and every way it fails.

The simulator plays the BankID app: it scans the QR frame the page shows, approves, refuses or lets
time run out. Cases are made through the case service on the live server's database.
"""

from __future__ import annotations

import json
import re
import time

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Event, Officer, Signature
from tenants.scoping import tenant_context
from tests.signing.helpers import make_case, signer
from tests.signing_bankid.conftest import ALICE, BERTIL, control, orders

pytestmark = pytest.mark.browser

SARA = "Sara Svensson"


def send_case(server, people, **party) -> tuple:
    with server.app.app_context():
        with tenant_context(people.acme.id):
            bob = db.session.get(Officer, people.bob.id)
        made = make_case(bob, [signer(**party)], methods=["bankid", "touch"])
    return made, server.url + made.path(SARA)


def shown_qr(page, other_than: str = "") -> str:
    """The QR text the page shows now (different from `other_than`)."""
    handle = page.wait_for_function(
        "previous => { const f = document.getElementById('bankid-qr');"
        " return !f.hidden && f.dataset.qr && f.dataset.qr !== previous && f.dataset.qr; }", arg=other_than)
    return handle.json_value()


def bankid_message(page, starts_with: str) -> None:
    page.wait_for_function("text => document.getElementById('bankid-message').textContent.startsWith(text)",
                           arg=starts_with)


def saved_signature(server, people) -> tuple[Signature, Event]:
    with server.app.app_context(), tenant_context(people.acme.id):
        signature = db.session.scalars(sa.select(Signature)).one()
        event = db.session.scalars(sa.select(Event).where(Event.kind == "party_signed")).one()
        db.session.expunge_all()
        return signature, event


def test_a_signer_scans_the_changing_qr_code_and_signs_with_the_keyboard(bankid_server, people, sim, page):
    made, link = send_case(bankid_server, people)
    page.goto(link)
    page.focus("#consent")
    page.keyboard.press("Space")
    page.focus("#bankid-other")
    page.keyboard.press("Enter")

    first = shown_qr(page)
    second = shown_qr(page, first)
    t1, t2 = int(first.split(".")[2]), int(second.split(".")[2])
    assert first.split(".")[1] == second.split(".")[1] and t2 > t1  # a new frame every second
    assert page.locator("#bankid-qr svg").count() == 1
    assert page.evaluate("document.activeElement.id") == "bankid-cancel"
    bankid_message(page, "Start your BankID app.")

    scanned = control(sim, "scan", qr=shown_qr(page), personalNumber=ALICE.personal_number)
    bankid_message(page, "Enter your security code in the BankID app")
    control(sim, f"orders/{scanned['orderRef']}/approve")
    page.get_by_role("heading", name="Thank you for signing").wait_for()

    signature, event = saved_signature(bankid_server, people)
    assert signature.method == "bankid" and signature.identity["personal_number"] == ALICE.personal_number
    assert signature.evidence["completion_data"]["signature"]
    assert event.data["evidence"]["personal_number"] == "19800101-XXXX"
    assert ALICE.personal_number not in json.dumps(event.data)


def test_every_failure_shows_bankids_message_and_a_way_to_try_again(bankid_server, people, sim, page):
    made, link = send_case(bankid_server, people)
    page.goto(link)
    page.check("#consent")
    page.click("#bankid-other")
    shown_qr(page)

    # The signer cancels on the page: BankID is told, the order is gone.
    page.click("#bankid-cancel")
    bankid_message(page, "Action cancelled.")
    assert page.evaluate("document.activeElement.id") == "bankid-retry"
    assert orders(sim) == []

    rounds = [
        ("the signer cancels in the app", lambda ref, qr: control(sim, f"orders/{ref}/cancel"), "Action cancelled."),
        ("the order expires", lambda ref, qr: (control(sim, "scan", qr=qr), control(sim, "time", advance=181)),
         "The BankID app is not responding."),
        ("nobody scans in time", lambda ref, qr: control(sim, "time", advance=31), "Failed to scan the QR code."),
    ]
    for _why, happen, message in rounds:
        page.click("#bankid-retry")
        qr = shown_qr(page)
        [pending] = [o for o in orders(sim) if o["status"] == "pending"]
        happen(pending["orderRef"], qr)
        bankid_message(page, message)
        assert page.locator("#bankid-retry").is_visible() and page.locator("#bankid-qr").is_hidden()

    control(sim, "faults", endpoint="sign", error="maintenance")
    page.click("#bankid-retry")
    bankid_message(page, "Internal error. Please try again.")
    page.click("#bankid-retry")
    shown_qr(page)  # BankID is back
    with bankid_server.app.app_context(), tenant_context(people.acme.id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0


def test_only_the_named_person_can_sign(bankid_server, people, sim, page):
    made, link = send_case(bankid_server, people, personal_number=ALICE.personal_number)
    page.goto(link)
    page.check("#consent")
    page.click("#bankid-other")
    control(sim, "scan", qr=shown_qr(page), personalNumber=BERTIL.personal_number)
    bankid_message(page, "Searching for BankID")
    control(sim, "time", advance=31)
    bankid_message(page, "Failed to scan the QR code.")
    page.click("#bankid-retry")
    scanned = control(sim, "scan", qr=shown_qr(page), personalNumber=ALICE.personal_number)
    control(sim, f"orders/{scanned['orderRef']}/approve")
    page.get_by_role("heading", name="Thank you for signing").wait_for()


def test_on_a_phone_bankid_opens_on_the_same_device_and_returns(bankid_server, people, sim, browser):
    made, link = send_case(bankid_server, people)
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True,
                                  device_scale_factor=2, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(link)
        page.locator("#method-bankid").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        buttons = page.locator("[data-bankid-start] button")
        assert buttons.first.get_attribute("id") == "bankid-same"  # on a phone, this device comes first
        page.check("#consent")
        buttons.first.click()
        page.wait_for_url(lambda url: url.startswith(sim.control_url + "?order="))  # the simulated app
        page.locator(".order.selected").get_by_role("button", name="Approve").click()
        page.get_by_role("heading", name="Thank you for signing").wait_for()
        assert page.url.startswith(link)
        signature, _ = saved_signature(bankid_server, people)
        assert signature.evidence["same_device"] is True
    finally:
        context.close()


def test_leaving_the_page_cancels_the_qr_order(bankid_server, people, sim, page):
    made, link = send_case(bankid_server, people)
    page.goto(link)
    page.check("#consent")
    page.click("#bankid-other")
    shown_qr(page)
    page.goto("about:blank")
    deadline = time.monotonic() + 15  # the page's beacon, then the server's cancel: not timed here
    while orders(sim) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert orders(sim) == []


def test_an_answer_on_its_way_when_the_signer_cancels_does_not_bring_the_order_back(bankid_server, people, sim,
                                                                                     page):
    """The page asks BankID every second. An answer ("still waiting") that is on its way when the
    signer cancels and starts again is about the cancelled order: it must not put that order back
    on the page (its QR code, its polling), and the page must go on asking about the new one."""
    made, link = send_case(bankid_server, people)
    held = []

    def answer_later(route):
        if holding and not held:
            held.append((route, route.fetch()))  # the server has answered; the answer is slow to arrive
        else:
            route.continue_()

    holding = False
    page.route(re.compile(r".*/bankid/collect$"), answer_later)
    page.goto(link)
    page.check("#consent")
    page.click("#bankid-other")
    first = shown_qr(page)
    holding = True
    for _ in range(300):  # the page's next question (it asks every second)
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page never asked BankID"
    holding = False
    page.click("#bankid-cancel")
    bankid_message(page, "Action cancelled.")
    page.click("#bankid-retry")
    again = shown_qr(page, first)
    route, response = held.pop()
    route.fulfill(response=response)  # "still waiting", about the cancelled order

    scanned = control(sim, "scan", qr=shown_qr(page, again), personalNumber=ALICE.personal_number)
    control(sim, f"orders/{scanned['orderRef']}/approve")
    page.get_by_role("heading", name="Thank you for signing").wait_for()
