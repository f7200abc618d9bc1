"""The public verification page answers every kind of bad input clearly, never with a 500."""

from __future__ import annotations

import io

from pypdf import PdfWriter

from tests import support
from tests.signing.helpers import pdf


def upload(client, data: bytes, name: str = "file.pdf"):
    return support.post(client, "/verify/", {"file": (io.BytesIO(data), name)}, token_from="/verify/",
                        content_type="multipart/form-data")


def test_not_a_pdf(client):
    response = upload(client, b"\x89PNG\r\n\x1a\n not a pdf", "photo.pdf")
    assert response.status_code == 422 and 'data-verdict="not_pdf"' in response.get_data(as_text=True)


def test_empty_file(client):
    response = upload(client, b"")
    assert response.status_code == 422 and "The file is empty" in response.get_data(as_text=True)


def test_encrypted_pdf(client):
    writer = PdfWriter()
    writer.append(io.BytesIO(pdf()))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    response = upload(client, out.getvalue())
    assert response.status_code == 422 and "password protected" in response.get_data(as_text=True)


def test_an_unsigned_pdf_says_no_signature(client):
    response = upload(client, pdf())
    assert 'data-verdict="no_signature"' in response.get_data(as_text=True)


def test_a_file_over_the_limit_is_refused_with_a_message(app_factory):
    app = app_factory(VERIFY_MAX_MB=1)
    client = app.test_client()
    response = upload(client, b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 10))
    assert response.status_code == 400 and "larger than 1 MB" in response.get_data(as_text=True)


def test_a_100_mb_upload_gets_a_clear_page(client):
    response = upload(client, b"%PDF-1.7\n" + b"0" * (100 * 1024 * 1024))
    assert response.status_code == 413
    assert "The upload is too large" in response.get_data(as_text=True)


def test_no_file_chosen(client):
    response = support.post(client, "/verify/", {}, token_from="/verify/")
    assert response.status_code == 400 and "Choose a PDF file to check." in response.get_data(as_text=True)


def test_a_fingerprint_nobody_has(client):
    from core.sealing.fingerprint import make_fingerprint

    code = make_fingerprint("0" * 64, "1" * 64)
    response = client.get(f"/verify/{code}")
    assert response.status_code == 404 and "No document has this fingerprint" in response.get_data(as_text=True)


def test_something_that_is_no_fingerprint(client):
    response = client.get("/verify/hello")
    assert response.status_code == 404 and "That is not a fingerprint" in response.get_data(as_text=True)


def test_verification_is_rate_limited(client):
    statuses = [client.get("/verify/hello").status_code for _ in range(65)]
    assert statuses[-1] == 429 and 500 not in statuses
