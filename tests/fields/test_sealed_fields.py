"""A case with fields, signed by touch and by SMS code and sealed: the values and signatures are on the pages."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from core.jobs import drain
from core.sealing.validate import validate_sealed
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import support
from tests.fields.helpers import BOXES, lease_with_fields, text_in_box
from tests.fields.test_signer_fields import save, sign
from tests.sealing.checks import page_texts, pdfsig, qpdf_check, render
from tests.signing.helpers import sms_codes


@pytest.fixture
def sealed(app, client, people):
    made = lease_with_fields(people.bob, values={"rent": "9500"})
    tenant, landlord = made.links["tenant"], made.links["landlord"]
    save(client, tenant, {"full_name": "Åsa Öberg", "moving_in": "2026-09-01", "pets": "yes"})
    assert sign(client, tenant).status_code == 302
    save(client, landlord, {"landlord_note": "Keys at the office.\nWelcome!"})
    support.post(client, landlord + "/method/sms/send", {}, token_from=landlord)
    [code] = sms_codes(app.config["OUTBOX_DIR"] + "/sms")
    assert sign(client, landlord, method="sms", sms_code=code).status_code == 302
    drain()
    case = made.case()
    with tenant_context(made.tenant_id):
        assert case.status == "completed"
        [document] = case.documents
        return made, document.sha256, blobs().get(document.sealed_sha256)


def ink_in(image, box, page_height: int) -> int:
    """Dark pixels in a box placed on the page as it was before sealing (`page_height` pixels high:
    the footer strip added below does not move anything above it)."""
    x, y, w, h = box
    region = image.crop((int(x * image.width), int(y * page_height), int((x + w) * image.width),
                         int((y + h) * page_height)))
    return sum(region.histogram()[:128])


def test_every_value_is_printed_on_its_page(sealed):
    _made, _original, pdf = sealed
    first = page_texts(pdf)[0]
    for text in ("Åsa Öberg", "9,500", "2026-09-01", "Keys at the office.", "Welcome!", "Signed electronically",
                 "Per Persson", "SMS code"):
        assert text in first, text


def test_each_value_and_the_printed_signature_is_in_its_own_box(sealed):
    """By text extraction: every value sits in the box its field was placed at, none elsewhere."""
    _made, _original, pdf = sealed
    original = pdf[: pdf.index(b"%%EOF") + 5]
    assert text_in_box(pdf, original, BOXES["full_name"]) == "Åsa Öberg"
    assert text_in_box(pdf, original, BOXES["rent"]) == "9,500"
    assert text_in_box(pdf, original, BOXES["moving_in"]) == "2026-09-01"
    assert text_in_box(pdf, original, BOXES["landlord_note"]) == "Keys at the office. Welcome!"
    block = text_in_box(pdf, original, BOXES["landlord_signature"])
    assert block.startswith("Signed electronically Per Persson SMS code ·"), block
    assert text_in_box(pdf, original, BOXES["tenant_signature"]) == ""  # her drawn signature is lines, not text


def test_the_drawn_signature_and_the_check_mark_are_where_they_were_placed(sealed):
    _made, _original, pdf = sealed
    original_page = render(pdf[: pdf.index(b"%%EOF") + 5], 0)  # the original revision: nothing filled in
    page = render(pdf, 0)
    height = original_page.height
    for name in ("tenant_signature", "pets"):
        assert ink_in(original_page, BOXES[name], height) == 0
        assert ink_in(page, BOXES[name], height) > 5, name


def test_the_drawn_signature_is_drawn_from_its_strokes_and_fills_its_box(sealed):
    """She drew a short line at the pad's left; in the field it is drawn as lines (sharp at any zoom,
    no picture of the whole pad) and as wide as the field allows."""
    _made, _original, pdf = sealed
    page = render(pdf, 0, scale=3)
    height = render(pdf[: pdf.index(b"%%EOF") + 5], 0, scale=3).height
    x, y, w, h = BOXES["tenant_signature"]
    region = page.crop((int(x * page.width), int(y * height), int((x + w) * page.width), int((y + h) * height)))
    left, _top, right, _bottom = region.point(lambda v: 255 if v < 128 else 0).getbbox()
    assert (right - left) / region.width > 0.8
    reader = PdfReader(io.BytesIO(pdf))
    drawing = reader.pages[0]["/Resources"]["/XObject"]["/SigillFields"].get_object()
    assert "/XObject" not in drawing.get("/Resources", {})  # no image: the strokes are paths


def test_the_seal_is_valid_and_the_original_is_a_prefix(sealed, app):
    from core.sealing import pki

    _made, original_sha256, pdf = sealed
    assert pdf.startswith(blobs().get(original_sha256))
    qpdf_check(pdf)
    assert "Signature Validation: Signature is Valid." in pdfsig(pdf)
    assert validate_sealed(pdf, [pki.dev_root(app.config["SEAL_DIR"])]).verdict == "authentic"


def test_the_receipt_lists_each_partys_values_and_their_hash(sealed):
    made, _original, pdf = sealed
    receipt = " ".join(page_texts(pdf)[-1].split())
    case = made.case()
    with tenant_context(made.tenant_id):
        hashes = [p.signature.field_values_sha256 for p in case.parties]
    assert "Full name: Åsa Öberg" in receipt and "Note: Keys at the office." in receipt
    unwrapped = "".join(receipt.split())  # a hash beside a drawn signature wraps onto a second line
    assert all(h and h in unwrapped for h in hashes)


def test_no_form_field_is_left_but_the_seal(sealed):
    _made, _original, pdf = sealed
    reader = PdfReader(io.BytesIO(pdf))
    assert [str(f.get_object()["/T"]) for f in reader.trailer["/Root"]["/AcroForm"]["/Fields"]] == ["Sigill seal"]


def test_a_swedish_case_prints_its_values_signature_block_and_receipt_in_swedish(app, client, people):
    made = lease_with_fields(people.bob, values={"rent": "9500"}, language="sv")
    tenant, landlord = made.links["tenant"], made.links["landlord"]
    save(client, tenant, {"full_name": "Åsa Öberg", "pets": "yes"})
    assert sign(client, tenant).status_code == 302
    support.post(client, landlord + "/method/sms/send", {}, token_from=landlord)
    [code] = sms_codes(app.config["OUTBOX_DIR"] + "/sms")
    assert sign(client, landlord, method="sms", sms_code=code).status_code == 302
    drain()
    with tenant_context(made.tenant_id):
        [document] = made.case().documents
        pdf = blobs().get(document.sealed_sha256)
    original = pdf[: pdf.index(b"%%EOF") + 5]
    assert text_in_box(pdf, original, BOXES["rent"]).replace("\u00a0", " ") == "9 500"
    block = text_in_box(pdf, original, BOXES["landlord_signature"])
    assert block.startswith("Signerat elektroniskt Per Persson Sms-kod ·"), block
    receipt = " ".join(page_texts(pdf)[-1].replace("\u00a0", " ").split())
    assert "Signeringskvitto" in receipt and "Ifyllda fält" in receipt
    assert "Rent: 9 500" in receipt and "Pets: Ja" in receipt
