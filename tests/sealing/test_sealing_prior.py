"""PDFs that are already signed when uploaded: what we find, and what sealing does to that signature."""

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from core.sealing.pipeline import seal_document
from core.sealing.prior import prior_signatures
from core.sealing.validate import validate_sealed
from tests.sealing.checks import pdfsig, qpdf_check
from tests.sealing.conftest import FINGERPRINT, VERIFY_URL, make_receipt
from tests.sealing.pdfs import reportlab_pdf, signed_pdf


def test_an_unsigned_pdf_has_no_prior_signatures():
    assert prior_signatures(reportlab_pdf(2)).signatures == ()


def test_a_signed_pdf_names_its_signer_and_is_not_certified():
    found = prior_signatures(signed_pdf(reportlab_pdf(1)))
    assert found.signers == ["Anna Andersson"]
    assert found.certification is None
    assert found.signatures[0].signed_at is not None


@pytest.mark.parametrize("level", [1, 2, 3])
def test_a_certified_pdf_says_what_its_certification_allows(level):
    certification = prior_signatures(signed_pdf(reportlab_pdf(1), "Cert Ifier", certify=level)).certification
    assert (certification.signer, certification.certification) == ("Cert Ifier", level)


@pytest.fixture(scope="module")
def sealed_signed(local_pki):
    original = signed_pdf(reportlab_pdf(2))
    sealed = seal_document(original, FINGERPRINT, VERIFY_URL, make_receipt(2), "en", local_pki.signer, "B-B").pdf
    return original, sealed


def test_sealing_a_signed_pdf_adds_a_revision_and_leaves_the_signed_bytes_alone(sealed_signed):
    original, sealed = sealed_signed
    qpdf_check(sealed)
    assert sealed.startswith(original)


def test_pdfsig_finds_both_signatures_valid_and_only_the_seal_covering_everything(sealed_signed):
    report = pdfsig(sealed_signed[1])
    first, second = report.split("Signature #2:")
    assert "Anna Andersson" in first and "Signature is Valid." in first and "Not total document signed" in first
    assert "Sigill Test Seal" in second and "Signature is Valid." in second and "Total document signed" in second


def test_pyhanko_finds_the_earlier_signature_intact_and_the_changes_after_it(sealed_signed, local_pki):
    reader = PdfFileReader(io.BytesIO(sealed_signed[1]))
    earlier, seal = reader.embedded_regular_signatures
    status = validate_pdf_signature(earlier, ValidationContext(trust_roots=[earlier.signer_cert]))
    assert status.intact and status.valid
    assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    # The footer and the receipt are changes after it, and pyHanko says so.
    assert status.modification_level == ModificationLevel.OTHER
    status = validate_pdf_signature(seal, ValidationContext(trust_roots=[local_pki.root]))
    assert status.bottom_line and status.coverage == SignatureCoverageLevel.ENTIRE_FILE


def test_our_report_says_the_same_about_both_signatures(sealed_signed, local_pki):
    report = validate_sealed(sealed_signed[1], [local_pki.root])
    assert report.verdict == "authentic"
    earlier, seal = report.signatures
    assert (earlier.ours, earlier.intact, earlier.valid, earlier.covers_whole_document) == (False, True, True, False)
    assert earlier.later_revisions and earlier.modification_level == "OTHER"
    assert earlier.signer_subject.find("Anna Andersson") >= 0
    assert (seal.ours, seal.intact, seal.valid, seal.covers_whole_document) == (True, True, True, True)


@pytest.mark.parametrize("level", [1, 2])
def test_a_certified_pdf_that_reaches_sealing_is_refused_and_left_as_it_was(local_pki, level):
    """Refused at upload; one uploaded before that check is refused by the pipeline, with the reason."""
    from core.sealing.prior import CertifiedPdfError

    certified = signed_pdf(reportlab_pdf(1), "Cert Ifier", certify=level)
    with pytest.raises(CertifiedPdfError, match="certified by Cert Ifier"):
        seal_document(certified, FINGERPRINT, VERIFY_URL, make_receipt(1), "en", local_pki.signer, "B-B")
