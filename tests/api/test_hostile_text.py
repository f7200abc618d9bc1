"""The API refuses address lists and control characters, and cleans file names (see core/text.py)."""

from __future__ import annotations

from tests.api.conftest import b64, case_body
from tests.cases import pdfs

RLO = "\u202e"


def test_the_api_refuses_an_address_list_and_control_characters_and_cleans_file_names(api):
    party = {"name": "Sam Signer", "email": "sam@example.org,evil", "language": "en"}
    response = api.post("/api/v1/cases", json=case_body(parties=[party]))
    assert response.status_code == 422
    assert response.json["error"]["fields"]["parties"]["0"]["email"] == [
        "Give a valid email address, like name@example.com."]
    party = {"name": "Sam\r\nSigner", "email": "sam@example.org", "language": "en"}
    response = api.post("/api/v1/cases", json=case_body(parties=[party], title=f"Lease {RLO}"))
    assert response.status_code == 422
    assert response.json["error"]["fields"]["parties"]["0"]["name"] == ["Write it on one line, without line breaks."]
    assert "control characters" in response.json["error"]["fields"]["title"][0]
    documents = [{"filename": f"lease{RLO}fdp.exe", "content_base64": b64(pdfs.pdf(1, "Lease"))}]
    response = api.post("/api/v1/cases", json=case_body(documents=documents))
    assert response.status_code == 201
    assert [d["filename"] for d in response.json["documents"]] == ["leasefdp.exe"]
