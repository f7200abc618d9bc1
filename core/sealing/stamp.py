"""Footer stamping: the fingerprint and verification URL at the bottom of every page.

Decision: each page grows by a 4 mm strip at the edge that is at the bottom *as the page
is viewed* (after /Rotate), and the footer is written in that strip. Nothing is drawn
over existing content, no content is scaled, and form fields and links keep their
coordinates, because the page's user space is untouched: only its boxes get larger.
The price is that a page becomes 4 mm taller (an A4 prints scaled by ~1.3 %).

Speed: the footer is drawn by reportlab once per distinct page geometry (crop box,
rotation) and becomes one shared Form XObject; each page gets two tiny shared content
streams around its own ("q" before, "Q /Footer Do" after), so cost per page is a few
dictionary edits, not a content merge. The changes are written as an incremental update
with pyHanko's writer: the original bytes stay a prefix of the output (so the original's
SHA-256 on the receipt can be checked from the sealed file) and only the edited page
dictionaries are written, instead of re-serialising every object of a 500-page file.
"""

import hashlib
import io
import logging
import os
from dataclasses import dataclass
from functools import cache

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader, PdfWriter
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

log = logging.getLogger(__name__)

STRIP = 4 * mm
FONT_SIZE = 6.0
MIN_FONT_SIZE = 3.0
SIDE_MARGIN = 3 * mm
DEFAULT_LABEL = "Fingerprint / Fingeravtryck"
VERIFY_WORDS = "verify at / verifiera på"
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
XOBJECT_PREFIX = "/SigillFooter"


@cache
def text_font(bold: bool = False) -> str:
    """Name of a registered font that has åäö, embedded so PDF/A inputs stay PDF/A.

    DejaVu comes from Debian's fonts-dejavu-core; without it we fall back to Helvetica,
    which has åäö in WinAnsi but is not embedded.
    """
    name = "DejaVuSans-Bold" if bold else "DejaVuSans"
    path = os.path.join(FONT_DIR, f"{name}.ttf")
    if not os.path.exists(path):
        return "Helvetica-Bold" if bold else "Helvetica"
    pdfmetrics.registerFont(TTFont(name, path))
    return name


def footer_text(fingerprint: str, verify_url: str, label: str = DEFAULT_LABEL) -> str:
    return f"{label}: {fingerprint} · {VERIFY_WORDS} {verify_url}"


@dataclass(frozen=True)
class Geometry:
    """What the footer drawing depends on: the visible box and the viewing rotation."""

    left: float
    bottom: float
    right: float
    top: float
    rotation: int

    @property
    def width_as_viewed(self) -> float:
        if self.rotation in (0, 180):
            return self.right - self.left
        return self.top - self.bottom


def stamp_footer(
    pdf_bytes: bytes, fingerprint: str, verify_url: str, label: str = DEFAULT_LABEL
) -> bytes:
    """Return the PDF with the footer added to every page (see the module docstring)."""
    writer = open_writer(pdf_bytes)
    stamp_pages(writer, footer_text(fingerprint, verify_url, label))
    return write(writer)


class EncryptedPdfError(ValueError):
    """Uploads should have been refused: we cannot add pages or a seal to them."""


class StampWriter(IncrementalPdfFileWriter):
    """Incremental writer that leaves document metadata alone.

    pyHanko's writer stamps /ModDate (and XMP) with the current time on every write; we
    want the same input to give the same bytes, and PDF/A files keep Info and XMP in
    step as their producer wrote them. The seal's own revision updates them later.
    """

    def _update_meta(self) -> None:
        return None


def open_writer(pdf_bytes: bytes) -> StampWriter:
    """A writer appending to `pdf_bytes`; damaged files are first rewritten by pypdf.

    pyHanko needs a sound cross-reference table to append to. pypdf rebuilds broken
    ones, at the price that the original bytes are no longer a prefix of the result.
    """
    try:
        writer = StampWriter(io.BytesIO(pdf_bytes), strict=False)
    except PdfReadError as error:
        log.warning("Rewriting a damaged PDF before stamping: %s", error)
        pdf_bytes = _rewritten(pdf_bytes)
        writer = StampWriter(io.BytesIO(pdf_bytes), strict=False)
    if writer.prev.encrypted:
        raise EncryptedPdfError("An encrypted PDF cannot be stamped or sealed")
    # The second ID half marks this revision; derive it from the input, not randomness.
    first_id = writer._document_id[0]
    revision_id = hashlib.sha256(pdf_bytes).digest()[:16]
    writer._document_id = generic.ArrayObject([first_id, generic.ByteStringObject(revision_id)])
    return writer


def _rewritten(pdf_bytes: bytes) -> bytes:
    out = io.BytesIO()
    PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes), strict=False)).write(out)
    return out.getvalue()


def write(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_refs(handler) -> list[generic.IndirectObject]:
    """References of all pages in order, walking the page tree once."""
    refs: list[generic.IndirectObject] = []
    stack = [handler.root.raw_get("/Pages")]
    while stack:
        ref = stack.pop()
        node = ref.get_object()
        if node.get("/Type") == "/Pages" or "/Kids" in node:
            stack.extend(reversed(list(node["/Kids"])))
        else:
            refs.append(ref)
    return refs


def stamp_pages(writer: IncrementalPdfFileWriter, text: str) -> None:
    """Grow every page by the footer strip and draw `text` in it."""
    refs = page_refs(writer)
    pages = [ref.get_object() for ref in refs]
    geometries = [_grow(page) for page in pages]
    xobjects = _footer_xobjects(writer, sorted(set(geometries), key=repr), text)
    open_stream = writer.add_object(_stream(b"q\n"))
    close_streams = {
        geometry: writer.add_object(_stream(f"\nQ q {name} Do Q\n".encode()))
        for geometry, (name, _) in xobjects.items()
    }
    for ref, page, geometry in zip(refs, pages, geometries, strict=True):
        name, xobject = xobjects[geometry]
        _add_xobject(writer, page, name, xobject)
        page[pdf_name("/Contents")] = generic.ArrayObject(
            [open_stream, *_content_refs(page), close_streams[geometry]]
        )
        writer.mark_update(ref)


def _content_refs(page: generic.DictionaryObject) -> list:
    if "/Contents" not in page:
        return []
    contents = page.raw_get("/Contents")
    resolved = contents.get_object()
    return list(resolved) if isinstance(resolved, generic.ArrayObject) else [contents]


def _grow(page: generic.DictionaryObject) -> Geometry:
    """Extend media and crop box by the strip at the viewed bottom; return the new geometry."""
    rotation = int(_inherited(page, "/Rotate") or 0) % 360
    media = [float(v) for v in _inherited(page, "/MediaBox")]
    crop_box = _inherited(page, "/CropBox")
    left, bottom, right, top = [float(v) for v in crop_box] if crop_box else media
    left, right = min(left, right), max(left, right)
    bottom, top = min(bottom, top), max(bottom, top)
    # The edge that is at the bottom when viewed: y-min, x-max, y-max, x-min for 0/90/180/270.
    if rotation == 0:
        bottom -= STRIP
    elif rotation == 90:
        right += STRIP
    elif rotation == 180:
        top += STRIP
    else:
        left -= STRIP
    page[pdf_name("/MediaBox")] = _rect(
        min(left, media[0], media[2]),
        min(bottom, media[1], media[3]),
        max(right, media[0], media[2]),
        max(top, media[1], media[3]),
    )
    page[pdf_name("/CropBox")] = _rect(left, bottom, right, top)
    return Geometry(left, bottom, right, top, rotation)


def _rect(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject(generic.FloatObject(round(v, 3)) for v in values)


def _footer_xobjects(
    writer: IncrementalPdfFileWriter, geometries: list[Geometry], text: str
) -> dict[Geometry, tuple[str, generic.IndirectObject]]:
    """One reportlab page per geometry, imported as shared Form XObjects."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pageCompression=1, invariant=1)
    for geometry in geometries:
        _draw_footer(drawing, geometry, text)
        drawing.showPage()
    drawing.save()
    overlay = PdfFileReader(buffer)
    pages = [ref.get_object() for ref in page_refs(overlay)]
    # Import all pages' resources in one call, so the embedded font is copied once, not
    # once per geometry. Setting the array into a dict read from the overlay tells
    # pyHanko where its references come from.
    overlay.root[pdf_name("/SigillFooterResources")] = generic.ArrayObject(
        page.raw_get("/Resources") for page in pages
    )
    resources = writer.import_object(overlay.root.raw_get("/SigillFooterResources"))
    result = {}
    for index, (geometry, page, resource) in enumerate(
        zip(geometries, pages, resources, strict=True)
    ):
        form = generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                # The footer may sit at negative coordinates: bound it by the page geometry.
                pdf_name("/BBox"): _rect(
                    geometry.left, geometry.bottom, geometry.right, geometry.top
                ),
                pdf_name("/Resources"): resource,
            },
            stream_data=_content_data(page),
        )
        form.compress()
        result[geometry] = (f"{XOBJECT_PREFIX}{index}", writer.add_object(form))
    return result


def _content_data(page: generic.DictionaryObject) -> bytes:
    contents = page["/Contents"]
    if isinstance(contents, generic.ArrayObject):
        return b"\n".join(part.get_object().data for part in contents)
    return contents.data


def _draw_footer(drawing: canvas.Canvas, geometry: Geometry, text: str) -> None:
    """Draw `text` centred in the strip, reading upright as the page is viewed."""
    font = text_font()
    available = geometry.width_as_viewed - 2 * SIDE_MARGIN
    size = FONT_SIZE
    width = pdfmetrics.stringWidth(text, font, size)
    if width > available:
        size = max(MIN_FONT_SIZE, size * available / width)
    baseline = (STRIP - 0.7 * size) / 2 + 0.2 * size
    g = geometry
    # Origin = viewed bottom-left corner, then rotate so +x runs left-to-right as viewed.
    origin, angle = {
        0: ((g.left, g.bottom + baseline), 0),
        90: ((g.right - baseline, g.bottom), 90),
        180: ((g.right, g.top - baseline), 180),
        270: ((g.left + baseline, g.top), 270),
    }[g.rotation]
    drawing.saveState()
    drawing.translate(*origin)
    drawing.rotate(angle)
    drawing.setFont(font, size)
    drawing.setFillGray(0.25)
    drawing.drawCentredString(g.width_as_viewed / 2, 0, text)
    drawing.restoreState()


def _add_xobject(writer, page: generic.DictionaryObject, name: str, xobject) -> None:
    """Register the footer in the page's resources, which may be inherited or shared."""
    resources = _inherited(page, "/Resources", raw=True)
    if resources is None:
        resources = generic.DictionaryObject()
    page[pdf_name("/Resources")] = resources
    resolved = resources.get_object()
    if "/XObject" not in resolved:
        resolved[pdf_name("/XObject")] = generic.DictionaryObject()
    xobjects = resolved["/XObject"]
    xobjects[pdf_name(name)] = xobject
    # Shared or indirect resource dictionaries live in their own objects: rewrite those.
    writer.update_container(xobjects)
    writer.update_container(resolved)


def _inherited(page: generic.DictionaryObject, key: str, raw: bool = False):
    """A page attribute, looked up through /Parent as the PDF spec says."""
    node = page
    while node is not None:
        if key in node:
            return node.raw_get(key) if raw else node[key]
        parent = node.get("/Parent")  # pyHanko's get() does not dereference
        node = parent.get_object() if parent is not None else None
    return None


def _stream(data: bytes) -> generic.StreamObject:
    return generic.StreamObject(stream_data=data)
