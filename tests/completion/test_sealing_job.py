"""After the last signature: the sealing job, the completion emails, downloads and verification."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from core.extensions import db
from core.jobs import drain
from core.models import Case, Event, Job
from core.sealing import fingerprint as codes
from tenants.scoping import tenant_context
from tests import support
from tests.signing.helpers import make_case, signer
from tests.signing.test_signer_page import sign_form


def sign(client, made, name):
    path = made.path(name)
    response = support.post(client, path + "/sign", sign_form(client, path), token_from=path)
    assert response.status_code in (200, 302, 303), response.status_code


@pytest.fixture
def signed_case(app, people, client):
    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"]),
                                  signer("Per Persson", "per@example.com", methods=["touch"])], methods=["touch"])
    sign(client, made, "Sara Svensson")
    sign(client, made, "Per Persson")
    drain()
    return made


def reload(made) -> Case:
    db.session.expire_all()
    with tenant_context(made.case.tenant_id):
        return db.session.get(Case, made.case.id)


def test_the_case_is_sealed_exactly_once_and_completed(signed_case):
    case = reload(signed_case)
    assert case.status == "completed" and case.seal_state == "sealed"
    with tenant_context(case.tenant_id):
        [document] = case.documents
        assert document.sealed_sha256 and document.receipt_sha256 and document.fingerprint
        kinds = [e.kind for e in case.events]
    assert kinds.count("completed") == 1 and kinds.count("seal_queued") == 1
    assert codes.check(document.fingerprint) == "ok"


def test_every_party_and_the_owner_get_the_completion_email(signed_case, app):
    messages = support.outbox_messages()
    for address in ("sara@example.com", "per@example.com"):
        [done] = [m for m in messages if m["To"] == address and m["Subject"].startswith("Signed:")]
        assert "/signed/" in support.body_text(done) and "/receipt/" in support.body_text(done)
    assert any(m["To"] == "bob@acme.example" and m["Subject"].startswith("Completed:") for m in messages)


def _completion_links(address):
    mail = next(m for m in support.outbox_messages() if m["To"] == address and m["Subject"].startswith("Signed:"))
    return support.links_in(mail)


def test_the_sealed_pdf_has_the_fingerprint_on_every_page_and_pdfsig_accepts_it(signed_case, client, app, tmp_path):
    link = next(u for u in _completion_links("sara@example.com") if "/signed/" in u)
    response = client.get(link.replace(app.config["BASE_URL"], ""))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    case = reload(signed_case)
    with tenant_context(case.tenant_id):
        fingerprint = case.documents[0].fingerprint
    reader = PdfReader(io.BytesIO(response.data))
    for page in reader.pages:
        assert fingerprint in page.extract_text().replace("\n", " ")
    path = tmp_path / "sealed.pdf"
    path.write_bytes(response.data)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True)
    assert "Signature is Valid" in out.stdout
    assert "Total document signed" in out.stdout


def test_uploading_the_sealed_pdf_says_authentic_and_one_changed_byte_says_so(signed_case, client, app):
    case = reload(signed_case)
    with tenant_context(case.tenant_id):
        from core.storage import blobs

        sealed = blobs().get(case.documents[0].sealed_sha256)
    page = support.post(client, "/verify/", {"file": (io.BytesIO(sealed), "sealed.pdf")}, token_from="/verify/",
                        content_type="multipart/form-data").get_data(as_text=True)
    assert "Authentic" in page and "Lease 12" in page and "Sara Svensson" in page
    assert "sara@example.com" not in page
    tampered = bytearray(sealed)
    index = tampered.index(b"ReportLab")  # inside the signed byte range
    tampered[index] = ord("r")
    page = support.post(client, "/verify/", {"file": (io.BytesIO(bytes(tampered)), "x.pdf")}, token_from="/verify/",
                        content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-verdict="modified_after_sealing"' in page


def test_typing_the_fingerprint_in_lower_case_with_spaces_finds_it(signed_case, client):
    case = reload(signed_case)
    with tenant_context(case.tenant_id):
        fingerprint = case.documents[0].fingerprint
    typed = fingerprint.lower().replace("-", " ")
    response = client.get("/verify/?code=" + typed, follow_redirects=True)
    assert response.status_code == 200
    assert "Lease 12" in response.get_data(as_text=True)
    wrong = fingerprint[:-1] + ("0" if fingerprint[-1] != "0" else "1")
    assert "typo" in client.get("/verify/" + wrong).get_data(as_text=True)


def test_the_office_downloads_sealed_documents_and_charlie_gets_404(signed_case, app):
    bob, charlie = app.test_client(), app.test_client()
    support.login(bob, "bob@acme.example")
    support.login(charlie, "charlie@globex.example")
    case = reload(signed_case)
    with tenant_context(case.tenant_id):
        document_id = case.documents[0].id
    for url in (f"/cases/{case.id}/sealed/{document_id}", f"/cases/{case.id}/receipt/{document_id}",
                f"/cases/{case.id}/receipt"):
        assert bob.get(url).status_code == 200, url
        assert charlie.get(url).status_code == 404, url
    assert charlie.post(f"/cases/{case.id}/seal/retry",
                        data={"csrf_token": support.csrf_token(charlie, "/cases/")}).status_code == 404


def test_a_failed_seal_shows_on_the_timeline_and_is_retried(app, people, client, monkeypatch):
    from core.sealing import jobs as sealing_jobs

    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"])
    real = sealing_jobs._seal_documents
    monkeypatch.setattr(sealing_jobs, "_seal_documents", lambda case: (_ for _ in ()).throw(OSError("disk full")))
    sign(client, made, "Sara Svensson")
    drain()
    case = reload(made)
    assert case.status == "pending" and case.seal_state == "queued"
    with tenant_context(case.tenant_id):
        failed = db.session.scalars(sa.select(Event).where(Event.case_id == case.id, Event.kind == "seal_failed")).all()
    assert "disk full" in failed[0].data["error"]
    monkeypatch.setattr(sealing_jobs, "_seal_documents", real)
    job = db.session.scalars(sa.select(Job).where(Job.func == "core.sealing.jobs.seal_case")).one()
    job.run_after = job.created_at
    db.session.commit()
    drain()
    assert reload(made).status == "completed"


def test_the_seal_job_run_twice_seals_once(signed_case):
    from core.sealing.jobs import seal_case

    case = reload(signed_case)
    with tenant_context(case.tenant_id):
        sealed = case.documents[0].sealed_sha256
        seal_case(case.id)
        db.session.commit()
        assert [e.kind for e in reload(signed_case).events].count("completed") == 1
        assert reload(signed_case).documents[0].sealed_sha256 == sealed


def test_receipt_qr_code_points_to_the_verification_page(signed_case, client, app, tmp_path):
    link = next(u for u in _completion_links("per@example.com") if "/receipt/" in u)
    response = client.get(link.replace(app.config["BASE_URL"], ""))
    assert response.status_code == 200
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(response.data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    decoded = subprocess.run(["zbarimg", "-q", "--raw", *map(str, pages)], capture_output=True, text=True).stdout
    assert re.search(r"http://sigill\.test/verify/[0-9A-Z-]+", decoded)


def test_admin_page_warns_about_the_development_seal(client, alice, login):
    login(alice)
    assert "development certificate" in client.get("/admin/").get_data(as_text=True)


def test_admin_retries_a_seal_that_failed_for_good(app, people, client, monkeypatch):
    from core.sealing import jobs as sealing_jobs

    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"])
    real = sealing_jobs._seal_documents
    monkeypatch.setattr(sealing_jobs, "_seal_documents", lambda case: (_ for _ in ()).throw(OSError("disk full")))
    sign(client, made, "Sara Svensson")
    job = db.session.scalars(sa.select(Job).where(Job.func == "core.sealing.jobs.seal_case")).one()
    job.max_attempts = 1
    db.session.commit()
    drain()
    assert db.session.get(Job, job.id).state == "failed"
    alice = app.test_client()
    support.login(alice, "alice@acme.example")
    page = alice.get(f"/cases/{made.case.id}").get_data(as_text=True)
    assert "Try sealing again" in page and "disk full" in page
    monkeypatch.setattr(sealing_jobs, "_seal_documents", real)
    support.post(alice, f"/cases/{made.case.id}/seal/retry", token_from=f"/cases/{made.case.id}")
    drain()
    assert reload(made).status == "completed"


def test_party_links_to_signed_documents_end_with_the_retention_period(signed_case, client, app, people):
    links = [u.replace(app.config["BASE_URL"], "") for u in _completion_links("sara@example.com")
             if "/signed/" in u or "/receipt/" in u]
    assert all(client.get(link).status_code == 200 for link in links)
    case = reload(signed_case)
    with tenant_context(case.tenant_id):
        case.completed_at = case.completed_at - timedelta(days=people.acme.setting("retention_days") + 1)
        db.session.commit()
    for link in links:
        response = client.get(link)
        assert response.status_code == 410
        assert "No longer available" in response.get_data(as_text=True)


def test_a_case_with_the_same_pdf_attached_twice_is_sealed_with_two_codes(app, people, client):
    from core.cases import service as cases
    from tests.signing.helpers import Made, pdf

    with tenant_context(people.acme.id):
        case = cases.create_case(people.bob, "Two copies", allowed_methods=["touch"])
        cases.add_document(case, "lease.pdf", pdf())
        cases.add_document(case, "lease-copy.pdf", pdf())
        sara = cases.add_party(case, **signer("Sara Svensson", "sara@example.com"))
        cases.send_case(case, people.bob)
        made = Made(case, [sara], links={sara.name: cases.issue_party_link(sara)})
        db.session.commit()
    sign(client, made, "Sara Svensson")
    drain()
    case = reload(made)
    assert case.status == "completed"
    with tenant_context(case.tenant_id):
        first, second = case.documents
        assert first.sha256 == second.sha256
        assert first.fingerprint != second.fingerprint
        assert first.sealed_sha256 != second.sealed_sha256


def test_a_seal_that_gives_up_says_so_on_the_timeline_and_to_the_owner(app, people, client, monkeypatch):
    from core.sealing import jobs as sealing_jobs

    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"])
    monkeypatch.setattr(sealing_jobs, "_seal_documents", lambda case: (_ for _ in ()).throw(OSError("disk full")))
    sign(client, made, "Sara Svensson")
    job = db.session.scalars(sa.select(Job).where(Job.func == "core.sealing.jobs.seal_case")).one()
    assert (job.queue, job.case_id) == ("sealing", made.case.id)
    job.max_attempts = 1
    db.session.commit()
    drain()
    with tenant_context(made.case.tenant_id):
        [gave_up] = db.session.scalars(sa.select(Event).where(Event.case_id == made.case.id,
                                                              Event.kind == "job_gave_up")).all()
    assert gave_up.data["work"] == "sealing" and "disk full" in gave_up.data["error"]
    [mail] = [m for m in support.outbox_messages() if m["To"] == "bob@acme.example"]
    assert "could not be sealed after 1 attempts" in support.body_text(mail)
    assert f"/cases/{made.case.id}" in support.body_text(mail)
    bob = app.test_client()
    support.login(bob, "bob@acme.example")
    assert "Sealing gave up after 1 attempts (OSError: disk full)" in bob.get(
        f"/cases/{made.case.id}").get_data(as_text=True)
