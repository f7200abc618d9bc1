"""A new case from a template in the office: people for the roles, prefilled values, version recorded."""

from __future__ import annotations

import sqlalchemy as sa

from core.case_templates import service
from core.extensions import db
from core.fields.service import fields_of
from core.jobs import drain
from core.models import Case, Event
from tenants.scoping import tenant_context
from tests import support


def use_form(client, template, **changes) -> dict:
    url = f"/templates/{template.id}/use"
    data = {"csrf_token": support.csrf_token(client, url), "version": str(template.version), "title": "Lease 7B",
            "message": "Welcome", "expires_on": "2099-01-01", "person-tenant-name": "Sara Svensson",
            "person-tenant-email": "Sara@Example.com", "person-tenant-phone": "070-123 45 67",
            "person-tenant-language": "en", "person-our-signatory-name": "Alice Andersson",
            "person-our-signatory-email": "alice@acme.example", "person-our-signatory-language": "en",
            "action": "save"}
    data.update(changes)
    return data


def the_case(people) -> Case:
    db.session.expire_all()
    with tenant_context(people.acme.id):
        return db.session.scalars(sa.select(Case)).one()


def test_a_fixed_person_is_filled_in_for_its_role(client, people, login, make_template):
    template = make_template()
    login(people.bob)
    html = client.get(f"/templates/{template.id}/use").get_data(as_text=True)
    assert 'name="person-our-signatory-name" value="Alice Andersson"' in html
    assert 'name="person-tenant-name" value=""' in html


def test_the_case_gets_the_documents_people_fields_and_version(client, people, login, make_template):
    template = make_template()
    login(people.bob)
    url = f"/templates/{template.id}/use"
    response = client.post(url, data=use_form(client, template, **{"value-notes": "Pets: one cat"}))
    assert response.status_code == 302
    case = the_case(people)
    with tenant_context(people.acme.id):
        assert (case.template_id, case.template_version, case.status) == (template.id, 1, "draft")
        assert [(p.role_key, p.name, p.email, p.phone) for p in case.parties] == [
            ("tenant", "Sara Svensson", "sara@example.com", "+46701234567"),
            ("our-signatory", "Alice Andersson", "alice@acme.example", None)]
        fields = {f.name: f for f in fields_of(case)}
        assert fields["notes"].default == "Pets: one cat"
        assert {f.party_id for f in fields.values()} == {case.parties[0].id}
        assert db.session.scalars(sa.select(Event.kind).where(Event.case_id == case.id,
                                                              Event.kind == "made_from_template")).all()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Made from the template Lease agreement, version 1." in page and "Pets: one cat" in page


def test_sending_at_once_invites_the_people(client, people, login, make_template):
    template = make_template()
    login(people.bob)
    response = client.post(f"/templates/{template.id}/use", data=use_form(client, template, action="send"))
    assert response.status_code == 302 and the_case(people).status == "pending"
    drain()
    assert any(m["To"] == "sara@example.com" for m in support.outbox_messages())


def test_a_template_changed_meanwhile_is_shown_anew_with_what_was_typed(client, people, login, make_template):
    template = make_template()
    login(people.bob)
    data = use_form(client, template)
    with tenant_context(people.acme.id):
        service.save_version(template, people.alice, service.version_of(template).content, base_version=1)
        db.session.commit()
    response = client.post(f"/templates/{template.id}/use", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Alice Andersson changed the template while you were filling in; this is version 2." in html
    assert 'value="Sara Svensson"' in html and 'name="version" value="2"' in html
    with tenant_context(people.acme.id):
        assert db.session.scalars(sa.select(Case)).all() == []


def test_bad_input_says_what_and_where_and_keeps_the_rest(client, people, login, make_template):
    template = make_template()
    login(people.bob)
    data = use_form(client, template, **{"person-tenant-email": "sara@", "value-city": "Paris"})
    html = client.post(f"/templates/{template.id}/use", data=data).get_data(as_text=True)
    assert "Give a valid email address" in html and 'value="Sara Svensson"' in html
    data = use_form(client, template, **{"value-city": "Paris"})
    response = client.post(f"/templates/{template.id}/use", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose one of the options." in html and 'value="Paris"' in html
    with tenant_context(people.acme.id):
        assert db.session.scalars(sa.select(Case)).all() == []


def test_later_edits_of_the_template_never_change_the_case(client, people, login, make_template):
    template = make_template()
    login(people.bob)
    client.post(f"/templates/{template.id}/use", data=use_form(client, template))
    with tenant_context(people.acme.id):
        content = service.version_of(template).content
        moved = [{**f, "x": 0.01, "label": "Changed"} for f in content["fields"]]
        service.save_version(template, people.alice, {**content, "fields": moved}, base_version=1)
        db.session.commit()
        case = the_case(people)
        assert all(f.label != "Changed" and f.x > 0.1 for f in fields_of(case))


def test_an_archived_template_cannot_be_used(client, people, login, make_template):
    template = make_template()
    with tenant_context(people.acme.id):
        service.set_archived(template, people.alice, True)
        db.session.commit()
    login(people.bob)
    response = client.get(f"/templates/{template.id}/use")
    assert response.status_code == 302
    assert "archived" in client.get(response.headers["Location"]).get_data(as_text=True)
