"""The footer: its words, its drawing in the strip, and the page geometry it depends on.

See stamp.py for what the footer does to a page and why. A footer is drawn once per
distinct geometry (`Geometry`: the new visible box, the rotation, the old visible box and
the user unit) on a reportlab canvas and imported as a Form XObject (`form_xobject`);
`cover_annotation` is the opaque annotation over the strip that shows it again.
"""

import io
import os
import zlib
from dataclasses import dataclass
from functools import cache

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from core.fields.geometry import page_box
from core.sealing import rawpages
from core.sealing.writer import page_refs

STRIP = 4 * mm
FONT_SIZE = 6.0
MIN_FONT_SIZE = 3.0
SIDE_MARGIN = 3 * mm
DEFAULT_LABEL = "Fingerprint / Fingeravtryck"
VERIFY_WORDS = "verify at / verifiera på"
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
XOBJECT_PREFIX = "/SigillFooter"


class _QuickFlate:
    """reportlab's FlateDecode filter at zlib's fastest level (see PageCanvas)."""

    pdfname = "FlateDecode"

    @staticmethod
    def encode(text) -> bytes:
        return zlib.compress(text.encode("utf8") if isinstance(text, str) else text, 1)


class PageCanvas(canvas.Canvas):
    """A canvas whose pages' content is compressed by zlib at level 1 and not ASCII85-encoded.

    reportlab's pages are ASCII85 on top of level 6 by default. The receipt's document (its pages,
    the footers and the values drawn after them) is drawn for every seal, and its page streams are
    copied into the sealed file as they are: at level 1 without ASCII85 they are smaller than
    reportlab's (a drawn signature's curves 9.9 against 11.0 KB, the receipt page 3.2 against
    3.4 KB) and zlib takes about a sixth of the time (a signature's 23 KB of curves: ~0.3 against
    ~2 ms). The embedded fonts' streams too (`save`). Per canvas, so other reportlab documents of
    the process stay as they are.
    """

    def showPage(self) -> None:
        super().showPage()
        page = self._doc.Pages.pages[-1]
        if page.compression and not page.Contents:
            page.Contents = pdfdoc.PDFStream(content=page.stream, filters=[_QuickFlate])

    def save(self) -> None:
        """Also the embedded fonts' subsets and their ToUnicode maps at level 1: reportlab adds them
        when it writes the file (its "delayed fonts"), at level 6. Adding them here first, as it
        would, lets their streams be switched: the two DejaVu subsets of a receipt (~36 KB each)
        take ~0.8 against ~1.4 ms of zlib, and the sealed file is ~1.7 KB larger."""
        if len(self._code):
            self.showPage()
        document = self._doc
        fonts, document.delayedFonts = document.delayedFonts, []
        for font in fonts:
            font.addObjects(document)
        for obj in document.idToObject.values():
            if isinstance(obj, pdfdoc.PDFStream) and obj.filters == [pdfdoc.PDFZCompress]:
                obj.filters = [_QuickFlate]
        super().save()


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
    """What the footer drawing depends on: the page's new visible box (the old one and the
    strip), the viewing rotation, the old visible box and the page's user unit."""

    left: float
    bottom: float
    right: float
    top: float
    rotation: int
    visible: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # before stamping
    unit: float = 1.0  # /UserUnit: points per user space unit

    @property
    def width_as_viewed(self) -> float:
        if self.rotation in (0, 180):
            return self.right - self.left
        return self.top - self.bottom

    @property
    def strip(self) -> tuple[float, float, float, float]:
        """The new part of the visible box, in user space (left, bottom, right, top)."""
        left, bottom, right, top = self.visible
        return {
            0: (left, self.bottom, right, bottom),
            90: (right, bottom, self.right, top),
            180: (left, top, right, self.top),
            270: (self.left, bottom, left, top),
        }[self.rotation]


Overlay = list[tuple[generic.StreamObject, generic.PdfObject]]
"""Drawn footer pages, one per geometry: (content stream, resources) in the writer."""


def footer_geometry(width: float, height: float) -> Geometry:
    """The geometry an upright page of this size (as reportlab writes it) will have."""
    media = [float(fp_str(v)) for v in (0, 0, width, height)]
    return grown_boxes(media, None, 0)[2]


def ref_bytes(ref: generic.IndirectObject) -> bytes:
    return b"%d %d R" % (ref.idnum, ref.generation)


def grow_page(page: generic.DictionaryObject) -> Geometry:
    """Extend media and crop box by the strip at the viewed bottom; return the new geometry."""
    rotation = int(inherited(page, "/Rotate") or 0)
    media = [float(v) for v in inherited(page, "/MediaBox")]
    crop_box = inherited(page, "/CropBox")
    crop = [float(v) for v in crop_box] if crop_box else None
    new_media, new_crop, geometry = grown_boxes(media, crop, rotation, user_unit(page.get("/UserUnit")))
    page[pdf_name("/MediaBox")] = pdf_rect(*new_media)
    page[pdf_name("/CropBox")] = pdf_rect(*new_crop)
    return geometry


def user_unit(value) -> float:
    """/UserUnit (not inherited; default 1); an unusable value counts as 1, as viewers take it."""
    try:
        unit = float(value) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
    return unit if 0 < unit < 1e6 else 1.0


def grown_boxes(
    media: list[float], crop: list[float] | None, rotation: int, unit: float = 1.0
) -> tuple[list[float], list[float], Geometry]:
    """New media box, crop box and geometry of a page.

    The strip is added to the page's visible box (its crop box clipped by its media box,
    as viewers and our page images show it) at the edge that is at the bottom as viewed;
    the new crop box is exactly that, so nothing else that was outside the visible box
    comes into view. The media box grows to hold it.
    """
    box = page_box(media, crop, rotation)
    visible = (box.left, box.bottom, box.right, box.top)
    left, bottom, right, top = visible
    strip = STRIP / unit
    # The edge that is at the bottom when viewed: y-min, x-max, y-max, x-min for 0/90/180/270.
    if box.rotation == 0:
        bottom -= strip
    elif box.rotation == 90:
        right += strip
    elif box.rotation == 180:
        top += strip
    else:
        left -= strip
    new_media = [
        min(left, media[0], media[2]),
        min(bottom, media[1], media[3]),
        max(right, media[0], media[2]),
        max(top, media[1], media[3]),
    ]
    geometry = Geometry(left, bottom, right, top, box.rotation, visible, unit)
    return new_media, [left, bottom, right, top], geometry


def clip_operators(geometry: Geometry) -> bytes:
    """Save the graphics state and clip to the page's old visible box.

    The strip is new visible area: content drawn there (below a crop box, or outside the
    media box) was never seen by the parties and must stay unseen.
    """
    left, bottom, right, top = geometry.visible
    return b"q %s %s %s %s re W n\n" % tuple(
        fp_str(round(v, 3)).encode() for v in (left, bottom, right - left, top - bottom)
    )


def cover_annotation(writer, geometry: Geometry, name: str, xobject) -> bytes:
    """The cover annotation of pages of this geometry, as bytes (one object per page).

    An opaque white square over the strip that shows the footer again. Annotations are
    drawn after the page's content, in their own graphics state, and ours last: the page's
    content cannot undo it (a stray "Q" that pops our clip, a "cm" left behind to move the
    footer elsewhere), and annotations reaching into the strip are covered too.
    """
    strip = [round(v, 3) for v in geometry.strip]
    rect = b"[" + b" ".join(fp_str(v).encode() for v in strip) + b"]"
    size = b"%s %s %s %s" % tuple(
        fp_str(v).encode() for v in (strip[0], strip[1], strip[2] - strip[0], strip[3] - strip[1])
    )
    appearance = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): pdf_rect(*strip),
            pdf_name("/Resources"): generic.DictionaryObject(
                {pdf_name("/XObject"): generic.DictionaryObject({pdf_name(name): xobject})}
            ),
        },
        stream_data=b"q 1 g %s re f Q q %s Do Q\n" % (size, name.encode()),
    )
    reference = ref_bytes(writer.add_object(appearance))
    return (
        b"<< /Type /Annot /Subtype /Square /Rect " + rect
        + b" /F 196 /C [1 1 1] /IC [1 1 1] /BS << /W 0 >> /Contents (Sigill footer)"
        + b" /AP << /N " + reference + b" >> >>"
    )  # /F 196: print, read only, locked


def pdf_rect(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject(generic.FloatObject(round(v, 3)) for v in values)


def draw_overlay(
    writer: IncrementalPdfFileWriter, geometries: list[Geometry], text: str
) -> Overlay:
    """The footers drawn in a document of their own, imported into the writer."""
    buffer = io.BytesIO()
    drawing = PageCanvas(buffer, pageCompression=1, invariant=1)
    for geometry in geometries:
        draw_footer(drawing, geometry, text)
        drawing.showPage()
    drawing.save()
    return import_overlay(writer, rawpages.FastReader(buffer), [])[1]


def import_overlay(
    writer: IncrementalPdfFileWriter, source: PdfFileReader, kids: list, overlay_pages: int = -1
) -> tuple[list, Overlay]:
    """Import page references `kids` and the last `overlay_pages` pages (-1: all) of
    `source` as footer drawings, in one call, so objects they share (the embedded font)
    are copied once."""
    refs = page_refs(source)
    if overlay_pages >= 0:
        refs = refs[len(refs) - overlay_pages :]
    drawn = [ref.get_object() for ref in refs]
    # Setting the array into a dict read from the source tells pyHanko where its
    # references come from.
    source.root[pdf_name("/SigillImport")] = generic.ArrayObject(
        [generic.ArrayObject(kids), *(page.raw_get("/Resources") for page in drawn)]
    )
    kids, *resources = list(writer.import_object(source.root.raw_get("/SigillImport")))
    overlay = [(content_stream(page), res) for page, res in zip(drawn, resources, strict=True)]
    return list(kids), overlay


def form_xobject(
    writer: IncrementalPdfFileWriter, geometry: Geometry, content: generic.StreamObject, resources
) -> generic.IndirectObject:
    """A drawn footer page as a Form XObject."""
    form = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            # The footer may sit at negative coordinates: bound it by the page geometry.
            pdf_name("/BBox"): pdf_rect(geometry.left, geometry.bottom, geometry.right, geometry.top),
            pdf_name("/Resources"): resources,
            **{key: content[key] for key in ("/Filter", "/DecodeParms") if key in content},
        },
        encoded_data=content.encoded_data,
    )
    if "/Filter" not in form:
        form.compress()
    return writer.add_object(form)


def content_stream(page: generic.DictionaryObject) -> generic.StreamObject:
    """The page's content as one stream, compressed as it was if it is one already."""
    contents = page["/Contents"]
    if isinstance(contents, generic.ArrayObject):
        return generic.StreamObject(
            stream_data=b"\n".join(part.get_object().data for part in contents)
        )
    return contents


def draw_footer(drawing: canvas.Canvas, geometry: Geometry, text: str) -> None:
    """Paint the strip opaque white and draw `text` centred in it, reading upright as the
    page is viewed, in points whatever the page's user unit.

    The white paint covers whatever the page's content might still draw there (the clip
    before it hides that too; this holds even if the content escapes the clip).
    """
    font = text_font()
    g = geometry
    width = g.width_as_viewed * g.unit  # in points
    available = width - 2 * SIDE_MARGIN
    size = FONT_SIZE
    text_width = pdfmetrics.stringWidth(text, font, size)
    if text_width > available:
        size = max(MIN_FONT_SIZE, size * available / text_width)
    baseline = (STRIP - 0.7 * size) / 2 + 0.2 * size
    # Origin = viewed bottom-left corner, then rotate so +x runs left-to-right as viewed.
    origin, angle = {
        0: ((g.left, g.bottom), 0),
        90: ((g.right, g.bottom), 90),
        180: ((g.right, g.top), 180),
        270: ((g.left, g.top), 270),
    }[g.rotation]
    drawing.saveState()
    drawing.translate(*origin)
    drawing.rotate(angle)
    if g.unit != 1:
        drawing.scale(1 / g.unit, 1 / g.unit)
    drawing.setFillGray(1)
    drawing.rect(0, 0, width, STRIP, stroke=0, fill=1)
    drawing.setFont(font, size)
    drawing.setFillGray(0.25)
    drawing.drawCentredString(width / 2, baseline, text)
    drawing.restoreState()


def inherited(page: generic.DictionaryObject, key: str, raw: bool = False):
    """A page attribute, looked up through /Parent as the PDF spec says."""
    node = page
    while node is not None:
        if key in node:
            return node.raw_get(key) if raw else node[key]
        parent = node.get("/Parent")  # pyHanko's get() does not dereference
        node = parent.get_object() if parent is not None else None
    return None
