"""The template pages, the field editor and a signer page with fields pass axe-core's WCAG 2 A/AA rules."""

from __future__ import annotations

import pytest

from core.extensions import db
from core.models import Officer
from tenants.scoping import tenant_context
from tests import support
from tests.browser.test_accessibility import axe_page, violations  # noqa: F401  (a fixture)
from tests.fields.helpers import lease_template, lease_with_fields

pytestmark = pytest.mark.browser


def test_template_and_field_pages_have_no_serious_accessibility_violations(live_server, people, axe_page):  # noqa: F811
    with live_server.app.app_context():
        with tenant_context(people.acme.id):
            alice = db.session.get(Officer, people.alice.id)
        template_id = lease_template(alice).id
        made = lease_with_fields(alice, values={"rent": "9500"})
    page = axe_page
    found: dict[str, list[str]] = {}
    for path in (made.links["tenant"], made.links["landlord"]):
        page.goto(live_server.url + path)
        page.locator(".field-spot").first.wait_for()
        found[path] = violations(page)
    support.browser_login(page, live_server.url, "alice@acme.example")
    for path in ("/templates/", "/templates/new", f"/templates/{template_id}", f"/templates/{template_id}/edit",
                 f"/templates/{template_id}/use", f"/templates/{template_id}/fields", f"/cases/{made.case_id}"):
        page.goto(live_server.url + path)
        found[path] = violations(page)
    problems = {path: lines for path, lines in found.items() if lines}
    assert not problems, "\n".join(f"{path}:\n  " + "\n  ".join(lines) for path, lines in problems.items())
