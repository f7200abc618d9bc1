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

Parts: footer.py draws the footer and works out page geometry, writer.py is the
incremental writer, bytepages.py plans and edits plain page dictionaries as bytes; this
module puts them together (`Footer`).
"""

import io
import logging

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from reportlab.pdfgen import canvas

from core.sealing import rawpages
from core.sealing.bytepages import BytePages, PlainPage, content_refs, page_tree, plan_shares_resources
from core.sealing.footer import (
    DEFAULT_LABEL,
    STRIP,
    XOBJECT_PREFIX,
    Geometry,
    Overlay,
    clip_operators,
    cover_annotation,
    draw_footer,
    draw_overlay,
    footer_geometry,
    footer_text,
    form_xobject,
    grow_page,
    import_overlay,
    inherited,
    ref_bytes,
    text_font,
)
from core.sealing.writer import (
    EncryptedPdfError,
    StampWriter,
    new_stream,
    open_writer,
    page_refs,
    register_xobject,
    write,
)

# What callers import from here (the footer's parts live in footer, writer and bytepages).
__all__ = [
    "DEFAULT_LABEL", "STRIP", "XOBJECT_PREFIX", "EncryptedPdfError", "Footer", "Geometry", "Overlay", "StampWriter",
    "footer_geometry", "footer_text", "import_overlay", "open_writer", "page_refs", "stamp_footer", "stamp_pages",
    "text_font", "write",
]

log = logging.getLogger(__name__)

# A page with filled-in values (fields.flatten's deferred pages): its content wrapped as
# fields.flatten wraps it, then the values' Form XObject (named as flatten names it).
VALUES_NAME = "/SigillFields"
VALUES_BEFORE = b"q\n"
VALUES_AFTER = b"\nQ\nq /SigillFields Do Q\n"


def stamp_footer(
    pdf_bytes: bytes, fingerprint: str, verify_url: str, label: str = DEFAULT_LABEL
) -> bytes:
    """Return the PDF with the footer added to every page (see the module docstring)."""
    writer = open_writer(pdf_bytes)
    stamp_pages(writer, footer_text(fingerprint, verify_url, label))
    return write(writer)


def stamp_pages(writer: IncrementalPdfFileWriter, text: str) -> None:
    """Grow every page by the footer strip and draw `text` in it."""
    Footer(writer, text).apply()


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

    def __init__(self, writer: IncrementalPdfFileWriter, text: str, more_geometries=(), values=None):
        self.writer = writer
        self.text = text
        self.values = values  # a fields.flatten.Drawing whose pages wait for this edit (`deferred`)
        self.data = _original_bytes(writer)
        self.byte_pages = BytePages(writer, self.data) if self.data is not None else None
        # (ref, page object or None, byte-level plan or None, geometry, values' drawing or None)
        self.entries = [
            self._entry(ref, plain if index > 0 else None)
            for index, (ref, plain) in enumerate(page_tree(writer, self.data))
        ]
        self.geometries = sorted({e[3] for e in self.entries} | set(more_geometries), key=repr)

    def _entry(self, ref, plain: "PlainPage | None") -> tuple:
        plan = self.byte_pages.plan_page(plain) if plain is not None else None
        drawn = self.values.deferred.get((ref.idnum, ref.generation)) if self.values is not None else None
        if plan is not None and (drawn is None or not plan_shares_resources(plan)):
            return ref, None, plan, plan.geometry, drawn
        if drawn is not None:  # the values' drawing goes in as pyHanko's objects, before the footer
            self.values.edit((ref.idnum, ref.generation))
        page = ref.get_object()
        return ref, page, None, grow_page(page), None  # the boxes of a pyHanko object grow now

    def draw(self, drawing: canvas.Canvas) -> None:
        """One page per geometry (in `self.geometries` order) with the footer on it."""
        for geometry in self.geometries:
            draw_footer(drawing, geometry, self.text)
            drawing.showPage()

    def apply(self, overlay: Overlay | None = None, added=()) -> None:
        """Stamp the pages read at the start and the `added` page references."""
        writer = self.writer
        entries = self.entries + [self._entry(ref, None) for ref in added]
        # A page with values drawn: its content in q/Q (as flatten wraps it), then the drawing.
        value_streams = (
            tuple(ref_bytes(writer.add_object(new_stream(data))) for data in (VALUES_BEFORE, VALUES_AFTER))
            if any(e[4] is not None for e in entries) else None
        )
        geometries = list(self.geometries)
        if overlay is None:
            overlay = []
            geometries = []
        missing = sorted({e[3] for e in entries} - set(geometries), key=repr)
        if missing:
            overlay = overlay + draw_overlay(writer, missing, self.text)
            geometries += missing
        xobjects = {
            geometry: (f"{XOBJECT_PREFIX}{index}", form_xobject(writer, geometry, *drawn))
            for index, (geometry, drawn) in enumerate(zip(geometries, overlay, strict=True))
        }
        # The page's own content is clipped to what was visible before (see clip_operators).
        open_streams = {
            geometry: writer.add_object(new_stream(clip_operators(geometry))) for geometry in xobjects
        }
        close_streams = {
            geometry: writer.add_object(new_stream(f"\nQ q {name} Do Q\n".encode()))
            for geometry, (name, _) in xobjects.items()
        }
        open_bytes = {geometry: b"[" + ref_bytes(ref) for geometry, ref in open_streams.items()}
        close_bytes = {geometry: ref_bytes(ref) for geometry, ref in close_streams.items()}
        covers = {geometry: cover_annotation(writer, geometry, *xobjects[geometry]) for geometry in xobjects}
        for ref, page, plan, geometry, drawn in entries:
            name, xobject = xobjects[geometry]
            cover = writer.add_object(rawpages.RawObject(covers[geometry]))
            if plan is not None:
                values = None if drawn is None else (VALUES_NAME, drawn, value_streams)
                writer.objects[(ref.generation, ref.idnum)] = self.byte_pages.apply(
                    plan, name, xobject, open_bytes[geometry], close_bytes[geometry], ref_bytes(cover), values
                )
                continue
            _add_xobject(writer, page, name, xobject)
            contents = content_refs(writer, self.data, page)
            page[pdf_name("/Contents")] = generic.ArrayObject(
                [open_streams[geometry], *contents, close_streams[geometry]]
            )
            _add_cover(writer, page, cover)
            writer.mark_update(ref)


def _original_bytes(writer: IncrementalPdfFileWriter) -> bytes | None:
    """The bytes the writer appends to, if in memory and unencrypted (for the fast path)."""
    stream = writer.prev.stream
    if writer.prev.encrypted or not isinstance(stream, io.BytesIO):
        return None
    return stream.getvalue()


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


def _add_xobject(writer, page: generic.DictionaryObject, name: str, xobject) -> None:
    """Register the footer in the page's resources, which may be inherited or shared."""
    resources = inherited(page, "/Resources", raw=True)
    if resources is None:
        resources = generic.DictionaryObject()
    page[pdf_name("/Resources")] = resources
    register_xobject(writer, resources.get_object(), name, xobject)
