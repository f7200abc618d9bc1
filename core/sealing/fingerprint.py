"""Fingerprints: short typeable codes that identify one sealed document.

A fingerprint is Crockford base32 of the first 80 bits of
SHA-256(document SHA-256 ":" evidence-chain head), plus Crockford's mod-37 check
symbol, grouped in fours: ``7K3M-Q9XD-A1B2-C3D4-U``. Crockford's alphabet leaves out
I, L, O and U so codes survive being read aloud and retyped; the check symbol turns
a single mistyped symbol or two swapped neighbours into "typo" instead of "not found".
"""

import hashlib
from typing import Literal

SYMBOLS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = SYMBOLS + "*~$=U"
CODE_BITS = 80
CODE_LENGTH = CODE_BITS // 5
GROUP = 4

# Crockford: decoding accepts the letters people confuse with digits.
_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0"})

Status = Literal["ok", "typo", "malformed"]


def make_fingerprint(document_sha256: str, evidence_head: str, copy: int = 1) -> str:
    """Return the grouped fingerprint for a document and its evidence chain head.

    The same file attached twice to one case is two documents with two codes: its second copy
    hashes ":2" after the head, and so on (the first copy's code is the plain one).
    """
    suffix = f":{copy}" if copy > 1 else ""
    digest = hashlib.sha256(f"{document_sha256}:{evidence_head}{suffix}".encode()).digest()
    value = int.from_bytes(digest[: CODE_BITS // 8], "big")
    body = "".join(
        SYMBOLS[(value >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH))
    )
    return _group(body + CHECK_SYMBOLS[value % 37])


def normalise(code: str) -> str:
    """Canonical grouped form of what someone typed: case, spaces and dashes ignored."""
    symbols = "".join(code.split()).replace("-", "").upper().translate(_ALIASES)
    return _group(symbols)


def check(code: str) -> Status:
    """Tell a well-formed code from a mistyped one and from something that is no code."""
    symbols = normalise(code).replace("-", "")
    body, check_symbol = symbols[:-1], symbols[-1:]
    if (
        len(body) != CODE_LENGTH
        or any(symbol not in SYMBOLS for symbol in body)
        or check_symbol not in CHECK_SYMBOLS
    ):
        return "malformed"
    value = 0
    for symbol in body:
        value = value * 32 + SYMBOLS.index(symbol)
    return "ok" if CHECK_SYMBOLS[value % 37] == check_symbol else "typo"


def _group(symbols: str) -> str:
    return "-".join(symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP))
