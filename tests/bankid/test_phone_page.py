"""The simulator's phone-app page, driven in Chromium as a developer would use it."""

from __future__ import annotations

import pytest

from tests.bankid.conftest import BERTIL, VISIBLE

pytestmark = pytest.mark.browser


def test_a_person_scans_the_qr_and_approves_on_the_phone_page(sim, bankid, page):
    order = bankid.sign("192.0.2.10", VISIBLE)
    page.goto(sim.control_url)
    page.select_option("#user", BERTIL.personal_number)
    page.fill("#qr", order.qr_frame())
    page.click("#scan")
    page.get_by_text("Scanned: userSign").wait_for()
    assert "Lease agreement 12" in page.locator(f"[data-order-ref='{order.order_ref}'] pre").inner_text()

    page.locator(f"[data-order-ref='{order.order_ref}']").get_by_role("button", name="Approve").click()
    page.locator(f"[data-order-ref='{order.order_ref}']").get_by_text("complete").wait_for()
    assert bankid.collect(order.order_ref).completion_data["user"]["name"] == "Bertil Berg"


def test_the_page_shows_a_refused_qr(sim, bankid, page):
    bankid.sign("192.0.2.10", VISIBLE)
    page.goto(sim.control_url)
    page.fill("#qr", "bankid.nothing.0.abc")
    page.click("#scan")
    page.get_by_text("The QR code belongs to no waiting order").wait_for()


def test_same_device_approval_returns_to_the_rp(sim, bankid, phone_page):
    order = bankid.sign("192.0.2.10", VISIBLE, return_url=sim.control_url + "orders#returned")
    phone_page.goto(sim.control_url + f"autostart?autostarttoken={order.auto_start_token}")
    phone_page.locator(".order.selected").get_by_role("button", name="Approve").click()
    phone_page.wait_for_url("**/orders#returned")
    assert bankid.collect(order.order_ref).status == "complete"
