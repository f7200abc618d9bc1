"""The one inspection a PDF passes at upload: bounded, and naming what is wrong.

Every upload (office, API, templates) and the signer's compare upload go through `inspect_pdf`,
once. It reads the file in a bounded child process (core.bounded) and checks what later work
(previews, stamping, sealing, verify, compare) relies on:

- it is a complete PDF, not encrypted, with a readable catalog;
- at most `max_objects` objects, and no array or dictionary nested deeper than `max_depth`
  (nor a page tree deeper than that);
- the page tree has no loop, lists no page twice, and no page's /Parent chain loops; at most
  `max_pages` pages, counted by walking the tree (never trusting /Count);
- every page has a size: the MediaBox it has or inherits, and each of its other boxes that is
  used, is a real rectangle at least 1 point wide and high;
- all compressed streams together unpack to at most `max_decompressed` bytes (counted while
  unpacking in small pieces, so a decompression bomb never sits in memory);
- pypdf's own limits (`LimitReachedError`) and parse errors become a problem with a code, never a
  500.

The limits are per tenant (`PdfLimits.for_tenant`, settings with safe defaults). A file that
makes the child go over its memory or time bound is refused as `too_complex`.
"""

from __future__ import annotations

import io
import logging
import math
import re
import zlib
from dataclasses import dataclass

# Imported here, in the parent, so that the forked checking child does not import them each time.
import pypdf  # noqa: F401
import pypdfium2  # noqa: F401
from pypdf import PdfReader
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from core.bounded import BoundExceeded, config_bounds, run_bounded

_MB = 1024 * 1024
_TAIL = 2048
_MIN_SIDE = 1.0  # points: a page box smaller than this has "no size"
_BOXES = ("/CropBox", "/BleedBox", "/TrimBox", "/ArtBox")

# Tenant settings (tenants.models.DEFAULT_SETTINGS) and the bounds of the inspecting child.
DEFAULTS = {"max_pages": 2000, "max_unpacked_mb": 512, "max_nesting": 64, "max_objects": 250_000}
CHECK_MEMORY_MB = 512
CHECK_CPU_SECONDS = 20
CHECK_WALL_SECONDS = 30


@dataclass(frozen=True)
class PdfLimits:
    max_bytes: int = 25 * _MB
    max_pages: int = DEFAULTS["max_pages"]
    max_decompressed: int = DEFAULTS["max_unpacked_mb"] * _MB
    max_depth: int = DEFAULTS["max_nesting"]
    max_objects: int = DEFAULTS["max_objects"]

    @classmethod
    def for_tenant(cls, tenant) -> PdfLimits:
        def setting(key: str) -> int:
            value = tenant.setting(key) if tenant is not None else None
            return int(value) if value else DEFAULTS.get(key, 25)

        return cls(max_bytes=setting("max_upload_mb") * _MB, max_pages=setting("max_pages"),
                   max_decompressed=setting("max_unpacked_mb") * _MB, max_depth=setting("max_nesting"),
                   max_objects=setting("max_objects"))


@dataclass(frozen=True)
class PdfFacts:
    page_count: int


class PdfProblem(ValueError):
    """Why a file is not an acceptable PDF: a stable `code`, a `detail` for the log, and `params`
    for the user's message (a page number, the limit ...)."""

    def __init__(self, code: str, detail: str = "", **params):
        super().__init__(detail or code)
        self.code = code
        self.detail = detail or code
        self.params = params

    @property
    def message(self) -> str:  # the log's words (older callers read `.message`)
        return self.detail

    def __reduce__(self):  # crosses the pipe from the checking child
        return _rebuild_problem, (self.code, self.detail, self.params)


def _rebuild_problem(code: str, detail: str, params: dict) -> PdfProblem:
    return PdfProblem(code, detail, **params)


def inspect_pdf(data: bytes, limits: PdfLimits) -> PdfFacts:
    """Check `data` against `limits` in a bounded child; its facts, or `PdfProblem`."""
    _cheap_checks(data, limits)
    try:
        return run_bounded(_inspect, data, limits,
                           **config_bounds("CHECK", (CHECK_MEMORY_MB, CHECK_CPU_SECONDS, CHECK_WALL_SECONDS)))
    except BoundExceeded as exceeded:
        raise PdfProblem("too_complex", str(exceeded)) from None


def _cheap_checks(data: bytes, limits: PdfLimits) -> None:
    if not data or not data.strip():
        raise PdfProblem("empty", "empty file")
    if len(data) > limits.max_bytes:
        raise PdfProblem("too_large", "over the size limit", limit=limits.max_bytes // _MB)
    if b"%PDF-" not in data[:1024]:
        raise PdfProblem("not_pdf", "no PDF header")
    if b"%%EOF" not in data[-_TAIL:]:
        raise PdfProblem("corrupt", "no end-of-file marker (truncated)")
    declared = _declared_size(data)
    if declared > limits.max_objects + 1:  # object 0 is never an object
        raise PdfProblem("too_many_objects", f"/Size {declared}", limit=limits.max_objects)


_SIZE = re.compile(rb"/Size\s+(\d{1,12})")
_STARTXREF = re.compile(rb"startxref\s+(\d{1,12})")


def _declared_size(data: bytes) -> int:
    """The object count the last trailer or cross-reference stream declares (0 if not found):
    read without parsing, so a file of millions of objects is refused before it is read."""
    tail = data[-_TAIL:]
    places = [tail[: tail.rfind(b"startxref")] if b"startxref" in tail else tail]
    found = _STARTXREF.findall(tail)
    if found:
        offset = int(found[-1])
        places.append(data[offset:offset + _TAIL])
    sizes = [int(size) for place in places for size in _SIZE.findall(place)]
    return max(sizes, default=0)


# --- in the child --------------------------------------------------------------------------------


def _inspect(data: bytes, limits: PdfLimits) -> PdfFacts:
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # in the child only: its warnings are ours to give
    try:
        reader = _open(data)
        _count_objects(reader, limits)
        count = _check_pages(reader, limits)
        _check_objects(reader, limits)
    except PdfProblem:
        raise
    except Exception as exc:  # noqa: BLE001  (sorted below)
        if _recursion(exc):
            raise PdfProblem("too_deep", "RecursionError while parsing", limit=limits.max_depth) from None
        _parse_problem(exc)
    _check_pdfium(data, count)
    return PdfFacts(page_count=count)


def _recursion(exc: BaseException | None) -> bool:
    """pypdf wraps a RecursionError (deep nesting) in its own errors."""
    for _ in range(10):
        if exc is None:
            return False
        if isinstance(exc, RecursionError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _parse_problem(exc: Exception) -> None:
    """pypdf's own limits, and any other error reading the file: a problem, never a 500."""
    if isinstance(exc, LimitReachedError):
        raise PdfProblem("limit_reached", f"pypdf limit: {exc}") from None
    raise PdfProblem("corrupt", f"pypdf: {type(exc).__name__}: {exc}"[:500]) from None


def _open(data: bytes):
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        _refuse_encrypted(reader)
    return reader


def _refuse_encrypted(reader) -> None:
    """An encrypted PDF is refused (stamping and sealing need an unencrypted file), with the true
    reason: a password is needed to open it ("encrypted"); or it opens without one, but its author
    set an owner password that forbids changes ("restricted") or allows them ("encrypted_open").

    Decision: not accepted even then. Sealing an encrypted file would keep its encryption (and
    its author's restrictions) on the sealed document, and decrypting it ourselves would seal
    other bytes than the officer uploaded and set its author's settings aside.
    """
    from pypdf.constants import UserAccessPermissions

    try:
        opened = reader.decrypt("")
        permissions = reader.user_access_permissions if opened else None
    except Exception:  # noqa: BLE001 - an unknown security handler: it needs more than no password
        opened, permissions = False, None
    if not opened:
        raise PdfProblem("encrypted", "encrypted: needs a password")
    if permissions is None or UserAccessPermissions.MODIFY not in permissions:
        raise PdfProblem("restricted", "encrypted: opens without a password, changes forbidden")
    raise PdfProblem("encrypted_open", "encrypted: opens without a password, changes allowed")


def _object_numbers(reader) -> set[tuple[int, int]]:
    numbers = {(num, gen) for gen, table in reader.xref.items() for num in table}
    return numbers | {(num, 0) for num in reader.xref_objStm}


def _count_objects(reader, limits: PdfLimits) -> None:
    count = len(_object_numbers(reader))
    if count > limits.max_objects:
        raise PdfProblem("too_many_objects", f"{count} objects", limit=limits.max_objects)


def _check_objects(reader, limits: PdfLimits) -> None:
    """Parse each object once, for its nesting and its streams' unpacked size."""
    _depth(reader.trailer, limits)
    streams = []
    for num, gen in sorted(_object_numbers(reader)):
        try:
            obj = reader.get_object(IndirectObject(num, gen, reader))
        except Exception as exc:  # noqa: BLE001  an unreadable object nobody refers to is not our problem
            if _recursion(exc):
                raise PdfProblem("too_deep", f"object {num} nested too deeply", limit=limits.max_depth) from None
            continue
        if obj is None:
            continue
        _depth(obj, limits)
        if isinstance(obj, StreamObject) and "/Filter" in obj:
            streams.append(obj)
    # Most files cannot unpack to the limit even if every stream did the most its filters allow:
    # then nothing is unpacked. Otherwise every stream is unpacked (counted, not kept).
    if sum(_most_unpacked(stream) for stream in streams) <= limits.max_decompressed:
        return
    unpacked = [0]
    for stream in streams:
        _count_unpacked(stream, unpacked, limits)


# The most one input byte can unpack to: deflate 1032, LZW (12-bit codes) 2730, run-length 64,
# ASCII85 4 ("z"), ASCIIHex 1/2. Image filters are not unpacked here (see _count_unpacked).
_RATIO = {"/FlateDecode": 1032, "/Fl": 1032, "/LZWDecode": 2730, "/LZW": 2730, "/RunLengthDecode": 64, "/RL": 64}
_TEXT_RATIO = {"/ASCII85Decode": 4, "/A85": 4, "/ASCIIHexDecode": 0.5, "/AHx": 0.5}


def _most_unpacked(stream) -> float:
    filters = _filters(stream)
    raw = stream._data or b""
    size = float(len(raw))
    if filters and filters[0] in _TEXT_RATIO and len(filters) > 1:
        if filters[0] in ("/ASCII85Decode", "/A85"):  # 5 characters are 4 bytes; only "z" is 4 bytes alone
            zeros = raw.count(b"z")
            size = (size - zeros) * 0.8 + 4 * zeros + 4
        else:
            size *= _TEXT_RATIO[filters[0]]
        filters = filters[1:]
    return size * _RATIO.get(filters[0], 0) + 1032 if filters else 0


def _depth(obj, limits: PdfLimits) -> None:
    """Direct nesting of arrays and dictionaries, walked without recursion."""
    stack = [(obj, 1)]
    while stack:
        item, level = stack.pop()
        if level > limits.max_depth:
            raise PdfProblem("too_deep", f"nested {level} levels", limit=limits.max_depth)
        if isinstance(item, DictionaryObject):
            stack.extend((value, level + 1) for value in item.values()
                         if isinstance(value, (ArrayObject, DictionaryObject)))
        elif isinstance(item, ArrayObject):
            stack.extend((value, level + 1) for value in item if isinstance(value, (ArrayObject, DictionaryObject)))


def _filters(stream) -> list[str]:
    value = stream.get("/Filter")
    if value is None:
        return []
    value = value.get_object()
    names = list(value) if isinstance(value, ArrayObject) else [value]
    return [str(name.get_object()) for name in names]


def _count_unpacked(stream, unpacked: list[int], limits: PdfLimits) -> None:
    """Add what the stream unpacks to; raise as soon as the total is over the limit."""
    raw = stream._data or b""
    filters = _filters(stream)
    if not filters:
        return
    first = filters[0]
    if first in ("/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85") and len(filters) > 1:
        from pypdf.filters import ASCII85Decode, ASCIIHexDecode

        decoder = ASCIIHexDecode if first in ("/ASCIIHexDecode", "/AHx") else ASCII85Decode
        try:
            raw = decoder.decode(raw)
        except Exception:  # noqa: BLE001  pdfium and pypdf skip a stream they cannot decode
            return
        filters = filters[1:]
        first = filters[0]
    budget = limits.max_decompressed - unpacked[0]
    if first in ("/FlateDecode", "/Fl"):
        size = _inflated_size(raw, budget + 1)
    elif first in ("/LZWDecode", "/LZW", "/RunLengthDecode", "/RL"):
        try:
            size = len(stream.get_data())  # pypdf caps these itself (LimitReachedError)
        except Exception:  # noqa: BLE001
            return
    else:
        return  # images (DCT, JPX, JBIG2, CCITT) keep their size; the renderer's bound covers them
    unpacked[0] += size
    if unpacked[0] > limits.max_decompressed:
        raise PdfProblem("too_much_data", f"unpacks to over {limits.max_decompressed} bytes",
                         limit=limits.max_decompressed // _MB)


def _inflated_size(raw: bytes, most: int) -> int:
    """How many bytes a zlib (or raw deflate) stream inflates to, stopping after `most`."""
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        inflater = zlib.decompressobj(wbits)
        size = 0
        try:
            data = raw
            while data and size < most:
                size += len(inflater.decompress(data, 1 << 20))
                data = inflater.unconsumed_tail
        except zlib.error:
            if size:
                return size  # a damaged tail: readers use what came before it
            continue
        return size
    return 0


def _check_pages(reader, limits: PdfLimits) -> int:
    """Walk the page tree once, in order: loops, depth, count, sizes; the number of pages."""
    catalog = reader.trailer.get("/Root")
    catalog = catalog.get_object() if catalog is not None else None
    if not isinstance(catalog, DictionaryObject):
        raise PdfProblem("corrupt", "no document catalog")
    top = catalog.raw_get("/Pages") if "/Pages" in catalog else None
    if top is None:
        raise PdfProblem("no_pages", "no page tree")
    seen: set[int] = set()
    parents_ok: set[int] = set()
    count = 0
    # (node or reference, depth, inherited MediaBox, inherited CropBox)
    stack: list = [(top, 1, None, None)]
    while stack:
        ref, depth, media, crop = stack.pop()
        if depth > limits.max_depth:
            raise PdfProblem("too_deep", f"page tree {depth} levels deep", limit=limits.max_depth)
        if isinstance(ref, IndirectObject):
            if ref.idnum in seen:
                raise PdfProblem("page_tree_loop", f"object {ref.idnum} reached twice in the page tree")
            seen.add(ref.idnum)
        node = ref.get_object() if ref is not None else None
        if not isinstance(node, DictionaryObject):
            raise PdfProblem("broken_page", "a page tree entry is not a dictionary", page=count + 1)
        media = node.get("/MediaBox", media)
        crop = node.get("/CropBox", crop)
        kids = node.get("/Kids")
        is_node = node.get("/Type") == "/Pages" or (kids is not None and node.get("/Type") != "/Page")
        if is_node:
            kids = kids.get_object() if kids is not None else ArrayObject()
            if not isinstance(kids, ArrayObject):
                raise PdfProblem("broken_page", "/Kids is not an array", page=count + 1)
            stack.extend((kid, depth + 1, media, crop) for kid in reversed(kids))
            continue
        count += 1
        if count > limits.max_pages:
            raise PdfProblem("too_many_pages", f"over {limits.max_pages} pages", limit=limits.max_pages)
        _check_parents(node, limits, parents_ok)
        _check_boxes(node, media, crop, count)
    if count < 1:
        raise PdfProblem("no_pages", "no pages")
    return count


def _check_parents(page, limits: PdfLimits, parents_ok: set[int]) -> None:
    """A page's /Parent chain must end (readers follow it for inherited attributes)."""
    chain: list[int] = []
    ref = page.raw_get("/Parent") if "/Parent" in page else None
    while isinstance(ref, IndirectObject):
        if ref.idnum in parents_ok:
            break
        if ref.idnum in chain or len(chain) > limits.max_depth:
            raise PdfProblem("page_tree_loop", f"/Parent chain loops at object {ref.idnum}")
        chain.append(ref.idnum)
        node = ref.get_object()
        ref = node.raw_get("/Parent") if hasattr(node, "raw_get") and "/Parent" in node else None
    parents_ok.update(chain)


def _rectangle(value) -> tuple[float, float, float, float] | None:
    value = value.get_object() if value is not None else None
    if not isinstance(value, ArrayObject) or len(value) != 4:
        return None
    try:
        x1, y1, x2, y2 = (float(v.get_object()) for v in value)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        return None
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _check_boxes(page, media, crop, number: int) -> None:
    """The MediaBox, and each other box the page has (clipped to it, as readers do), has a size."""
    box = _rectangle(page.get("/MediaBox", media))
    if box is None or box[2] - box[0] < _MIN_SIDE or box[3] - box[1] < _MIN_SIDE:
        raise PdfProblem("no_page_size", "no usable MediaBox", page=number)
    own = {name: page.get(name) for name in _BOXES}
    if own["/CropBox"] is None:
        own["/CropBox"] = crop
    for name, value in own.items():
        if value is None:
            continue
        other = _rectangle(value)
        if other is None:
            continue  # not a rectangle: readers ignore it and use the MediaBox
        width = min(other[2], box[2]) - max(other[0], box[0])
        height = min(other[3], box[3]) - max(other[1], box[1])
        if width < _MIN_SIDE or height < _MIN_SIDE:
            raise PdfProblem("no_page_size", f"{name} has no size within the MediaBox", page=number)


def _check_pdfium(data: bytes, count: int) -> None:
    """The renderer must open the file and agree on the page count."""
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise PdfProblem("encrypted", "pdfium: password") from None
        raise PdfProblem("corrupt", f"pdfium: {exc}") from None
    try:
        if len(pdf) != count:
            raise PdfProblem("wrong_page_count", f"pdfium sees {len(pdf)} pages, the page tree has {count}")
        pdf[0].get_size()  # the first page must at least load
    except pypdfium2.PdfiumError as exc:
        raise PdfProblem("corrupt", f"pdfium: {exc}") from None
    finally:
        pdf.close()
