"""Footer stamping: the fingerprint and verification URL at the bottom of every page.

Decision: each page grows by a 4 mm strip at the edge that is at the bottom *as the page
is viewed* (after /Rotate), and the footer is written in that strip. Nothing is drawn
over existing content, no content is scaled, and form fields and links keep their
coordinates, because the page's user space is untouched: only its boxes get larger.
The price is that a page becomes 4 mm taller (an A4 prints scaled by ~1.3 %).

What is sealed is what the parties saw: the strip is added to the page's *visible* box
(the crop box clipped by the media box, as viewers and our page images show it), and the
new crop box is exactly that box plus the strip. The strip may cover area that was part
of the page but hidden (below a crop box, or content drawn outside the media box), so
nothing there may show: the page's own content is wrapped in a clip to the old visible
box, the footer first paints the strip opaque white, and every page gets a locked, opaque
annotation over the strip that shows the footer, last in its /Annots. Annotations are
drawn after the content and in a graphics state of their own, so the cover holds against
content that escapes the clip (a stray "Q" pops it; a "cm" left behind would move the
footer) and against the page's annotations reaching into the strip. Other boxes
(TrimBox, BleedBox, ArtBox) stay as they are. /UserUnit is honoured: the strip and the
text are 4 mm and 6 pt in a viewer that applies it (pdfium does not: there they look
smaller). Text extraction still finds clipped text, as it did before stamping.

Speed: the footer is drawn by reportlab once per distinct page geometry (crop box,
rotation) and becomes one shared Form XObject; each page gets two tiny shared content
streams around its own ("q" before, "Q /Footer Do" after), so cost per page is a few
dictionary edits, not a content merge. The changes are written as an incremental update
with pyHanko's writer: the original bytes stay a prefix of the output (so the original's
SHA-256 on the receipt can be checked from the sealed file) and only the edited page
dictionaries are written, instead of re-serialising every object of a 500-page file.

pyHanko's parser reads a byte at a time, so the per-page work avoids it: plain page
dictionaries of the original are read and rewritten as bytes (rawpages), a content
stream is recognised from the bytes after its object header instead of being parsed,
and other objects are read by rawpages.FastReader. `Footer` plans the pages before the
footers are drawn, so the pipeline can draw them in the receipt's document (one
embedded font, one parse and import for both; see pipeline).
"""

import hashlib
import io
import logging
import os
import re
from dataclasses import dataclass
from functools import cache

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader, PdfWriter
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from core.fields.geometry import page_box
from core.sealing import rawpages

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
    """Incremental writer that leaves document metadata alone until it seals.

    pyHanko's writer stamps /ModDate (and XMP) with the current time on every write; we
    want the same input to give the same bytes, and PDF/A files keep Info and XMP in
    step as their producer wrote them. The seal's revision updates them.
    """

    sealing = False

    def start_seal_revision(self) -> None:
        """The pending changes go into the seal's revision: date it and give it a new ID."""
        self.sealing = True
        self._document_id = generic.ArrayObject(
            [self._document_id[0], generic.ByteStringObject(os.urandom(16))]
        )

    def _update_meta(self) -> None:
        if self.sealing:
            super()._update_meta()


def open_writer(pdf_bytes: bytes) -> StampWriter:
    """A writer appending to `pdf_bytes`; damaged files are first rewritten by pypdf.

    pyHanko needs a sound cross-reference table to append to. pypdf rebuilds broken
    ones, at the price that the original bytes are no longer a prefix of the result.
    """
    try:
        writer = _stamp_writer(pdf_bytes)
    except PdfReadError as error:
        log.warning("Rewriting a damaged PDF before stamping: %s", error)
        pdf_bytes = _rewritten(pdf_bytes)
        writer = _stamp_writer(pdf_bytes)
    if writer.prev.encrypted:
        raise EncryptedPdfError("An encrypted PDF cannot be stamped or sealed")
    # The second ID half marks this revision; derive it from the input, not randomness.
    first_id = writer._document_id[0]
    revision_id = hashlib.sha256(pdf_bytes).digest()[:16]
    writer._document_id = generic.ArrayObject([first_id, generic.ByteStringObject(revision_id)])
    return writer


def _stamp_writer(pdf_bytes: bytes) -> StampWriter:
    stream = io.BytesIO(pdf_bytes)
    return StampWriter(stream, prev=rawpages.FastReader(stream, strict=False))


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
    Footer(writer, text).apply()


Overlay = list[tuple[generic.StreamObject, generic.PdfObject]]
"""Drawn footer pages, one per geometry: (content stream, resources) in the writer."""


class Footer:
    """Footer stamping in two steps, so that the footers can be drawn with other pages.

    `Footer(writer, text)` reads the writer's pages and works out their geometries (and
    `more_geometries`, of pages to be added before `apply`); `draw` draws one footer page
    per geometry on a reportlab canvas. The pipeline draws them after the receipt's
    pages, in the same document, so they share its embedded font and are parsed and
    imported with it; `apply(overlay, added)` then stamps every page, the `added` ones
    too. Without an overlay, `apply` draws the footers in a document of their own.

    Plain page dictionaries of the original file are edited as bytes (see rawpages);
    the others, and always the first page (the seal's widget is added to its /Annots
    later, through pyHanko's objects), as pyHanko objects.
    """

    def __init__(self, writer: IncrementalPdfFileWriter, text: str, more_geometries=()):
        self.writer = writer
        self.text = text
        self.data = _original_bytes(writer)
        self.byte_pages = _BytePages(writer, self.data) if self.data is not None else None
        # (ref, page object or None, byte-level plan or None, geometry)
        self.entries = [
            self._entry(ref, plain if index > 0 else None)
            for index, (ref, plain) in enumerate(_page_tree(writer, self.data))
        ]
        self.geometries = sorted({e[3] for e in self.entries} | set(more_geometries), key=repr)

    def _entry(self, ref, plain: "_PlainPage | None") -> tuple:
        plan = self.byte_pages.plan_page(plain) if plain is not None else None
        if plan is not None:
            return ref, None, plan, plan.geometry
        page = ref.get_object()
        return ref, page, None, _grow(page)  # the boxes of a pyHanko object grow now

    def draw(self, drawing: canvas.Canvas) -> None:
        """One page per geometry (in `self.geometries` order) with the footer on it."""
        for geometry in self.geometries:
            _draw_footer(drawing, geometry, self.text)
            drawing.showPage()

    def apply(self, overlay: Overlay | None = None, added=()) -> None:
        """Stamp the pages read at the start and the `added` page references."""
        writer = self.writer
        entries = self.entries + [self._entry(ref, None) for ref in added]
        geometries = list(self.geometries)
        if overlay is None:
            overlay = []
            geometries = []
        missing = sorted({e[3] for e in entries} - set(geometries), key=repr)
        if missing:
            overlay = overlay + _draw_overlay(writer, missing, self.text)
            geometries += missing
        xobjects = {
            geometry: (f"{XOBJECT_PREFIX}{index}", _form(writer, geometry, *drawn))
            for index, (geometry, drawn) in enumerate(zip(geometries, overlay, strict=True))
        }
        # The page's own content is clipped to what was visible before (see _clip).
        open_streams = {
            geometry: writer.add_object(_stream(_clip(geometry))) for geometry in xobjects
        }
        close_streams = {
            geometry: writer.add_object(_stream(f"\nQ q {name} Do Q\n".encode()))
            for geometry, (name, _) in xobjects.items()
        }
        open_bytes = {geometry: b"[" + _ref_bytes(ref) for geometry, ref in open_streams.items()}
        close_bytes = {geometry: _ref_bytes(ref) for geometry, ref in close_streams.items()}
        covers = {geometry: _cover_bytes(writer, geometry, *xobjects[geometry]) for geometry in xobjects}
        for ref, page, plan, geometry in entries:
            name, xobject = xobjects[geometry]
            cover = writer.add_object(rawpages.RawObject(covers[geometry]))
            if plan is not None:
                writer.objects[(ref.generation, ref.idnum)] = self.byte_pages.apply(
                    plan, name, xobject, open_bytes[geometry], close_bytes[geometry], _ref_bytes(cover)
                )
                continue
            _add_xobject(writer, page, name, xobject)
            contents = _content_refs(writer, self.data, page)
            page[pdf_name("/Contents")] = generic.ArrayObject(
                [open_streams[geometry], *contents, close_streams[geometry]]
            )
            _add_cover(writer, page, cover)
            writer.mark_update(ref)


def footer_geometry(width: float, height: float) -> Geometry:
    """The geometry an upright page of this size (as reportlab writes it) will have."""
    media = [float(fp_str(v)) for v in (0, 0, width, height)]
    return _grown(media, None, 0)[2]


def _original_bytes(writer: IncrementalPdfFileWriter) -> bytes | None:
    """The bytes the writer appends to, if in memory and unencrypted (for the fast path)."""
    stream = writer.prev.stream
    if writer.prev.encrypted or not isinstance(stream, io.BytesIO):
        return None
    return stream.getvalue()


@dataclass
class _PlainPage:
    """A page dictionary of the original, as bytes.

    Pages of a document are mostly written alike: `template` is the dictionary with its
    /Contents reference replaced by rawpages.PLACEHOLDER (parsed once for all the pages
    whose bytes differ only there), `contents` the page's own reference.
    """

    body: bytes
    template: bytes
    contents: bytes | None


def _page_tree(
    writer: IncrementalPdfFileWriter, data: bytes | None
) -> list[tuple[generic.IndirectObject, _PlainPage | None]]:
    """All pages in order, as `page_refs`, with the page's bytes when it is plain.

    Kids are first looked at as bytes, so a leaf page is never parsed by pyHanko unless
    it is not plain; page tree nodes are.
    """
    pages: list[tuple[generic.IndirectObject, _PlainPage | None]] = []
    stack = [writer.root.raw_get("/Pages")]
    offsets = _Offsets(writer) if data is not None else None
    kinds: dict[bytes, str] = {}  # template -> "page", "node" or "odd"
    while stack:
        ref = stack.pop()
        body = None
        if offsets is not None and isinstance(ref, generic.IndirectObject):
            body = offsets.read_body(data, ref)
        if body is not None:
            plain = _plain_page(body)
            if plain.template not in kinds:
                kinds[plain.template] = _kind_of(body)
            if kinds[plain.template] == "page":
                pages.append((ref, plain))
                continue
            if kinds[plain.template] == "node":
                _read_tree_node(writer, ref, rawpages.parse_dict(body))
        node = ref.get_object()
        if node.get("/Type") == "/Pages" or "/Kids" in node:
            stack.extend(reversed(list(node["/Kids"])))
        else:
            pages.append((ref, None))
    return pages


def _plain_page(body: bytes) -> _PlainPage:
    found = rawpages.CONTENTS_REF.search(body)
    if found is None or rawpages.PLACEHOLDER in body:
        return _PlainPage(body, body, None)
    start, end = found.span(1)
    return _PlainPage(body, body[:start] + rawpages.PLACEHOLDER + body[end:], found.group(1))


def _kind_of(body: bytes) -> str:
    raw = rawpages.parse_dict(body)
    if raw is None:
        return "odd"
    if b"/Kids" in raw.entries or raw.value(b"/Type") == b"/Pages":
        return "node"
    return "page"


_KID = re.compile(rb"(\d+)\s+(\d+)\s+R")
_KIDS = re.compile(rb"\[\s*(?:\d+\s+\d+\s+R\s*)*\]")


def _read_tree_node(writer, ref: generic.IndirectObject, raw: rawpages.RawDict) -> None:
    """Put a page tree node into the reader's cache, its /Kids read from the bytes.

    pyHanko parses a /Kids array of 500 references in about 2 ms; the other entries are
    few and short, and pyHanko reads those.
    """
    reader = writer.prev
    if raw is None:
        return
    kids = raw.value(b"/Kids")
    if kids is None or not _KIDS.fullmatch(kids) or any(b"#" in key for key in raw.entries):
        return
    if reader.cache_get_indirect_object(ref.generation, ref.idnum) is not None:
        return
    container = generic.Reference(ref.idnum, ref.generation, reader)
    node = generic.DictionaryObject()
    node.container_ref = container
    for key in raw.entries:
        if key == b"/Kids":
            value = generic.ArrayObject(
                generic.IndirectObject(int(idnum), int(generation), reader)
                for idnum, generation in _KID.findall(kids)
            )
            for kid in value:
                kid.container_ref = container
        else:
            value = generic.read_object(io.BytesIO(raw.value(key)), container)
        node[pdf_name(key.decode())] = value
    reader.cache_indirect_object(ref.generation, ref.idnum, node)


class _Offsets:
    """Where the original's plain objects are, for objects the writer has not changed."""

    def __init__(self, writer: IncrementalPdfFileWriter):
        self.writer = writer
        xrefs = writer.prev.xrefs
        self.lookup = xrefs.__getitem__
        if xrefs.total_revisions == 1:  # the usual case: one section, ask it directly
            self.lookup = self._in_section(xrefs.get_xref_data(0))

    @staticmethod
    def _in_section(section):
        def lookup(ref):
            try:
                return section.try_resolve(ref)
            except KeyError:
                return None

        return lookup

    def offset(self, reference: generic.Reference) -> int | None:
        if (reference.generation, reference.idnum) in self.writer.objects:
            return None
        marker = self.lookup(reference)
        return marker if isinstance(marker, int) else None

    def read_body(self, data: bytes, ref: generic.IndirectObject) -> bytes | None:
        """The object's bytes, if it is a plain object of the original (else None)."""
        if ref.get_pdf_handler() is not self.writer.prev:
            return None
        reference = ref.reference
        offset = self.offset(reference)
        if offset is None:
            return None
        return rawpages.read_indirect_body(data, offset, reference)

    def is_stream(self, data: bytes, idnum: int, generation: int) -> bool:
        """True if the object surely is a stream (or a dictionary): it starts with "<<"."""
        reference = generic.Reference(idnum, generation)
        offset = self.offset(reference)
        return offset is not None and rawpages.starts_with(data, offset, reference, b"<<")


def _surely_not_an_array(writer, data: bytes | None, ref) -> bool:
    """True if object `ref` of the original starts with "<<" (a stream), from its bytes."""
    if data is None or not isinstance(ref, generic.IndirectObject):
        return False
    if ref.get_pdf_handler() is not writer.prev:
        return False
    return _Offsets(writer).is_stream(data, ref.idnum, ref.generation)


def _content_refs(writer, data: bytes | None, page: generic.DictionaryObject) -> list:
    if "/Contents" not in page:
        return []
    contents = page.raw_get("/Contents")
    # A content stream is kept as a reference; resolving it would parse the stream.
    if _surely_not_an_array(writer, data, contents):
        return [contents]
    resolved = contents.get_object()
    return list(resolved) if isinstance(resolved, generic.ArrayObject) else [contents]


@dataclass
class _RawPlan:
    """How a plain page dictionary changes, decided before anything is changed."""

    raw: rawpages.RawDict
    geometry: Geometry
    boxes: dict[bytes, bytes]  # new /MediaBox and /CropBox
    contents: tuple[bytes, ...]  # the page's content references, as bytes
    inline_resources: bytes | None  # the /Resources value if it is a dictionary
    shared: generic.IndirectObject | None  # resources, or their /XObject, in an object
    shared_is_xobjects: bool


@dataclass
class _TemplatePlan:
    """A page planned through its template (see _PlainPage)."""

    plan: _RawPlan  # of the template
    template: bytes
    contents: bytes  # the page's /Contents reference, for the placeholder

    @property
    def geometry(self) -> Geometry:
        return self.plan.geometry


class _BytePages:
    """Plans and applies byte-level page edits; remembers what pages have in common.

    Pages of one document mostly share sizes, parents and resource dictionaries, so
    boxes, inherited values and edited resources are worked out once per distinct value.
    """

    def __init__(self, writer: IncrementalPdfFileWriter, data: bytes):
        self.writer = writer
        self.data = data
        self._boxes: dict[tuple, tuple[dict[bytes, bytes], Geometry]] = {}
        self._inherited: dict[tuple[bytes, bytes], object] = {}
        self._resources: dict[bytes, tuple | None] = {}
        self._edited_resources: dict[tuple[bytes, str], bytes] = {}
        self._shared: dict[bytes, generic.IndirectObject | None] = {}
        self._templates: dict[bytes, _RawPlan | None] = {}
        self._applied: dict[bytes, list[bytes]] = {}
        self.offsets = _Offsets(writer)

    def plan_page(self, page: _PlainPage) -> "_RawPlan | _TemplatePlan | None":
        """The changes for a plain page, or None to take pyHanko's objects.

        The template is planned once; a page of it only needs its own /Contents checked
        (a content stream, not an array). Other pages are read and planned on their own.
        """
        if page.contents is not None:
            if page.template not in self._templates:
                self._templates[page.template] = self._template_plan(page)
            plan = self._templates[page.template]
            contents = rawpages.reference(page.contents)
            if plan is not None and self.offsets.is_stream(self.data, *contents):
                return _TemplatePlan(plan, page.template, page.contents)
        raw = rawpages.parse_dict(page.body)
        return None if raw is None else self.plan(raw)

    def _template_plan(self, page: _PlainPage) -> _RawPlan | None:
        raw = rawpages.parse_dict(page.template)
        if raw is None or raw.value(b"/Contents") != rawpages.PLACEHOLDER:
            return None  # odd, or the reference replaced was not the page's own /Contents
        return self.plan(raw, check_contents=False)

    def _new_boxes(self, raw: rawpages.RawDict) -> tuple[dict[bytes, bytes], Geometry] | None:
        """New /MediaBox and /CropBox values and the geometry, or None if odd."""
        rotation = self._attribute(raw, b"/Rotate", rawpages.integer, int)
        media = self._attribute(raw, b"/MediaBox", rawpages.numbers, _box_from_object)
        crop = self._attribute(raw, b"/CropBox", rawpages.numbers, _box_from_object)
        if rotation is _ABSENT:
            rotation = 0
        if crop is _ABSENT:
            crop = ()
        if rotation is None or media is None or media is _ABSENT or len(media) != 4:
            return None
        if crop is None or len(crop) not in (0, 4):
            return None
        unit = raw.value(b"/UserUnit")
        if unit is not None and rawpages.number(unit) is None:
            return None
        unit = _user_unit(rawpages.number(unit))
        new_media, new_crop, geometry = _grown(media, list(crop) or None, rotation, unit)
        return {b"/MediaBox": _rect_bytes(new_media), b"/CropBox": _rect_bytes(new_crop)}, geometry

    def _contents(self, raw: rawpages.RawDict, check: bool) -> tuple[bytes, ...] | None:
        """The page's content stream references as bytes, or None if odd.

        A reference is checked to be a stream unless `check` is false (the caller does).
        """
        kind = raw.kind(b"/Contents")
        if kind is None:
            return ()
        value = raw.value(b"/Contents")
        if kind == rawpages.REF:
            # A stream is kept as a reference; resolving it would parse the stream.
            if not check or self.offsets.is_stream(self.data, *rawpages.reference(value)):
                return (value,)
            resolved = _indirect(self.writer, value).get_object()
            if not isinstance(resolved, generic.ArrayObject):
                return (value,)
            if all(isinstance(part, generic.IndirectObject) for part in resolved):
                return tuple(_ref_bytes(part) for part in resolved)
            return None
        if kind == rawpages.FLAT and value.startswith(b"["):
            inner = value[1:-1].strip()
            return (inner,) if inner else ()
        return None

    def plan(self, raw: rawpages.RawDict, check_contents: bool = True) -> _RawPlan | None:
        """The changes for a plain page, or None to take pyHanko's objects."""
        key = (raw.value(b"/Rotate"), raw.value(b"/MediaBox"), raw.value(b"/CropBox"), raw.value(b"/UserUnit"))
        if None in key:  # something may be inherited: the parent is part of the key
            key += (raw.value(b"/Parent"),)
        if key not in self._boxes:
            self._boxes[key] = self._new_boxes(raw)
        if self._boxes[key] is None:
            return None
        boxes, geometry = self._boxes[key]
        annots = raw.kind(b"/Annots")
        if annots is not None and not (annots == rawpages.FLAT and _KIDS.fullmatch(raw.value(b"/Annots"))):
            return None  # the cover goes at the end of /Annots: pyHanko's objects edit other forms
        contents = self._contents(raw, check_contents)
        if contents is None:
            return None
        kind = raw.kind(b"/Resources")
        value = raw.value(b"/Resources")
        if kind == rawpages.REF:
            if value not in self._shared:
                shared = _indirect(self.writer, value)
                valid = isinstance(shared.get_object(), generic.DictionaryObject)
                self._shared[value] = shared if valid else None
            shared = self._shared[value]
            if shared is None:
                return None
            return _RawPlan(raw, geometry, boxes, contents, None, shared, False)
        if kind not in (rawpages.FLAT, rawpages.NESTED):
            return None  # inherited or odd resources: pyHanko's objects handle them
        if value not in self._resources:
            self._resources[value] = self._inline_resources(value)
        parsed = self._resources[value]
        if parsed is None:
            return None
        shared = parsed[2]
        return _RawPlan(raw, geometry, boxes, contents, value, shared, shared is not None)

    def _inline_resources(self, value: bytes) -> tuple | None:
        """(resources, inline /XObject or None, indirect /XObject or None), or None if odd."""
        resources = rawpages.parse_dict(value, 0)
        if resources is None:
            return None
        kind = resources.kind(b"/XObject")
        if kind == rawpages.REF:
            shared = _indirect(self.writer, resources.value(b"/XObject"))
            if not isinstance(shared.get_object(), generic.DictionaryObject):
                return None
            return resources, None, shared
        if kind in (rawpages.FLAT, rawpages.NESTED):
            xobjects = rawpages.parse_dict(resources.value(b"/XObject"), 0)
            return None if xobjects is None else (resources, xobjects, None)
        return None if kind is not None else (resources, None, None)

    def apply(self, plan, name: str, xobject, open_stream: bytes, close_stream: bytes, cover: bytes):
        """The page's new dictionary, as an object for the writer; registers the footer.

        `open_stream` is "[" and the reference of the stream to put before the page's
        content, `close_stream` the reference of the one after it, `cover` the reference
        of the page's cover annotation (see _cover_bytes).
        """
        if isinstance(plan, _TemplatePlan):
            # The template's new dictionary, with the page's /Contents and cover put in.
            if plan.template not in self._applied:
                edited = self._edited_page(plan.plan, name, xobject, open_stream, close_stream, COVER_PLACEHOLDER)
                self._applied[plan.template] = edited
            edited = self._applied[plan.template]
            return rawpages.RawObject(
                edited.replace(rawpages.PLACEHOLDER, plan.contents).replace(COVER_PLACEHOLDER, cover)
            )
        return rawpages.RawObject(
            self._edited_page(plan, name, xobject, open_stream, close_stream, cover)
        )

    def _edited_page(self, plan: _RawPlan, name: str, xobject, open_stream, close_stream, cover) -> bytes:
        changes = dict(plan.boxes)
        changes[b"/Contents"] = b" ".join((open_stream, *plan.contents, close_stream)) + b"]"
        annots = plan.raw.value(b"/Annots")
        changes[b"/Annots"] = annots[:-1].rstrip() + b" " + cover + b"]" if annots else b"[" + cover + b"]"
        if plan.shared is not None:
            shared = plan.shared.get_object()
            if plan.shared_is_xobjects:
                shared[pdf_name(name)] = xobject
                self.writer.update_container(shared)
            else:
                _register_xobject(self.writer, shared, name, xobject)
        if plan.inline_resources is not None:
            key = (plan.inline_resources, name)
            if key not in self._edited_resources:
                self._edited_resources[key] = self._edited(plan.inline_resources, name, xobject)
            changes[b"/Resources"] = self._edited_resources[key]
        return rawpages.replaced(plan.raw, changes)

    def _edited(self, value: bytes, name: str, xobject) -> bytes:
        resources, xobjects, shared = self._resources[value]
        if shared is not None:
            return value  # the footer went into the /XObject object
        entry = {name.encode(): _ref_bytes(xobject)}  # our own names need no escaping
        if xobjects is not None:
            return rawpages.replaced(resources, {b"/XObject": rawpages.replaced(xobjects, entry)})
        xobjects = b"<<" + b"".join(key + b" " + ref for key, ref in entry.items()) + b">>"
        return rawpages.replaced(resources, {b"/XObject": xobjects})

    def _attribute(self, raw: rawpages.RawDict, key: bytes, from_bytes, from_object):
        """A page attribute from its bytes or its ancestors' objects; None if odd."""
        if key in raw.entries:
            return from_bytes(raw.value(key))
        parent = raw.value(b"/Parent")
        if parent is None:
            return _ABSENT
        if (parent, key) not in self._inherited:
            self._inherited[parent, key] = self._from_parent(parent, key, from_object)
        return self._inherited[parent, key]

    def _from_parent(self, parent: bytes, key: bytes, from_object):
        if rawpages.reference(parent) is None:
            return None
        value = _inherited(_indirect(self.writer, parent).get_object(), key.decode())
        if value is None:
            return _ABSENT
        try:
            return from_object(value)
        except (TypeError, ValueError):
            return None


_ABSENT = object()


def _box_from_object(value) -> list[float]:
    return [float(v) for v in value]


def _indirect(writer, value: bytes) -> generic.IndirectObject:
    """The reference `value` (like b"12 0 R") as an object of the original file."""
    idnum, generation = rawpages.reference(value)
    return generic.IndirectObject(idnum, generation, writer.prev)


def _ref_bytes(ref: generic.IndirectObject) -> bytes:
    return b"%d %d R" % (ref.idnum, ref.generation)


def _rect_bytes(values: list[float]) -> bytes:
    return b"[" + b" ".join(repr(v).encode() for v in _rect(*values)) + b"]"


def _grow(page: generic.DictionaryObject) -> Geometry:
    """Extend media and crop box by the strip at the viewed bottom; return the new geometry."""
    rotation = int(_inherited(page, "/Rotate") or 0)
    media = [float(v) for v in _inherited(page, "/MediaBox")]
    crop_box = _inherited(page, "/CropBox")
    crop = [float(v) for v in crop_box] if crop_box else None
    new_media, new_crop, geometry = _grown(media, crop, rotation, _user_unit(page.get("/UserUnit")))
    page[pdf_name("/MediaBox")] = _rect(*new_media)
    page[pdf_name("/CropBox")] = _rect(*new_crop)
    return geometry


def _user_unit(value) -> float:
    """/UserUnit (not inherited; default 1); an unusable value counts as 1, as viewers take it."""
    try:
        unit = float(value) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
    return unit if 0 < unit < 1e6 else 1.0


def _grown(
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


def _clip(geometry: Geometry) -> bytes:
    """Save the graphics state and clip to the page's old visible box.

    The strip is new visible area: content drawn there (below a crop box, or outside the
    media box) was never seen by the parties and must stay unseen.
    """
    left, bottom, right, top = geometry.visible
    return b"q %s %s %s %s re W n\n" % tuple(
        fp_str(round(v, 3)).encode() for v in (left, bottom, right - left, top - bottom)
    )


COVER_PLACEHOLDER = b"2147483646 65535 R"  # the cover's reference, in an edited page template


def _cover_bytes(writer, geometry: Geometry, name: str, xobject) -> bytes:
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
            pdf_name("/BBox"): _rect(*strip),
            pdf_name("/Resources"): generic.DictionaryObject(
                {pdf_name("/XObject"): generic.DictionaryObject({pdf_name(name): xobject})}
            ),
        },
        stream_data=b"q 1 g %s re f Q q %s Do Q\n" % (size, name.encode()),
    )
    reference = _ref_bytes(writer.add_object(appearance))
    return (
        b"<< /Type /Annot /Subtype /Square /Rect " + rect
        + b" /F 196 /C [1 1 1] /IC [1 1 1] /BS << /W 0 >> /Contents (Sigill footer)"
        + b" /AP << /N " + reference + b" >> >>"
    )  # /F 196: print, read only, locked


def _add_cover(writer, page: generic.DictionaryObject, cover: generic.IndirectObject) -> None:
    """Put the cover annotation last in the page's /Annots (which may be in its own object)."""
    annots = page.raw_get("/Annots") if "/Annots" in page else None
    if isinstance(annots, generic.IndirectObject) and isinstance(annots.get_object(), generic.ArrayObject):
        array = annots.get_object()
        array.append(cover)
        writer.update_container(array)
    elif isinstance(annots, generic.ArrayObject):
        annots.append(cover)  # the page itself is written again
    else:
        page[pdf_name("/Annots")] = generic.ArrayObject([cover])


def _rect(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject(generic.FloatObject(round(v, 3)) for v in values)


def _draw_overlay(
    writer: IncrementalPdfFileWriter, geometries: list[Geometry], text: str
) -> Overlay:
    """The footers drawn in a document of their own, imported into the writer."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pageCompression=1, invariant=1)
    for geometry in geometries:
        _draw_footer(drawing, geometry, text)
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
    overlay = [(_content_stream(page), res) for page, res in zip(drawn, resources, strict=True)]
    return list(kids), overlay


def _form(
    writer: IncrementalPdfFileWriter, geometry: Geometry, content: generic.StreamObject, resources
) -> generic.IndirectObject:
    """A drawn footer page as a Form XObject."""
    form = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            # The footer may sit at negative coordinates: bound it by the page geometry.
            pdf_name("/BBox"): _rect(geometry.left, geometry.bottom, geometry.right, geometry.top),
            pdf_name("/Resources"): resources,
            **{key: content[key] for key in ("/Filter", "/DecodeParms") if key in content},
        },
        encoded_data=content.encoded_data,
    )
    if "/Filter" not in form:
        form.compress()
    return writer.add_object(form)


def _content_stream(page: generic.DictionaryObject) -> generic.StreamObject:
    """The page's content as one stream, compressed as it was if it is one already."""
    contents = page["/Contents"]
    if isinstance(contents, generic.ArrayObject):
        return generic.StreamObject(
            stream_data=b"\n".join(part.get_object().data for part in contents)
        )
    return contents


def _draw_footer(drawing: canvas.Canvas, geometry: Geometry, text: str) -> None:
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


def _add_xobject(writer, page: generic.DictionaryObject, name: str, xobject) -> None:
    """Register the footer in the page's resources, which may be inherited or shared."""
    resources = _inherited(page, "/Resources", raw=True)
    if resources is None:
        resources = generic.DictionaryObject()
    page[pdf_name("/Resources")] = resources
    _register_xobject(writer, resources.get_object(), name, xobject)


def _register_xobject(writer, resources: generic.DictionaryObject, name: str, xobject) -> None:
    if "/XObject" not in resources:
        resources[pdf_name("/XObject")] = generic.DictionaryObject()
    xobjects = resources["/XObject"]
    xobjects[pdf_name(name)] = xobject
    # Shared or indirect resource dictionaries live in their own objects: rewrite those.
    writer.update_container(xobjects)
    writer.update_container(resources)


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
