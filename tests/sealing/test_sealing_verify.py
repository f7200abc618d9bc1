"""What the verification page is told about uploads: tampered, extended, foreign, plain."""

import io
import re

import pytest
from pypdf import PdfWriter
from pypdf.annotations import FreeText

from core.sealing.pipeline import seal_document
from core.sealing.pki import ensure_dev_seal, load_seal_signer
from core.sealing.seal import seal_pdf
from core.sealing.validate import find_fingerprint, validate_sealed
from tests.sealing.conftest import FINGERPRINT, VERIFY_URL, make_receipt
from tests.sealing.pdfs import reportlab_pdf


@pytest.fixture(scope="module")
def sealed(local_pki) -> bytes:
    return seal_document(
        reportlab_pdf(3), FINGERPRINT, VERIFY_URL, make_receipt(), "en", local_pki.signer,
        "B-LT", local_pki.tsa_url, local_pki.validation_context(),
    ).pdf


def verdict(pdf: bytes, pki) -> str:
    return validate_sealed(pdf, [pki.root]).verdict


def test_the_sealed_file_is_authentic(sealed, local_pki):
    assert verdict(sealed, local_pki) == "authentic"


def test_one_changed_byte_is_a_modification_after_sealing(sealed, local_pki):
    at = sealed.index(b"ReportLab")
    tampered = sealed[:at] + b"r" + sealed[at + 1 :]
    report = validate_sealed(tampered, [local_pki.root])
    assert report.verdict == "modified_after_sealing"
    assert report.signatures[0].intact is False


@pytest.mark.parametrize("tail", [b"\n", b"trailing garbage"])
def test_bytes_after_the_seal_are_not_authentic(sealed, local_pki, tail):
    report = validate_sealed(sealed + tail, [local_pki.root])
    assert report.verdict == "appended_bytes"
    assert report.signatures[0].intact and not report.signatures[0].covers_whole_document


def test_an_appended_revision_is_reported_as_extra(sealed, local_pki):
    writer = PdfWriter(io.BytesIO(sealed), incremental=True)
    writer.add_annotation(0, FreeText(text="Paid", rect=(50, 50, 200, 80)))
    out = io.BytesIO()
    writer.write(out)
    report = validate_sealed(out.getvalue(), [local_pki.root])
    assert report.verdict == "extra_revisions"
    seal = report.signatures[0]
    assert seal.intact and seal.valid and seal.later_revisions
    assert not seal.covers_whole_document


def test_a_valid_signature_by_someone_else_is_not_ours(tmp_path, local_pki):
    stranger = load_seal_signer(*ensure_dev_seal(tmp_path))
    report = validate_sealed(seal_pdf(reportlab_pdf(1), stranger), [local_pki.root])
    assert report.verdict == "valid_not_ours"
    assert report.signatures[0].signer_subject.startswith("Common Name: Sigill Development Seal")


def test_our_certificate_can_be_named_explicitly(sealed, local_pki, tmp_path):
    other = load_seal_signer(*ensure_dev_seal(tmp_path)).signing_cert
    assert validate_sealed(sealed, [local_pki.root], seal_certs=[other]).verdict == (
        "valid_not_ours")
    ours = local_pki.signer.signing_cert
    assert validate_sealed(sealed, [local_pki.root], seal_certs=[ours]).verdict == "authentic"


def test_a_plain_pdf_has_no_signature(local_pki):
    assert verdict(reportlab_pdf(1), local_pki) == "no_signature"


@pytest.mark.parametrize("upload", [b"", b"hello", b"%PDF-1.7\n garbage"])
def test_what_is_no_pdf_is_invalid(upload, local_pki):
    report = validate_sealed(upload, [local_pki.root])
    assert report.verdict == "invalid"
    assert report.problem


def test_the_fingerprint_is_found_in_the_sealed_file(sealed):
    assert find_fingerprint(sealed) == FINGERPRINT


@pytest.mark.parametrize("upload", [b"", b"hello", reportlab_pdf(1)])
def test_no_fingerprint_in_other_files(upload):
    assert find_fingerprint(upload) is None


@pytest.mark.parametrize("replacement", [b"7", b" "])
def test_a_changed_byte_in_the_unused_signature_room_is_a_modification(
    sealed, local_pki, replacement
):
    start, length, end = (
        int(v) for v in re.search(rb"/ByteRange\s*\[\s*(\d+) (\d+) (\d+)", sealed).groups()
    )
    at = end - 3  # last hex digits of /Contents: zero padding, outside the signed ranges
    assert sealed[at : at + 1] == b"0"
    tampered = sealed[:at] + replacement + sealed[at + 1 :]
    assert validate_sealed(tampered, [local_pki.root]).verdict == "modified_after_sealing"
