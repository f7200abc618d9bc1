"""The integrator's view end to end on a live server: HTTP calls to the API, a signer in Chromium, webhooks."""

from __future__ import annotations

import time

import pytest
import requests

from core.api import service
from core.extensions import db
from core.models import Officer
from tenants.scoping import tenant_context
from tests.api.conftest import case_body
from tests.api.helpers import signature_ok
from tests.signing.test_signer_browser import draw_with_mouse, link_from_email

pytestmark = pytest.mark.browser


def test_an_integrator_creates_sends_and_fetches_the_sealed_pdf_while_the_signer_uses_a_browser(
        live_server, people, page, receiver):
    with live_server.app.app_context(), tenant_context(people.acme.id):
        alice = db.session.get(Officer, people.alice.id)
        _key, secret_key = service.create_api_key(alice.tenant, "Live", alice)
        endpoint = service.add_endpoint(receiver.url, ["case.sent", "party.signed", "case.completed"])
        webhook_secret = endpoint.secret
        db.session.commit()
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {secret_key}"
    base = live_server.url + "/api/v1"

    created = api.post(f"{base}/cases", json=case_body(), timeout=10)
    assert created.status_code == 201
    case_id = created.json()["id"]
    assert api.post(f"{base}/cases/{case_id}/send", timeout=10).json()["status"] == "pending"

    page.goto(link_from_email(live_server, "sam@example.org"))
    page.get_by_label("I have read the documents and agree to sign them").check()
    draw_with_mouse(page, "#touch-pad")
    page.get_by_role("button", name="Sign with my drawn signature").click()
    page.get_by_role("heading", name="Thank you for signing").wait_for()

    deadline = time.monotonic() + 60
    while (case := api.get(f"{base}/cases/{case_id}", timeout=10).json())["status"] != "completed":
        assert time.monotonic() < deadline, case["status"]
        time.sleep(0.5)
    document = case["documents"][0]
    sealed = api.get(f"{base}/cases/{case_id}/documents/{document['id']}/sealed", timeout=10)
    assert sealed.status_code == 200 and sealed.content.startswith(b"%PDF")

    deadline = time.monotonic() + 15
    while len(receiver.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    # Each delivery is its own background job (a pool of them, retried on failure): they may arrive
    # in any order; each event comes once.
    assert sorted(receiver.events()) == ["case.completed", "case.sent", "party.signed"]
    assert all(signature_ok(webhook_secret, r) for r in receiver.received)
