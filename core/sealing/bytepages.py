"""Plain page dictionaries of the original, planned and edited as bytes (the fast path).

pyHanko's parser reads a byte at a time; for a 500-page document, reading the page
dictionaries with it and writing them back took far longer than the seal itself. The
pages are found in the page tree from their bytes (`page_tree`), their changes planned
(`BytePages.plan_page`) before anything is written, and pages written alike share one
edited "template" (see `PlainPage`). Anything unusual falls back to pyHanko's objects
(stamp.Footer); rawpages holds the byte-level readers.
"""

import io
import re
from dataclasses import dataclass

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from core.sealing import rawpages
from core.sealing.footer import Geometry, grown_boxes, inherited, pdf_rect, ref_bytes, user_unit
from core.sealing.writer import register_xobject


@dataclass
class PlainPage:
    """A page dictionary of the original, as bytes.

    Pages of a document are mostly written alike: `template` is the dictionary with its
    /Contents reference replaced by rawpages.PLACEHOLDER (parsed once for all the pages
    whose bytes differ only there), `contents` the page's own reference.
    """

    body: bytes
    template: bytes
    contents: bytes | None


def page_tree(
    writer: IncrementalPdfFileWriter, data: bytes | None
) -> list[tuple[generic.IndirectObject, PlainPage | None]]:
    """All pages in order, as `page_refs`, with the page's bytes when it is plain.

    Kids are first looked at as bytes, so a leaf page is never parsed by pyHanko unless
    it is not plain; page tree nodes are.
    """
    pages: list[tuple[generic.IndirectObject, PlainPage | None]] = []
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


def _plain_page(body: bytes) -> PlainPage:
    found = rawpages.CONTENTS_REF.search(body)
    if found is None or rawpages.PLACEHOLDER in body:
        return PlainPage(body, body, None)
    start, end = found.span(1)
    return PlainPage(body, body[:start] + rawpages.PLACEHOLDER + body[end:], found.group(1))


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


def content_refs(writer, data: bytes | None, page: generic.DictionaryObject) -> list:
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
    """A page planned through its template (see PlainPage)."""

    plan: _RawPlan  # of the template
    template: bytes
    contents: bytes  # the page's /Contents reference, for the placeholder

    @property
    def geometry(self) -> Geometry:
        return self.plan.geometry


class BytePages:
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

    def plan_page(self, page: PlainPage) -> "_RawPlan | _TemplatePlan | None":
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

    def _template_plan(self, page: PlainPage) -> _RawPlan | None:
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
        unit = user_unit(rawpages.number(unit))
        new_media, new_crop, geometry = grown_boxes(media, list(crop) or None, rotation, unit)
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
                return tuple(ref_bytes(part) for part in resolved)
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

    def apply(self, plan, name: str, xobject, open_stream: bytes, close_stream: bytes, cover: bytes, values=None):
        """The page's new dictionary, as an object for the writer; registers the footer.

        `open_stream` is "[" and the reference of the stream to put before the page's
        content, `close_stream` the reference of the one after it, `cover` the reference
        of the page's cover annotation (see cover_annotation). `values`, for a page with
        filled-in values (only where `plan_shares_resources` is false): the name and
        reference of their Form XObject and the references of the two streams that go
        around the page's own content (as bytes: before, after).
        """
        if values is not None:
            template = isinstance(plan, _TemplatePlan)
            edited = self._edited_page(plan.plan if template else plan, name, xobject, open_stream, close_stream,
                                       cover, values)
            return rawpages.RawObject(edited.replace(rawpages.PLACEHOLDER, plan.contents) if template else edited)
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

    def _edited_page(self, plan: _RawPlan, name: str, xobject, open_stream, close_stream, cover,
                     values=None) -> bytes:
        changes = dict(plan.boxes)
        changes[b"/Contents"] = b" ".join((open_stream, *plan.contents, close_stream)) + b"]"
        if values is not None:
            values_name, drawn, (before, after) = values
            changes[b"/Contents"] = b" ".join((open_stream, before, *plan.contents, after, close_stream)) + b"]"
            changes[b"/Resources"] = self._edited(plan.inline_resources, {name: xobject, values_name: drawn})
        annots = plan.raw.value(b"/Annots")
        changes[b"/Annots"] = annots[:-1].rstrip() + b" " + cover + b"]" if annots else b"[" + cover + b"]"
        if plan.shared is not None:
            shared = plan.shared.get_object()
            if plan.shared_is_xobjects:
                shared[pdf_name(name)] = xobject
                self.writer.update_container(shared)
            else:
                register_xobject(self.writer, shared, name, xobject)
        if plan.inline_resources is not None:
            key = (plan.inline_resources, name)
            if values is None and key not in self._edited_resources:
                self._edited_resources[key] = self._edited(plan.inline_resources, {name: xobject})
            if values is None:
                changes[b"/Resources"] = self._edited_resources[key]
        return rawpages.replaced(plan.raw, changes)

    def _edited(self, value: bytes, entries: dict) -> bytes:
        resources, xobjects, shared = self._resources[value]
        if shared is not None:
            return value  # the footer went into the /XObject object
        entry = {name.encode(): ref_bytes(ref) for name, ref in entries.items()}  # our names need no escaping
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
        value = inherited(_indirect(self.writer, parent).get_object(), key.decode())
        if value is None:
            return _ABSENT
        try:
            return from_object(value)
        except (TypeError, ValueError):
            return None


_ABSENT = object()


def plan_shares_resources(plan) -> bool:
    """True if the planned page's resources (or their /XObject) are an object other pages may
    share, or absent: a drawing of its own cannot be named there as bytes."""
    raw = plan.plan if isinstance(plan, _TemplatePlan) else plan
    return raw.shared is not None or raw.inline_resources is None


def _box_from_object(value) -> list[float]:
    return [float(v) for v in value]


def _indirect(writer, value: bytes) -> generic.IndirectObject:
    """The reference `value` (like b"12 0 R") as an object of the original file."""
    idnum, generation = rawpages.reference(value)
    return generic.IndirectObject(idnum, generation, writer.prev)


def _rect_bytes(values: list[float]) -> bytes:
    return b"[" + b" ".join(repr(v).encode() for v in pdf_rect(*values)) + b"]"


COVER_PLACEHOLDER = b"2147483646 65535 R"  # the cover's reference, in an edited page template
