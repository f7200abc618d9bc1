"""The field editor in Chromium by keyboard alone: a dropdown moved to the next page with Page Down
and given its options, a text field with a pattern; a definition the server refuses is shown on its
field and in the list of problems, and nothing placed is lost while it is put right."""

from __future__ import annotations

import pytest

from core.case_templates import service as templates
from core.case_templates.models import CaseTemplate
from core.extensions import db
from core.models import Officer
from tenants.scoping import tenant_context
from tests import support
from tests.case_templates.conftest import build_template
from tests.signing.helpers import LEASE_LINES, pdf

pytestmark = pytest.mark.browser


def saved_fields(live_server, people, template_id: int) -> list[dict]:
    with live_server.app.app_context(), tenant_context(people.acme.id):
        db.session.expire_all()
        template = db.session.get(CaseTemplate, template_id)
        return templates.version_of(template).content["fields"]


def test_fields_placed_by_keyboard_and_a_refused_definition_put_right(live_server, people, page):
    with live_server.app.app_context():
        with tenant_context(people.acme.id):
            alice = db.session.get(Officer, people.alice.id)
        template_id = build_template(alice, documents=[pdf(LEASE_LINES, pages=2)]).id
    support.browser_login(page, live_server.url, "alice@acme.example")
    page.goto(f"{live_server.url}/templates/{template_id}/fields")
    page.wait_for_selector(".fe-page[data-page='2'] img")

    page.select_option("#fe-new-assignee", "tenant")
    page.focus(".fe-palette [data-type=select]")
    page.keyboard.press("Enter")
    page.keyboard.press("PageDown")  # to page 2
    page.keyboard.press("Enter")  # to the label
    page.keyboard.type("Pet")
    page.fill("#fe-options", "Cat\nDog\nNone")
    page.focus(".fe-palette [data-type=text]")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("Customer number")
    page.fill("#fe-pattern", "([0-9]+)+")  # could hang the server: refused
    page.get_by_role("button", name="Save the fields").click()

    problem = "The pattern could make checking very slow"
    page.locator("#fe-errors").wait_for(state="visible")
    page.locator("#fe-error-list button", has_text=problem).wait_for()
    page.locator("#fe-field-errors", has_text=problem).wait_for()  # the selected field says it too
    assert page.locator(".fe-field").count() == 2 and page.locator(".fe-field.invalid").count() == 1
    assert saved_fields(live_server, people, template_id) == []  # nothing half saved

    page.locator("#fe-error-list button", has_text=problem).click()  # takes you to the field
    page.fill("#fe-pattern", "[0-9]{6}")
    page.get_by_role("button", name="Save the fields").click()
    page.locator("#fe-status", has_text="The fields have been saved").wait_for()
    assert page.locator(".fe-field.invalid").count() == 0

    by_label = {f["label"]: f for f in saved_fields(live_server, people, template_id)}
    pet, number = by_label["Pet"], by_label["Customer number"]
    assert (pet["type"], pet["page"], pet["options"], pet["assignee"]) == ("select", 2, ["Cat", "Dog", "None"],
                                                                            "tenant")
    assert (number["type"], number["pattern"]) == ("text", "[0-9]{6}")
    page.reload()
    page.wait_for_selector(".fe-field")
    assert page.locator(".fe-field").count() == 2


def test_a_colleagues_newer_version_is_said_and_the_placed_fields_are_kept(live_server, people, page):
    with live_server.app.app_context():
        with tenant_context(people.acme.id):
            alice = db.session.get(Officer, people.alice.id)
        template_id = build_template(alice, documents=[pdf(LEASE_LINES, pages=2)]).id
    support.browser_login(page, live_server.url, "alice@acme.example")
    page.goto(f"{live_server.url}/templates/{template_id}/fields")
    page.wait_for_selector(".fe-page[data-page='1'] img")
    page.focus(".fe-palette [data-type=text]")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("Full name")

    with live_server.app.app_context(), tenant_context(people.acme.id):  # Bob saves meanwhile
        bob = db.session.get(Officer, people.bob.id)
        template = db.session.get(CaseTemplate, template_id)
        content = templates.version_of(template).content
        templates.save_version(template, bob, {**content, "message": "Changed by Bob"}, base_version=1)
        db.session.commit()

    page.get_by_role("button", name="Save the fields").click()
    page.locator("#fe-status", has_text="Bob Berg saved a newer version of this template (version 2)").wait_for()
    assert "Your fields are still here" in page.locator("#fe-status").inner_text()
    assert page.locator(".fe-field").count() == 1 and saved_fields(live_server, people, template_id) == []
    page.get_by_role("button", name="Save the fields").click()
    page.locator("#fe-status", has_text="The fields have been saved").wait_for()
    with live_server.app.app_context(), tenant_context(people.acme.id):
        content = templates.version_of(db.session.get(CaseTemplate, template_id)).content
    assert content["message"] == "Changed by Bob"  # Bob's change stays
    assert [f["label"] for f in content["fields"]] == ["Full name"]
