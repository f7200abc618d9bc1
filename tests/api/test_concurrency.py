"""Idempotency under concurrent requests on a live server: one case, one answer."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import requests

from core.api import service
from core.extensions import db
from core.models import Officer
from tenants.scoping import tenant_context
from tests.api.conftest import case_body


def test_concurrent_creates_with_one_idempotency_key_make_one_case(live_server, people):
    with live_server.app.app_context(), tenant_context(people.acme.id):
        alice = db.session.get(Officer, people.alice.id)
        _key, secret = service.create_api_key(alice.tenant, "Live", alice)
        db.session.commit()
    body = json.dumps(case_body())
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "order-1", "Content-Type": "application/json"}

    def create(_n):
        return requests.post(f"{live_server.url}/api/v1/cases", data=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(create, range(6)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    listed = requests.get(f"{live_server.url}/api/v1/cases", headers=headers, timeout=10).json()
    assert len(listed["cases"]) == 1
