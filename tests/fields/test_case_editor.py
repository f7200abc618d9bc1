"""Fields on a case made from scratch: placed in the editor on a draft, checked, required to be assigned."""

from __future__ import annotations

import json

import pytest

from core.cases import service as cases
from core.extensions import db
from core.fields.service import fields_of
from tenants.scoping import tenant_context
from tests import support
from tests.signing.helpers import pdf


@pytest.fixture
def draft(people):
    with tenant_context(people.acme.id):
        case = cases.create_case(people.alice, "Lease", allowed_methods=["touch"], language="en")
        document = cases.add_document(case, "lease.pdf", pdf(pages=2), actor=people.alice)
        party = cases.add_party(case, "Sara Svensson", "sara@example.com", language="en", actor=people.alice)
        db.session.commit()
        return case.id, document.id, party.id


def spec(document_id: int, party_id: int | None, **changes) -> dict:
    return {"name": "full_name", "type": "text", "document": document_id, "page": 2, "x": 0.1, "y": 0.2, "w": 0.3,
            "h": 0.03, "assignee": str(party_id) if party_id else None, "label": "Full name", "required": True,
            **changes}


def post_fields(client, case_id: int, fields: list[dict]):
    page = f"/cases/{case_id}/fields"
    return client.post(page, data=json.dumps({"fields": fields}), content_type="application/json",
                       headers={"X-CSRFToken": support.csrf_token(client, "/cases/")})


def test_an_officer_places_fields_on_a_draft(client, people, login, draft):
    case_id, document_id, party_id = draft
    login(people.bob)
    html = client.get(f"/cases/{case_id}/fields").get_data(as_text=True)
    data = json.loads(html.split('id="fe-data">')[1].split("</script>")[0])
    assert data["assignees"] == [[str(party_id), "Sara Svensson"]] and data["fields"] == []
    response = post_fields(client, case_id, [spec(document_id, party_id)])
    assert response.status_code == 200 and response.json["ok"]
    with tenant_context(people.acme.id):
        [field] = fields_of(db.session.get(cases.Case, case_id))
        assert (field.page, field.party_id, field.page_width, field.page_height) == (2, party_id, pytest.approx(
            595.2756), pytest.approx(841.8898))


def test_bad_fields_are_refused_by_field(client, people, login, draft):
    case_id, document_id, party_id = draft
    login(people.alice)
    response = post_fields(client, case_id, [spec(document_id, party_id, page=3),
                                             spec(document_id, 999, name="other")])
    assert response.status_code == 422
    assert response.json["errors"] == {"0": {"page": ["The document has no page 3."]},
                                       "1": {"assignee": ["Choose who fills in this field."]}}


def test_a_case_with_fields_nobody_fills_in_cannot_be_sent(client, people, login, draft):
    case_id, document_id, party_id = draft
    login(people.alice)
    post_fields(client, case_id, [spec(document_id, None)])
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Some fields are not assigned to a party" in html
    response = support.post(client, f"/cases/{case_id}/send", token_from=f"/cases/{case_id}")
    assert "Some fields are not assigned to a party" in client.get(response.headers["Location"]).get_data(
        as_text=True)
    with tenant_context(people.acme.id):
        assert db.session.get(cases.Case, case_id).status == "draft"


def test_a_sent_case_keeps_its_fields(client, people, login, draft):
    case_id, document_id, party_id = draft
    login(people.alice)
    post_fields(client, case_id, [spec(document_id, party_id)])
    support.post(client, f"/cases/{case_id}/send", token_from=f"/cases/{case_id}")
    response = post_fields(client, case_id, [])
    assert response.status_code == 409
    assert client.get(f"/cases/{case_id}/fields").status_code == 302


def test_another_organisation_gets_404(client, people, login, draft):
    case_id, document_id, party_id = draft
    login(people.charlie)
    assert client.get(f"/cases/{case_id}/fields").status_code == 404
    assert post_fields(client, case_id, [spec(document_id, party_id)]).status_code == 404


def test_removing_a_party_leaves_their_fields_to_assign_and_removing_a_document_takes_its_fields(client, people,
                                                                                                  login, draft):
    case_id, document_id, party_id = draft
    login(people.alice)
    assert post_fields(client, case_id, [spec(document_id, party_id)]).status_code == 200
    with tenant_context(people.acme.id):
        case = db.session.get(cases.Case, case_id)
        cases.replace_parties(case, people.alice, [])  # the office form without the party
        db.session.commit()
        db.session.expire_all()
        [field] = fields_of(db.session.get(cases.Case, case_id))
        assert field.party_id is None  # kept, waiting to be assigned again
    assert "Some fields are not assigned to a party" in client.get(f"/cases/{case_id}").get_data(as_text=True)
    with tenant_context(people.acme.id):
        case = db.session.get(cases.Case, case_id)
        cases.remove_document(case, case.documents[0], people.alice)
        db.session.commit()
        db.session.expire_all()
        assert fields_of(db.session.get(cases.Case, case_id)) == []
