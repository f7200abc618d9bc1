"""The API's templates: list, read, make a case from one (idempotent), read a case's typed field values."""

from __future__ import annotations

from datetime import date

import pytest

from core.case_templates import service as templates
from core.extensions import db
from tenants.scoping import tenant_context
from tests.fields.helpers import lease_template

PEOPLE = {"tenant": {"name": "Sara Svensson", "email": "sara@example.com", "phone": "+46701234567"},
          "landlord": {"name": "Per Persson", "email": "per@example.com", "phone": "070-987 65 43"}}


@pytest.fixture
def lease(people):
    return lease_template(people.alice)


def test_templates_are_listed_and_searched(api, lease):
    answer = api.get("/api/v1/templates").json
    assert [t["name"] for t in answer["templates"]] == ["Lease with fields"]
    assert answer["templates"][0]["created_by"]["email"] == "alice@acme.example"
    assert api.get("/api/v1/templates?q=nothing").json == {"templates": []}


def test_a_template_shows_its_roles_and_fields(api, lease):
    answer = api.get(f"/api/v1/templates/{lease.id}").json
    assert [r["key"] for r in answer["roles"]] == ["tenant", "landlord"]
    fields = {f["name"]: f for f in answer["fields"]}
    assert fields["rent"]["type"] == "number" and fields["rent"]["role"] == "tenant"
    assert answer["documents"][0]["page_count"] == 2


def test_a_case_is_made_with_people_and_prefilled_values_in_one_call(api, lease):
    body = {"parties": PEOPLE, "fields": {"rent": 9500.5, "moving_in": "2026-09-01", "pets": True}, "send": True}
    response = api.post(f"/api/v1/templates/{lease.id}/cases", json=body, headers={"Idempotency-Key": "lease-1"})
    assert response.status_code == 201
    case = response.json
    assert case["status"] == "pending" and case["template_id"] == lease.id and case["template_version"] == 1
    assert [(p["role_key"], p["name"]) for p in case["parties"]] == [("tenant", "Sara Svensson"),
                                                                      ("landlord", "Per Persson")]
    again = api.post(f"/api/v1/templates/{lease.id}/cases", json=body, headers={"Idempotency-Key": "lease-1"})
    assert again.status_code == 201 and again.json["id"] == case["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.post(f"/api/v1/templates/{lease.id}/cases", json={**body, "send": False},
                     headers={"Idempotency-Key": "lease-1"})
    assert other.status_code == 409  # the same key for another request is refused, not replayed
    assert len(api.get(f"/api/v1/cases?template_id={lease.id}").json["cases"]) == 1
    values = {f["name"]: f for f in api.get(f"/api/v1/cases/{case['id']}/fields").json["fields"]}
    assert values["rent"]["value"] == 9500.5 and values["rent"]["type"] == "number"
    assert values["moving_in"]["value"] == "2026-09-01" and values["pets"]["value"] is True
    assert values["full_name"]["value"] is None and not values["full_name"]["signed"]


def test_bad_input_says_which_role_or_field_is_wrong(api, lease):
    url = f"/api/v1/templates/{lease.id}/cases"
    missing = api.post(url, json={"parties": {"tenant": PEOPLE["tenant"]}})
    assert missing.status_code == 422
    assert missing.json["error"]["fields"]["parties"] == {"landlord": ["Give the person for the role Landlord."]}
    unknown = api.post(url, json={"parties": {**PEOPLE, "janitor": PEOPLE["tenant"]}})
    assert unknown.json["error"]["fields"]["parties"] == {"janitor": ["The template has no role with this key."]}
    wrong = api.post(url, json={"parties": PEOPLE, "fields": {"rent": "a lot", "nope": 1}})
    assert wrong.status_code == 422
    assert wrong.json["error"]["fields"]["fields"]["rent"] == ["Give a number, like 1250 or 12,5."]
    assert wrong.json["error"]["fields"]["fields"]["nope"] == ["The template has no field with this name."]
    version = api.post(url, json={"parties": PEOPLE, "version": 7})
    assert version.status_code == 422 and "version" in version.json["error"]["fields"]
    assert api.get("/api/v1/cases").json["cases"] == []  # nothing half made


def test_a_case_records_the_version_it_was_made_from(api, lease, people):
    with tenant_context(people.acme.id):
        content = templates.version_of(lease).content
        templates.save_version(lease, people.bob, {**content, "message": "Changed"}, base_version=1)
        db.session.commit()
    old = api.post(f"/api/v1/templates/{lease.id}/cases", json={"parties": PEOPLE, "version": 1}).json
    new = api.post(f"/api/v1/templates/{lease.id}/cases", json={"parties": PEOPLE}).json
    assert (old["template_version"], old["message"]) == (1, "")
    assert (new["template_version"], new["message"]) == (2, "Changed")
    listed = api.get(f"/api/v1/cases?template_id={lease.id}").json["cases"]
    assert {c["id"] for c in listed} == {old["id"], new["id"]}


def test_an_archived_template_makes_no_cases(api, lease, people):
    with tenant_context(people.acme.id):
        templates.set_archived(lease, people.alice, True)
        db.session.commit()
    response = api.post(f"/api/v1/templates/{lease.id}/cases", json={"parties": PEOPLE})
    assert response.status_code == 409 and response.json["error"]["code"] == "archived"


def test_another_organisation_gets_404(charlie_api, api, lease):
    case = api.post(f"/api/v1/templates/{lease.id}/cases", json={"parties": PEOPLE}).json
    assert charlie_api.get("/api/v1/templates").json == {"templates": []}
    assert charlie_api.get(f"/api/v1/templates/{lease.id}").status_code == 404
    assert charlie_api.post(f"/api/v1/templates/{lease.id}/cases", json={"parties": PEOPLE}).status_code == 404
    assert charlie_api.get(f"/api/v1/cases/{case['id']}/fields").status_code == 404
    assert charlie_api.get(f"/api/v1/cases?template_id={lease.id}").json["cases"] == []


def test_a_number_is_never_changed_on_its_way_to_json(api, lease):
    body = {"parties": PEOPLE, "fields": {"rent": "12345678901234567.89"}}
    case = api.post(f"/api/v1/templates/{lease.id}/cases", json=body).json
    values = {f["name"]: f for f in api.get(f"/api/v1/cases/{case['id']}/fields").json["fields"]}
    assert values["rent"]["value"] == "12345678901234567.89"  # a double would give 12345678901234568
    body = {"parties": PEOPLE, "fields": {"rent": "123456789012345678"}}
    case = api.post(f"/api/v1/templates/{lease.id}/cases", json=body).json
    values = {f["name"]: f for f in api.get(f"/api/v1/cases/{case['id']}/fields").json["fields"]}
    assert values["rent"]["value"] == 123456789012345678  # an integer keeps every digit as a number


def test_typed_values_read_back_as_python_types(people, lease):
    from core.fields.service import case_data
    from tests.fields.helpers import lease_with_fields

    made = lease_with_fields(people.alice, values={"rent": "12500.50", "moving_in": "2026-09-01", "pets": True})
    with tenant_context(made.tenant_id):
        data = {f.name: f.value for f in case_data(made.case())}
    assert str(data["rent"]) == "12500.50" and data["moving_in"] == date(2026, 9, 1) and data["pets"] is True
