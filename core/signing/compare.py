"""Compare a signer's saved copy with the document they are asked to sign.

The browser first compares SHA-256 itself; only when the signer asks to see the differences is
the copy posted here. It is read in memory and never stored. The comparison is by text, page by
page (pypdf's text extraction and difflib): which pages differ and which lines were removed or
added. Layout-only changes (images, fonts, positions) are reported as "different file, same text".
"""

from __future__ import annotations

import difflib
import hashlib
import io
import logging
from dataclasses import dataclass, field

from pypdf import PdfReader
from pypdf.errors import PdfReadError

log = logging.getLogger(__name__)

MAX_LINES_PER_PAGE = 60


class UnreadableCopy(ValueError):
    """The uploaded copy is not a PDF we can read."""


@dataclass
class PageDifference:
    page: int
    removed: list[str] = field(default_factory=list)  # lines in the document, missing from the copy
    added: list[str] = field(default_factory=list)  # lines in the copy, not in the document
    truncated: bool = False


@dataclass
class Comparison:
    identical: bool
    copy_sha256: str
    document_pages: int
    copy_pages: int
    pages: list[PageDifference] = field(default_factory=list)

    @property
    def same_text(self) -> bool:
        return not self.identical and not self.pages and self.document_pages == self.copy_pages


def page_texts(pdf: bytes) -> list[list[str]]:
    """The text lines of every page (blank lines and surrounding spaces dropped)."""
    if b"%PDF-" not in pdf[:1024]:
        raise UnreadableCopy("not a PDF")
    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        if reader.is_encrypted:
            raise UnreadableCopy("encrypted")
        pages = []
        for page in reader.pages:
            text = page.extract_text() or ""
            pages.append([" ".join(line.split()) for line in text.splitlines() if line.strip()])
        return pages
    except UnreadableCopy:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise UnreadableCopy(str(exc)) from exc


def compare(document_pdf: bytes, copy_pdf: bytes) -> Comparison:
    copy_sha256 = hashlib.sha256(copy_pdf).hexdigest()
    if hashlib.sha256(document_pdf).hexdigest() == copy_sha256:
        count = len(page_texts(document_pdf))
        return Comparison(True, copy_sha256, count, count)
    ours, theirs = page_texts(document_pdf), page_texts(copy_pdf)
    result = Comparison(False, copy_sha256, len(ours), len(theirs))
    for number in range(1, max(len(ours), len(theirs)) + 1):
        a = ours[number - 1] if number <= len(ours) else []
        b = theirs[number - 1] if number <= len(theirs) else []
        if a == b:
            continue
        diff = PageDifference(number)
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
            if tag in ("replace", "delete"):
                diff.removed.extend(a[i1:i2])
            if tag in ("replace", "insert"):
                diff.added.extend(b[j1:j2])
        if len(diff.removed) + len(diff.added) > MAX_LINES_PER_PAGE:
            diff.truncated = True
            diff.removed = diff.removed[: MAX_LINES_PER_PAGE // 2]
            diff.added = diff.added[: MAX_LINES_PER_PAGE // 2]
        result.pages.append(diff)
    return result
