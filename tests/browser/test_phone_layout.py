"""Every office and public page fits a 360 px wide phone: nothing wider than the screen."""

import pytest

from tests import support
from tests.signing.helpers import make_case, signer

pytestmark = pytest.mark.browser


@pytest.fixture
def narrow_page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_office_and_public_pages_fit_a_360_px_phone(live_server, people, narrow_page):
    with live_server.app.app_context():
        from core.extensions import db
        from core.models import Officer
        from tenants.scoping import tenant_context

        with tenant_context(people.acme.id):
            alice = db.session.get(Officer, people.alice.id)
            made = make_case(alice, [signer()], issue_links=False)
            case_id = made.case.id
    page = narrow_page
    for path in ("/login", "/verify/", "/o/acme"):
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    support.login(live_server.app.test_client(), "alice@acme.example")  # /account lists another device
    support.browser_login(page, live_server.url, "alice@acme.example")
    for path in ("/cases/", "/cases/new", f"/cases/{case_id}", "/admin/", "/account", "/admin/api"):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide"
