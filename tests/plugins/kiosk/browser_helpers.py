"""The counter in Chromium, for the kiosk's browser tests: the officer's page (1280 px) and the
tablet's (800x1280, touch), the plugins switched on, a case sent and a tablet paired through the
pages, a party pushed to the tablet, and what the tablet must show (and no longer show) after."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from core.extensions import db
from core.models import Tenant
from tests import support
from tests.signing.test_signer_browser import draw_with_mouse, send_live_case


@contextmanager
def office_and_tablet(browser, timeout: int = 15000, office_script: str | None = None):
    """(the officer's page, the tablet's page), in English; `office_script` runs in every page of
    the officer's (a fake camera)."""
    officer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    if office_script:
        officer.add_init_script(office_script)
    tablet = browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True, is_mobile=True,
                                 locale="en-GB")
    pages = officer.new_page(), tablet.new_page()
    for page in pages:
        page.set_default_timeout(timeout)
    yield pages
    officer.close()
    tablet.close()


@pytest.fixture
def contexts(browser):
    with office_and_tablet(browser) as pages:
        yield pages


def switch_on(live_server, people, plugins=("kiosk",), settings: dict | None = None) -> None:
    """The plugins on for Acme (and their settings, when given)."""
    with live_server.app.app_context():
        tenant = db.session.get(Tenant, people.acme.id)
        tenant.enabled_plugins = list(plugins)
        if settings is not None:
            tenant.plugin_settings = settings
        db.session.commit()


def pair_tablet(live_server, office, tablet, name="Counter 2"):
    support.browser_login(office, live_server.url, "alice@acme.example")
    support.click_and_load(office, office.get_by_role("link", name="Kiosk"))  # else content() is the old page's
    address = live_server.url + "/kiosk/o/acme/"
    assert address in office.content()
    support.click_and_load(office, office.get_by_role("button", name="Show a pairing code"))
    code = office.locator("#kiosk-code").inner_text()
    assert office.locator(".kiosk-qr svg").count() == 1
    tablet.goto(address)
    tablet.get_by_label("Pairing code").fill(code)
    tablet.get_by_label("Name of this tablet").fill(name)
    tablet.get_by_role("button", name="Pair").click()
    tablet.locator("#kiosk-idle").wait_for()


def generation(tablet) -> int:
    """How many pages the tablet's script has run on in this window (a form's answer is written in
    place of the page, in the same window)."""
    return tablet.evaluate("window.__kioskGeneration || 0")


def written(tablet, before: int) -> None:
    """A form's answer, sent by the tablet's script with fetch, has been written in place of the
    page and its scripts have run again. Until then a link there is a plain navigation (one more
    history entry) and a form posts past the script: the answer's text alone does not tell."""
    tablet.wait_for_function("before => window.__kioskGeneration > before && document.readyState === 'complete'",
                             arg=before)


def at_the_counter(live_server, people, office, tablet, signers: list[dict], methods: list[str],
                   plugins=("kiosk",), settings: dict | None = None):
    """The plugins on for Acme, a case ("Lease 12") sent to `signers`, and a tablet ("Counter 2")
    paired by Alice: the case."""
    switch_on(live_server, people, plugins, settings)
    made, _original = send_live_case(live_server, people, signers, methods=methods)
    pair_tablet(live_server, office, tablet)
    return made


def push(office, made, party="Sara Svensson", tablet="Counter 2"):
    office.goto(office.url.split("/kiosk")[0].split("/cases")[0] + f"/cases/{made.case_id}")
    panel = office.locator("#kiosk")
    panel.get_by_label("Party").select_option(label=party)
    panel.get_by_label("Tablet").select_option(label=tablet)
    support.click_and_load(office, panel.get_by_role("button", name="Sign on tablet"))


def shown(tablet):
    """The pushed party's page is on the tablet, with its script running (as before a person's tap)."""
    tablet.locator("h1", has_text="Lease 12").wait_for()
    tablet.wait_for_function("() => window.__kioskGeneration > 0")


def draw_and_sign(tablet):
    """The party consents, draws and signs on the tablet, and is thanked."""
    tablet.get_by_label("I have read the documents and agree to sign them").check()
    draw_with_mouse(tablet, "#touch-pad")
    tablet.get_by_role("button", name="Sign with my drawn signature").click()
    tablet.get_by_role("heading", name="Thank you for signing").wait_for()


def back_to_idle_with_nothing_left(tablet, length_before: int | None,
                                   absent: tuple[str, ...] = ("Lease 12", "Sara Svensson")):
    """The tablet is idle again, stores nothing, and Back shows none of `absent`; with
    `length_before`, every page of the signing replaced the one before (the history is as long as
    before the push)."""
    tablet.locator("#kiosk-idle").wait_for()
    if length_before is not None:
        assert tablet.evaluate("history.length") == length_before
    assert tablet.evaluate("localStorage.length + sessionStorage.length") == 0
    tablet.go_back()
    tablet.wait_for_load_state()
    content = tablet.content()
    assert not [text for text in absent if text in content], tablet.url
