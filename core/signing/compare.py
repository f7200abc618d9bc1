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
    """The uploaded copy is not a PDF we can read; `problem` says why when the upload check named it."""

    def __init__(self, detail: str, problem=None):
        super().__init__(detail)
        self.problem = problem

    def __reduce__(self):
        return UnreadableCopy, (str(self), self.problem)

    def message(self, filename: str):
        """The signer's words for a named problem (None: just "not a readable PDF")."""
        from core.cases.documents import problem_message

        if self.problem is None or self.problem.code in ("empty", "not_pdf", "corrupt"):
            return None
        return problem_message(self.problem, filename or "PDF", for_signer=True)


COMPARE_MEMORY_MB = 1024
COMPARE_CPU_SECONDS = 60
COMPARE_WALL_SECONDS = 90


def checked_compare(case, document_pdf: bytes, copy_pdf: bytes) -> Comparison:
    """The copy passes the same upload check as any document (the case tenant's limits), then both
    are compared in a bounded child (core.bounded): a hostile copy costs its own child, nothing more."""
    from core.bounded import BoundExceeded, run_bounded
    from core.extensions import db
    from core.pdfcheck import PdfLimits, PdfProblem, inspect_pdf
    from tenants.models import Tenant

    try:
        inspect_pdf(copy_pdf, PdfLimits.for_tenant(db.session.get(Tenant, case.tenant_id)))
    except PdfProblem as problem:
        log.info("compare copy refused: %s (%s)", problem.code, problem.detail)
        raise UnreadableCopy(problem.detail, problem) from None
    try:
        return run_bounded(compare, document_pdf, copy_pdf, memory_mb=COMPARE_MEMORY_MB,
                           cpu_seconds=COMPARE_CPU_SECONDS, wall_seconds=COMPARE_WALL_SECONDS)
    except BoundExceeded as exceeded:
        log.warning("compare went over its bound: %s", exceeded)
        raise UnreadableCopy(str(exceeded), PdfProblem("too_complex", str(exceeded))) from None


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
