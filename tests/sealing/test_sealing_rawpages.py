"""The byte-level readers: stamping plain page dictionaries as bytes gives the same pages as
pyHanko's objects, and the fast reader gives the objects pyHanko's parser gives."""

import io
import re

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NumberObject, StreamObject

from core.sealing import rawpages, stamp
from core.sealing.receipt import render_receipt
from tests.sealing.checks import qpdf_check
from tests.sealing.conftest import FINGERPRINT, VERIFY_URL, make_receipt
from tests.sealing.pdfs import (
    MIXED_SIZES,
    acroform_pdf,
    ghostscript_pdf,
    page_variants_pdf,
    reportlab_pdf,
    rotated_pdf,
    with_object_streams,
)

TEXT = stamp.footer_text(FINGERPRINT, VERIFY_URL)


def stamped(pdf: bytes, byte_level: bool, monkeypatch) -> tuple[bytes, int]:
    """The stamped file and how many pages were edited as bytes."""
    with monkeypatch.context() as patch:
        if not byte_level:
            patch.setattr(stamp, "_original_bytes", lambda writer: None)
        writer = stamp.open_writer(pdf)
        stamp.stamp_pages(writer, TEXT)
        edited = sum(isinstance(o, rawpages.RawObject) and not o.data.startswith(b"<< /Type /Annot")
                     for o in writer.objects.values())  # pages, not the footer's cover annotations
        return stamp.write(writer), edited


def canonical(obj, depth: int = 0):
    """An object with references resolved and streams decoded, for comparing documents."""
    obj = obj.get_object()
    if depth > 8:
        return "..."
    if isinstance(obj, StreamObject):
        return ("stream", obj.get_data(), canonical(DictionaryObject(
            {k: v for k, v in obj.items() if k not in ("/Length", "/Filter", "/DecodeParms")}
        ), depth + 1))
    if isinstance(obj, DictionaryObject):
        return {k: canonical(v, depth + 1) for k, v in obj.items() if k != "/Parent"}
    if isinstance(obj, ArrayObject):
        return [canonical(v, depth + 1) for v in obj]
    if isinstance(obj, FloatObject | NumberObject):
        return round(float(obj), 3)
    return obj


def pages(pdf: bytes) -> list:
    reader = PdfReader(io.BytesIO(pdf))
    result = []
    for page in reader.pages:
        entries = canonical(page)
        entries["/Contents"] = page.get_contents().get_data()
        entries["inherited"] = [page.mediabox, page.cropbox, page.rotation]
        result.append(entries)
    return result


@pytest.mark.parametrize(
    "make, byte_level_pages",
    [
        (lambda: reportlab_pdf(7, MIXED_SIZES), 6),  # all but the first page
        (rotated_pdf, 4),
        (page_variants_pdf, 6),  # not the first, nor the one with a string
        (lambda: with_object_streams(page_variants_pdf()), 0),
    ],
    ids=["reportlab", "rotated", "variants", "object-streams"],
)
def test_byte_level_stamping_gives_the_same_pages(make, byte_level_pages, monkeypatch):
    original = make()
    fast, edited = stamped(original, True, monkeypatch)
    slow, _ = stamped(original, False, monkeypatch)
    assert edited == byte_level_pages
    qpdf_check(fast)
    assert fast.startswith(original)
    assert pages(fast) == pages(slow)


def test_existing_xobjects_stay_next_to_the_footer(monkeypatch):
    fast, _ = stamped(page_variants_pdf(), True, monkeypatch)
    reader = PdfReader(io.BytesIO(fast))
    for index in (2, 3):
        names = set(reader.pages[index]["/Resources"]["/XObject"])
        assert "/Existing" in names
        assert any(name.startswith("/SigillFooter") for name in names)


@pytest.mark.parametrize(
    "source, entries",
    [
        (b"<</Type/Page/Parent 3 0 R/Contents 5 0 R>>",
         {b"/Type": b"/Page", b"/Parent": b"3 0 R", b"/Contents": b"5 0 R"}),
        (b" << /A [1 2 [3]] /B <</C 1 0 R>> /D <a1> /E true /F[/X]>>",
         {b"/A": b"[1 2 [3]]", b"/B": b"<</C 1 0 R>>", b"/D": b"<a1>", b"/E": b"true",
          b"/F": b"[/X]"}),
        (b"<</A [[1 [2]] <</B <</C [3]>>>>] /D 4>>",  # deeper than one regex match reads
         {b"/A": b"[[1 [2]] <</B <</C [3]>>>>]", b"/D": b"4"}),
        (b"<<>>", {}),
    ],
)
def test_plain_dictionaries_are_read_entry_by_entry(source, entries):
    raw = rawpages.parse_dict(source, 0)
    assert {key: raw.value(key) for key in raw.entries} == entries


@pytest.mark.parametrize(
    "source",
    [b"<</A (x)>>", b"<</A 1 /A 2>>", b"<</A>>", b"<</A [1 2>>", b"<</A [1 2>>]>>", b"[1 2]",
     b"<</A 1 % comment\n>>", b"<</A {1}>>"],
)
def test_anything_unusual_is_left_to_pyhanko(source):
    assert rawpages.parse_dict(source, 0) is None


def same_object(a, b) -> bool:
    """Equal pyHanko objects of the same types, container references included."""
    if type(a) is not type(b) or getattr(a, "container_ref", None) != getattr(b, "container_ref", None):
        return False
    if isinstance(a, generic.StreamObject) and a.encoded_data != b.encoded_data:
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(
            same_object(dict.__getitem__(a, key), dict.__getitem__(b, key)) for key in a
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(
            same_object(x, y) for x, y in zip(list.__iter__(a), list.__iter__(b), strict=True)
        )
    if isinstance(a, generic.IndirectObject):
        return a.reference == b.reference
    if isinstance(a, generic.BooleanObject):
        return a.value == b.value
    return isinstance(a, generic.NullObject) or (a == b and str(a) == str(b))


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: reportlab_pdf(3, MIXED_SIZES),
        lambda tmp: rotated_pdf(),
        lambda tmp: ghostscript_pdf(tmp, pdfa=True),
        lambda tmp: acroform_pdf(),
        lambda tmp: page_variants_pdf(),
        lambda tmp: with_object_streams(page_variants_pdf()),
        lambda tmp: render_receipt(make_receipt(3), "sv"),
    ],
    ids=["reportlab", "rotated", "pdfa", "acroform", "variants", "object-streams", "receipt"],
)
def test_the_fast_reader_reads_every_object_as_pyhanko_does(make, tmp_path):
    pdf = make(tmp_path)
    slow = PdfFileReader(io.BytesIO(pdf), strict=False)
    fast = rawpages.FastReader(io.BytesIO(pdf), strict=False)
    read_fast = 0
    for idnum in range(1, slow.trailer["/Size"]):
        marker = slow.xrefs[generic.Reference(idnum, 0)]
        if marker is None:
            continue
        expected = slow.get_object(generic.Reference(idnum, 0, slow))
        assert same_object(fast.get_object(generic.Reference(idnum, 0, fast)), expected), idnum
        if isinstance(marker, int):
            read_fast += rawpages.read_plain_object(
                pdf, marker, generic.Reference(idnum, 0, fast), fast
            ) is not None
    assert read_fast > 0


@pytest.mark.parametrize("make", [lambda: reportlab_pdf(12, MIXED_SIZES), page_variants_pdf])
def test_pages_read_through_a_template_get_the_same_bytes_as_read_one_by_one(make, monkeypatch):
    original = make()
    templated, _ = stamped(original, True, monkeypatch)
    # A /Contents pattern that never matches: every page is read and planned on its own.
    monkeypatch.setattr(rawpages, "CONTENTS_REF", re.compile(rb"(?!)"))
    one_by_one, _ = stamped(original, True, monkeypatch)
    assert templated == one_by_one
