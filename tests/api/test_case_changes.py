"""PATCH /cases/<id>: changing a draft's settings and parties, as the web office does, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.cases import events
from core.extensions import db
from core.models import Case
from core.models.base import utcnow
from tenants.scoping import tenant_context
from tests.api.conftest import case_body

KIM = {"name": "Kim Kvist", "email": "kim@example.org", "language": "en"}


def timeline(api, case_id: int) -> list[tuple[str, dict]]:
    return [(e["kind"], e["data"]) for e in api.get(f"/api/v1/cases/{case_id}/events").json["events"]]


def chain_problems(tenant_id: int, case_id: int) -> list[str]:
    with tenant_context(tenant_id):
        return events.verify_chain(db.session.get(Case, case_id))


def test_it_changes_the_settings_of_a_draft_and_records_the_change(api, new_case, people):
    case = new_case()
    expires = (utcnow() + timedelta(days=10)).replace(microsecond=0)
    response = api.patch(f"/api/v1/cases/{case['id']}", json={
        "title": "  Lease agreement, 2nd version ", "message": "Now with the garage", "methods": ["touch", "sms"],
        "signing_order": "sequential", "language": "sv", "expires_at": expires.isoformat(),
        "reminder_interval_days": 5, "reminder_max": 1,
        "parties": [{"id": case["parties"][0]["id"], "phone": "070-123 45 67"}]})
    assert response.status_code == 200, response.json
    changed = api.get(f"/api/v1/cases/{case['id']}").json
    assert changed == response.json
    assert (changed["title"], changed["message"], changed["methods"], changed["signing_order"]) == (
        "Lease agreement, 2nd version", "Now with the garage", ["touch", "sms"], "sequential")
    assert (changed["language"], changed["reminder_interval_days"], changed["reminder_max"]) == ("sv", 5, 1)
    assert changed["expires_at"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S"))
    assert changed["parties"][0]["phone"] == "+46701234567" and changed["status"] == "draft"
    assert timeline(api, case["id"])[-2:] == [
        ("updated", {"fields": ["allowed_methods", "expires_at", "language", "message", "reminder_interval_days",
                                "reminder_max", "signing_order", "title"]}),
        ("party_updated", {"party_id": changed["parties"][0]["id"], "name": "Sam Signer",
                           "email": "sam@example.org", "fields": ["phone"]})]
    assert chain_problems(people.acme.id, case["id"]) == []


def test_only_the_fields_given_change(api, new_case):
    case = new_case(signing_order="sequential", parties=[case_body()["parties"][0], KIM])
    response = api.patch(f"/api/v1/cases/{case['id']}", json={"message": "Shorter"})
    assert response.status_code == 200
    assert response.json | {"message": case["message"], "last_activity_at": case["last_activity_at"]} == case
    before = timeline(api, case["id"])
    assert before[-1] == ("updated", {"fields": ["message"]})
    assert api.patch(f"/api/v1/cases/{case['id']}", json={}).json == response.json
    assert timeline(api, case["id"]) == before


def test_parties_are_added_changed_reordered_and_removed(api, new_case):
    case = new_case(parties=[case_body()["parties"][0], KIM])
    sam, kim = (p["id"] for p in case["parties"])
    response = api.patch(f"/api/v1/cases/{case['id']}", json={"parties": [
        {"id": kim, "email": "Kim.New@Example.org"}, {"name": "Lee Lund", "email": "lee@example.org",
                                                      "role": "recipient"}]})
    assert response.status_code == 200, response.json
    parties = response.json["parties"]
    assert [(p["id"], p["name"], p["email"], p["role"]) for p in parties] == [
        (kim, "Kim Kvist", "kim.new@example.org", "signer"), (parties[1]["id"], "Lee Lund", "lee@example.org",
                                                              "recipient")]
    assert parties[0]["language"] == "en" and parties[1]["id"] not in (sam, kim)
    kinds = [(kind, data.get("name")) for kind, data in timeline(api, case["id"])[-3:]]
    assert kinds == [("party_updated", "Kim Kvist"), ("party_added", "Lee Lund"), ("party_removed", "Sam Signer")]


@pytest.mark.parametrize("parties, errors", [
    ([{"id": 999999}], {"0": {"id": ["The case has no party with this id."]}}),
    ([{"email": "lee@example.org"}], {"0": {"name": ["A new party needs a name and an email address."]}}),
    ([{"name": "Lee", "email": "lee@example"}], {"0": {"email": ["Give a valid email address, like "
                                                                  "name@example.com."]}}),
])
def test_party_changes_are_checked(api, new_case, parties, errors):
    case = new_case()
    response = api.patch(f"/api/v1/cases/{case['id']}", json={"parties": parties})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed" and response.json["error"]["fields"] == {
        "parties": errors}
    assert api.get(f"/api/v1/cases/{case['id']}").json == case


def test_a_party_of_another_case_or_the_same_party_twice_is_refused(api, new_case):
    case, other = new_case(), new_case()
    sam = case["parties"][0]["id"]
    response = api.patch(f"/api/v1/cases/{case['id']}", json={"parties": [
        {"id": sam}, {"id": sam}, {"id": other["parties"][0]["id"]}]})
    assert response.status_code == 422
    assert response.json["error"]["fields"]["parties"] == {"1": {"id": ["Each party can be listed only once."]},
                                                           "2": {"id": ["The case has no party with this id."]}}


def test_field_errors_and_nulls_are_refused_in_the_api_format(api, new_case):
    case = new_case()
    response = api.patch(f"/api/v1/cases/{case['id']}", json={"title": " ", "methods": ["carrier-pigeon"],
                                                               "language": None, "documents": []})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"title", "methods", "documents"}
    response = api.patch(f"/api/v1/cases/{case['id']}", json={"language": None, "reminder_max": None})
    assert response.status_code == 422 and response.json["error"]["fields"] == {
        "language": ["Give a value, or leave the field out to keep it as it is."],
        "reminder_max": ["Give a value, or leave the field out to keep it as it is."]}
    assert api.get(f"/api/v1/cases/{case['id']}").json == case


def test_sms_needs_a_phone_number_for_every_signer_after_the_change(api, new_case):
    case = new_case()
    response = api.patch(f"/api/v1/cases/{case['id']}", json={"methods": ["sms"]})
    assert response.status_code == 422
    assert "mobile number is needed" in response.json["error"]["fields"]["parties"]["0"]["phone"][0]
    response = api.patch(f"/api/v1/cases/{case['id']}", json={"parties": [
        {"id": case["parties"][0]["id"], "methods": ["sms"]}]})
    assert response.status_code == 422


def test_the_owner_can_be_handed_over_to_a_colleague(api, new_case, people):
    case = new_case()
    response = api.patch(f"/api/v1/cases/{case['id']}", json={"owner_email": people.bob.email})
    assert response.status_code == 200 and response.json["owner"]["email"] == people.bob.email
    assert timeline(api, case["id"])[-1][0] == "reassigned"
    response = api.patch(f"/api/v1/cases/{case['id']}", json={"owner_email": people.charlie.email})
    assert response.status_code == 422 and "owner_email" in response.json["error"]["fields"]


def test_a_sent_case_cannot_be_changed(api, new_case):
    case = new_case()
    sent = api.post(f"/api/v1/cases/{case['id']}/send").json
    response = api.patch(f"/api/v1/cases/{case['id']}", json={"title": "Too late"})
    assert response.status_code == 409
    assert response.json["error"] == {"code": "not_draft",
                                      "message": "Only a draft can be changed or deleted; this case has been sent."}
    assert api.patch(f"/api/v1/cases/{case['id']}", json={"title": ""}).status_code == 409
    assert api.get(f"/api/v1/cases/{case['id']}").json == sent


def test_another_organisations_draft_is_404(api, charlie_api, new_case):
    case = new_case()
    response = charlie_api.patch(f"/api/v1/cases/{case['id']}", json={"title": "Mine now"})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/cases/{case['id']}").json == case


def test_the_same_idempotency_key_replays_and_a_different_body_is_409(api, new_case):
    case = new_case()
    url, headers = f"/api/v1/cases/{case['id']}", {"Idempotency-Key": "change-1"}
    first = api.patch(url, json={"parties": [{"name": "Lee", "email": "lee@example.org"}]}, headers=headers)
    again = api.patch(url, json={"parties": [{"name": "Lee", "email": "lee@example.org"}]}, headers=headers)
    assert first.status_code == again.status_code == 200 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [kind for kind, _data in timeline(api, case["id"])].count("party_added") == 2  # Sam, then Lee once
    other = api.patch(url, json={"title": "Other"}, headers=headers)
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_key_reused"


def test_a_body_that_is_not_a_json_object_is_refused(api, new_case):
    url = f"/api/v1/cases/{new_case()['id']}"
    assert api.patch(url).json["error"]["code"] == "missing_body"
    assert api.patch(url, json=None, data="title=x", content_type="application/x-www-form-urlencoded"
                     ).status_code == 415
    assert api.patch(url, json=["title"]).json["error"]["code"] == "invalid_json"


def test_the_office_shows_the_changes_in_the_case_timeline(client, login, api, new_case, people):
    case = new_case()
    api.patch(f"/api/v1/cases/{case['id']}", json={"title": "Lease, v2", "parties": [KIM]})
    login(people.alice)
    html = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    for text in ("Draft changed", "Party added: Kim Kvist", "Party removed: Sam Signer"):
        assert text in html
