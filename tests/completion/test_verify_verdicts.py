"""Issue 12: what the verification pages say about a file is true to the byte, and the upload page
and the fingerprint page's compare say the same. Every file is made in the test from a case sealed
through the app: bytes appended with Python, incremental updates with pyHanko (with and without a
signature by a self-signed certificate), copies saved again by qpdf and pypdf."""

from __future__ import annotations

import html
import io
import re
import subprocess
import time

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pypdf import PdfReader, PdfWriter

from core.extensions import db
from core.jobs import drain
from core.models import Case, Document
from core.sealing.pki import signer_from_key
from core.sealing.seal import seal_pdf
from core.sealing.service import seal_setup
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import support
from tests.certificates import certificate_for
from tests.completion.test_sealing_job import sign
from tests.sealing.checks import pdfsig
from tests.signing.helpers import make_case, pdf, signer

LANGUAGES = ("en", "sv")


@pytest.fixture
def sealed(app, people, client) -> tuple[bytes, str]:
    """A case signed by Sara and sealed by the app: the sealed PDF and its fingerprint."""
    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"])
    sign(client, made, "Sara Svensson")
    drain()
    with tenant_context(made.case.tenant_id):
        case = db.session.get(Case, made.case.id)
        assert case.status == "completed"
        document = case.documents[0]
        return blobs().get(document.sealed_sha256), document.fingerprint


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def verify_page(client, data: bytes, language: str = "en") -> str:
    response = support.post(client, "/verify/", {"file": (io.BytesIO(data), "check.pdf")}, token_from="/verify/",
                            content_type="multipart/form-data", headers={"Accept-Language": language})
    assert response.status_code < 500
    return response.get_data(as_text=True)


def compare_page(client, fingerprint: str, data: bytes, language: str = "en") -> str:
    url = f"/verify/{fingerprint}"
    response = support.post(client, url, {"file": (io.BytesIO(data), "check.pdf")}, token_from=url,
                            content_type="multipart/form-data", headers={"Accept-Language": language})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def verdict_of(page: str) -> str:
    return re.search(r'data-verdict="([a-z_]+)"', page).group(1)


def compared_as(page: str) -> str:
    return re.search(r'data-compare="([a-z]+)"', page).group(1)


def both_pages(client, fingerprint: str, data: bytes, language: str) -> tuple[str, str]:
    """The verdict on both pages, which must be the same, and the words both pages show."""
    upload, compare = verify_page(client, data, language), compare_page(client, fingerprint, data, language)
    assert verdict_of(upload) == verdict_of(compare)
    return upload, compare


def appended(sealed_pdf: bytes, tail: bytes) -> bytes:
    return sealed_pdf + tail


def unsigned_update(sealed_pdf: bytes) -> bytes:
    """An incremental update that changes the document's metadata, without a signature."""
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed_pdf), strict=False)
    info = writer.trailer["/Info"].get_object() if "/Info" in writer.trailer else generic.DictionaryObject()
    info[generic.NameObject("/Title")] = generic.TextStringObject("Rent: 1 SEK per month")
    if "/Info" in writer.trailer:
        writer.update_container(info)
    else:
        writer.set_info(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def self_signed_signer(name: str = "Mallory Mallorysson", organisation: str = "Skuggbolaget AB", key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    return signer_from_key(key, certificate_for(name, key, organisation))


def signed_update(sealed_pdf: bytes) -> bytes:
    """A later signature, in a new field, by a self-signed certificate naming Mallory."""
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed_pdf), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="Mallory", md_algorithm="sha256")
    out = signers.sign_pdf(writer, meta, signer=self_signed_signer())
    return out.getvalue()


def signed_alone(document: bytes, by=None) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(document), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="Signature", md_algorithm="sha256")
    return signers.sign_pdf(writer, meta, signer=by or self_signed_signer()).getvalue()


def timestamped_later(sealed_pdf: bytes) -> bytes:
    """A document timestamp added later (as for long-term archiving), by a TSA of our own making."""
    # pyHanko's test TSA signs with RSA only
    tsa = self_signed_signer("Test TSA", "Tidsstämpel AB", rsa.generate_private_key(65537, 2048))
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed_pdf), strict=False)
    stamper = signers.PdfTimeStamper(DummyTimeStamper(tsa.signing_cert, tsa.signing_key))
    return stamper.timestamp_pdf(writer, "sha256").getvalue()


def resaved_by_qpdf(sealed_pdf: bytes, tmp_path) -> bytes:
    source, target = tmp_path / "in.pdf", tmp_path / "qpdf.pdf"
    source.write_bytes(sealed_pdf)
    subprocess.run(["qpdf", "--object-streams=generate", str(source), str(target)], check=True)
    return target.read_bytes()


def resaved_by_pypdf(sealed_pdf: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sealed_pdf)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- identical bytes ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sealed_file_itself_is_authentic_on_both_pages(sealed, client, language):
    data, fingerprint = sealed
    upload, compare = both_pages(client, fingerprint, data, language)
    assert verdict_of(upload) == "authentic" and compared_as(compare) == "identical"
    words = {"en": "not one byte has changed since", "sv": "inte en enda byte har ändrats sedan"}[language]
    assert words in text_of(upload) and words in text_of(compare)


# --- bytes appended after the seal ---------------------------------------------------------------


@pytest.mark.parametrize("tail", [b"\n", b"%% a comment\n", b"\x00" * 4096])
def test_bytes_appended_after_the_seal_are_not_authentic(sealed, client, tail):
    data, fingerprint = sealed
    upload, compare = both_pages(client, fingerprint, appended(data, tail), "en")
    assert verdict_of(upload) == "appended_bytes"
    assert "Authentic" not in text_of(upload) and "not one byte" not in text_of(upload)
    assert compared_as(compare) == "contains"
    count = f"{len(tail)} byte was" if len(tail) == 1 else f"{len(tail)} bytes were"
    for page in (upload, compare):
        assert f"The file begins with exactly the document Sigill sealed, but {count} added after its end" in (
            text_of(page))


def test_thousands_of_end_markers_appended_still_find_the_sealed_document(sealed, client):
    data, fingerprint = sealed
    upload = verify_page(client, appended(data, b"%%EOF\r\n" * 3000))
    assert verdict_of(upload) == "appended_bytes" and fingerprint in text_of(upload)


def test_appended_bytes_in_swedish(sealed, client):
    data, fingerprint = sealed
    upload, compare = both_pages(client, fingerprint, appended(data, b"garbage after the end\n"), "sv")
    for page in (upload, compare):
        assert "Den förseglade handlingen, med byte tillagda efter den" in text_of(page)
        assert "22 byte lades till efter dess slut" in text_of(page)
    assert "Inte identisk: din fil innehåller exakt den här underskrivna handlingen" in text_of(compare)


def test_pdfsig_agrees_that_appended_bytes_leave_the_seal_valid_but_not_covering_the_file(sealed, client):
    data, _ = sealed
    assert "Total document signed" in pdfsig(data)
    report = pdfsig(appended(data, b"\n"))
    assert "Signature is Valid" in report and "Not total document signed" in report


# --- later incremental updates ------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_later_update_without_a_signature(sealed, client, language):
    data, fingerprint = sealed
    changed = unsigned_update(data)
    upload, compare = both_pages(client, fingerprint, changed, language)
    assert verdict_of(upload) == "updated_after_seal" and compared_as(compare) == "contains"
    words = {"en": "followed by changes saved later (an incremental update) without a signature",
             "sv": "följd av ändringar som sparats senare (en inkrementell uppdatering) utan signatur"}[language]
    assert words in text_of(upload) and words in text_of(compare)
    report = pdfsig(changed)
    assert "Signature is Valid" in report and "Not total document signed" in report


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_later_signature_by_a_self_signed_certificate_names_who_and_keeps_our_revision(sealed, client,
                                                                                         language):
    data, fingerprint = sealed
    signed = signed_update(data)
    upload, compare = both_pages(client, fingerprint, signed, language)
    assert verdict_of(upload) == "signed_after_seal" and compared_as(compare) == "contains"
    words = {
        "en": ("and that sealed version is intact",
               "A signature naming Mallory Mallorysson (Skuggbolaget AB), with a certificate that nobody we "
               "trust vouches for"),
        "sv": ("och den förseglade versionen är oförändrad",
               "En signatur som anger Mallory Mallorysson (Skuggbolaget AB), med ett certifikat som ingen vi "
               "litar på går i god för"),
    }[language]
    for page in (upload, compare):
        for phrase in words:
            assert phrase in text_of(page)
    report = pdfsig(signed)
    assert report.count("Signature is Valid") == 2
    assert "Signature #2" in report and "Mallory Mallorysson" in report


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_later_document_timestamp_is_only_validation_data(sealed, client, language):
    data, fingerprint = sealed
    upload, compare = both_pages(client, fingerprint, timestamped_later(data), language)
    assert verdict_of(upload) == "validation_data_added" and compared_as(compare) == "contains"
    words = {"en": "only timestamps or certificate validation data were added",
             "sv": "bara tidsstämplar eller data för att kontrollera certifikat lagts till"}[language]
    assert words in text_of(upload) and words in text_of(compare)
    assert "Authentic" not in text_of(upload) and "Äkta" not in text_of(upload)


def test_pdfsig_agrees_that_a_later_document_timestamp_leaves_the_seal_valid_but_not_covering_the_file(sealed):
    report = pdfsig(timestamped_later(sealed[0]))
    seal = report.split("Signature #2")[0]
    assert "Signature is Valid" in seal and "Not total document signed" in seal


def test_a_document_timestamp_with_a_changed_title_is_an_unsigned_change(sealed, client):
    data, fingerprint = sealed
    upload, _ = both_pages(client, fingerprint, timestamped_later(unsigned_update(data)), "en")
    assert verdict_of(upload) == "updated_after_seal"


# --- copies saved again by another program ------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_copy_resaved_by_qpdf_says_the_seal_is_gone_and_points_to_the_original(sealed, client, tmp_path,
                                                                                 language):
    data, fingerprint = sealed
    copy = resaved_by_qpdf(data, tmp_path)
    upload, compare = both_pages(client, fingerprint, copy, language)
    assert verdict_of(upload) == "resaved_copy" and compared_as(compare) == "different"
    words = {"en": ("saved again by another program, which broke or removed the seal",
                    f"The text on every page is the same as in the sealed document with fingerprint {fingerprint}"),
             "sv": ("sparats om av ett annat program, som bröt eller tog bort förseglingen",
                    f"Texten på varje sida är densamma som i den förseglade handlingen med fingeravtrycket "
                    f"{fingerprint}")}[language]
    for page in (upload, compare):
        for phrase in words:
            assert phrase in text_of(page)
    assert f'href="/verify/{fingerprint}"' in upload
    assert "Signature is Valid" not in pdfsig(copy)


def test_a_copy_resaved_by_pypdf_is_a_resaved_copy(sealed, client):
    data, fingerprint = sealed
    upload, _ = both_pages(client, fingerprint, resaved_by_pypdf(data), "en")
    assert verdict_of(upload) == "resaved_copy"


def test_a_resaved_copy_signed_by_someone_names_that_signature(sealed, client, tmp_path):
    data, fingerprint = sealed
    upload, _ = both_pages(client, fingerprint, signed_alone(resaved_by_qpdf(data, tmp_path)), "en")
    assert verdict_of(upload) == "resaved_copy"
    assert "It carries these other signatures:" in text_of(upload)
    assert "A signature naming Mallory Mallorysson (Skuggbolaget AB)" in text_of(upload)


def test_a_resaved_copy_whose_text_was_changed_is_changed(sealed, client, tmp_path):
    data, fingerprint = sealed
    # qpdf's QDF mode leaves page content uncompressed: change the rent in the text itself
    source, target = tmp_path / "in.pdf", tmp_path / "qdf.pdf"
    source.write_bytes(data)
    subprocess.run(["qpdf", "--qdf", "--object-streams=disable", str(source), str(target)], check=True)
    qdf = target.read_bytes()
    assert b"9 500 SEK" in qdf
    copy = qdf.replace(b"9 500 SEK", b"1 500 SEK")
    upload, compare = both_pages(client, fingerprint, copy, "en")
    assert verdict_of(upload) == "modified_after_sealing" and compared_as(compare) == "different"


def test_one_changed_byte_in_place_is_a_change_not_a_copy(sealed, client):
    data, fingerprint = sealed
    changed = bytearray(data)
    changed[changed.index(b"ReportLab")] = ord("r")
    upload, compare = both_pages(client, fingerprint, bytes(changed), "en")
    assert verdict_of(upload) == "modified_after_sealing" and compared_as(compare) == "different"


# --- files that are not ours ----------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_self_signed_signature_is_not_called_valid(client, language):
    upload = verify_page(client, signed_alone(pdf()), language)
    assert verdict_of(upload) == "unknown_signer"
    words = {"en": ("Signed with a certificate nobody vouches for",
                    "A signature naming Mallory Mallorysson (Skuggbolaget AB)"),
             "sv": ("Signerad med ett certifikat som ingen går i god för",
                    "En signatur som anger Mallory Mallorysson (Skuggbolaget AB)")}[language]
    for phrase in words:
        assert phrase in text_of(upload)
    assert "valid electronic signature" not in text_of(upload)


def test_a_certificate_name_cannot_turn_text_around(client):
    spoof = self_signed_signer("Mallory \u202eBA knaB anigI\u202c", "Skuggbolaget AB")
    page = text_of(verify_page(client, signed_alone(pdf(), by=spoof)))
    assert "\u202e" not in page and "\u202c" not in page
    assert "A signature naming Mallory BA knaB anigI (Skuggbolaget AB)" in page


def test_pdfsig_agrees_that_a_self_signed_signature_matches_but_nobody_vouches_for_it():
    report = pdfsig(signed_alone(pdf()))
    assert "Signature is Valid" in report and "Mallory Mallorysson" in report
    assert "Certificate issuer isn't Trusted" in report or "Certificate issuer is unknown" in report


def test_a_stranger_signature_over_changed_bytes_is_broken(client):
    signed = bytearray(signed_alone(pdf()))
    signed[signed.index(b"ReportLab")] = ord("r")  # inside the signed range
    upload = verify_page(client, bytes(signed))
    assert verdict_of(upload) == "signature_broken"
    assert "does not match the file" in text_of(upload) and "Do not rely on it." in text_of(upload)


def test_a_seal_from_our_previous_certificate_broken_in_place_is_not_called_someone_elses(app_factory, tmp_path):
    earlier = app_factory(SEAL_DIR=str(tmp_path / "old-seal"))  # the seal certificate before a rotation
    with earlier.app_context():
        sealed_then = bytearray(seal_pdf(pdf(), seal_setup(earlier).signer))
    sealed_then[sealed_then.index(b"ReportLab")] = ord("r")
    now = app_factory(SEAL_DIR=str(tmp_path / "new-seal"))
    upload = verify_page(now.test_client(), bytes(sealed_then))
    assert verdict_of(upload) == "signature_broken"
    assert "not sealed by" not in text_of(upload) and "Do not rely on it." in text_of(upload)


def broken_startxref(document: bytes) -> bytes:
    return re.sub(rb"startxref\s+\d+\s+%%EOF\s*$", b"startxref\n999\n%%EOF\n", document)


@pytest.mark.parametrize("damage", [lambda d: d[:600], broken_startxref, lambda d: d.replace(b"xref", b"xxxx")])
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_damaged_unsigned_file_is_damaged_without_a_signature(client, language, damage):
    damaged = damage(pdf())
    upload = verify_page(client, damaged, language)
    assert verdict_of(upload) == "damaged"
    words = {"en": ("The file is damaged", "it has no electronic signature or seal"),
             "sv": ("Filen är skadad", "den har ingen elektronisk signatur eller försegling")}[language]
    for phrase in words:
        assert phrase in text_of(upload)
    assert "signature is not valid" not in text_of(upload).lower()
    assert "underskriften är inte giltig" not in text_of(upload).lower()


def test_pdfsig_agrees_that_a_damaged_unsigned_file_has_no_signature():
    assert "does not contain any signatures" in pdfsig(broken_startxref(pdf()))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_damaged_signed_file_says_its_signature_cannot_be_checked(client, language):
    damaged = broken_startxref(signed_alone(pdf()))
    upload = verify_page(client, damaged, language)
    assert verdict_of(upload) == "damaged"
    words = {"en": "the signature in it cannot be checked and proves nothing",
             "sv": "signaturen i den kan inte kontrolleras och bevisar ingenting"}[language]
    assert words in text_of(upload)


def test_not_a_pdf_gets_the_same_answer_and_status_on_both_pages(sealed, client):
    _, fingerprint = sealed
    for url in ("/verify/", f"/verify/{fingerprint}"):
        response = support.post(client, url, {"file": (io.BytesIO(b"GIF89a not a pdf"), "x.pdf")}, token_from=url,
                                content_type="multipart/form-data")
        assert response.status_code == 422 and 'data-verdict="not_pdf"' in response.get_data(as_text=True)


def test_a_whole_other_sealed_document_is_named_on_the_compare_page(app, people, client, sealed):
    data, fingerprint = sealed
    made = make_case(people.bob, [signer("Per Persson", "per@example.com", methods=["touch"])], methods=["touch"])
    sign(client, made, "Per Persson")
    drain()
    with tenant_context(made.case.tenant_id):
        other = db.session.get(Case, made.case.id).documents[0]
        other_pdf, other_fingerprint = blobs().get(other.sealed_sha256), other.fingerprint
    compare = compare_page(client, fingerprint, other_pdf)
    assert compared_as(compare) == "other" and other_fingerprint in text_of(compare)
    assert verdict_of(compare) == "authentic"


def test_a_file_sealed_with_our_seal_that_we_have_no_record_of_says_so(app, client):
    unrecorded = seal_pdf(pdf(), seal_setup(app).signer)
    upload = verify_page(client, unrecorded)
    assert verdict_of(upload) == "sealed_not_on_record"
    assert "Authentic" not in text_of(upload) and "the seal matches the file" in text_of(upload)
    upload = verify_page(client, appended(unrecorded, b"\n"))
    assert verdict_of(upload) == "sealed_not_on_record"
    assert "the seal matches the part of the file it covers, but more was added after it" in text_of(upload)


def test_a_truncated_sealed_file_is_damaged(sealed, client):
    data, _ = sealed
    upload = verify_page(client, data[: len(data) - 300])
    assert verdict_of(upload) == "damaged" and "The file is damaged" in text_of(upload)
    assert "signature is not valid" not in text_of(upload).lower()


@pytest.fixture
def organisation_ca(tmp_path):
    """A CA of our own that issues our seal (configured as SEAL_P12) and a colleague's certificate."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = certificate_for("Acme Root CA", root_key, "Acme AB", ca=True)
    seal_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    seal = certificate_for("Acme Seal", seal_key, "Acme AB", issuer=(root_key, root))
    other = certificate_for("Olle Kollega", other_key, "Acme AB", issuer=(root_key, root))
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(b"seal", seal_key, seal, [root],
                                                          serialization.BestAvailableEncryption(b"pw")))
    return p12, signer_from_key(other_key, other, [root])


def test_a_signature_from_the_configured_chain_that_is_not_our_seal_is_valid_but_not_ours(app_factory,
                                                                                         organisation_ca):
    p12, colleague = organisation_ca
    app = app_factory(SEAL_P12=str(p12), SEAL_P12_PASSWORD="pw")
    client = app.test_client()
    with app.app_context():
        ours = seal_pdf(pdf(), seal_setup(app).signer)
    theirs = signed_alone(pdf(), by=colleague)
    page = verify_page(client, theirs)
    assert verdict_of(page) == "valid_not_ours"
    assert "A signature by Olle Kollega (Acme AB), with a certificate from an authority we trust" in text_of(page)
    assert verdict_of(verify_page(client, ours)) == "sealed_not_on_record"  # our seal, trusted, no case


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_receipt_alone_is_named_as_the_receipt_on_both_pages(sealed, client, language):
    _, fingerprint = sealed
    document = db.session.scalars(sa.select(Document).where(Document.fingerprint == fingerprint)
                                  .execution_options(all_tenants=True)).one()
    receipt = blobs().get(document.receipt_sha256)
    upload, compare = both_pages(client, fingerprint, receipt, language)
    assert verdict_of(upload) == "receipt" and compared_as(compare) == "receipt"
    words = {"en": ("The receipt, not the signed document", "upload the sealed PDF"),
             "sv": ("Kvittot, inte den underskrivna handlingen", "Ladda upp den förseglade PDF-filen")}[language]
    for page in (upload, compare):
        for phrase in words:
            assert phrase in text_of(page)
    assert fingerprint in text_of(upload)


def _forever(*_args, **_kwargs):
    while True:
        pass


def test_comparing_page_texts_and_document_information_runs_within_the_verify_bounds(sealed, app, client,
                                                                                    monkeypatch, tmp_path):
    """Both read the uploaded file, anyone's: a reader that never returns costs one bounded child."""
    from core.verify import service

    data, fingerprint = sealed
    copy, stamped = resaved_by_qpdf(data, tmp_path), timestamped_later(data)
    app.config.update(VERIFY_CPU_SECONDS=1, VERIFY_WALL_SECONDS=5)
    monkeypatch.setattr(service, "PdfReader", _forever)  # as pypdf might on some hostile page
    started = time.monotonic()
    assert verdict_of(verify_page(client, copy)) == "modified_after_sealing"  # the text could not be compared
    assert verdict_of(verify_page(client, stamped)) == "updated_after_seal"  # nor the information
    assert time.monotonic() - started < 30
