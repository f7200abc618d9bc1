"""The whole pipeline on PDFs from several producers, checked by independent tools."""

import hashlib
import io
import re
import time

import pytest
from pypdf import PdfReader

from core.sealing import seal as seal_module
from core.sealing.pipeline import prepare_document, seal_document
from core.sealing.seal import SealingError
from core.sealing.validate import validate_sealed
from tests.sealing.checks import decode_qr, footer_directions, page_texts, pdfsig, qpdf_check, render
from tests.sealing.conftest import FINGERPRINT, VERIFY_URL, make_receipt
from tests.sealing.localpki import start_local_pki
from tests.sealing.pdfs import (
    MIXED_SIZES,
    acroform_pdf,
    ghostscript_pdf,
    libreoffice_pdf,
    reportlab_pdf,
    rotated_pdf,
    scanned_pdf,
)

PRODUCERS = {
    "reportlab-1": lambda tmp: reportlab_pdf(1),
    "reportlab-10-mixed-sizes": lambda tmp: reportlab_pdf(10, MIXED_SIZES),
    "reportlab-500": lambda tmp: reportlab_pdf(500, MIXED_SIZES),
    "rotated-and-cropped": lambda tmp: rotated_pdf(),
    "ghostscript": lambda tmp: ghostscript_pdf(tmp),
    "pdfa-2b": lambda tmp: ghostscript_pdf(tmp, pdfa=True),
    "scanned-images": lambda tmp: scanned_pdf(),
    "acroform": lambda tmp: acroform_pdf(),
    "libreoffice": libreoffice_pdf,
}


def seal(original: bytes, pki, level: str = "B-LT", tsa: bool = True, language: str = "sv"):
    pages = len(PdfReader(io.BytesIO(original)).pages)
    return seal_document(
        original, FINGERPRINT, VERIFY_URL, make_receipt(pages), language, pki.signer, level,
        pki.tsa_url if tsa else None, pki.validation_context(),
    )


@pytest.fixture(scope="module", params=list(PRODUCERS))
def sealed(request, local_pki, tmp_path_factory):
    original = PRODUCERS[request.param](tmp_path_factory.mktemp(request.param))
    return original, seal(original, local_pki).pdf


def test_qpdf_finds_no_errors(sealed):
    qpdf_check(sealed[1])


def test_pdfsig_says_valid_and_whole_document(sealed):
    report = pdfsig(sealed[1])
    assert "Signature Field Name: Sigill seal" in report
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report


def test_pyhanko_says_authentic_and_valid_offline(sealed, local_pki):
    report = validate_sealed(sealed[1], [local_pki.root], allow_fetching=False)
    assert report.verdict == "authentic"
    [seal] = report.signatures
    assert (seal.intact, seal.valid, seal.trusted, seal.covers_whole_document) == (
        True, True, True, True)
    assert seal.timestamp_valid
    assert seal.long_term == "OK"


def test_every_page_carries_the_fingerprint(sealed):
    original, pdf = sealed
    texts = page_texts(pdf)
    assert len(texts) == len(PdfReader(io.BytesIO(original)).pages) + 1  # + receipt
    missing = [n for n, text in enumerate(texts, 1) if FINGERPRINT not in text]
    assert missing == []


def test_every_footer_reads_upright(sealed):
    directions = footer_directions(sealed[1], "Fingeravtryck")
    assert set(directions) == {(1, 0)}


def test_the_receipt_qr_code_decodes_to_the_verification_url(sealed):
    pdf = sealed[1]
    last = len(PdfReader(io.BytesIO(pdf)).pages) - 1
    assert decode_qr(render(pdf, last, scale=2)) == [VERIFY_URL]


def test_the_result_hash_is_the_sha256_of_the_file(local_pki):
    result = seal(reportlab_pdf(1), local_pki, "B-B", tsa=False)
    assert result.sha256 == hashlib.sha256(result.pdf).hexdigest()


def test_b_b_works_without_a_timestamp_server(local_pki):
    result = seal(reportlab_pdf(2), local_pki, "B-B", tsa=False)
    assert "Total document signed" in pdfsig(result.pdf)
    report = validate_sealed(result.pdf, [local_pki.root])
    assert report.verdict == "authentic"
    assert report.signatures[0].timestamp is None


@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_timestamped_levels_need_a_timestamp_server(local_pki, level):
    with pytest.raises(SealingError, match="TSA_URL"):
        seal(reportlab_pdf(1), local_pki, level, tsa=False)


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_long_term_levels_validate_offline_after_revocation_info_expired(tmp_path, level):
    pki = start_local_pki(tmp_path, revinfo_seconds=1)
    pdf = seal(reportlab_pdf(2), pki, level).pdf
    pki.stop()
    time.sleep(2)  # the embedded OCSP answers and CRL are past their nextUpdate now
    report = validate_sealed(pdf, [pki.root], allow_fetching=False)
    assert report.verdict == "authentic"
    assert report.signatures[0].long_term == "OK"


def test_b_lta_adds_a_document_timestamp(local_pki):
    pdf = seal(reportlab_pdf(2), local_pki, "B-LTA").pdf
    report = validate_sealed(pdf, [local_pki.root])
    assert report.verdict == "authentic"
    assert report.document_timestamps == 1
    assert report.signatures[0].modification_level == "LTA_UPDATES"
    assert report.signatures[0].long_term == "OK"


def test_b_t_alone_does_not_validate_long_term_offline(local_pki):
    pdf = seal(reportlab_pdf(1), local_pki, "B-T").pdf
    report = validate_sealed(pdf, [local_pki.root])
    assert report.verdict == "authentic"
    assert report.signatures[0].long_term != "OK"


def test_preparing_the_same_document_twice_gives_the_same_bytes():
    original = reportlab_pdf(3)
    first = prepare_document(original, FINGERPRINT, VERIFY_URL, make_receipt(), "en")
    assert prepare_document(original, FINGERPRINT, VERIFY_URL, make_receipt(), "en") == first


def test_a_seal_too_big_for_the_reserved_room_is_retried_with_more(local_pki, monkeypatch):
    monkeypatch.setattr(seal_module, "_used_cms_bytes", {})
    monkeypatch.setattr(seal_module, "bytes_reserved", lambda signer, timestamped: 1024)
    attempts = []
    sign = seal_module._sign

    def recording_sign(pdf_bytes, meta, signer, timestamper, bytes_reserved):
        attempts.append(bytes_reserved)
        return sign(pdf_bytes, meta, signer, timestamper, bytes_reserved)

    monkeypatch.setattr(seal_module, "_sign", recording_sign)
    pdf = seal_module.seal_pdf(reportlab_pdf(1), local_pki.signer, "B-B")
    assert attempts == [1024, 4096]
    assert validate_sealed(pdf, [local_pki.root]).verdict == "authentic"


def test_later_seals_reserve_little_more_than_the_seal_needs(local_pki):
    seal_module.seal_pdf(reportlab_pdf(1), local_pki.signer, "B-B")
    sealed = seal_module.seal_pdf(reportlab_pdf(1), local_pki.signer, "B-B")
    start, length, end, _ = (
        int(v) for v in re.search(rb"/ByteRange\s*\[\s*(\d+) (\d+) (\d+) (\d+)", sealed).groups()
    )
    reserved_bytes = (end - start - length - 2) // 2
    # ECDSA signatures and timestamp tokens vary by a few bytes between seals.
    assert reserved_bytes <= seal_module._cms_size(sealed) + seal_module.CMS_SLACK + 16


def test_the_original_document_is_recoverable_from_the_sealed_file(local_pki):
    original = reportlab_pdf(2)
    sealed = seal(original, local_pki, "B-B", tsa=False).pdf
    assert hashlib.sha256(sealed[: len(original)]).digest() == hashlib.sha256(original).digest()


def test_the_footers_are_drawn_with_the_receipt_and_share_its_fonts():
    prepared = prepare_document(reportlab_pdf(4, MIXED_SIZES), FINGERPRINT, VERIFY_URL, make_receipt(4), "sv")
    qpdf_check(prepared)
    assert prepared.count(b"/FontFile2") == 2  # DejaVu Sans and DejaVu Sans Bold, once each
    texts = page_texts(prepared)
    assert len(texts) > 4
    assert all(f"Fingeravtryck: {FINGERPRINT}" in text for text in texts)


def test_the_pipeline_retries_a_seal_too_big_with_a_new_writer(local_pki, monkeypatch):
    monkeypatch.setattr(seal_module, "_used_cms_bytes", {})
    monkeypatch.setattr(seal_module, "bytes_reserved", lambda signer, timestamped: 1024)
    attempts = []
    sign = seal_module._sign

    def recording_sign(pdf, meta, signer, timestamper, bytes_reserved):
        attempts.append(bytes_reserved)
        return sign(pdf, meta, signer, timestamper, bytes_reserved)

    monkeypatch.setattr(seal_module, "_sign", recording_sign)
    original = reportlab_pdf(3)
    sealed = seal(original, local_pki, "B-B", tsa=False).pdf
    assert attempts == [1024, 4096]
    assert sealed.startswith(original)
    assert validate_sealed(sealed, [local_pki.root]).verdict == "authentic"
    assert all(FINGERPRINT in text for text in page_texts(sealed))


def test_the_sealed_document_is_the_prepared_document(local_pki):
    original = reportlab_pdf(5, MIXED_SIZES)
    prepared = prepare_document(original, FINGERPRINT, VERIFY_URL, make_receipt(5), "sv")
    sealed = seal(original, local_pki, "B-B", tsa=False).pdf
    assert page_texts(sealed) == page_texts(prepared)
    before, after = PdfReader(io.BytesIO(prepared)), PdfReader(io.BytesIO(sealed))
    assert [p.mediabox for p in after.pages] == [p.mediabox for p in before.pages]


def test_the_receipt_document_brought_in_as_bytes_is_the_same_as_through_pyhankos_objects(monkeypatch):
    """The receipt's document (receipt, footers, drawn values) is brought into the sealed file as
    its own bytes, renumbered; every page looks and reads as when pyHanko's objects copied it, and a
    file not laid out as reportlab writes it takes pyHanko's way."""
    from core.fields.drawing import Mark
    from core.sealing import receipt as receipt_module
    from core.sealing.pipeline import FieldLayer
    from core.sealing.stamp import open_writer

    original = reportlab_pdf(3, MIXED_SIZES)
    fields = FieldLayer({2: [Mark((0.1, 0.1, 0.5, 0.05), "text", text="Åsa Öberg")]})
    as_bytes = prepare_document(original, FINGERPRINT, VERIFY_URL, make_receipt(3), "sv", fields)
    monkeypatch.setattr(receipt_module, "_import_as_bytes", lambda *_args: None)
    as_objects = prepare_document(original, FINGERPRINT, VERIFY_URL, make_receipt(3), "sv", fields)
    assert as_bytes != as_objects and as_bytes.startswith(original)
    qpdf_check(as_bytes)
    texts = page_texts(as_bytes)
    assert texts == page_texts(as_objects) and "Åsa Öberg" in texts[1] and "Signeringskvitto" in texts[-1]
    for number in range(len(texts)):
        assert render(as_bytes, number, scale=0.5).tobytes() == render(as_objects, number, scale=0.5).tobytes()
    monkeypatch.undo()
    assert receipt_module._import_as_bytes(open_writer(original), original, 0) is not None  # reportlab's
    assert receipt_module._import_as_bytes(open_writer(original), as_bytes, 0) is None  # an update after it
