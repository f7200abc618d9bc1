"""The API on the real PostgreSQL server: create, list with search and cursor, odd input, isolation."""

from __future__ import annotations

import pytest

from core.extensions import db
from tests import support
from tests.api.conftest import ApiClient, case_body, make_key

pytestmark = pytest.mark.postgres


def test_the_api_on_postgresql(pg_app):
    people = support.make_people()
    api = ApiClient(pg_app.test_client(), make_key(people.alice))
    charlie = ApiClient(pg_app.test_client(), make_key(people.charlie))
    db.session.remove()
    ids = [api.post("/api/v1/cases", json=case_body(title=f"Contract {n}")).json["id"] for n in range(3)]
    first = api.get("/api/v1/cases?limit=2").json
    rest = api.get(f"/api/v1/cases?limit=2&cursor={first['next_cursor']}").json
    assert sorted(c["id"] for c in first["cases"] + rest["cases"]) == sorted(ids)
    assert [c["title"] for c in api.get("/api/v1/cases?q=contract 1").json["cases"]] == ["Contract 1"]
    assert api.get("/api/v1/cases?q=a%00b").status_code == 400
    assert api.post("/api/v1/cases", json=case_body(title="a\x00b")).status_code == 400
    assert api.post(f"/api/v1/cases/{ids[0]}/send").json["status"] == "pending"
    assert charlie.get(f"/api/v1/cases/{ids[0]}").status_code == 404
    for huge in (2**31, 2**40, 2**63 - 1):
        assert api.get(f"/api/v1/cases/{huge}").status_code == 404


def test_a_draft_is_changed_on_postgresql(pg_app):
    people = support.make_people()
    api = ApiClient(pg_app.test_client(), make_key(people.alice))
    charlie = ApiClient(pg_app.test_client(), make_key(people.charlie))
    db.session.remove()
    case = api.post("/api/v1/cases", json=case_body()).json
    url = f"/api/v1/cases/{case['id']}"
    response = api.patch(url, json={"title": "Lease, v2", "parties": [
        {"id": case["parties"][0]["id"], "email": "sam.new@example.org"}, {"name": "Kim", "email": "kim@example.org"}]},
        headers={"Idempotency-Key": "pg-change"})
    assert response.status_code == 200, response.json
    assert [p["email"] for p in response.json["parties"]] == ["sam.new@example.org", "kim@example.org"]
    assert api.patch(url, json={"title": "a\x00b"}).status_code == 400
    assert charlie.patch(url, json={"title": "Mine"}).status_code == 404
    api.post(f"{url}/send")
    assert api.patch(url, json={"title": "Too late"}).status_code == 409
    assert api.get(url).json["title"] == "Lease, v2"
