"""The API names the true reason for a PDF with an owner password (issue 12)."""

from pypdf.constants import UserAccessPermissions

from tests.api.test_cases import b64, case_body
from tests.cases.test_protected_uploads import protected


def test_the_api_names_the_reason(api):
    response = api.post("/api/v1/cases", json=case_body(documents=[
        {"filename": "scan.pdf", "content_base64": b64(protected("", UserAccessPermissions.PRINT))}]))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "document_restricted"
    assert "scan.pdf opens without a password" in response.json["error"]["fields"]["documents"]["0"][0]
