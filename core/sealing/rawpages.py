"""Page dictionaries read and rewritten as bytes: the fast path of footer stamping.

pyHanko's object parser reads a byte at a time; for a 500-page document, reading the
page dictionaries with it and writing them back took far longer than the seal itself.
Stamping changes only four entries of a page (/MediaBox, /CropBox, /Contents and an
entry in /Resources /XObject), so for a page stored as a plain object (not in an object
stream) we read its dictionary's entries with regular expressions, keep every other
entry's value bytes as they are and write the new dictionary as bytes too.

Pages of one document are mostly written alike, differing only in their /Contents
reference: bytepages.py reads and edits such a page "template" once (the dictionary with
that reference replaced by PLACEHOLDER) and puts each page's own reference back into
the edited bytes, after checking that it points at a content stream.

Anything unusual makes `read_indirect_body` or `parse_dict` return None, and stamp.py
falls back to pyHanko's objects: literal strings and comments in the dictionary,
duplicate keys, an object stream, a header that does not match the cross-reference
table. The fallback gives the same document, only slower.

`FastReader` is pyHanko's reader with the same idea for whole objects: plain objects
(names, numbers, references, arrays, dictionaries, streams with a direct length) are
read with a regular expression into the objects pyHanko's parser would return; pyHanko
reads everything else. It reads our receipt document and the files we stamp.
"""

import io
import re
from dataclasses import dataclass

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

_WHITESPACE = rb"\x00\t\n\x0c\r "
_SPACE = rb"[" + _WHITESPACE + rb"]"
_REGULAR = rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]"
_PLAIN = rb"[^\[\]()<>{}%]"  # inside a container: no containers, strings or comments
_FLAT_VALUE = rb"\[" + _PLAIN + rb"*+\]|<<" + _PLAIN + rb"*+>>"
_REF_VALUE = rb"\d+" + _SPACE + rb"+\d+" + _SPACE + rb"+R(?!" + _REGULAR + rb")"

# One match per dictionary entry ("key value"), the end of the dictionary, or anything
# else (which makes the reader give up): findall reads a whole dictionary in one call.
# Value groups: 1 name, 2 reference, 3 container with nothing nested, 4 container with
# such containers nested, 5 number or keyword.
_ENTRY = re.compile(
    _SPACE + rb"*(?:(/" + _REGULAR + rb"*+)" + _SPACE + rb"*(?:"
    rb"(/" + _REGULAR + rb"*+)"
    rb"|(" + _REF_VALUE + rb")"
    rb"|(" + _FLAT_VALUE + rb")"
    rb"|(\[(?:" + _PLAIN + rb"++|" + _FLAT_VALUE + rb")*+\]"
    rb"|<<(?:" + _PLAIN + rb"++|" + _FLAT_VALUE + rb")*+>>)"
    rb"|(" + _REGULAR + rb"++))"
    rb"|(>>)|([^" + _WHITESPACE + rb"]))"
)
NAME, REF, FLAT, NESTED, REGULAR = range(1, 6)  # value kinds: their index in a match tuple
_END_GROUP = 6

# Token by token, for dictionaries nested deeper than _ENTRY reads (rare in pages).
_TOKEN = re.compile(
    _SPACE + rb"*(?:"
    rb"(/" + _REGULAR + rb"*)"  # 1 name
    rb"|(" + _REF_VALUE + rb")"  # 2 reference
    rb"|(" + _FLAT_VALUE + rb")"  # 3 container with nothing nested
    rb"|(<<|\[)"  # 4 open
    rb"|(>>|\])"  # 5 close
    rb"|(<[0-9A-Fa-f" + _WHITESPACE + rb"]*>)"  # 6 hex string
    rb"|(" + _REGULAR + rb"+)"  # 7 number, keyword
    rb"|([^" + _WHITESPACE + rb"]))"  # 8 anything else: give up
)
_TOKEN_KINDS = {1: NAME, 2: REF, 3: FLAT, 4: NESTED, 6: REGULAR, 7: REGULAR}
_OPEN, _CLOSE, _OTHER = 4, 5, 8
_HEADER = re.compile(_SPACE + rb"*(\d+)" + _SPACE + rb"+(\d+)" + _SPACE + rb"+obj" + _SPACE + rb"*")
_SPACES = re.compile(_SPACE + rb"*")
_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)")
_INTEGER = re.compile(rb"[+-]?\d+")


@dataclass
class RawDict:
    """A dictionary's top-level entries: key -> (key, value in the group of its kind...).

    Each entry is a tuple like those `_ENTRY.findall` gives: the value's bytes sit at the
    index of its kind, the other value slots are empty.
    """

    entries: dict[bytes, tuple[bytes, ...]]

    def value(self, key: bytes) -> bytes | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        return entry[1] or entry[2] or entry[3] or entry[4] or entry[5]

    def kind(self, key: bytes) -> int | None:
        """NAME, REF, FLAT, NESTED or REGULAR, for the value of `key`."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        for kind in (REF, FLAT, NESTED, NAME):
            if entry[kind]:
                return kind
        return REGULAR


def parse_dict(data: bytes, pos: int = 0, end: int | None = None) -> RawDict | None:
    """The dictionary starting at `pos` (leading whitespace allowed) and ending before
    `end`, or None if unusual."""
    start = _SPACES.match(data, pos).end()
    if not data.startswith(b"<<", start):
        return None
    found = _ENTRY.findall(data, start + 2, len(data) if end is None else end)
    if found and found[-1][_END_GROUP]:
        entries = {entry[0]: entry for entry in found[:-1]}
        # Every other match is an entry with a key; no key repeats.
        if b"" not in entries and len(entries) == len(found) - 1:
            return RawDict(entries)
    return _parse_tokens(data, start, end)


def _parse_tokens(data: bytes, start: int, end: int | None) -> RawDict | None:
    """parse_dict for any nesting, a token at a time."""
    entries: dict[bytes, tuple[bytes, ...]] = {}
    key = None
    value_start = value_kind = 0
    stack: list[bytes] = []  # containers open inside a value
    for token in _TOKEN.finditer(data, start + 2, len(data) if end is None else end):
        kind = token.lastindex
        if kind == _OTHER:
            return None
        if stack:
            if kind == _OPEN:
                stack.append(token.group(kind))
            elif kind == _CLOSE:
                if stack.pop() != (b"<<" if token.group(kind) == b">>" else b"["):
                    return None
                if not stack:
                    entries[key] = _entry(key, value_kind, data[value_start : token.end()])
                    key = None
            continue
        if key is None:
            if kind == NAME:
                key = token.group(kind)
                if key in entries:
                    return None  # a duplicate key: let pyHanko decide
                continue
            if kind == _CLOSE and token.group(kind) == b">>":
                return RawDict(entries)
            return None  # not a key
        if kind == _OPEN:
            stack.append(token.group(kind))
            value_start, value_kind = token.start(kind), NESTED
        elif kind == _CLOSE:
            return None
        else:
            entries[key] = _entry(key, _TOKEN_KINDS[kind], token.group(kind))
            key = None
    return None


def _entry(key: bytes, kind: int, value: bytes) -> tuple[bytes, ...]:
    entry = [key, b"", b"", b"", b"", b"", b"", b""]
    entry[kind] = value
    return tuple(entry)


def read_indirect_body(data: bytes, offset: int, ref: generic.Reference) -> bytes | None:
    """The bytes of object `ref` stored at `offset`, between its header and "endobj"."""
    start = _after_header(data, offset, ref)
    if start is None:
        return None
    end = data.find(b"endobj", start)
    return None if end < 0 else data[start:end]


# The first "/Contents <reference>" in a page dictionary's bytes (stamp.py checks that it
# is the top-level entry), and what stands in for it in a page template.
CONTENTS_REF = re.compile(rb"/Contents" + _SPACE + rb"*+(" + _REF_VALUE + rb")")
PLACEHOLDER = b"2147483647 65535 R"


def starts_with(data: bytes, offset: int, ref: generic.Reference, prefix: bytes) -> bool:
    """Whether object `ref`, stored at `offset`, starts with `prefix` after its header."""
    start = _after_header(data, offset, ref)
    return start is not None and data.startswith(prefix, _SPACES.match(data, start).end())


def _after_header(data: bytes, offset: int, ref: generic.Reference) -> int | None:
    """Where object `ref`'s value starts, if its header at `offset` names it."""
    header = b"%d %d obj" % (ref.idnum, ref.generation)
    if data.startswith(header, offset):  # as almost every writer writes it
        return offset + len(header)
    match = _HEADER.match(data, offset)
    if match is None or (int(match[1]), int(match[2])) != (ref.idnum, ref.generation):
        return None
    return match.end()


def numbers(value: bytes | None) -> list[float] | None:
    """The numbers of an array like `[0 0 595.2756 841.8898]`, or None."""
    if value is None or not value.startswith(b"[") or not value.endswith(b"]"):
        return None
    parts = value[1:-1].split()
    if not all(_NUMBER.fullmatch(part) for part in parts):
        return None
    return [float(part) for part in parts]


def number(value: bytes | None) -> float | None:
    if value is None or not _NUMBER.fullmatch(value):
        return None
    return float(value)


def integer(value: bytes | None) -> int | None:
    if value is None or not _INTEGER.fullmatch(value):
        return None
    return int(value)


def reference(value: bytes | None) -> tuple[int, int] | None:
    """(idnum, generation) of a value like `12 0 R`, or None."""
    if value is None or not value.endswith(b"R"):
        return None
    idnum, generation, _ = value.split()
    return int(idnum), int(generation)


def replaced(raw: RawDict, changes: dict[bytes, bytes]) -> bytes:
    """The dictionary's bytes with `changes` (key -> value bytes) set, others as they were."""
    parts = [b"<<"]
    for key, entry in raw.entries.items():
        value = changes.get(key) or entry[1] or entry[2] or entry[3] or entry[4] or entry[5]
        parts += (b"\n", key, b" ", value)
    for key, value in changes.items():
        if key not in raw.entries:
            parts += (b"\n", key, b" ", value)
    parts.append(b"\n>>")
    return b"".join(parts)


class RawObject(generic.PdfObject):
    """An object the writer writes as the given bytes (an unencrypted document only)."""

    def __init__(self, data: bytes):
        self.data = data

    def write_to_stream(self, stream, handler=None, container_ref=None) -> None:
        stream.write(self.data)


# --- whole objects, as pyHanko objects -----------------------------------------------------

_OBJECT_TOKEN = re.compile(
    _SPACE + rb"*(?:"
    rb"(/" + _REGULAR + rb"*)"  # 1 name
    rb"|(" + _REF_VALUE + rb")"  # 2 reference
    rb"|(<<|\[)"  # 3 open
    rb"|(>>|\])"  # 4 close
    rb"|(" + _REGULAR + rb"+)"  # 5 number, keyword
    rb"|([^" + _WHITESPACE + rb"]))"  # 6 anything else (strings, comments): give up
)
_PLAIN_NAME = re.compile(rb"/[!-~]*")  # printable ASCII: no # escapes to expand
_FLOAT = re.compile(rb"[+-]?(?:\d+\.\d*|\.\d+)")
_AFTER_OBJECT = re.compile(_SPACE + rb"*(?:(endobj)|stream(?:\r\n|\n))")
_ENDSTREAM = re.compile(_SPACE + rb"*endstream")
_KEYWORDS = {b"true": True, b"false": False, b"null": None}


def read_plain_object(data: bytes, offset: int, ref: generic.Reference, reader):
    """Object `ref` stored at `offset` as pyHanko's parser would return it, or None.

    None for anything beyond names, numbers, references, booleans, null, arrays,
    dictionaries and streams with a direct /Length that fits: pyHanko reads those.
    """
    start = _after_header(data, offset, ref)
    if start is None:
        return None
    container = generic.Reference(ref.idnum, ref.generation, reader)
    parsed = _read_value(data, start, container, reader)
    if parsed is None:
        return None
    result, pos = parsed
    after = _AFTER_OBJECT.match(data, pos)
    if after is None:
        return None
    if after.group(1):
        return result
    length = result.get("/Length") if isinstance(result, generic.DictionaryObject) else None
    if not isinstance(length, generic.NumberObject) or isinstance(length, bool):
        return None
    start = after.end()
    if _ENDSTREAM.match(data, start + length) is None:
        return None
    stream = generic.StreamObject(dict(result), encoded_data=data[start : start + length])
    stream.container_ref = container
    return stream


def _read_value(data: bytes, pos: int, container, reader):
    """(object, end position) for the object at `pos`, or None."""
    stack: list[list] = []  # [container object, pending dictionary key]
    for token in _OBJECT_TOKEN.finditer(data, pos):
        kind = token.lastindex
        text = token.group(kind)
        if kind == 3:
            stack.append([{} if text == b"<<" else [], None])
            continue
        if kind == 1:
            if not _PLAIN_NAME.fullmatch(text):
                return None
            value = generic.NameObject(text.decode("ascii"))
            if stack and isinstance(stack[-1][0], dict) and stack[-1][1] is None:
                stack[-1][1] = value  # a key
                continue
        elif kind == 2:
            idnum, generation, _ = text.split()
            value = generic.IndirectObject(int(idnum), int(generation), reader)
        elif kind == 4:
            if not stack:
                return None
            items, key = stack.pop()
            if isinstance(items, dict) != (text == b">>") or key is not None:
                return None
            value = generic.DictionaryObject(items) if text == b">>" else generic.ArrayObject(items)
        elif kind == 5:
            value = _regular(text)
            if value is None:
                return None
        else:
            return None
        value.container_ref = container
        if not stack:
            return value, token.end()
        items, key = stack[-1]
        if isinstance(items, dict):
            if key is None:
                return None  # a value where a key should be
            items.setdefault(key, value)  # pyHanko keeps the first of duplicate keys
            stack[-1][1] = None
        else:
            items.append(value)
    return None


def _regular(text: bytes):
    if text in _KEYWORDS:
        keyword = _KEYWORDS[text]
        return generic.NullObject() if keyword is None else generic.BooleanObject(keyword)
    if _INTEGER.fullmatch(text):
        return generic.NumberObject(int(text))
    if _FLOAT.fullmatch(text):
        return generic.FloatObject(text.decode("ascii"))
    return None


class FastReader(PdfFileReader):
    """pyHanko's reader, reading plain objects with `read_plain_object` (pyHanko reads
    the rest). For unencrypted files in memory."""

    def __init__(self, stream: io.BytesIO, **kwargs):
        self._data = stream.getvalue()
        self._unencrypted: bool | None = None  # known once the trailer is read
        super().__init__(stream, **kwargs)

    def _read_object(self, ref, marker, never_decrypt=False, as_metadata_stream=False):
        if isinstance(marker, int) and not as_metadata_stream and self._is_unencrypted():
            result = read_plain_object(self._data, marker, ref, self)
            if result is not None:
                return result
        return super()._read_object(ref, marker, never_decrypt, as_metadata_stream)

    def _is_unencrypted(self) -> bool:
        if self._unencrypted is None:
            trailer = getattr(self, "trailer", None)
            if trailer is None:
                return False
            try:
                trailer.raw_get("/Encrypt")
                self._unencrypted = False
            except KeyError:
                self._unencrypted = True
        return self._unencrypted
