"""The web form in Chromium on a 360 px phone: the office turns it on on the template's page, a
visitor opens the link in Swedish, gives their details, fills in and signs on the core's signer page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Case, Officer
from tenants.scoping import tenant_context
from tests import support
from tests.browser.test_phone_layout import narrow_page  # noqa: F401  (a fixture)
from tests.plugins.web_forms.helpers import fill_and_sign_in_browser, form_template

pytestmark = pytest.mark.browser


def test_a_visitor_on_a_phone_fills_in_and_signs_and_a_case_starts(live_server, people, browser,
                                                                    narrow_page):  # noqa: F811
    people.acme.enabled_plugins = ["web_forms"]
    db.session.commit()
    with live_server.app.app_context():
        with tenant_context(people.acme.id):
            alice = db.session.get(Officer, people.alice.id)
        template_id = form_template(alice)

    office = narrow_page
    support.browser_login(office, live_server.url, "alice@acme.example")
    office.goto(f"{live_server.url}/templates/{template_id}")
    panel = office.locator("#web-form-panel")
    panel.get_by_label("Thank-you text, shown after signing").fill("Tack! Vi hör av oss.")
    support.click_and_load(office, panel.get_by_role("button", name="Turn on", exact=True))
    link = office.locator("#web-form-link")
    link.wait_for()
    url = link.input_value()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/f/[A-Za-z0-9_-]{20,}", url)
    assert office.evaluate("document.documentElement.scrollWidth") <= 360

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="sv-SE")
    visitor = context.new_page()
    visitor.set_default_timeout(15000)
    try:
        visitor.goto(url)
        visitor.get_by_text("Från Acme AB").wait_for()
        assert visitor.evaluate("document.documentElement.scrollWidth") <= 360
        visitor.get_by_role("button", name="Fortsätt till dokumentet").click()
        visitor.locator("#wf-name-error", has_text="Ange ditt namn.").wait_for()
        visitor.get_by_label("Ditt namn").fill("Åsa Öberg")
        visitor.get_by_label("Din e-postadress").fill("asa@example.com")
        visitor.get_by_role("button", name="Fortsätt till dokumentet").click()
        visitor.wait_for_url(re.compile(r".*/s/[A-Za-z0-9_-]+$"))
        fill_and_sign_in_browser(visitor, "sv")
        visitor.get_by_text("Tack! Vi hör av oss.").wait_for()
        visitor.wait_for_load_state()  # the width of the loaded page, not of one being parsed
        assert visitor.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()

    # The office's list of submissions fits the phone too, and names the visitor.
    office.goto(f"{live_server.url}/templates/{template_id}")
    support.click_and_load(office, office.get_by_role("link", name="Submissions"))
    office.get_by_text("asa@example.com").wait_for()
    wide = office.evaluate("() => [...document.querySelectorAll('body *')]"
                           ".filter(e => e.getBoundingClientRect().right > 361).map(e => e.tagName + '#' + e.id)")
    assert office.evaluate("document.documentElement.scrollWidth") <= 360, wide
    office.goto(f"{live_server.url}/web-forms/")
    assert office.evaluate("document.documentElement.scrollWidth") <= 360

    with live_server.app.app_context(), tenant_context(people.acme.id):
        [case] = db.session.scalars(sa.select(Case)).all()
        visitor_party = next(p for p in case.parties if p.role_key == "tenant")
        assert (visitor_party.name, visitor_party.status, visitor_party.language) == ("Åsa Öberg", "signed", "sv")
        assert case.status == "pending" and case.owner_id == people.alice.id
