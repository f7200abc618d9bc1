"""Flattening before the seal: every value and signature becomes plain page content.

`flatten(writer, marks, replaced)` works on the sealing pipeline's incremental writer, before the
footer and the receipt, so the original's bytes stay a prefix of the sealed file:

1. The marks (values, check marks, signature images, printed signatures) of each page are drawn
   by reportlab in one overlay document, one page per document page, in the page's viewed size;
   its pages are imported as Form XObjects whose /Matrix turns viewed coordinates into the page's
   user space (crop box offset and /Rotate included).
2. The PDF's own form fields end: the widgets of fields that our fields replace (`replaced`,
   their full names) are removed; every other visible widget's appearance is drawn into the page
   as content (a filled field prints as it looked), or, where the file asks viewers to make the
   appearance (/NeedAppearances) and has none, its value is drawn like ours. The fields leave
   /AcroForm, so nothing is editable or signable any more (the seal adds its own field). A form
   that already carries a signature is left alone: changing it would break that signature.
3. Each changed page gets its original content wrapped in q/Q followed by the new drawing.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from core.fields.drawing import Mark, draw_page
from core.fields.geometry import PageBox, page_box
from core.sealing.footer import PageCanvas
from core.sealing.rawpages import FastReader
from core.sealing.stamp import import_overlay, page_refs

log = logging.getLogger(__name__)

OVERLAY_NAME = "/SigillFields"
APPEARANCE_PREFIX = "/SigillForm"
# A page's content is wrapped in BEFORE ... and then our drawing follows (AFTER when it is only ours).
BEFORE = b"q\n"
AFTER = f"\nQ\nq {OVERLAY_NAME} Do Q\n".encode()
HIDDEN_FLAGS = 2 | 32  # /F Hidden, NoView
MAX_FIELD_DEPTH = 32


@dataclass
class _Page:
    ref: generic.IndirectObject
    box: PageBox
    marks: list[Mark] = field(default_factory=list)
    appearances: list[tuple[generic.IndirectObject, tuple[float, ...]]] = field(default_factory=list)


class Drawing:
    """The marks of the pages that show some, to be drawn in a reportlab document (`draw`, one page
    each) and put in place (`fill`, with those pages imported). The pages already name their
    drawings, so the pipeline draws them with the receipt: one embedded font, one import.

    With `deferred` (see flatten's `later`), the pages' content is not changed yet: `deferred` maps
    each page's (idnum, generation) to its drawing's reference, and the footer (stamp.Footer), which
    edits every page anyway, adds the drawing in the same edit (as bytes where it can) or calls
    `edit` for a page it edits as pyHanko's object."""

    def __init__(self, writer: IncrementalPdfFileWriter, pages: list[tuple[_Page, generic.IndirectObject]],
                 deferred: bool = False):
        self.writer = writer
        self.pages = pages
        self.deferred = {(page.ref.idnum, page.ref.generation): form for page, form in pages} if deferred else {}
        self._by_key = {(page.ref.idnum, page.ref.generation): (page, form) for page, form in pages}

    @property
    def count(self) -> int:
        return len(self.pages)

    def edit(self, key: tuple[int, int]) -> None:
        """Put the drawing of deferred page `key` into its content as pyHanko's object."""
        page, form = self._by_key[key]
        _append_content(self.writer, page, form)
        self.deferred.pop(key, None)

    def draw(self, drawing) -> None:
        pictures: dict = {}
        for page, _form_ref in self.pages:
            size = page.box.viewed_size
            drawing.setPageSize(size)
            draw_page(drawing, size, page.marks, pictures)
            drawing.showPage()

    def fill(self, overlay) -> None:
        """Each page's drawing from the imported pages `overlay` ((content, resources) each)."""
        for (page, ref), drawn in zip(self.pages, overlay, strict=True):
            self.writer.objects[(ref.generation, ref.idnum)] = _overlay_form(page.box, *drawn)

    def render(self) -> None:
        """Draw and fill in a document of the drawings' own."""
        if not self.pages:
            return
        buffer = io.BytesIO()
        drawing = PageCanvas(buffer, pageCompression=1, invariant=1)
        self.draw(drawing)
        drawing.save()
        self.fill(import_overlay(self.writer, FastReader(buffer), [])[1])


def flatten(writer: IncrementalPdfFileWriter, marks: dict[int, list[Mark]], replaced: Iterable[str] = (),
            later: bool = False) -> Drawing | None:
    """Draw `marks` ({page number: marks}) and end the PDF's own form fields (see the module).
    With `later`, the marks are drawn by the caller with the returned `Drawing`; if the PDF has no
    form of its own, the pages' content is then left for the footer to change (`Drawing.deferred`)."""
    form = _form(writer)
    if not marks and form is None:
        return None
    # Every page is looked up only when the PDF has a form (its widgets may be anywhere).
    refs = page_refs(writer) if form is not None else None
    pages: dict[int, _Page] = {}

    def page(number: int) -> _Page:
        if number not in pages:
            ref = refs[number - 1] if refs is not None else _page_ref(writer, number)
            pages[number] = _Page(ref, _box(ref.get_object()))
        return pages[number]

    count = int(_get(writer.root["/Pages"], "/Count", 0))
    for number, page_marks in marks.items():
        if page_marks and 1 <= number <= count:
            page(number).marks.extend(page_marks)
    if form is not None:
        _end_form(writer, form, refs, page, set(replaced))
    drawing = _draw(writer, [pages[n] for n in sorted(pages)], defer=later and form is None)
    if not later:
        drawing.render()
        return None
    return drawing


def _page_ref(writer, number: int) -> generic.IndirectObject:
    """The reference of page `number` (1-based), parsing only the tree nodes on the way there.

    A node whose /Count equals its number of kids has one page per kid (most trees are one such
    node), so the kid is picked by position; otherwise kids are counted one by one."""
    node = writer.root["/Pages"]
    remaining = number - 1
    for _depth in range(MAX_FIELD_DEPTH):
        kids = list(node["/Kids"])
        if int(_get(node, "/Count", -1)) == len(kids):
            candidate, remaining = kids[remaining], 0
        else:
            candidate = None
            for kid in kids:
                size = int(_get(kid.get_object(), "/Count", 1))
                if remaining < size:
                    candidate = kid
                    break
                remaining -= size
        kid = candidate.get_object()
        if "/Kids" not in kid:
            return candidate
        node = kid
    raise ValueError("page tree too deep")


def _box(page: generic.DictionaryObject) -> PageBox:
    crop = _inherited(page, "/CropBox")
    return page_box(_inherited(page, "/MediaBox"), list(crop) if crop is not None else None,
                    int(_inherited(page, "/Rotate") or 0))


def _get(node: generic.DictionaryObject, key: str, default=None):
    """node[key] resolved (pyHanko's dict.get does not resolve references), or `default`."""
    try:
        return node[key]
    except KeyError:
        return default


def _inherited(node: generic.DictionaryObject, key: str):
    for _depth in range(MAX_FIELD_DEPTH):
        if key in node:
            return node[key]
        node = _get(node, "/Parent")
        if not isinstance(node, generic.DictionaryObject):
            return None
    return None


# --- drawing ---------------------------------------------------------------------------------------


def _draw(writer: IncrementalPdfFileWriter, pages: list[_Page], defer: bool = False) -> Drawing:
    """Every changed page in place, naming the drawing of its marks (filled in by `Drawing`); with
    `defer`, pages that only get marks are left to `Drawing.deferred`."""
    drawn = []
    for page in pages:
        form = writer.add_object(generic.StreamObject(stream_data=b"")) if page.marks else None
        if page.appearances or not defer:
            _append_content(writer, page, form)
        if form is not None:
            drawn.append((page, form))
    return Drawing(writer, drawn, deferred=defer)


def _overlay_form(box: PageBox, content: generic.StreamObject, resources) -> generic.StreamObject:
    width, height = box.viewed_size
    form = generic.StreamObject({
        pdf_name("/Type"): pdf_name("/XObject"),
        pdf_name("/Subtype"): pdf_name("/Form"),
        pdf_name("/BBox"): _numbers((0, 0, width, height)),
        pdf_name("/Matrix"): _numbers(box.matrix()),
        pdf_name("/Resources"): resources,
        **{key: content[key] for key in ("/Filter", "/DecodeParms") if key in content},
    }, encoded_data=content.encoded_data)
    if "/Filter" not in form:
        form.compress()
    return form


def _append_content(writer, page: _Page, overlay: generic.IndirectObject | None) -> None:
    """Original content in q/Q, then the form fields' appearances, then our overlay."""
    page_obj = page.ref.get_object()
    xobjects = _page_xobjects(writer, page_obj)
    drawing = []
    for index, (appearance, matrix) in enumerate(page.appearances):
        name = f"{APPEARANCE_PREFIX}{index}"
        xobjects[pdf_name(name)] = appearance
        drawing.append(f"q {_ops(matrix)} cm {name} Do Q")
    if overlay is not None:
        xobjects[pdf_name(OVERLAY_NAME)] = overlay
        drawing.append(f"q {OVERLAY_NAME} Do Q")
    before = writer.add_object(generic.StreamObject(stream_data=BEFORE))
    after = writer.add_object(generic.StreamObject(stream_data=("\nQ\n" + "\n".join(drawing) + "\n").encode()))
    page_obj[pdf_name("/Contents")] = generic.ArrayObject([before, *_contents(page_obj), after])
    writer.mark_update(page.ref)


def _page_xobjects(writer, page: generic.DictionaryObject) -> generic.DictionaryObject:
    """The page's own /XObject dictionary, written back with the page (resources may be shared
    with other pages or inherited: the page gets a copy, so the others do not change)."""
    inherited = _inherited(page, "/Resources")
    resources = generic.DictionaryObject(dict(inherited.items())) if inherited is not None else \
        generic.DictionaryObject()
    existing = _get(resources, "/XObject")
    xobjects = generic.DictionaryObject(dict(existing.items())) if existing is not None else generic.DictionaryObject()
    resources[pdf_name("/XObject")] = xobjects
    page[pdf_name("/Resources")] = resources
    return xobjects


def _contents(page: generic.DictionaryObject) -> list:
    if "/Contents" not in page:
        return []
    raw = page.raw_get("/Contents")
    resolved = raw.get_object()
    return list(resolved) if isinstance(resolved, generic.ArrayObject) else [raw]


def _numbers(values) -> generic.ArrayObject:
    return generic.ArrayObject(generic.FloatObject(round(float(v), 4)) for v in values)


def _ops(values) -> str:
    return " ".join(f"{float(v):.4f}" for v in values)


# --- the PDF's own form ----------------------------------------------------------------------------


def _form(writer) -> generic.DictionaryObject | None:
    form = _get(writer.root, "/AcroForm")
    if not isinstance(form, generic.DictionaryObject):
        return None
    fields = _get(form, "/Fields")
    return form if isinstance(fields, generic.ArrayObject) and len(fields) else None


@dataclass
class _Field:
    name: str
    kind: str | None  # /Tx, /Btn, /Ch, /Sig
    value: object
    node: generic.DictionaryObject
    widgets: list[generic.IndirectObject | generic.DictionaryObject]


def _fields(form: generic.DictionaryObject) -> list[_Field]:
    found: list[_Field] = []
    stack = [(kid, "", None, None, 0) for kid in reversed(list(form["/Fields"]))]
    seen: set[int] = set()
    while stack:
        ref, prefix, kind, value, depth = stack.pop()
        node = ref.get_object()
        if depth > MAX_FIELD_DEPTH or id(node) in seen or not isinstance(node, generic.DictionaryObject):
            continue
        seen.add(id(node))
        part = str(_get(node, "/T", ""))
        name = f"{prefix}.{part}" if prefix and part else (part or prefix)
        kind = str(node["/FT"]) if "/FT" in node else kind
        value = _get(node, "/V", value)
        all_kids = list(_get(node, "/Kids", []))
        kids = [kid for kid in all_kids if "/T" in kid.get_object()]
        if kids:
            stack.extend((kid, name, kind, value, depth + 1) for kid in reversed(kids))
            continue
        widgets = all_kids or ([ref] if _get(node, "/Subtype") == "/Widget" else [])
        found.append(_Field(name, kind, value, node, widgets))
    return found


def _end_form(writer, form: generic.DictionaryObject, refs: list, page, replaced: set[str]) -> None:
    fields = _fields(form)
    if any(f.kind == "/Sig" and f.value is not None for f in fields):
        log.info("form fields left as they are: the document is already signed")
        return
    need_appearances = bool(_get(form, "/NeedAppearances", False))
    page_of = _widget_pages(refs, [w for f in fields for w in f.widgets])
    removed: set[tuple[int, int]] = set()
    for fld in fields:
        for widget in fld.widgets:
            number = page_of.get(_key(widget))
            if number is None:
                continue
            if fld.name not in replaced:
                _keep_look(writer, fld, widget, page(number), need_appearances)
            removed.add(_key(widget))
    _remove_widgets(writer, refs, page_of, removed)
    form[pdf_name("/Fields")] = generic.ArrayObject()
    for key in ("/NeedAppearances", "/XFA"):
        if key in form:
            del form[key]
    writer.update_container(form)


def _key(obj) -> tuple[int, int]:
    if isinstance(obj, generic.IndirectObject):
        return obj.idnum, obj.generation
    return -1, id(obj)


def _widget_pages(refs: list, widgets: list) -> dict[tuple[int, int], int]:
    """Page number of each widget: from its /P, else by looking through the pages' /Annots."""
    numbers = {(ref.idnum, ref.generation): n for n, ref in enumerate(refs, 1)}
    found, missing = {}, []
    for widget in widgets:
        target = widget.get_object().raw_get("/P") if "/P" in widget.get_object() else None
        if isinstance(target, generic.IndirectObject) and (target.idnum, target.generation) in numbers:
            found[_key(widget)] = numbers[(target.idnum, target.generation)]
        else:
            missing.append(_key(widget))
    if missing:
        wanted = set(missing)
        for number, ref in enumerate(refs, 1):
            for annot in _annots(ref.get_object()):
                if _key(annot) in wanted:
                    found[_key(annot)] = number
    return found


def _annots(page: generic.DictionaryObject) -> list:
    annots = _get(page, "/Annots")
    return list(annots) if isinstance(annots, generic.ArrayObject) else []


def _remove_widgets(writer, refs: list, page_of: dict, removed: set) -> None:
    for number in sorted({page_of[k] for k in removed}):
        ref = refs[number - 1]
        page_obj = ref.get_object()
        left = [a for a in _annots(page_obj) if _key(a) not in removed]
        if left:
            page_obj[pdf_name("/Annots")] = generic.ArrayObject(left)
        elif "/Annots" in page_obj:
            del page_obj["/Annots"]
        writer.mark_update(ref)


def _keep_look(writer, fld: _Field, widget, page, need_appearances: bool) -> None:
    """A widget that goes away but whose look stays: its appearance, or its value drawn by us."""
    annot = widget.get_object()
    if int(_get(annot, "/F", 0)) & HIDDEN_FLAGS or "/Rect" not in annot:
        return
    appearance = _appearance(annot)
    if appearance is not None and not (need_appearances and fld.kind in ("/Tx", "/Ch")):
        matrix = _placement(appearance.get_object(), [float(v) for v in annot["/Rect"]])
        if matrix is not None:
            _as_form_xobject(writer, appearance)
            page.appearances.append((appearance, matrix))
        return
    mark = _value_mark(fld, annot, page.box)
    if mark is not None:
        page.marks.append(mark)


def _appearance(annot: generic.DictionaryObject):
    ap = _get(annot, "/AP")
    if not isinstance(ap, generic.DictionaryObject) or "/N" not in ap:
        return None
    normal = ap.raw_get("/N")
    resolved = normal.get_object()
    if isinstance(resolved, generic.StreamObject):
        return normal if isinstance(normal, generic.IndirectObject) else None
    if isinstance(resolved, generic.DictionaryObject):  # states of a checkbox or radio button
        state = _get(annot, "/AS")
        chosen = resolved.raw_get(str(state)) if state is not None and str(state) in resolved else None
        return chosen if isinstance(chosen, generic.IndirectObject) else None
    return None


def _as_form_xobject(writer, appearance: generic.IndirectObject) -> None:
    stream = appearance.get_object()
    if _get(stream, "/Subtype") != "/Form":
        stream[pdf_name("/Type")] = pdf_name("/XObject")
        stream[pdf_name("/Subtype")] = pdf_name("/Form")
        writer.mark_update(appearance)


def _placement(stream: generic.StreamObject, rect: list[float]) -> tuple[float, ...] | None:
    """The matrix that puts an appearance stream on its annotation's rectangle (PDF 12.5.5)."""
    bbox = [float(v) for v in _get(stream, "/BBox", [0, 0, 0, 0])]
    a, b, c, d, e, f = [float(v) for v in _get(stream, "/Matrix", [1, 0, 0, 1, 0, 0])]
    corners = [(a * x + c * y + e, b * x + d * y + f) for x in (bbox[0], bbox[2]) for y in (bbox[1], bbox[3])]
    x1, x2 = min(p[0] for p in corners), max(p[0] for p in corners)
    y1, y2 = min(p[1] for p in corners), max(p[1] for p in corners)
    left, right = min(rect[0], rect[2]), max(rect[0], rect[2])
    bottom, top = min(rect[1], rect[3]), max(rect[1], rect[3])
    if x2 - x1 <= 0 or y2 - y1 <= 0:
        return None
    sx, sy = (right - left) / (x2 - x1), (top - bottom) / (y2 - y1)
    return sx, 0.0, 0.0, sy, left - x1 * sx, bottom - y1 * sy


def _value_mark(fld: _Field, annot: generic.DictionaryObject, box: PageBox) -> Mark | None:
    """A filled field without an appearance, drawn from its value."""
    value = fld.value
    if value is None:
        return None
    rect = tuple(float(v) for v in annot["/Rect"])
    place = box.relative_rect((min(rect[0], rect[2]), min(rect[1], rect[3]), max(rect[0], rect[2]),
                               max(rect[1], rect[3])))
    if fld.kind == "/Btn":
        normal = _get(_get(annot, "/AP", {}), "/N", {})
        states = [str(k) for k in normal if str(k) != "/Off"] if isinstance(normal, dict) else []
        on = str(value) != "/Off" and (not states or str(value) in states)
        return Mark(place, "check") if on else None
    text = ", ".join(str(v) for v in value) if isinstance(value, generic.ArrayObject) else str(value)
    if not text.strip():
        return None
    multiline = fld.kind == "/Tx" and int(_get(fld.node, "/Ff", 0)) & 4096
    return Mark(place, "paragraph" if multiline else "text", text=text)
