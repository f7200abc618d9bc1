"""Cases through the API: create (JSON and multipart), list, get, send, remind, revoke, delete, files, events."""

from __future__ import annotations

import io

from core.jobs import drain
from tests import support
from tests.api.conftest import b64, case_body
from tests.cases import pdfs


def test_it_creates_a_draft_with_documents_as_base64(api, people):
    response = api.post("/api/v1/cases", json=case_body(signing_order="sequential", reminder_max=2))
    assert response.status_code == 201
    case = response.json
    assert response.headers["Location"].endswith(f"/api/v1/cases/{case['id']}")
    assert case["status"] == "draft" and case["signing_order"] == "sequential" and case["reminder_max"] == 2
    assert case["owner"]["email"] == people.alice.email
    assert [d["filename"] for d in case["documents"]] == ["lease.pdf"] and case["documents"][0]["page_count"] == 2
    assert case["parties"][0] | {"name": "Sam Signer", "email": "sam@example.org", "status": "waiting"} \
        == case["parties"][0]


def test_it_creates_a_case_from_a_multipart_form(api):
    import json

    data = case_body()
    data.pop("documents")
    response = api.post("/api/v1/cases", json=None, data={
        "data": json.dumps(data),
        "documents": [(io.BytesIO(pdfs.pdf(1, "A")), "a.pdf"), (io.BytesIO(pdfs.pdf(3, "B")), "b.pdf")],
    }, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    assert [(d["filename"], d["page_count"]) for d in response.json["documents"]] == [("a.pdf", 1), ("b.pdf", 3)]


def test_the_owner_can_be_another_officer_of_the_tenant_but_not_of_another(api, people):
    response = api.post("/api/v1/cases", json=case_body(owner_email="BOB@acme.example"))
    assert response.status_code == 201 and response.json["owner"]["name"] == "Bob Berg"
    response = api.post("/api/v1/cases", json=case_body(owner_email=people.charlie.email))
    assert response.status_code == 422
    assert response.json["error"]["fields"]["owner_email"]


def test_field_errors_come_from_the_schema(api):
    body = case_body(title="", methods=["carrier-pigeon"], signing_order="random", parties=[
        {"name": "Sam", "email": "not-an-email", "phone": "12", "personal_number": "19800101-0000"}])
    response = api.post("/api/v1/cases", json=body)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"title", "methods", "signing_order", "parties"}
    assert set(error["fields"]["parties"]["0"]) == {"email"}


def test_party_values_are_checked_and_normalised(api):
    response = api.post("/api/v1/cases", json=case_body(parties=[{"name": "Sam", "email": "sam@example.org",
                                                                 "phone": "abc"}]))
    assert response.status_code == 422
    assert "valid phone number" in response.json["error"]["fields"]["parties"]["0"]["phone"][0]
    response = api.post("/api/v1/cases", json=case_body(methods=["sms"], parties=[
        {"name": "Kim", "email": "kim@example.org"}]))
    assert "mobile number is needed" in response.json["error"]["fields"]["parties"]["0"]["phone"][0]
    response = api.post("/api/v1/cases", json=case_body(methods=["sms"], parties=[
        {"name": "Sam", "email": "Sam@Example.org", "phone": "070-123 45 67", "personal_number": "19811218-9876"}]))
    assert response.status_code == 201
    party = response.json["parties"][0]
    assert party["email"] == "sam@example.org" and party["phone"] == "+46701234567"
    assert party["personal_number"] == "19811218-XXXX"


def test_a_bad_pdf_is_refused_with_the_reason_and_nothing_is_kept(api):
    response = api.post("/api/v1/cases", json=case_body(documents=[
        {"filename": "scan.pdf", "content_base64": b64(pdfs.encrypted_pdf())}]))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "document_encrypted"
    assert "scan.pdf is password-protected" in response.json["error"]["fields"]["documents"]["0"][0]
    assert api.get("/api/v1/cases").json["cases"] == []
    response = api.post("/api/v1/cases", json=case_body(documents=[{"filename": "x.pdf", "content_base64": "%%%"}]))
    assert response.status_code == 422 and "base64" in response.json["error"]["fields"]["documents"]["0"][
        "content_base64"][0]


def test_bodies_that_are_not_json_are_refused(api):
    response = api.post("/api/v1/cases", json=None, data="title=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.json["error"]["code"] == "unsupported_media_type"
    response = api.post("/api/v1/cases", json=None, data="{oops", content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_json"
    response = api.post("/api/v1/cases", json=["a list"])
    assert response.status_code == 400
    response = api.post("/api/v1/cases", json=case_body(colour="blue"))
    assert response.status_code == 422 and "colour" in response.json["error"]["fields"]


def test_too_large_a_request_gets_413(app, api):
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    response = api.post("/api/v1/cases", json=case_body(documents=[
        {"filename": "big.pdf", "content_base64": b64(b"%PDF-1.4" + b"0" * 60_000)}]))
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"


def test_it_sends_reminds_and_revokes(api, new_case):
    case = new_case()
    sent = api.post(f"/api/v1/cases/{case['id']}/send")
    assert sent.status_code == 200 and sent.json["status"] == "pending"
    assert sent.json["parties"][0]["status"] == "invited"
    drain()
    assert [m["To"] for m in support.outbox_messages()] == ["sam@example.org"]
    party_id = case["parties"][0]["id"]
    assert api.post(f"/api/v1/cases/{case['id']}/parties/{party_id}/remind").status_code == 200
    again = api.post(f"/api/v1/cases/{case['id']}/parties/{party_id}/remind")
    assert again.status_code == 409 and again.json["error"]["code"] == "reminded_recently"
    revoked = api.post(f"/api/v1/cases/{case['id']}/revoke", json={"reason": "Wrong rent"})
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    assert revoked.json["close_reason"] == "Wrong rent"
    kinds = [e["kind"] for e in api.get(f"/api/v1/cases/{case['id']}/events").json["events"]]
    assert kinds == ["created", "document_added", "party_added", "sent", "invited", "reminded", "revoked"]


def test_sending_an_incomplete_draft_says_what_is_missing(api, new_case):
    case = new_case(parties=[])
    response = api.post(f"/api/v1/cases/{case['id']}/send")
    assert response.status_code == 409 and response.json["error"]["code"] == "no_signers"
    assert "Add at least one party" in response.json["error"]["message"]


def test_only_a_draft_can_be_deleted(api, new_case):
    draft, sent = new_case(), new_case()
    api.post(f"/api/v1/cases/{sent['id']}/send")
    assert api.delete(f"/api/v1/cases/{draft['id']}").status_code == 204
    assert api.get(f"/api/v1/cases/{draft['id']}").status_code == 404
    response = api.delete(f"/api/v1/cases/{sent['id']}")
    assert response.status_code == 409 and response.json["error"]["code"] == "not_draft"


def test_the_original_downloads_and_the_sealed_file_is_404_until_sealed(api, new_case):
    case = new_case()
    document_id = case["documents"][0]["id"]
    original = api.get(f"/api/v1/cases/{case['id']}/documents/{document_id}")
    assert original.status_code == 200 and original.mimetype == "application/pdf"
    assert original.data.startswith(b"%PDF") and 'filename="lease.pdf"' in original.headers["Content-Disposition"]
    for part in ("sealed", "receipt"):
        response = api.get(f"/api/v1/cases/{case['id']}/documents/{document_id}/{part}")
        assert response.status_code == 404 and response.json["error"]["code"] == "not_sealed"


def test_list_filters_searches_and_pages_with_a_cursor(api, new_case):
    made = [new_case(title=f"Contract {n}") for n in range(5)]
    new_case(title="Lease for Storgatan", owner_email="bob@acme.example")
    api.post(f"/api/v1/cases/{made[0]['id']}/send")
    first = api.get("/api/v1/cases?limit=4").json
    assert len(first["cases"]) == 4 and first["next_cursor"]
    rest = api.get(f"/api/v1/cases?limit=4&cursor={first['next_cursor']}").json
    assert rest["next_cursor"] is None
    assert len({c["id"] for c in first["cases"] + rest["cases"]}) == 6
    assert [c["id"] for c in api.get("/api/v1/cases?status=pending").json["cases"]] == [made[0]["id"]]
    assert [c["title"] for c in api.get("/api/v1/cases?q=storgatan").json["cases"]] == ["Lease for Storgatan"]
    assert [c["title"] for c in api.get("/api/v1/cases?owner_email=bob@acme.example").json["cases"]] \
        == ["Lease for Storgatan"]
    assert api.get("/api/v1/cases?owner_email=nobody@acme.example").json["cases"] == []
    bad = api.get("/api/v1/cases?cursor=garbage")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_cursor"
    assert api.get("/api/v1/cases?status=lost").status_code == 422


def test_a_wrong_method_gets_a_json_405(api):
    response = api.client.put("/api/v1/cases")
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"
