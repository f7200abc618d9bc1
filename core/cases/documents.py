"""PDF documents of a case: checks on upload and page previews."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from core.i18n import _l
from core.pdfium import LOCK as PDFIUM

log = logging.getLogger(__name__)

PREVIEW_WIDTH = 600  # pixels; enough for a sharp page on a phone, small enough to be quick
_TAIL = 2048


@dataclass
class CheckedPdf:
    page_count: int


class PdfProblem(ValueError):
    """Why a file is not an acceptable PDF: a stable `code` and a message for the user."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def problem_message(code: str, filename: str, limit_mb: int | None = None):
    """The message an officer reads, naming the file (lazy: translated when shown)."""
    messages = {
        "empty": _l("%(file)s is empty. Choose the file again or export it once more.", file=filename),
        "not_pdf": _l("%(file)s is not a PDF. Save or export the document as PDF and upload that.", file=filename),
        "corrupt": _l("%(file)s is damaged or incomplete and cannot be read. Export the PDF again and upload it.",
                     file=filename),
        "encrypted": _l("%(file)s is password-protected. Save a copy without a password and upload that.",
                       file=filename),
        "no_pages": _l("%(file)s has no pages.", file=filename),
        "too_large": _l("%(file)s is larger than %(limit)s MB, the limit of your organisation. Make the file smaller "
                       "(e.g. lower the image resolution) and upload it again.", file=filename, limit=limit_mb),
    }
    return messages[code]


def check_pdf(data: bytes, limit_bytes: int) -> CheckedPdf:
    """Accept only a complete, readable, unencrypted PDF with pages within the size limit."""
    if not data or not data.strip():
        raise PdfProblem("empty", "empty file")
    if len(data) > limit_bytes:
        raise PdfProblem("too_large", "over the size limit")
    if b"%PDF-" not in data[:1024]:
        raise PdfProblem("not_pdf", "no PDF header")
    if b"%%EOF" not in data[-_TAIL:]:
        raise PdfProblem("corrupt", "no end-of-file marker (truncated)")
    if _is_encrypted(data):
        raise PdfProblem("encrypted", "encrypted")
    page_count = _page_count(data)
    if page_count < 1:
        raise PdfProblem("no_pages", "no pages")
    return CheckedPdf(page_count=page_count)


def _is_encrypted(data: bytes) -> bool:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return PdfReader(io.BytesIO(data), strict=False).is_encrypted
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise PdfProblem("corrupt", f"pypdf: {exc}") from exc


def _page_count(data: bytes) -> int:
    import pypdfium2 as pdfium

    with PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise PdfProblem("encrypted", "pdfium: password") from exc
            raise PdfProblem("corrupt", f"pdfium: {exc}") from exc
        try:
            count = len(pdf)
            if count:
                pdf[0].get_size()  # the first page must at least load
            return count
        except pdfium.PdfiumError as exc:
            raise PdfProblem("corrupt", f"pdfium: {exc}") from exc
        finally:
            pdf.close()


def render_page_png(data: bytes, page_number: int, width: int = PREVIEW_WIDTH) -> bytes:
    """Page `page_number` (1-based) as a PNG `width` pixels wide."""
    import pypdfium2 as pdfium

    with PDFIUM:
        pdf = pdfium.PdfDocument(data)
        try:
            page = pdf[page_number - 1]
            page_width, _height = page.get_size()
            image = page.render(scale=width / page_width).to_pil().copy()  # a copy: the bitmap is pdfium's
        finally:
            pdf.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
