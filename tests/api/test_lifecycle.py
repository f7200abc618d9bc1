"""The whole life of a case through the API alone, with the signer on their own pages and webhooks received."""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader

from core.jobs import drain
from tests.api.conftest import case_body
from tests.api.helpers import endpoint_secret, register_webhook, sign_by_link, signature_ok, signer_link


def test_create_send_sign_seal_and_download_with_webhooks(app, client, api, login, people, receiver):
    login(people.alice)
    register_webhook(client, receiver.url, ["case.sent", "party.viewed", "party.signed", "case.completed"])
    secret = endpoint_secret(people.acme.id)

    case = api.post("/api/v1/cases", json=case_body(), headers={"Idempotency-Key": "lease-1"}).json
    assert api.post(f"/api/v1/cases/{case['id']}/send", headers={"Idempotency-Key": "send-1"}).json["status"] \
        == "pending"
    signer = app.test_client()
    sign_by_link(signer, signer_link("sam@example.org"))

    for _ in range(5):  # poll, as an integrator would, while the jobs (mail, webhooks, sealing) run
        drain()
        current = api.get(f"/api/v1/cases/{case['id']}").json
        if current["status"] == "completed":
            break
    assert current["status"] == "completed" and current["seal_state"] == "sealed"
    assert current["parties"][0]["status"] == "signed"
    document = current["documents"][0]
    assert document["sealed"] and document["fingerprint"]

    sealed = api.get(f"/api/v1/cases/{case['id']}/documents/{document['id']}/sealed")
    assert sealed.status_code == 200 and sealed.mimetype == "application/pdf"
    assert 'filename="lease-sealed.pdf"' in sealed.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(sealed.data))
    assert len(reader.pages) > 2 and document["fingerprint"].replace("-", "")[:4] in reader.pages[0].extract_text() \
        .replace("-", "").replace(" ", "")
    assert hashlib.sha256(sealed.data).hexdigest() == document["sealed_sha256"]
    receipt = api.get(f"/api/v1/cases/{case['id']}/documents/{document['id']}/receipt")
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF")

    kinds = [e["kind"] for e in api.get(f"/api/v1/cases/{case['id']}/events").json["events"]]
    assert kinds[:5] == ["created", "document_added", "party_added", "sent", "invited"]
    assert {"viewed", "party_signed", "completed"} <= set(kinds)

    assert receiver.events() == ["case.sent", "party.viewed", "party.signed", "case.completed"]
    assert all(signature_ok(secret, r) for r in receiver.received)
    completed = receiver.received[-1].json
    assert completed["event"] == "case.completed" and completed["data"]["case"]["id"] == case["id"]
    assert completed["id"] == receiver.received[-1].headers["Sigill-Delivery"]
    signed = receiver.received[2].json["data"]
    assert signed["party"]["email"] == "sam@example.org" and signed["party"]["status"] == "signed"
