"""The receipt of a real sealed Swedish case: one term for the drawn signature, the seal certificate
labelled in Swedish, and the party's drawn signature printed beside them."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from core.extensions import db
from core.jobs import drain
from core.models import Case
from core.storage import blobs
from tenants.scoping import tenant_context
from tests.completion.test_sealing_job import sign
from tests.sealing.checks import page_texts
from tests.signing.helpers import SARA, make_case, signer


def test_a_swedish_receipt_reads_swedish_and_shows_the_drawn_signature(client, people):
    made = make_case(people.bob, [signer(language="sv", methods=["touch"])], methods=["touch"], language="sv")
    sign(client, made, SARA)
    drain()
    with tenant_context(people.acme.id):
        document = db.session.get(Case, made.case_id).documents[0]
        receipt = blobs().get(document.receipt_sha256)
    text = " ".join(" ".join(page.split()) for page in page_texts(receipt))
    assert "Signeringskvitto" in text and "Ritad underskrift" in text and "Ritad signatur" not in text
    assert "Common Name" not in text and "Organization" not in text
    assert "Namn: Sigill Development Seal" in text and "Land: SE" in text
    assert "Europe/Stockholm" in text and "UTC" in text  # the evidence keeps UTC beside local time
    # The drawn signature is drawn from the pad's strokes: curves, no picture.
    pages = PdfReader(io.BytesIO(receipt)).pages
    assert sum(len(list(page.images)) for page in pages) == 0
    curve = re.compile(r"(?:-?[\d.]+ ){6}c\b")
    assert sum(len(curve.findall(page.get_contents().get_data().decode("latin-1"))) for page in pages) >= 3
