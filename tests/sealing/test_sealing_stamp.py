import io

import pytest
from pypdf import PdfReader, PdfWriter

from core.sealing.stamp import STRIP, EncryptedPdfError, stamp_footer
from tests.sealing.checks import (
    dark_rows,
    footer_directions,
    page_texts,
    qpdf_check,
    render,
    text_box,
)
from tests.sealing.conftest import FINGERPRINT, VERIFY_URL
from tests.sealing.pdfs import MIXED_SIZES, acroform_pdf, reportlab_pdf, rotated_pdf


def stamp(pdf: bytes) -> bytes:
    return stamp_footer(pdf, FINGERPRINT, VERIFY_URL)


@pytest.fixture(scope="module")
def rotated():
    original = rotated_pdf()
    return original, stamp(original)


def test_every_page_of_mixed_sizes_gets_the_footer():
    stamped = stamp(reportlab_pdf(6, MIXED_SIZES))
    qpdf_check(stamped)
    texts = page_texts(stamped)
    assert len(texts) == 6
    for text in texts:
        assert f"Fingerprint / Fingeravtryck: {FINGERPRINT}" in text
        assert VERIFY_URL in text


def test_the_footer_reads_upright_on_rotated_pages(rotated):
    _, stamped = rotated
    assert [p.rotation for p in PdfReader(io.BytesIO(stamped)).pages] == [0, 90, 180, 270, 0]
    assert footer_directions(stamped, "Fingeravtryck") == [(1, 0)] * 5


def test_the_footer_is_in_a_new_strip_at_the_viewed_bottom(rotated):
    original, stamped = rotated
    for index, page in enumerate(PdfReader(io.BytesIO(original)).pages):
        before, after = render(original, index), render(stamped, index)
        # The page grew by the strip, at the bottom as viewed, and has ink there.
        assert after.size[0] == before.size[0]
        assert after.size[1] - before.size[1] == pytest.approx(STRIP, abs=1)
        assert any(row >= before.size[1] for row in dark_rows(after, threshold=160))
        # The footer text lies wholly outside the original visible page.
        left, bottom, right, top = text_box(stamped, index, FINGERPRINT)
        crop = page.cropbox
        outside = {
            0: top <= crop.bottom,
            90: left >= crop.right,
            180: bottom >= crop.top,
            270: right <= crop.left,
        }[page.rotation]
        assert outside, (index, page.rotation, (left, bottom, right, top), list(crop))


def test_the_crop_box_offset_page_keeps_its_offset(rotated):
    _, stamped = rotated
    box = PdfReader(io.BytesIO(stamped)).pages[4].cropbox
    assert [float(v) for v in box] == [30, pytest.approx(20 - STRIP, abs=0.01), 560, 800]


def test_one_footer_drawing_per_distinct_page_geometry():
    stamped = stamp(reportlab_pdf(30, MIXED_SIZES))
    reader = PdfReader(io.BytesIO(stamped))
    footers = {
        xobject.idnum
        for page in reader.pages
        for name, xobject in page["/Resources"]["/XObject"].items()
        if name.startswith("/SigillFooter")
    }
    assert len(footers) == len(MIXED_SIZES)


def test_form_fields_keep_their_values_and_places():
    original = acroform_pdf()
    stamped = stamp(original)
    qpdf_check(stamped)
    before, after = PdfReader(io.BytesIO(original)), PdfReader(io.BytesIO(stamped))
    assert {k: v.get("/V") for k, v in after.get_fields().items()} == {
        k: v.get("/V") for k, v in before.get_fields().items()
    }
    rects = [[list(a.get_object()["/Rect"]) for a in r.pages[0]["/Annots"]] for r in (before, after)]
    # The fields' widgets are where they were; the footer's cover comes last (test_sealing_boxes).
    assert rects[1][:-1] == rects[0]
    assert after.pages[0]["/Annots"][-1].get_object()["/Contents"] == "Sigill footer"


def test_stamping_is_deterministic():
    original = reportlab_pdf(3)
    assert stamp(original) == stamp(original)


def test_a_pdf_with_a_broken_cross_reference_table_is_repaired_and_stamped():
    original = reportlab_pdf(2)
    at = original.rindex(b"startxref") + len(b"startxref\n")
    broken = original[:at] + b"1" + original[at:]  # points far past the xref table
    stamped = stamp(broken)
    qpdf_check(stamped)
    assert all(FINGERPRINT in text for text in page_texts(stamped))


def test_the_original_bytes_stay_a_prefix_of_the_stamped_file():
    original = reportlab_pdf(2)
    assert stamp(original).startswith(original)


def test_an_encrypted_pdf_is_refused():
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(reportlab_pdf(1))))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(EncryptedPdfError):
        stamp(out.getvalue())
