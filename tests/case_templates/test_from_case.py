"""The office: "Save as template" from any case, the case list filtered by template, and the
templates in the API's OpenAPI document."""

from __future__ import annotations

import re

import sqlalchemy as sa

from core.case_templates import service
from core.case_templates.models import CaseTemplate
from core.extensions import db
from tenants.scoping import tenant_context
from tests import support
from tests.fields.helpers import BOXES, lease_with_fields


def save_as_template(client, case_id: int, name: str):
    return support.post(client, f"/templates/from-case/{case_id}", {"name": name}, token_from=f"/cases/{case_id}")


def test_a_case_saved_as_a_template_keeps_its_documents_parties_as_roles_and_fields(client, people, login):
    made = lease_with_fields(people.alice, send=False)
    login(people.bob)  # a colleague may do it too
    response = save_as_template(client, made.case_id, "Lease, from the case")
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The case has been saved as a template. Check its roles and fields." in detail
    with tenant_context(made.tenant_id):
        template = db.session.scalars(sa.select(CaseTemplate).where(CaseTemplate.name == "Lease, from the case")).one()
        content = service.version_of(template).content
        case = made.case()
        assert [d["sha256"] for d in content["documents"]] == [d.sha256 for d in case.documents]
    assert [(r["label"], r["kind"]) for r in content["roles"]] == [("Signer 1", "signer"), ("Signer 2", "signer")]
    by_name = {f["name"]: f for f in content["fields"]}
    assert set(by_name) == set(BOXES)
    tenant_role, landlord_role = (r["key"] for r in content["roles"])
    assert by_name["rent"]["assignee"] == tenant_role and by_name["landlord_note"]["assignee"] == landlord_role
    assert (by_name["rent"]["x"], by_name["rent"]["y"]) == BOXES["rent"][:2] and by_name["rent"]["required"]
    # ... and it is a template a case can be made from at once.
    use = client.get(f"/templates/{template.id}/use")
    assert use.status_code == 200 and "Signer 2" in use.get_data(as_text=True)


def test_the_roles_of_a_saved_case_are_named_in_the_officers_language(client, people, login):
    made = lease_with_fields(people.alice, send=False)
    login(people.alice)
    client.get("/lang/sv")
    save_as_template(client, made.case_id, "Hyresavtal")
    with tenant_context(made.tenant_id):
        template = db.session.scalars(sa.select(CaseTemplate).where(CaseTemplate.name == "Hyresavtal")).one()
        labels = [r["label"] for r in service.version_of(template).content["roles"]]
    assert labels == ["Undertecknare 1", "Undertecknare 2"]


def test_another_organisation_cannot_save_a_case_as_its_template(client, people, login):
    made = lease_with_fields(people.alice, send=False)
    login(people.charlie)
    response = support.post(client, f"/templates/from-case/{made.case_id}", {"name": "Stolen"}, token_from="/cases/")
    assert response.status_code == 404
    with tenant_context(people.charlie.tenant_id):
        assert db.session.scalars(sa.select(CaseTemplate)).all() == []


def test_the_case_list_shows_only_the_cases_of_the_chosen_template(client, people, login):
    from core.cases import service as cases

    from_lease = lease_with_fields(people.alice, send=False)
    with tenant_context(people.acme.id):
        lease = db.session.scalars(sa.select(CaseTemplate)).one()
        scratch = cases.create_case(people.alice, "Made by hand", allowed_methods=["touch"], language="en")
        db.session.commit()
        scratch_id = scratch.id
    login(people.bob)
    everything = client.get("/cases/").get_data(as_text=True)
    assert f"/cases/{from_lease.case_id}" in everything and f"/cases/{scratch_id}" in everything
    filtered = client.get(f"/cases/?template={lease.id}").get_data(as_text=True)
    assert f"/cases/{from_lease.case_id}" in filtered and f"/cases/{scratch_id}" not in filtered
    assert re.search(rf'<option value="{lease.id}"\s+selected>Lease with fields</option>', filtered)


def test_another_organisations_template_does_not_filter_anything(client, people, login):
    lease_with_fields(people.alice, send=False)
    with tenant_context(people.acme.id):
        lease_id = db.session.scalars(sa.select(CaseTemplate.id)).one()
    login(people.charlie)
    page = client.get(f"/cases/?template={lease_id}").get_data(as_text=True)
    assert "Lease with fields" not in page


def test_the_openapi_document_describes_the_template_endpoints(client):
    document = client.get("/api/v1/openapi.json").json
    paths = document["paths"]
    assert paths["/templates"]["get"]["operationId"] == "listTemplates"
    make = paths["/templates/{template_id}/cases"]["post"]
    assert "Idempotency-Key" in str(make["parameters"]) and "201" in make["responses"]
    assert "/cases/{case_id}/fields" in paths
