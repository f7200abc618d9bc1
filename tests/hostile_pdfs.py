"""Hostile and broken PDFs, written as raw bytes (no library would write them).

Each function returns a complete file: header, numbered objects, a cross-reference table with
true offsets (unless the point is a broken one), trailer and %%EOF. `KINDS` maps each kind to its
maker and the problem code the upload check must name (None: the file must be accepted and seal).
"""

from __future__ import annotations

import functools
import zlib

PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>"
CONTENT = b"BT /F1 12 Tf 72 760 Td (Agreement) Tj ET"


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def build(objects: dict[int, bytes], root: int = 1, trailer_extra: bytes = b"", broken_xref: bool = False) -> bytes:
    """A PDF of `objects` (number -> body) with a true cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    size = max(objects) + 1
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        if number in offsets:
            offset = offsets[number] + (7 if broken_xref else 0)
            out += b"%010d 00000 n \n" % offset
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, trailer_extra,
                                                                             xref + (3 if broken_xref else 0))
    return bytes(out)


def _one_page(page: bytes = PAGE, pages: bytes = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
              extra_objects: dict[int, bytes] | None = None, **extra) -> bytes:
    """Catalog 1, page tree 2, page 3, content 4, and `extra_objects`."""
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: pages, 3: page, 4: stream(CONTENT)}
    objects.update(extra_objects or {})
    return build(objects, **extra)


def plain() -> bytes:
    """A sound one-page file, written the same way as the hostile ones."""
    return _one_page()


def kids_loop() -> bytes:
    """/Pages -> /Kids -> a /Pages node whose /Kids lead back to the root."""
    return build({1: b"<< /Type /Catalog /Pages 2 0 R >>",
                  2: b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>", 3: PAGE, 4: stream(CONTENT),
                  5: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"})


def repeated_page() -> bytes:
    return _one_page(pages=b"<< /Type /Pages /Kids [3 0 R 3 0 R] /Count 2 >>")


def parent_loop() -> bytes:
    """The page's /Parent chain never reaches the root: 5 -> 6 -> 5."""
    return build({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                  3: PAGE.replace(b"/Parent 2 0 R", b"/Parent 5 0 R"), 4: stream(CONTENT),
                  5: b"<< /Type /Pages /Parent 6 0 R /Kids [3 0 R] /Count 1 >>",
                  6: b"<< /Type /Pages /Parent 5 0 R /Kids [] /Count 0 >>"})


def deep_nesting(depth: int = 10_000) -> bytes:
    """A page whose dictionary holds arrays nested `depth` deep."""
    nested = b"[" * depth + b"1" + b"]" * depth
    return _one_page(page=PAGE[:-2] + b" /Deep " + nested + b" >>")


def deep_dictionaries(depth: int = 10_000) -> bytes:
    nested = b"<< /A " * depth + b"1" + b" >>" * depth
    return _one_page(page=PAGE[:-2] + b" /Deep " + nested + b" >>")


def deep_page_tree(depth: int = 200) -> bytes:
    """Each /Pages node has one kid, the next /Pages node, `depth` times; then the page."""
    objects = {1: b"<< /Type /Catalog /Pages 10 0 R >>", 4: stream(CONTENT)}
    for level in range(depth):
        number = 10 + level
        parent = b" /Parent %d 0 R" % (number - 1) if level else b""
        objects[number] = b"<< /Type /Pages%s /Kids [%d 0 R] /Count 1 >>" % (parent, number + 1)
    objects[10 + depth] = PAGE.replace(b"/Parent 2 0 R", b"/Parent %d 0 R" % (10 + depth - 1))
    return build(objects)


@functools.cache
def flate_bomb(unpacked_mb: int = 1024) -> bytes:
    """A content stream of a few hundred kB that inflates to `unpacked_mb` MB of spaces."""
    chunk = b" " * (1024 * 1024)
    # One MB deflated on its own (a full flush: no reference back), repeated; then the zlib trailer.
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = block.compress(chunk) + block.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(unpacked_mb):
        checksum = zlib.adler32(chunk, checksum)
    packed = b"\x78\xda" + one * unpacked_mb + b"\x03\x00" + checksum.to_bytes(4, "big")
    return _one_page(page=PAGE.replace(b"/Contents 4 0 R", b"/Contents 5 0 R"),
                     extra_objects={5: stream(packed, b" /Filter /FlateDecode")})


def many_pages(count: int = 20_000) -> bytes:
    """`count` tiny pages sharing one content stream."""
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 4: stream(CONTENT)}
    kids = b" ".join(b"%d 0 R" % (10 + n) for n in range(count))
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count)
    for n in range(count):
        objects[10 + n] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 20 20] /Contents 4 0 R >>"
    return build(objects)


def zero_mediabox() -> bytes:
    return _one_page(page=PAGE.replace(b"[0 0 595 842]", b"[0 0 0 0]"))


def no_mediabox() -> bytes:
    return _one_page(page=PAGE.replace(b"/MediaBox [0 0 595 842] ", b""))


def cropbox_outside() -> bytes:
    """A CropBox that does not overlap the MediaBox: nothing of the page would be visible."""
    return _one_page(page=PAGE[:-2] + b" /CropBox [1000 1000 1200 1200] >>")


def trailer_array(elements: int = 100_001) -> bytes:
    """A trailer entry holding an array of `elements` numbers (pypdf: LimitReachedError)."""
    return _one_page(trailer_extra=b" /Junk [" + b"0 " * elements + b"]")


def huge_count() -> bytes:
    """One page, but the page tree says 999,999."""
    return _one_page(pages=b"<< /Type /Pages /Kids [3 0 R] /Count 999999 >>")


def missing_kid() -> bytes:
    """/Kids names an object that does not exist."""
    return _one_page(pages=b"<< /Type /Pages /Kids [3 0 R 99 0 R] /Count 2 >>")


def broken_xref() -> bytes:
    """Every offset in the cross-reference table is wrong; readers rebuild it by scanning."""
    return _one_page(broken_xref=True)


def prev_loop() -> bytes:
    """The trailer's /Prev names the cross-reference table it belongs to: following it never ends."""
    data = _one_page()
    xref = int(data.rsplit(b"startxref", 1)[1].split()[0])
    return data.replace(b"/Root 1 0 R", b"/Root 1 0 R /Prev %d" % xref)


def no_catalog() -> bytes:
    """The trailer names no /Root."""
    return _one_page().replace(b" /Root 1 0 R", b"")


def deep_in_object_stream(depth: int = 5000) -> bytes:
    """Deep nesting hidden in a compressed object stream (PDF 1.5), behind a cross-reference stream."""
    nested = b"[" * depth + b"1" + b"]" * depth
    inner = {5: b"<< /Type /Catalog /Pages 2 0 R /Deep 6 0 R >>", 6: nested}
    header = b" ".join(b"%d %d" % (num, off) for num, off in _offsets(inner))
    body = header + b"\n" + b"\n".join(inner[n] for n in sorted(inner))
    objstm = stream(zlib.compress(body), b" /Type /ObjStm /N 2 /First %d /Filter /FlateDecode" % (len(header) + 1))
    objects = {2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", 3: PAGE, 4: stream(CONTENT), 7: objstm}
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    rows = [b"\x00\x00\x00\x00\xff\xff"]  # object 0: free
    for number in range(1, 9):
        if number in offsets:
            rows.append(b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00")
        elif number in inner:
            rows.append(b"\x02" + (7).to_bytes(4, "big") + bytes([sorted(inner).index(number)]))
        else:
            rows.append(b"\x00\x00\x00\x00\x00\xff")
    xref_offset = len(out)
    rows.append(b"\x01" + xref_offset.to_bytes(4, "big") + b"\x00")  # object 9: this stream
    table = b"".join(rows)
    out += b"9 0 obj\n" + stream(table, b" /Type /XRef /Size 10 /W [1 4 1] /Root 5 0 R") + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def _offsets(inner: dict[int, bytes]) -> list[tuple[int, int]]:
    result, offset = [], 0
    for number in sorted(inner):
        result.append((number, offset))
        offset += len(inner[number]) + 1
    return result


def many_objects(count: int = 3000) -> bytes:
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               3: PAGE, 4: stream(CONTENT)}
    objects.update({10 + n: b"(filler %d)" % n for n in range(count)})
    return build(objects)


# kind -> (maker, problem code at upload; None = accepted)
KINDS = {
    "kids_loop": (kids_loop, "page_tree_loop"),
    "repeated_page": (repeated_page, "page_tree_loop"),
    "parent_loop": (parent_loop, "page_tree_loop"),
    "deep_arrays": (deep_nesting, "too_deep"),
    "deep_dictionaries": (deep_dictionaries, "too_deep"),
    "deep_page_tree": (deep_page_tree, "too_deep"),
    "flate_bomb": (flate_bomb, "too_much_data"),
    "many_pages": (many_pages, "too_many_pages"),
    "zero_mediabox": (zero_mediabox, "no_page_size"),
    "no_mediabox": (no_mediabox, "no_page_size"),
    "cropbox_outside": (cropbox_outside, "no_page_size"),
    "trailer_array": (trailer_array, "limit_reached"),
    "huge_count": (huge_count, "wrong_page_count"),
    "missing_kid": (missing_kid, "broken_page"),
    "prev_loop": (prev_loop, None),
    "no_catalog": (no_catalog, "corrupt"),
    "deep_in_object_stream": (deep_in_object_stream, "too_deep"),
    "too_many_objects": (lambda: many_objects(250_001), "too_many_objects"),
    "broken_xref": (broken_xref, None),
    "plain": (plain, None),
}
