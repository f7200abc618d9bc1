"""Footer stamping: the fingerprint and verification URL at the bottom of every page.

Decision: each page grows by a 4 mm strip at the edge that is at the bottom *as the page
is viewed* (after /Rotate), and the footer is written in that strip. Nothing is drawn
over existing content, no content is scaled, and form fields and links keep their
coordinates, because the page's user space is untouched: only its boxes get larger.
The price is that a page becomes 4 mm taller (an A4 prints scaled by ~1.3 %).

Speed: the footer is drawn by reportlab once per distinct page geometry (crop box,
rotation) and becomes one shared Form XObject; each page gets two tiny shared content
streams around its own ("q" before, "Q /Footer Do" after), so cost per page is a few
dictionary edits, not a content merge.
"""

import io
import os
from dataclasses import dataclass
from functools import cache

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    RectangleObject,
)
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

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
        across = self.right - self.left if self.rotation in (0, 180) else self.top - self.bottom
        return across


def stamp_footer(
    pdf_bytes: bytes, fingerprint: str, verify_url: str, label: str = DEFAULT_LABEL
) -> bytes:
    """Return the PDF with the footer added to every page (see the module docstring)."""
    writer = open_writer(pdf_bytes)
    stamp_pages(writer, footer_text(fingerprint, verify_url, label))
    return write(writer)


def open_writer(pdf_bytes: bytes) -> PdfWriter:
    return PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))


def write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def stamp_pages(writer: PdfWriter, text: str) -> None:
    """Grow every page by the footer strip and draw `text` in it."""
    pages = list(writer.pages)
    geometries = [_grow(page) for page in pages]
    xobjects = _footer_xobjects(writer, sorted(set(geometries), key=repr), text)
    open_stream = writer._add_object(_stream(b"q\n"))
    close_streams = {
        geometry: writer._add_object(_stream(f"\nQ q {name} Do Q\n".encode()))
        for geometry, (name, _) in xobjects.items()
    }
    for page, geometry in zip(pages, geometries, strict=True):
        name, xobject = xobjects[geometry]
        _add_xobject(page, name, xobject)
        contents = page.get("/Contents")
        existing = contents.get_object() if contents is not None else ArrayObject()
        parts = existing if isinstance(existing, ArrayObject) else ArrayObject([contents])
        page[NameObject("/Contents")] = ArrayObject(
            [open_stream, *parts, close_streams[geometry]]
        )


def _grow(page) -> Geometry:
    """Extend media and crop box by the strip at the viewed bottom; return the new geometry."""
    rotate = _inherited(page, "/Rotate")
    rotation = int(rotate.get_object()) % 360 if rotate is not None else 0
    crop = page.cropbox
    left, bottom, right, top = (float(v) for v in (crop.left, crop.bottom, crop.right, crop.top))
    # The edge that is at the bottom when viewed: y-min, x-max, y-max, x-min for 0/90/180/270.
    if rotation == 0:
        bottom -= STRIP
    elif rotation == 90:
        right += STRIP
    elif rotation == 180:
        top += STRIP
    else:
        left -= STRIP
    media = page.mediabox
    page[NameObject("/MediaBox")] = _rect(
        min(left, float(media.left)),
        min(bottom, float(media.bottom)),
        max(right, float(media.right)),
        max(top, float(media.top)),
    )
    page[NameObject("/CropBox")] = _rect(left, bottom, right, top)
    return Geometry(left, bottom, right, top, rotation)


def _rect(*values: float) -> RectangleObject:
    return RectangleObject([FloatObject(round(v, 3)) for v in values])


def _footer_xobjects(writer: PdfWriter, geometries: list[Geometry], text: str) -> dict:
    """One reportlab page per geometry, turned into shared Form XObjects."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pageCompression=1, invariant=1)
    for geometry in geometries:
        _draw_footer(drawing, geometry, text)
        drawing.showPage()
    drawing.save()
    overlay = PdfReader(buffer)
    result = {}
    for index, (geometry, page) in enumerate(zip(geometries, overlay.pages, strict=True)):
        form = _stream(page.get_contents().get_data())
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): _rect(
                    geometry.left, geometry.bottom, geometry.right, geometry.top
                ),
                NameObject("/Resources"): writer._add_object(
                    page["/Resources"].get_object().clone(writer)
                ),
            }
        )
        result[geometry] = (f"{XOBJECT_PREFIX}{index}", writer._add_object(form))
    return result


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


def _add_xobject(page, name: str, xobject) -> None:
    """Register the footer in the page's resources, which may be inherited or shared."""
    resources = _inherited(page, "/Resources")
    if resources is None:
        resources = DictionaryObject()
    page[NameObject("/Resources")] = resources
    resolved = resources.get_object()
    if "/XObject" not in resolved:
        resolved[NameObject("/XObject")] = DictionaryObject()
    resolved["/XObject"].get_object()[NameObject(name)] = xobject


def _inherited(page, key: str):
    """A page attribute, looked up through /Parent as the PDF spec says."""
    node = page
    while node is not None:
        if key in node:
            return node.raw_get(key)
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return None


def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream
