"""At 360 px, a wrong SMS code is told at the code field, which gets focus (Chromium)."""

from __future__ import annotations

import pytest

from core.extensions import db
from core.models import Officer
from tenants.scoping import tenant_context
from tests import support
from tests.browser.test_accessibility import violations
from tests.signing.helpers import SARA, make_case, signer

pytestmark = pytest.mark.browser


@pytest.fixture
def narrow_page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_a_wrong_code_is_told_at_the_code_field_which_gets_focus(live_server, people, narrow_page):
    page = narrow_page
    with live_server.app.app_context():
        with tenant_context(people.acme.id):
            bob = db.session.get(Officer, people.bob.id)
        made = make_case(bob, [signer(language="en")], methods=["touch", "sms"])
    page.goto(live_server.url + made.path(SARA))
    page.get_by_role("radio", name="Code by text message").check()
    support.click_and_load(page, page.get_by_role("button", name="Send the code"))
    page.get_by_text("We sent a code to").wait_for()
    page.get_by_label("I have read the documents and agree to sign them").check()
    page.get_by_label("Code from the text message").fill("000000")
    # The answer's page loaded: its script has moved focus, and its layout is final for measuring.
    support.click_and_load(page, page.get_by_role("button", name="Sign with the code"))

    error = page.locator("#sign-error")
    error.wait_for()
    assert error.inner_text().startswith("Wrong code. You have 4 attempts left.")
    code = page.locator("#sms-code")
    assert page.evaluate("document.activeElement.id") == "sms-code"
    assert "sign-error" in code.get_attribute("aria-describedby").split()
    assert code.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Code from the text message").is_visible()
    # the message sits at the field, not far above it, and both are on screen
    field, told = code.bounding_box(), error.bounding_box()
    assert abs(told["y"] - (field["y"] + field["height"])) < 40
    assert 0 <= told["y"] <= 740 and 0 <= field["y"] <= 740
    assert page.locator(".flash-error").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert violations(page) == []
