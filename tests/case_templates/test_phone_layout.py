"""The template pages, the field editor and a case with fields fit a 360 px wide phone."""

from __future__ import annotations

import pytest

from core.extensions import db
from core.models import Officer
from tenants.scoping import tenant_context
from tests import support
from tests.browser.test_phone_layout import narrow_page  # noqa: F401  (a fixture)
from tests.fields.helpers import lease_template, lease_with_fields

pytestmark = pytest.mark.browser


def test_template_pages_and_the_field_editor_fit_a_360_px_phone(live_server, people, narrow_page):  # noqa: F811
    with live_server.app.app_context():
        with tenant_context(people.acme.id):
            alice = db.session.get(Officer, people.alice.id)
        template_id = lease_template(alice).id
        made = lease_with_fields(alice, send=False)
    page = narrow_page
    support.browser_login(page, live_server.url, "alice@acme.example")
    too_wide = {}
    for path in ("/templates/", "/templates/new", f"/templates/{template_id}", f"/templates/{template_id}/edit",
                 f"/templates/{template_id}/use", f"/templates/{template_id}/fields", f"/cases/{made.case_id}",
                 f"/cases/{made.case_id}/fields", f"/cases/?template={template_id}"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            too_wide[path] = width
    assert not too_wide, too_wide
