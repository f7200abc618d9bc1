"""A person logs in with a real browser (Debian's Chromium driven by Playwright)."""

import pytest

from tests import support

pytestmark = pytest.mark.browser


def test_officer_logs_in_and_sees_the_empty_case_list(live_server, page):
    with live_server.app.app_context():
        support.make_people()
    page.goto(live_server.url + "/")
    page.get_by_label("Email").fill("alice@acme.example")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong email or password."
    page.get_by_label("Password").fill(support.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/cases/**")
    assert page.get_by_role("heading", level=1).inner_text() == "Cases"
    assert "Acme AB" in page.locator(".topbar").inner_text()


def test_login_page_works_on_a_phone_in_swedish(live_server, phone_page):
    phone_page.goto(live_server.url + "/login")
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone_page.locator("html").get_attribute("lang") == "sv"
