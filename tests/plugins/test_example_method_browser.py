"""A plugin's signing method in a real browser (Chromium, a 360 px phone): chosen among the core's,
filled in by keyboard, signed, and named with its icon, in Swedish."""

from __future__ import annotations

import pytest

from core.extensions import db
from core.models import Officer
from tenants.scoping import tenant_context
from tests.plugins import example_method
from tests.plugins.test_example_method import NUMBER
from tests.signing.helpers import make_case, signer
from tests.signing.test_signer_browser import link_from_email, signatures

pytestmark = pytest.mark.browser


@pytest.fixture
def app_factory(app_factory):
    def make(**extra):
        extra.setdefault("_plugins", [example_method])
        return app_factory(**extra)

    return make


def test_a_phone_signer_chooses_the_plugin_method_and_signs_by_keyboard(live_server, people, phone_page):
    people.acme.enabled_plugins = ["example_method"]
    db.session.commit()
    with live_server.app.app_context():
        with tenant_context(people.acme.id):
            bob = db.session.get(Officer, people.bob.id)
        make_case(bob, [signer(language="sv", personal_number=NUMBER)], methods=["touch", "sms", "typed_name"],
                  issue_links=False, language="sv")
    page = phone_page
    page.goto(link_from_email(live_server, "sara@example.com"))
    choice = page.get_by_role("radio", name="Skriv ditt namn")
    assert page.locator("label", has=choice).locator("#typed-icon").count() == 1
    choice.check()
    page.get_by_label("Jag har läst handlingarna och vill skriva under dem").check()
    field = page.get_by_label("Ditt namn, som i inbjudan")
    assert field.is_visible() and not page.locator("#touch-pad").is_visible()
    field.fill("Sara Svensson")
    field.press("Tab")  # the next stop is the method's own button
    assert page.evaluate("document.activeElement.id") == "typed-name-sign"
    with page.expect_navigation():  # measured below on the loaded answer, not mid-navigation
        page.keyboard.press("Enter")
    page.get_by_role("heading", name="Tack för din underskrift").wait_for()
    [signature] = signatures(live_server, people.acme.id)
    assert signature.method == "typed_name" and signature.evidence["typed_name"] == "Sara Svensson"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
