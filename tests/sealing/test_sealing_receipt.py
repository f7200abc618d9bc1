import io
import re
from dataclasses import replace

from pypdf import PdfReader

from core.sealing import receipt as receipt_module
from core.sealing.receipt import append_receipt, mask_personal_number, mask_phone, render_receipt
from tests.sealing.checks import decode_qr, page_texts, qpdf_check, render
from tests.sealing.conftest import FINGERPRINT, VERIFY_URL
from tests.sealing.pdfs import reportlab_pdf


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.split()) for page in page_texts(pdf))


def test_the_swedish_receipt_tells_the_whole_case(receipt):
    pdf = render_receipt(receipt, "sv")
    qpdf_check(pdf)
    text = text_of(pdf)
    for expected in (
        "Signeringskvitto", "Åkesson & Öberg Fastigheter AB", "Hyresavtal Storgatan 1, Umeå",
        "C-2026-0042", "hyresavtal.pdf", "9f" * 32, "Alice Ärlig", "BankID", "SMS-kod",
        "e1" * 32, "Sigill Test Seal", "PAdES B-LT", FINGERPRINT, VERIFY_URL,
        "Intern referens", "Avdelning: Uthyrning", "Öppnade",
    ):
        assert expected in text, expected


def test_the_english_receipt_is_in_english(receipt):
    text = text_of(render_receipt(receipt, "en"))
    assert "Signing receipt" in text
    assert "How to check this document" in text
    assert "Signeringskvitto" not in text


def test_times_are_in_utc_and_swedish_time(receipt):
    text = text_of(render_receipt(receipt, "en"))
    assert "2026-07-01 12:00:00 UTC (2026-07-01 14:00:00 CEST, Swedish time)" in text


def test_identities_are_masked(receipt):
    text = text_of(render_receipt(receipt, "sv"))
    assert "19800101-XXXX" in text
    assert "198001011234" not in text
    assert "+4670XXXXX67" in text
    assert "+46701234567" not in text


def test_the_qr_code_opens_the_verification_page(receipt):
    pdf = render_receipt(receipt, "sv")
    last = len(PdfReader(io.BytesIO(pdf)).pages) - 1
    assert decode_qr(render(pdf, last, scale=2)) == [VERIFY_URL]


def test_many_parties_flow_onto_more_pages(receipt):
    parties = tuple(replace(receipt.parties[0], name=f"Part {n}") for n in range(30))
    pdf = render_receipt(replace(receipt, parties=parties), "sv")
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 1
    assert "Part 29" in text_of(pdf)


def test_the_receipt_is_deterministic(receipt):
    assert render_receipt(receipt, "sv") == render_receipt(receipt, "sv")


def test_append_receipt_adds_its_pages_at_the_end(receipt):
    combined = append_receipt(reportlab_pdf(2), render_receipt(receipt, "en"))
    qpdf_check(combined)
    texts = page_texts(combined)
    assert len(texts) == 3
    assert "Signing receipt" in texts[2]


def test_masking_helpers():
    assert mask_personal_number("19800101-1234") == "19800101-XXXX"
    assert mask_personal_number("800101-1234") == "800101-XXXX"
    assert mask_phone("+46 70 123 45 67") == "+4670XXXXX67"


def test_plain_paragraphs_skip_the_markup_parser_without_changing_the_receipt(receipt, monkeypatch):
    odd = replace(receipt, organisation="A & B <C>  D", case_title="  two  spaces ")
    fast = [render_receipt(r, language) for r in (receipt, odd) for language in ("sv", "en")]
    monkeypatch.setattr(receipt_module, "_PLAIN_TEXT", re.compile("(?!)"))  # parse everything
    assert [render_receipt(r, language) for r in (receipt, odd) for language in ("sv", "en")] == fast
