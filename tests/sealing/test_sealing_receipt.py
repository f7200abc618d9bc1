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


def test_times_are_in_utc_and_the_organisations_time_zone(receipt):
    text = text_of(render_receipt(receipt, "en"))
    assert "2026-07-01 12:00:00 UTC (2026-07-01 14:00:00 CEST, Europe/Stockholm)" in text
    text = text_of(render_receipt(replace(receipt, time_zone="America/New_York"), "sv"))
    assert "2026-07-01 12:00:00 UTC (2026-07-01 08:00:00 EDT, America/New_York)" in text


HEADINGS = {"sv": ("Dokument", "Parter", "Bevis", "Så kontrollerar du dokumentet", "Intern referens"),
            "en": ("Documents", "Parties", "Evidence", "How to check this document", "Intern referens")}


def _last_line(page_text: str) -> str:
    return [line.strip() for line in page_text.splitlines() if line.strip()][-1]


def test_no_heading_or_party_name_is_left_alone_at_the_bottom_of_a_page(receipt):
    """Receipts of 1 to 24 parties: wherever the page breaks, a heading (or a party's name) goes
    to the next page with what it introduces."""
    for language in ("sv", "en"):
        for count in range(1, 25):
            parties = tuple(replace(receipt.parties[n % 2], name=f"Part {n}") for n in range(count))
            pages = page_texts(render_receipt(replace(receipt, parties=parties), language))
            for page_text in pages[:-1]:
                last = _last_line(page_text)
                assert last not in HEADINGS[language], (language, count, last)
                assert not re.fullmatch(r"Part \d+", last), (language, count, last)


def test_the_seal_certificate_is_labelled_in_the_receipts_language(receipt):
    seal = replace(receipt.seal, certificate_subject="Common Name: Sigill Test Seal, Organization: Sigill AB",
                   subject_fields=(("common_name", "Sigill Test Seal"), ("organization_name", "Sigill AB"),
                                   ("country_name", "SE")))
    swedish = text_of(render_receipt(replace(receipt, seal=seal), "sv"))
    assert "Namn: Sigill Test Seal, Organisation: Sigill AB, Land: SE" in swedish
    assert "Common Name" not in swedish and "Organization" not in swedish and "Country" not in swedish
    assert "visar förseglingen av Sigill Test Seal;" in swedish
    english = text_of(render_receipt(replace(receipt, seal=seal), "en"))
    assert "Name: Sigill Test Seal, Organisation: Sigill AB, Country: SE" in english


def test_the_drawn_signature_is_shown_beside_the_party(receipt):
    png = _drawn_png()
    parties = (replace(receipt.parties[0], method="touch", method_title="Ritad underskrift", signature_image=png),
               receipt.parties[1])
    pdf = render_receipt(replace(receipt, parties=parties), "sv")
    qpdf_check(pdf)
    [first, *_rest] = PdfReader(io.BytesIO(pdf)).pages
    images = list(first.images)
    assert len(images) == 1
    assert images[0].image.size[0] > 50  # the signature itself, not a placeholder
    text = text_of(pdf)
    assert "Ritad underskrift" in text and "Ritad signatur" not in text
    assert render_receipt(replace(receipt, parties=parties), "sv") == pdf  # still deterministic
    assert not list(PdfReader(io.BytesIO(render_receipt(receipt, "sv"))).pages[0].images)


def test_a_signature_drawn_on_the_pad_is_lines_beside_the_party(receipt):
    from core.fields.drawing import Strokes

    strokes = Strokes((((20.0, 150.0), (150.0, 40.0), (300.0, 160.0), (450.0, 50.0), (580.0, 120.0)),))
    parties = (replace(receipt.parties[0], method="touch", method_title="Ritad underskrift",
                       signature_strokes=strokes), receipt.parties[1])
    pdf = render_receipt(replace(receipt, parties=parties), "sv")
    qpdf_check(pdf)
    [first, *_rest] = PdfReader(io.BytesIO(pdf)).pages
    assert not list(first.images)  # lines, not a picture
    curve = re.compile(r"(?:-?[\d.]+ ){6}c\b")  # x1 y1 x2 y2 x3 y3 c: a Bézier segment
    assert len(curve.findall(first.get_contents().get_data().decode("latin-1"))) >= 4  # one per segment
    plain_page = PdfReader(io.BytesIO(render_receipt(receipt, "sv"))).pages[0]
    assert not curve.findall(plain_page.get_contents().get_data().decode("latin-1"))
    page, plain = render(pdf, 0, scale=2), render(render_receipt(receipt, "sv"), 0, scale=2)
    assert sum(page.histogram()[:128]) > sum(plain.histogram()[:128]) + 300  # its ink shows
    assert "Ritad underskrift" in text_of(pdf)
    assert render_receipt(replace(receipt, parties=parties), "sv") == pdf  # still deterministic


def _drawn_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 150), (150, 40), (300, 160), (450, 50), (580, 120)], fill=(0, 0, 80, 255),
                               width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


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


def test_the_receipt_alone_keeps_its_pages_and_nothing_only_the_extra_pages_used(receipt):
    """receipt_alone cuts reportlab's file as bytes: the receipt's pages (here several) and what they
    use stay, the extra pages (a picture and words drawn after them) and their objects go, and the
    file is sound, deterministic and the same pages as the pyHanko copy it replaces."""
    from core.fields.drawing import Mark, draw_page
    from tests.fields.pdfs import black_png

    parties = tuple(replace(receipt.parties[n % 2], name=f"Part {n}") for n in range(30))
    long_receipt = replace(receipt, parties=parties)

    def extra_pages(drawing) -> None:
        for words in ("Extra one", "Extra two"):
            drawing.setPageSize((300, 200))
            draw_page(drawing, (300, 200), [Mark((0.1, 0.1, 0.5, 0.2), "text", text=words),
                                            Mark((0.1, 0.5, 0.5, 0.4), "image", image=black_png(60, 20))])
            drawing.showPage()

    drawn = render_receipt(long_receipt, "sv", extra_pages=extra_pages)
    alone = receipt_module.receipt_alone(drawn, 2)
    qpdf_check(alone)
    texts = page_texts(alone)
    assert texts == page_texts(render_receipt(long_receipt, "sv")) and len(texts) > 1
    assert "Extra" not in " ".join(texts) and "Extra" in page_texts(drawn)[-1]
    assert b"/Subtype /Image" in drawn and b"/Subtype /Image" not in alone
    assert receipt_module.receipt_alone(drawn, 2) == alone
    assert page_texts(receipt_module._copied_without(drawn, 2)) == texts
    assert receipt_module._cut_pages(b"%PDF-1.4\nnot reportlab's\n%%EOF\n", 1) is None  # falls back


def test_the_receipts_pages_are_plain_flate_streams(receipt):
    """The receipt's document (drawn for every seal, its streams copied into the sealed file) is
    compressed without reportlab's ASCII85 layer: a quarter fewer bytes, read by every viewer."""
    pdf = render_receipt(receipt, "sv")
    assert b"/ASCII85Decode" not in pdf and b"/FlateDecode" in pdf
    assert "Signeringskvitto" in text_of(pdf)
