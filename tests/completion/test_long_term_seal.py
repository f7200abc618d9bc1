"""With a real CA, a timestamp server and OCSP on loopback, the seal is PAdES B-LT and validates
offline; appending a revision afterwards is reported as such."""

from __future__ import annotations

import io
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pypdf import PdfWriter
from pypdf.annotations import FreeText

from core.extensions import db
from core.jobs import drain
from core.models import Case
from core.sealing.validate import validate_sealed
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import support
from tests.completion.test_sealing_job import sign
from tests.sealing.localpki import start_local_pki
from tests.signing.helpers import make_case, signer


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    local = start_local_pki(directory)
    key = serialization.load_pem_private_key((directory / "seal.key.pem").read_bytes(), password=None)
    cert = x509.load_der_x509_certificate(local.signer.signing_cert.dump())
    root = x509.load_der_x509_certificate(local.root.dump())
    p12 = directory / "seal.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"seal", key, cert, [root], serialization.BestAvailableEncryption(b"seal-pass")))
    local.p12 = p12
    yield local
    local.stop()


@pytest.fixture
def app(app_factory, pki):
    app = app_factory(SEAL_P12=str(pki.p12), SEAL_P12_PASSWORD="seal-pass", TSA_URL=pki.tsa_url, SEAL_LEVEL="B-LT")
    with app.app_context():
        yield app


@pytest.fixture
def sealed_pdf(app, people, client):
    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"])
    sign(client, made, "Sara Svensson")
    drain()
    with tenant_context(made.case.tenant_id):
        case = db.session.get(Case, made.case.id)
        assert case.status == "completed"
        return blobs().get(case.documents[0].sealed_sha256)


def test_b_lt_seal_validates_offline_and_pdfsig_accepts_it(sealed_pdf, pki, tmp_path):
    report = validate_sealed(sealed_pdf, [pki.root], allow_fetching=False)
    assert report.verdict == "authentic"
    [seal] = report.signatures
    assert seal.intact and seal.valid and seal.timestamp is not None
    assert seal.long_term == "OK"  # pyHanko AdES: PASSED with no indication of trouble
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed_pdf)
    assert "Total document signed" in subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0


def test_an_appended_revision_is_reported_as_a_later_addition(sealed_pdf, client):
    writer = PdfWriter(io.BytesIO(sealed_pdf), incremental=True)
    writer.add_annotation(0, FreeText(text="Paid", rect=(50, 50, 200, 80)))
    out = io.BytesIO()
    writer.write(out)
    page = support.post(client, "/verify/", {"file": (io.BytesIO(out.getvalue()), "x.pdf")}, token_from="/verify/",
                        content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-verdict="updated_after_seal"' in page
    assert "Lease 12" in page


def test_each_seal_asks_the_timestamp_server_once(app, people, client, pki, monkeypatch):
    """Seals run in a forked child: what pyHanko learns of the TSA (its certificates, from a
    throw-away timestamp) is learnt before the fork, so it is not asked again for every seal."""
    tsa_requests = []
    target = pki.server.app.target

    def counting(environ, start_response):
        if environ["PATH_INFO"].endswith("/tsa/tsa"):
            tsa_requests.append(environ["PATH_INFO"])
        return target(environ, start_response)

    monkeypatch.setattr(pki.server.app, "target", counting)
    for number in range(3):
        made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])],
                         methods=["touch"], title=f"Lease {number}")
        sign(client, made, "Sara Svensson")
        before = len(tsa_requests)
        drain()
        with tenant_context(made.case.tenant_id):
            assert db.session.get(Case, made.case.id).status == "completed"
        if number:  # the first seal of the process may also learn the TSA's certificates
            assert len(tsa_requests) - before == 1
