"""A PDF's own form fields (AcroForm), found and offered as fields of a template.

Every widget of a text field, checkbox, radio group, choice list or empty signature field becomes
a `FieldSpec` with the field's full name, type, options, flags (required, read-only), filled-in
value as default and its place on the page (relative to the visible box, see geometry). Push
buttons and hidden widgets are left out. When the case is sealed the original widgets are removed
and our drawing takes their place (see flatten: `FieldSpec.acroform` names the original).
"""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from core.fields.definitions import MAX_FIELDS, FieldSpec
from core.fields.geometry import PageBox, page_box

log = logging.getLogger(__name__)

READ_ONLY, REQUIRED = 1, 2
MULTILINE, RADIO, PUSH_BUTTON, COMBO = 1 << 12, 1 << 15, 1 << 16, 1 << 17
HIDDEN_FLAGS = 2 | 32
MAX_DEPTH = 32
MIN_SIDE = 0.006


def detect(pdf: bytes, document: int = 0) -> list[FieldSpec]:
    """The form fields of `pdf` as field definitions on document `document`, in page order."""
    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        if "/AcroForm" not in reader.trailer["/Root"]:
            return []
        return _detect(reader, document)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        log.info("form fields not read: %s", type(exc).__name__)
        return []


def _detect(reader: PdfReader, document: int) -> list[FieldSpec]:
    groups: dict[str, dict] = {}  # full name -> {"field": ..., "widgets": [(page, box, widget)]}
    for number, page in enumerate(reader.pages, 1):
        box = page_box(list(page.mediabox), list(page["/CropBox"]) if "/CropBox" in page else None, page.rotation)
        for annot in _annotations(page):
            if annot.get("/Subtype") != "/Widget" or int(annot.get("/F", 0)) & HIDDEN_FLAGS or "/Rect" not in annot:
                continue
            field = annot if "/T" in annot else annot.get("/Parent")
            if not isinstance(field, DictionaryObject | IndirectObject):
                continue
            field = field.get_object()
            name = _full_name(field)
            if not name:
                continue
            entry = groups.setdefault(name, {"field": field, "widgets": []})
            entry["widgets"].append((number, box, annot))
    specs, used = [], set()
    for name, entry in groups.items():
        spec = _spec(name, entry["field"], entry["widgets"], document, used)
        if spec is not None:
            specs.append(spec)
            used.add(spec.name)
        if len(specs) >= MAX_FIELDS:
            break
    return specs


def _annotations(page) -> list[DictionaryObject]:
    annots = page.get("/Annots")
    if annots is None:
        return []
    annots = annots.get_object()
    if not isinstance(annots, ArrayObject):
        return []
    return [a.get_object() for a in annots if isinstance(a.get_object(), DictionaryObject)]


def _full_name(field: DictionaryObject) -> str:
    parts = []
    node = field
    for _depth in range(MAX_DEPTH):
        if "/T" in node:
            parts.append(str(node["/T"]))
        parent = node.get("/Parent")
        if parent is None:
            break
        node = parent.get_object()
    return ".".join(reversed(parts))


def _inherited(field: DictionaryObject, key: str):
    node = field
    for _depth in range(MAX_DEPTH):
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        if parent is None:
            return None
        node = parent.get_object()
    return None


def _spec(name: str, field: DictionaryObject, widgets: list, document: int, used: set[str]) -> FieldSpec | None:
    kind = str(_inherited(field, "/FT") or "")
    flags = int(_inherited(field, "/Ff") or 0)
    if kind == "/Btn" and flags & PUSH_BUTTON:
        return None
    page_number, box, _annot = widgets[0]
    same_page = [w for w in widgets if w[0] == page_number]
    x, y, w, h = _union([_relative(box, annot) for _n, _b, annot in same_page])
    if w < MIN_SIDE or h < MIN_SIDE:
        return None
    common = {"name": _unique(name, used), "document": document, "page": page_number, "x": x, "y": y, "w": w, "h": h,
              "label": str(_inherited(field, "/TU") or "")[:200], "required": bool(flags & REQUIRED),
              "read_only": bool(flags & READ_ONLY), "acroform": name[:500]}
    value = _inherited(field, "/V")
    if kind == "/Tx":
        max_length = _inherited(field, "/MaxLen")
        text = str(value) if value is not None else None
        return FieldSpec(type="textarea" if flags & MULTILINE else "text", default=text or None,
                         max_length=int(max_length) if max_length else None, **common)
    if kind == "/Btn" and flags & RADIO:
        return _radio(common, same_page, value, (x, y, w, h))
    if kind == "/Btn":
        return FieldSpec(type="checkbox", default=value is not None and str(value) != "/Off", **common)
    if kind == "/Ch":
        options = _choice_options(_inherited(field, "/Opt"))
        if not options:
            return None
        chosen = str(value) if value is not None and str(value) in options else None
        return FieldSpec(type="select", options=tuple(options), default=chosen, **common)
    if kind == "/Sig" and value is None:
        return FieldSpec(type="signature", **common)
    return None


def _radio(common: dict, widgets: list, value, union: tuple[float, float, float, float]) -> FieldSpec | None:
    options, areas = [], []
    ux, uy, uw, uh = union
    for _n, box, annot in widgets:
        state = _on_state(annot)
        if state is None or state in options:
            continue
        x, y, w, h = _relative(box, annot)
        left, top = min(1.0, max(0.0, (x - ux) / uw)), min(1.0, max(0.0, (y - uy) / uh))
        options.append(state)
        areas.append((left, top, min(w / uw, 1.0 - left), min(h / uh, 1.0 - top)))
    if not options:
        return None
    chosen = str(value)[1:] if value is not None and str(value)[1:] in options else None
    return FieldSpec(type="radio", options=tuple(options), option_areas=tuple(areas), default=chosen, **common)


def _on_state(annot: DictionaryObject) -> str | None:
    ap = annot.get("/AP")
    normal = ap.get_object().get("/N") if ap is not None else None
    if normal is None or not isinstance(normal.get_object(), DictionaryObject):
        return None
    states = [str(k)[1:] for k in normal.get_object() if k != NameObject("/Off")]
    return states[0][:200] if states else None


def _choice_options(raw) -> list[str]:
    options = []
    for item in raw or []:
        item = item.get_object()
        text = str(item[-1].get_object()) if isinstance(item, ArrayObject) and item else str(item)
        if text and text not in options:
            options.append(text[:200])
    return options[:50]


def _relative(box: PageBox, annot: DictionaryObject) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in annot["/Rect"])
    return box.relative_rect((min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)))


def _union(boxes: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    left = max(0.0, min(b[0] for b in boxes))
    top = max(0.0, min(b[1] for b in boxes))
    right = min(1.0, max(b[0] + b[2] for b in boxes))
    bottom = min(1.0, max(b[1] + b[3] for b in boxes))
    return left, top, max(0.0, right - left), max(0.0, bottom - top)


def _unique(name: str, used: set[str]) -> str:
    base = name[:100]
    candidate, number = base, 2
    while candidate in used:
        suffix = f"-{number}"
        candidate, number = base[: 100 - len(suffix)] + suffix, number + 1
    return candidate
