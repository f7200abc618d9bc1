"""Flattening: values drawn where they were placed, the PDF's own fields become content, the original
stays a prefix of the result."""

import io

import pytest
from pypdf import PdfReader

from core.fields.drawing import Mark, Strokes
from core.fields.flatten import flatten
from core.fields.geometry import page_boxes
from core.sealing.stamp import open_writer, write
from tests.fields.pdfs import black_png, lease_form, odd_pages, plain
from tests.sealing.checks import page_texts, qpdf_check, render

BOX = (0.2, 0.3, 0.4, 0.1)  # x, y, w, h from the viewed top-left


def flattened(pdf: bytes, marks: dict, replaced=()) -> bytes:
    writer = open_writer(pdf)
    flatten(writer, marks, replaced)
    out = write(writer)
    assert out.startswith(pdf)  # an incremental update: the original's bytes stay a prefix
    qpdf_check(out)
    return out


def ink_at(image, x: float, y: float) -> bool:
    """Whether the viewed page has ink at the relative point (x, y)."""
    return image.getpixel((int(x * image.width), int(y * image.height))) < 100


def ink_box(image, around: tuple[float, float, float, float], margin: float = 0.05):
    """The relative bounding box of the ink near `around` (x, y, w, h), or None."""
    x, y, w, h = around
    left, top = max(0.0, x - margin), max(0.0, y - margin)
    right, bottom = min(1.0, x + w + margin), min(1.0, y + h + margin)
    region = image.crop((int(left * image.width), int(top * image.height), int(right * image.width),
                         int(bottom * image.height)))
    found = region.point(lambda v: 255 if v < 100 else 0).getbbox()
    if found is None:
        return None
    a, b, c, d = found
    return (left + a / image.width, top + b / image.height, left + c / image.width, top + d / image.height)


@pytest.mark.parametrize("page", [1, 2, 3])
def test_marks_land_where_they_were_placed_on_turned_and_cropped_pages(page):
    pdf = flattened(odd_pages(), {page: [Mark(BOX, "image", image=black_png(400, 100))]})
    image = render(pdf, page - 1, scale=0.5)
    x, y, w, h = BOX
    assert ink_at(image, x + w / 2, y + h / 2)
    left, top, right, bottom = ink_box(image, BOX)
    tolerance = 0.005
    assert x - tolerance <= left and right <= x + w + tolerance
    assert y - tolerance <= top and bottom <= y + h + tolerance
    assert (right - left) == pytest.approx(w, abs=0.01) or (bottom - top) == pytest.approx(h, abs=0.01)


PAD = Strokes((((10.0, 50.0), (60.0, 20.0), (110.0, 58.0)), ((130.0, 40.0),)))  # a stroke and a dot


@pytest.mark.parametrize("page", [1, 2, 3])
def test_a_drawn_signature_is_lines_in_its_box_on_turned_and_cropped_pages(page):
    pdf = flattened(odd_pages(), {page: [Mark(BOX, "strokes", strokes=PAD)]})
    image = render(pdf, page - 1, scale=1)
    x, y, w, h = BOX
    left, top, right, bottom = ink_box(image, BOX)
    tolerance = 0.005
    assert x - tolerance <= left and right <= x + w + tolerance
    assert y - tolerance <= top and bottom <= y + h + tolerance
    # The ink is fitted to the box (the pad's empty margins are not), keeping its proportions.
    assert (right - left) == pytest.approx(w, abs=0.02) or (bottom - top) == pytest.approx(h, abs=0.02)
    added = pdf[len(odd_pages()):]
    assert b"/Subtype /Image" not in added  # paths, not a picture


def test_the_same_picture_in_several_fields_is_embedded_once():
    pdf = flattened(plain(pages=2), {1: [Mark(BOX, "image", image=black_png(400, 100)),
                                         Mark((0.2, 0.6, 0.4, 0.1), "image", image=black_png(400, 100))],
                                     2: [Mark(BOX, "image", image=black_png(400, 100))]})
    assert pdf[len(plain(pages=2)):].count(b"/Subtype /Image") == 2  # the picture and its transparency
    for number in (0, 1):
        assert ink_at(render(pdf, number, scale=0.5), BOX[0] + BOX[2] / 2, BOX[1] + BOX[3] / 2)


def test_text_is_real_text_with_swedish_letters():
    marks = {1: [Mark((0.1, 0.1, 0.6, 0.03), "text", text="Åsa Öberg, Ängsvägen 3"),
                 Mark((0.1, 0.2, 0.5, 0.2), "paragraph", text="Första raden\nAndra raden ÅÄÖ åäö")]}
    [text] = page_texts(flattened(plain(), marks))
    assert "Åsa Öberg, Ängsvägen 3" in text and "Första raden" in text and "Andra raden ÅÄÖ åäö" in text


def test_any_script_the_font_covers_prints_as_typed():
    names = "Ελένη Παπαδοπούλου · Дмитрий Иванов · Łukasz Żółć · Çağrı Öztürk · Ærø Ørsted"
    [text] = page_texts(flattened(plain(), {1: [Mark((0.05, 0.1, 0.9, 0.03), "text", text=names)]}))
    assert names in " ".join(text.split())


def test_a_long_value_shrinks_then_wraps_inside_its_box_and_no_word_is_cut():
    value = ("Lägenhet 1203 på tredje våningen, ingång från gården via porten på Kungsgatan 14; "
             "förråd nummer 7 i källaren och parkeringsplats 22 ingår")
    box = (0.2, 0.3, 0.3, 0.06)
    pdf = flattened(plain(), {1: [Mark(box, "text", text=value)]})
    assert " ".join(page_texts(pdf)[0].split()).count("Kungsgatan 14;") == 1
    words = " ".join(page_texts(pdf)[0].split())
    assert all(word in words for word in value.split())  # wrapped, every word kept
    left, top, right, bottom = ink_box(render(pdf, 0, scale=2), box, margin=0.03)
    x, y, w, h = box
    assert x - 0.003 <= left and right <= x + w + 0.003 and y - 0.003 <= top and bottom <= y + h + 0.003


def test_a_check_mark_and_a_chosen_radio_button_show():
    check, dot = (0.5, 0.5, 0.03, 0.02), (0.7, 0.5, 0.03, 0.02)
    image = render(flattened(plain(), {1: [Mark(check, "check"), Mark(dot, "dot")]}), 0, scale=1)
    for box in (check, dot):
        left, top, right, bottom = ink_box(image, box, margin=0.01)
        assert box[0] <= left and right <= box[0] + box[2] and box[1] <= top and bottom <= box[1] + box[3]


def test_a_printed_signature_block_is_text():
    lines = ("Signed electronically", "Sara Svensson", "BankID · 2026-07-01 14:00")
    [text] = page_texts(flattened(plain(), {1: [Mark((0.1, 0.7, 0.4, 0.08), "block", lines=lines)]}))
    assert all(line in text for line in lines)


def test_filled_form_fields_become_content_and_none_stay_editable():
    original = lease_form(filled=True)
    pdf = flattened(original, {})
    reader = PdfReader(io.BytesIO(pdf))
    assert "/Annots" not in reader.pages[0]
    assert list(reader.trailer["/Root"]["/AcroForm"]["/Fields"]) == []
    [text] = page_texts(pdf)
    assert "Åsa Öberg" in text and "Göteborg" in text  # the filled-in values are page content now


def test_a_replaced_form_field_is_removed_and_our_value_drawn_instead():
    tenant_box = (0.2352, 0.1032, 0.42, 0.0238)
    pdf = flattened(lease_form(filled=True), {1: [Mark(tenant_box, "text", text="Bertil Åkesson")]},
                    replaced={"tenant"})
    [text] = page_texts(pdf)
    assert "Bertil Åkesson" in text and "Åsa Öberg" not in text


def test_nothing_to_draw_leaves_the_file_alone():
    pdf = plain()
    writer = open_writer(pdf)
    flatten(writer, {})
    assert write(writer)[: len(pdf)] == pdf


def test_page_boxes_are_the_visible_boxes_as_viewed():
    boxes = page_boxes(odd_pages())
    assert [b.rotation for b in boxes] == [90, 0, 180]
    assert boxes[0].viewed_size == pytest.approx((841.8898, 595.2756))
    assert boxes[1].viewed_size == pytest.approx((495, 720))


@pytest.mark.parametrize("page", [1, 2, 3, 5])
def test_the_right_page_is_found_in_a_page_tree_of_nodes_and_pages(page):
    from tests.fields.pdfs import nested_tree

    pdf = flattened(nested_tree(5), {page: [Mark((0.1, 0.1, 0.6, 0.03), "text", text="Åsa was here")]})
    texts = page_texts(pdf)
    assert [("Åsa was here" in text) for text in texts] == [n == page for n in range(1, 6)]
    assert f"page {page}" in texts[page - 1]


@pytest.mark.parametrize("source", ["variants", "odd"])
def test_the_sealing_pipeline_draws_values_as_flatten_does_on_every_kind_of_page(source):
    """The pipeline leaves the value drawings of pages without a form of their own to the footer's
    edit (as bytes where the page allows it, else as pyHanko's objects): every page looks and reads
    exactly as when flatten changed the pages first and the footer came after."""
    from core.sealing.pipeline import FieldLayer, prepare_document
    from tests.sealing.conftest import FINGERPRINT, VERIFY_URL, make_receipt
    from tests.sealing.pdfs import page_variants_pdf

    pdf = page_variants_pdf() if source == "variants" else odd_pages()
    count = len(PdfReader(io.BytesIO(pdf)).pages)
    marks = {n: [Mark(BOX, "text", text=f"Åsa Öberg {n}"), Mark((0.2, 0.6, 0.5, 0.1), "strokes", strokes=PAD)]
             for n in range(1, count + 1)}
    receipt = make_receipt(count)
    at_once = prepare_document(pdf, FINGERPRINT, VERIFY_URL, receipt, "sv", FieldLayer(marks))
    first_flattened = prepare_document(flattened(pdf, marks), FINGERPRINT, VERIFY_URL, receipt, "sv")
    without = prepare_document(pdf, FINGERPRINT, VERIFY_URL, receipt, "sv")
    assert at_once.startswith(pdf)
    qpdf_check(at_once)
    assert page_texts(at_once) == page_texts(first_flattened) != page_texts(without)
    for number in range(count):
        image = render(at_once, number, scale=0.5).tobytes()
        assert image == render(first_flattened, number, scale=0.5).tobytes()
        assert image != render(without, number, scale=0.5).tobytes()  # the values show
