"""The footer never brings into view what was outside a page's visible box when the parties signed.

Each page arrangement is rendered before and after stamping: the area that was visible must be
the same pixel for pixel, and the whole stamped page must be the same as the stamped page of a
twin file without the hidden content (HIDDEN_WORDS and black bars just outside every edge of the
visible box, in the page's content or in annotations).
"""

import io

import pytest
from PIL import ImageChops
from pypdf import PdfReader

from core.fields.geometry import page_boxes
from core.sealing.stamp import STRIP, stamp_footer
from core.signing.pages import render_page
from tests.sealing.checks import dark_rows, page_texts, qpdf_check, render_area, text_box
from tests.sealing.conftest import FINGERPRINT, VERIFY_URL
from tests.sealing.pdfs import boxed_pdf

A4 = [0, 0, 595, 842]
INSET = [30, 60, 560, 800]  # a crop box hiding 60 points below the visible part, and more around it

ARRANGEMENTS = {
    "crop box smaller than media box": dict(media=A4, crop=INSET),
    "rotated 90": dict(media=A4, crop=INSET, rotate=90),
    "rotated 180": dict(media=A4, crop=INSET, rotate=180),
    "rotated 270": dict(media=A4, crop=INSET, rotate=270),
    "content outside the media box": dict(media=A4),
    "negative origin": dict(media=[-300, -421, 295, 421], crop=[-250, -380, 250, 400]),
    "crop box partly outside the media box": dict(media=A4, crop=[-50, 40, 500, 900]),
    "user unit 2": dict(media=[0, 0, 400, 500], crop=[20, 30, 380, 480], user_unit=2),
    "trim and bleed boxes": dict(media=[0, 0, 612, 864], crop=[9, 9, 603, 855], trim=[18, 18, 594, 846],
                                 bleed=[9, 9, 603, 855]),
    "hidden annotations": dict(media=A4, crop=INSET, hidden_annotation=True),
    "hidden annotations, rotated 270": dict(media=A4, crop=INSET, rotate=270, hidden_annotation=True),
}


def stamp(pdf: bytes) -> bytes:
    return stamp_footer(pdf, FINGERPRINT, VERIFY_URL)


@pytest.fixture(scope="module", params=ARRANGEMENTS, ids=list(ARRANGEMENTS))
def files(request):
    arrangement = ARRANGEMENTS[request.param]
    original = boxed_pdf(**arrangement)
    return original, stamp(original), stamp(boxed_pdf(**arrangement, hidden=False))


def test_what_was_visible_is_unchanged_pixel_for_pixel(files):
    original, stamped, _ = files
    width, height = page_boxes(original)[0].viewed_size
    before = render_area(original, 0, width, height)
    after = render_area(stamped, 0, width, height)
    assert ImageChops.difference(before, after).getbbox() is None


def test_nothing_hidden_comes_into_view(files):
    _, stamped, stamped_twin = files
    width, height = page_boxes(stamped)[0].viewed_size
    assert page_boxes(stamped) == page_boxes(stamped_twin)
    with_hidden = render_area(stamped, 0, width, height)
    without = render_area(stamped_twin, 0, width, height)
    # The hidden words and bars lie right where the strip now is; none of them shows.
    assert ImageChops.difference(with_hidden, without).getbbox() is None


def test_the_footer_is_visible_in_the_strip(files):
    original, stamped, stamped_twin = files
    qpdf_check(stamped)
    text = " ".join(page_texts(stamped_twin)[0].split())
    assert f"Fingerprint / Fingeravtryck: {FINGERPRINT} · verify at / verifiera på {VERIFY_URL}" in text
    # Text extraction still finds the hidden words (as it did before stamping) beside the footer.
    text = page_texts(stamped)[0]
    assert FINGERPRINT in text and VERIFY_URL in text
    box, old = page_boxes(stamped)[0], page_boxes(original)[0]
    unit = float(PdfReader(io.BytesIO(original)).pages[0].get("/UserUnit", 1))
    assert box.viewed_size[1] - old.viewed_size[1] == pytest.approx(STRIP / unit, abs=0.01)
    # The footer's characters lie inside the new visible box, and there is ink in the strip.
    left, bottom, right, top = text_box(stamped, 0, FINGERPRINT)
    assert box.left <= left < right <= box.right and box.bottom <= bottom < top <= box.top
    width, height = box.viewed_size
    image = render_area(stamped, 0, width, height, scale=2)
    assert any(row >= 2 * old.viewed_size[1] for row in dark_rows(image, threshold=160))


def test_the_signer_page_image_shows_the_box_that_gets_sealed():
    """The page image a signer sees is rendered from the same visible box the seal keeps."""
    original = boxed_pdf(media=A4, crop=INSET)
    stamped = stamp(original)
    image, height = render_page(original, 1, 530)
    assert height == 740  # the crop box, not the media box: 530 x 740 points
    old, new = page_boxes(original)[0], page_boxes(stamped)[0]
    assert (new.left, new.right, new.top) == (old.left, old.right, old.top)
    assert new.bottom == pytest.approx(old.bottom - STRIP, abs=0.001)


def test_every_page_of_a_document_keeps_its_hidden_content_hidden():
    """Pages after the first are edited as bytes (rawpages): the same holds for them."""
    from pypdf import PdfWriter

    names = ["crop box smaller than media box", "rotated 90", "user unit 2", "hidden annotations",
             "content outside the media box"]

    def document(hidden: bool) -> bytes:
        writer = PdfWriter()
        for name in names:
            writer.append(PdfReader(io.BytesIO(boxed_pdf(**ARRANGEMENTS[name], hidden=hidden))))
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    original = document(hidden=True)
    stamped, stamped_twin = stamp(original), stamp(document(hidden=False))
    qpdf_check(stamped)
    for index, (old, new) in enumerate(zip(page_boxes(original), page_boxes(stamped), strict=True)):
        before = render_area(original, index, *old.viewed_size)
        assert ImageChops.difference(before, render_area(stamped, index, *old.viewed_size)).getbbox() is None
        with_hidden = render_area(stamped, index, *new.viewed_size)
        without = render_area(stamped_twin, index, *new.viewed_size)
        assert ImageChops.difference(with_hidden, without).getbbox() is None, names[index]
        assert FINGERPRINT in page_texts(stamped)[index]


def _escaping(hidden: bool) -> bytes:
    """A page whose own content pops every saved graphics state (our clip with it), draws the
    hidden words where the strip will be, and leaves the coordinates moved, to move the footer."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(boxed_pdf(media=A4, crop=INSET, hidden=False))))
    page = writer.pages[0]
    stream = DecodedStreamObject()
    words = b"0 g 30 45 530 15 re f BT /F1 9 Tf 1 g 40 50 Td (the buyer also pays an extra fee) Tj ET "
    words = words if hidden else b""
    stream.set_data(b"Q Q Q " + words + b"1 0 0 1 0 200 cm")
    page[NameObject("/Contents")] = ArrayObject([page.raw_get("/Contents"), writer._add_object(stream)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_content_that_escapes_the_clip_still_shows_nothing_hidden_and_the_footer_stays():
    stamped, stamped_twin = stamp(_escaping(hidden=True)), stamp(_escaping(hidden=False))
    box = page_boxes(stamped)[0]
    with_hidden = render_area(stamped, 0, *box.viewed_size)
    assert ImageChops.difference(with_hidden, render_area(stamped_twin, 0, *box.viewed_size)).getbbox() is None
    # The footer is in the strip, where the cover annotation draws it.
    reference = render_area(stamp(boxed_pdf(media=A4, crop=INSET, hidden=False)), 0, *box.viewed_size)
    strip_top = 2 * 740
    strip = (0, strip_top, with_hidden.size[0], with_hidden.size[1])
    assert ImageChops.difference(with_hidden.crop(strip), reference.crop(strip)).getbbox() is None
