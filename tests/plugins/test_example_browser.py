"""The plugin surfaces in Chromium on a 360 px phone, by keyboard alone: a plugin's settings on the
admin page, and a step before signing on the signer page (Swedish), with no serious axe findings."""

from __future__ import annotations

import threading

import pytest

from core.extensions import db
from tests import support
from tests.browser.test_accessibility import AXE, violations
from tests.conftest import free_port
from tests.plugins import example
from tests.signing.helpers import make_case, signer

pytestmark = pytest.mark.browser


@pytest.fixture
def served(app_factory):
    """The app with the example plugin, on loopback (acme has it on)."""
    from werkzeug.serving import make_server

    port = free_port()
    app = app_factory(_plugins=[example], BASE_URL=f"http://127.0.0.1:{port}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        people = support.make_people()
        people.acme.enabled_plugins = [example.NAME]
        db.session.commit()
        made = make_case(people.alice, [signer("Sara Svensson", "sara@example.com", language="sv")],
                         methods=["touch", "sms"])
        path = made.path("Sara Svensson")
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url, server.app, server.signer_path = f"http://127.0.0.1:{port}", app, path
    yield server
    server.shutdown()


@pytest.fixture
def phone(browser):
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `npm ci` (make test does)")
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 361)
        .map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 60)""")
    assert width <= 360, f"{page.url} is {width} px wide: {wide}"


def _tab_to(page, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_admin_sets_a_plugins_settings_by_keyboard_on_a_phone(served, phone):
    support.browser_login(phone, served.url, "alice@acme.example")
    phone.goto(served.url + "/admin/")
    _fits(phone)
    assert violations(phone) == []
    _tab_to(phone, "#plugin-example-require_confirmation")
    phone.keyboard.press("Space")
    _tab_to(phone, "#plugin-example-max_visits")
    phone.keyboard.press("Control+A")
    phone.keyboard.type("500")
    _tab_to(phone, "form.plugin-settings button[type=submit]")
    with phone.expect_navigation(wait_until="load"):  # the answer's page with its stylesheet, not the old one
        phone.keyboard.press("Enter")
    error = phone.locator("#plugin-example-max_visits-error")
    assert error.inner_text() == "Visits a day: give a value from 1 to 100."  # alice reads English
    assert phone.locator("#plugin-example-max_visits").get_attribute("aria-invalid") == "true"
    _fits(phone)
    phone.locator("#plugin-example-max_visits").fill("20")
    phone.locator("#plugin-example-max_visits").press("Enter")
    phone.wait_for_url("**/admin/#plugin-example")
    with served.app.app_context():
        from core.models import Tenant

        settings = db.session.scalars(db.select(Tenant).where(Tenant.slug == "acme")).one().plugin_settings
    assert settings["example"]["max_visits"] == 20 and settings["example"]["require_confirmation"] is True


def test_a_party_completes_the_step_by_keyboard_then_sees_the_methods(served, phone):
    with served.app.app_context():
        from core.models import Tenant

        acme = db.session.scalars(db.select(Tenant).where(Tenant.slug == "acme")).one()
        acme.plugin_settings = {"example": {"require_confirmation": True, "notice": "Läs villkoren."}}
        db.session.commit()
    phone.goto(served.url + served.signer_path)
    assert phone.locator("#steps-heading").inner_text() == "Innan du skriver under"
    assert phone.locator("#sign-form").count() == 0
    _fits(phone)
    assert violations(phone) == []
    _tab_to(phone, "#steps a")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/example/confirm/**")
    assert "Läs villkoren." in phone.content()
    _fits(phone)
    _tab_to(phone, "button[type=submit]")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**" + served.signer_path)
    assert phone.locator("#steps").count() == 0 and phone.locator("#sign-form").count() == 1
    _fits(phone)
