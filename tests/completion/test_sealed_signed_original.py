"""A document that was already signed when it was uploaded: after sealing, pdfsig, pyHanko and the
verification page say the same about both signatures (issue 12)."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from core.extensions import db
from core.jobs import drain
from core.models import Case
from core.storage import blobs
from tenants.scoping import tenant_context
from tests.completion.test_sealing_job import sign
from tests.completion.test_verify_verdicts import text_of, verdict_of, verify_page
from tests.sealing.checks import pdfsig
from tests.sealing.pdfs import signed_pdf
from tests.signing.helpers import make_case, pdf, signer


@pytest.fixture
def sealed(app, people, client) -> tuple[bytes, bytes]:
    original = signed_pdf(pdf(), "Anna Andersson")
    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"],
                     document=original)
    sign(client, made, "Sara Svensson")
    drain()
    with tenant_context(made.case.tenant_id):
        case = db.session.get(Case, made.case.id)
        assert case.status == "completed"
        return original, blobs().get(case.documents[0].sealed_sha256)


def test_the_earlier_signature_is_kept_and_every_checker_says_the_same(client, sealed):
    original, sealed_pdf = sealed
    assert sealed_pdf.startswith(original)  # an incremental update after the signed version
    # pdfsig: the earlier signature matches what it signed, which is not the whole file; the seal covers it all.
    earlier_pdfsig, seal_pdfsig = pdfsig(sealed_pdf).split("Signature #2:")
    assert "Anna Andersson" in earlier_pdfsig and "Signature is Valid." in earlier_pdfsig
    assert "Not total document signed" in earlier_pdfsig and "Certificate issuer is unknown" in earlier_pdfsig
    assert "Signature is Valid." in seal_pdfsig and "Total document signed" in seal_pdfsig
    # pyHanko: intact and valid, changed afterwards, and nobody we trust vouches for its certificate.
    earlier = PdfFileReader(io.BytesIO(sealed_pdf)).embedded_regular_signatures[0]
    status = validate_pdf_signature(earlier, ValidationContext(trust_roots=[]))
    assert status.intact and status.valid and not status.trusted
    assert status.modification_level == ModificationLevel.OTHER
    # The verification page: authentic, and the same about the earlier signature.
    page = verify_page(client, sealed_pdf)
    assert verdict_of(page) == "authentic"
    words = text_of(page)
    assert "The document was already signed when it was uploaded for signing." in words
    assert "say that the document was changed after that signature" in words
    assert "A signature naming Anna Andersson (Test AB), with a certificate that nobody we trust vouches for" in words


def test_an_unsigned_original_gets_no_such_words(client, app, people):
    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"])
    sign(client, made, "Sara Svensson")
    drain()
    with tenant_context(made.case.tenant_id):
        sealed_pdf = blobs().get(db.session.get(Case, made.case.id).documents[0].sealed_sha256)
    words = text_of(verify_page(client, sealed_pdf))
    assert "Authentic" in words and "already signed" not in words
