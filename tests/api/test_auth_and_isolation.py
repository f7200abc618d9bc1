"""Keys, rate limits, idempotency, and another tenant's ids."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.api import service
from core.api.models import ApiKey
from core.extensions import db
from core.models.base import utcnow
from tenants.scoping import tenant_context
from tests import support
from tests.api.conftest import ApiClient, case_body


def test_a_request_without_a_key_is_401(client):
    response = client.get("/api/v1/cases")
    assert response.status_code == 401 and response.json["error"]["code"] == "missing_api_key"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_or_revoked_key_is_401(client, api, alice_key, people):
    assert ApiClient(client, alice_key + "x").get("/api/v1/cases").json["error"]["code"] == "invalid_api_key"
    assert api.get("/api/v1/cases").status_code == 200
    with tenant_context(people.acme.id):
        service.revoke_api_key(db.session.query(ApiKey).one())
        db.session.commit()
    assert api.get("/api/v1/cases").status_code == 401


def test_the_key_is_also_accepted_as_x_api_key_and_is_stored_only_hashed(client, alice_key, people):
    assert client.get("/api/v1/cases", headers={"X-Api-Key": alice_key}).status_code == 200
    with tenant_context(people.acme.id):
        key = db.session.query(ApiKey).one()
        assert alice_key not in (key.key_hash, key.prefix) and alice_key.startswith(key.prefix)
        assert key.last_used_at is not None


def test_an_office_session_does_not_authenticate_the_api(client, login, people):
    login(people.alice)
    assert client.get("/api/v1/cases").status_code == 401


def test_requests_over_the_limit_get_429_with_retry_after(app, api):
    app.config["API_RATE_LIMIT"] = "3/60"
    assert [api.get("/api/v1/cases").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/api/v1/cases")
    assert response.status_code == 429 and response.json["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_create_with_the_same_idempotency_key_and_body_replays_the_first_answer(api):
    headers = {"Idempotency-Key": "order-4711"}
    body = case_body()
    first = api.post("/api/v1/cases", json=body, headers=headers)
    again = api.post("/api/v1/cases", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert len(api.get("/api/v1/cases").json["cases"]) == 1
    other = api.post("/api/v1/cases", json=case_body(title="Another"), headers=headers)
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_key_reused"


def test_send_with_an_idempotency_key_sends_once(api, new_case):
    case = new_case()
    headers = {"Idempotency-Key": "send-1"}
    first = api.post(f"/api/v1/cases/{case['id']}/send", headers=headers)
    again = api.post(f"/api/v1/cases/{case['id']}/send", headers=headers)
    assert first.status_code == again.status_code == 200 and again.json == first.json
    without = api.post(f"/api/v1/cases/{case['id']}/send")
    assert without.status_code == 409 and without.json["error"]["code"] == "not_draft"
    sent = [e for e in api.get(f"/api/v1/cases/{case['id']}/events").json["events"] if e["kind"] == "sent"]
    assert len(sent) == 1


def test_a_failed_request_does_not_use_up_its_idempotency_key(api):
    headers = {"Idempotency-Key": "k-1"}
    assert api.post("/api/v1/cases", json=case_body(title=""), headers=headers).status_code == 422
    assert api.post("/api/v1/cases", json=case_body(), headers=headers).status_code == 201


def test_idempotency_keys_are_per_tenant(api, charlie_api):
    headers = {"Idempotency-Key": "shared-name"}
    assert api.post("/api/v1/cases", json=case_body(), headers=headers).status_code == 201
    assert charlie_api.post("/api/v1/cases", json=case_body(title="Globex"), headers=headers).status_code == 201


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/cases/{case}"),
    ("delete", "/api/v1/cases/{case}"),
    ("post", "/api/v1/cases/{case}/send"),
    ("post", "/api/v1/cases/{case}/parties/{party}/remind"),
    ("post", "/api/v1/cases/{case}/revoke"),
    ("get", "/api/v1/cases/{case}/events"),
    ("get", "/api/v1/cases/{case}/documents/{document}"),
    ("get", "/api/v1/cases/{case}/documents/{document}/sealed"),
    ("get", "/api/v1/cases/{case}/documents/{document}/receipt"),
])
def test_charlie_gets_404_for_acme_ids(api, charlie_api, new_case, method, path):
    case = new_case()
    url = path.format(case=case["id"], party=case["parties"][0]["id"], document=case["documents"][0]["id"])
    response = getattr(charlie_api, method)(url)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/cases/{case['id']}").json["status"] == "draft"
    assert charlie_api.get("/api/v1/cases").json["cases"] == []


def test_unknown_ids_are_404_even_when_huge(api):
    assert api.get("/api/v1/cases/99999999999999999999999").status_code == 404


def test_idempotency_records_are_forgotten_after_a_day(api):
    headers = {"Idempotency-Key": "old"}
    body = case_body()
    assert api.post("/api/v1/cases", json=body, headers=headers).status_code == 201
    assert service.forget_old_records(now=utcnow() + timedelta(hours=25)) == 1
    assert api.post("/api/v1/cases", json=case_body(title="New"), headers=headers).status_code == 201


def test_the_key_decides_the_tenant_even_with_another_tenants_session(client, api, new_case, people):
    case = new_case()
    support.login(client, people.charlie.email)
    assert [c["id"] for c in api.get("/api/v1/cases").json["cases"]] == [case["id"]]
