"""Page dictionaries read and rewritten as bytes: the fast path of footer stamping.

pyHanko's object parser reads a byte at a time; for a 500-page document, reading the
page dictionaries with it and writing them back took far longer than the seal itself.
Stamping changes only four entries of a page (/MediaBox, /CropBox, /Contents and an
entry in /Resources /XObject), so for a page stored as a plain object (not in an object
stream) we tokenize its dictionary with one regular expression, keep every other entry's
bytes as they are and write the new dictionary as bytes too.

Anything unusual makes `read_page` return None and the caller falls back to pyHanko's
objects: literal strings and comments in the dictionary, values that are references
where numbers are expected, inherited resources, an object stream, a header that does
not match the cross-reference table. The fallback gives the same document, only slower.
"""

import re
from dataclasses import dataclass

from pyhanko.pdf_utils import generic

_WHITESPACE = rb"\x00\t\n\x0c\r "
_REGULAR = rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]"
# One alternative per kind of token, after optional whitespace (matching it here is faster
# than letting finditer skip it). Every other character (string and comment starts,
# braces, a stray < or >) is a token of the last kind, which makes the reader give up.
_TOKEN = re.compile(
    rb"[" + _WHITESPACE + rb"]*(?:"
    rb"(/" + _REGULAR + rb"*)"  # 1 name
    rb"|(\d+[" + _WHITESPACE + rb"]+\d+[" + _WHITESPACE + rb"]+R)(?!" + _REGULAR + rb")"  # 2 ref
    rb"|(\[[^\[\]()<>{}%]*\]|<<[^\[\]()<>{}%]*>>)"  # 3 array or dictionary, nothing nested
    rb"|(<<|\[)"  # 4 open
    rb"|(>>|\])"  # 5 close
    rb"|(<[0-9A-Fa-f" + _WHITESPACE + rb"]*>)"  # 6 hex string
    rb"|(" + _REGULAR + rb"+)"  # 7 number, keyword
    rb"|([^" + _WHITESPACE + rb"]))"  # 8 anything else: give up
)
_NAME, REF, FLAT, OPEN, _CLOSE, _HEX, _REGULAR_TOKEN, _OTHER = range(1, 9)
NESTED = 9  # a container with flat containers inside (only from _ENTRY)
_HEADER = re.compile(rb"[" + _WHITESPACE + rb"]*(\d+)[" + _WHITESPACE + rb"]+(\d+)["
                     + _WHITESPACE + rb"]+obj[" + _WHITESPACE + rb"]*")
_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)")
_PLAIN = rb"[^\[\]()<>{}%]"  # inside a container: no containers, strings or comments
_FLAT_VALUE = rb"\[" + _PLAIN + rb"*\]|<<" + _PLAIN + rb"*>>"
# A whole "key value" entry, for the usual values; the group of the value gives its kind.
# Most page dictionaries are read with a handful of these matches; anything else (deeper
# nesting, hex strings in containers) goes through the token loop.
_ENTRY = re.compile(
    rb"[" + _WHITESPACE + rb"]*(/" + _REGULAR + rb"*+)[" + _WHITESPACE + rb"]*(?:"
    rb"(/" + _REGULAR + rb"*+)"  # 2 name
    rb"|(\d+[" + _WHITESPACE + rb"]+\d+[" + _WHITESPACE + rb"]+R)(?!" + _REGULAR + rb")"  # 3 ref
    rb"|(" + _FLAT_VALUE + rb")"  # 4 flat container
    rb"|(\[(?:" + _PLAIN + rb"|" + _FLAT_VALUE + rb")*\]"
    rb"|<<(?:" + _PLAIN + rb"|" + _FLAT_VALUE + rb")*>>)"  # 5 nested once
    rb"|(" + _REGULAR + rb"++))"  # 6 number, keyword
)
_ENTRY_KINDS = {2: _NAME, 3: REF, 4: FLAT, 5: NESTED, 6: _REGULAR_TOKEN}
_END = re.compile(rb"[" + _WHITESPACE + rb"]*>>")


@dataclass
class RawDict:
    """A dictionary's top-level entries as spans of `data`.

    entries: key -> (key start, value start, value end, kind of the value's first token).
    """

    data: bytes
    start: int
    end: int
    entries: dict[bytes, tuple[int, int, int, int]]

    def value(self, key: bytes) -> bytes | None:
        span = self.entries.get(key)
        return None if span is None else self.data[span[1] : span[2]]

    def kind(self, key: bytes) -> int | None:
        """REF, FLAT, OPEN, NESTED or another token kind, for the value of `key`."""
        span = self.entries.get(key)
        return None if span is None else span[3]


def parse_dict(data: bytes, pos: int) -> RawDict | None:
    """The dictionary starting at `pos` (leading whitespace allowed), or None if unusual."""
    first = _TOKEN.match(data, pos)
    if first is None or first.lastindex not in (FLAT, OPEN):
        return None
    start = first.start(first.lastindex)
    if not data.startswith(b"<<", start):
        return None
    entries: dict[bytes, tuple[int, int, int, int]] = {}
    pos = start + 2
    while True:
        entry = _ENTRY.match(data, pos)
        if entry is None:
            break
        key = entry.group(1)
        if key in entries:
            return None  # a duplicate key: let pyHanko decide
        kind = entry.lastindex
        entries[key] = (entry.start(1), entry.start(kind), entry.end(), _ENTRY_KINDS[kind])
        pos = entry.end()
    end = _END.match(data, pos)
    if end is not None:
        return RawDict(data, start, end.end(), entries)
    return _parse_tokens(data, start)


def _parse_tokens(data: bytes, start: int) -> RawDict | None:
    """parse_dict for any nesting, a token at a time."""
    entries: dict[bytes, tuple[int, int, int, int]] = {}
    key = None
    key_start = value_start = value_kind = 0
    stack: list[bytes] = []  # containers open inside a value
    for token in _TOKEN.finditer(data, start + 2):
        kind = token.lastindex
        if kind == _OTHER:
            return None
        if stack:
            if kind == OPEN:
                stack.append(token.group(kind))
            elif kind == _CLOSE:
                if stack.pop() != (b"<<" if token.group(kind) == b">>" else b"["):
                    return None
                if not stack:
                    entries[key] = (key_start, value_start, token.end(), value_kind)
                    key = None
            continue
        if key is None:
            if kind == _NAME:
                key, key_start = token.group(kind), token.start(kind)
                if key in entries:
                    return None  # a duplicate key: let pyHanko decide
                continue
            if kind == _CLOSE and token.group(kind) == b">>":
                return RawDict(data, start, token.end(), entries)
            return None  # not a key
        value_start, value_kind = token.start(kind), kind
        if kind == OPEN:
            stack.append(token.group(kind))
        elif kind == _CLOSE:
            return None
        else:
            entries[key] = (key_start, value_start, token.end(), kind)
            key = None
    return None


def read_indirect_dict(data: bytes, offset: int, ref: generic.Reference) -> RawDict | None:
    """The dictionary of object `ref` stored at `offset`, if it is one and looks plain."""
    header = _HEADER.match(data, offset)
    if header is None or (int(header[1]), int(header[2])) != (ref.idnum, ref.generation):
        return None
    return parse_dict(data, header.end())


def starts_with(data: bytes, offset: int, ref: generic.Reference, prefix: bytes) -> bool:
    """Whether object `ref`, stored at `offset`, starts with `prefix` after its header."""
    header = _HEADER.match(data, offset)
    if header is None or (int(header[1]), int(header[2])) != (ref.idnum, ref.generation):
        return False
    return data.startswith(prefix, header.end())


def numbers(value: bytes | None) -> list[float] | None:
    """The numbers of an array like `[0 0 595.2756 841.8898]`, or None."""
    if value is None or not value.startswith(b"[") or not value.endswith(b"]"):
        return None
    parts = value[1:-1].split()
    if not all(_NUMBER.fullmatch(part) for part in parts):
        return None
    return [float(part) for part in parts]


def integer(value: bytes | None) -> int | None:
    if value is None or not re.fullmatch(rb"[+-]?\d+", value):
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
    data = raw.data
    for key, (key_start, _, value_end, _) in raw.entries.items():
        if key in changes:
            parts.append(b"\n" + key + b" " + changes[key])
        else:
            parts.append(b"\n" + data[key_start:value_end])
    parts.extend(b"\n" + key + b" " + value for key, value in changes.items()
                 if key not in raw.entries)
    parts.append(b"\n>>")
    return b"".join(parts)


class RawObject(generic.PdfObject):
    """An object the writer writes as the given bytes (an unencrypted document only)."""

    def __init__(self, data: bytes):
        self.data = data

    def write_to_stream(self, stream, handler=None, container_ref=None) -> None:
        stream.write(self.data)
