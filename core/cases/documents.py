"""PDF documents of a case: checks on upload and page previews."""

from __future__ import annotations

import io
import logging

from core.bounded import config_bounds, run_bounded
from core.i18n import _l
from core.pdfcheck import PdfFacts, PdfLimits, PdfProblem, inspect_pdf
from core.pdfium import LOCK as PDFIUM

log = logging.getLogger(__name__)

PREVIEW_WIDTH = 600  # pixels; enough for a sharp page on a phone, small enough to be quick

__all__ = ["CheckedPdf", "PdfLimits", "PdfProblem", "check_pdf", "problem_message", "render_page_png"]


CheckedPdf = PdfFacts  # the name older callers use


class _Number:
    """A number written the reader's way when the message is shown ("250,000", "250 000")."""

    def __init__(self, value):
        self.value = value

    def __str__(self) -> str:
        from flask_babel import format_number

        try:
            return format_number(self.value)
        except (RuntimeError, TypeError, ValueError):  # no app, or not a number
            return str(self.value)


def problem_message(problem: PdfProblem, filename: str, for_signer: bool = False):
    """The message an officer (or a signer comparing a copy) reads, naming the file and the problem
    (lazy: translated when shown)."""
    limit = _Number(problem.params.get("limit"))
    page = problem.params.get("page")
    whose = _l("the limit of the sender") if for_signer else _l("the limit of your organisation")
    messages = {
        "empty": lambda: _l("%(file)s is empty. Choose the file again or export it once more.", file=filename),
        "not_pdf": lambda: _l("%(file)s is not a PDF. Save or export the document as PDF and upload that.",
                              file=filename),
        "corrupt": lambda: _l("%(file)s is damaged or incomplete and cannot be read. Export the PDF again and "
                              "upload it.", file=filename),
        "encrypted": lambda: _l("%(file)s is password-protected. Save a copy without a password and upload that.",
                                file=filename),
        "restricted": lambda: _l("%(file)s opens without a password, but its author restricted changes to it with "
                                 "security settings (an owner password). Sealing adds a footer and a receipt, which "
                                 "those settings forbid. Ask the author for a copy without security settings and "
                                 "upload that.", file=filename),
        "encrypted_open": lambda: _l("%(file)s opens without a password, but it is encrypted (its author set security "
                                     "settings with an owner password). Only unencrypted PDFs can be sealed. Save a "
                                     "copy without security settings and upload that.", file=filename),
        "no_pages": lambda: _l("%(file)s has no pages.", file=filename),
        "too_large": lambda: _l("%(file)s is larger than %(limit)s MB, %(whose)s. Make the file smaller (e.g. lower "
                                "the image resolution) and upload it again.", file=filename, limit=limit, whose=whose),
        "too_many_pages": lambda: _l("%(file)s has more than %(limit)s pages, %(whose)s. Split it into smaller "
                                     "documents and upload those.", file=filename, limit=limit, whose=whose),
        "page_tree_loop": lambda: _l("The page structure of %(file)s loops back on itself (or lists a page twice), "
                                     "so its pages cannot be read safely. Print it to a new PDF and upload that.",
                                     file=filename),
        "wrong_page_count": lambda: _l("%(file)s says it has a different number of pages than it really has, so it "
                                       "cannot be read safely. Print it to a new PDF and upload that.",
                                       file=filename),
        "too_deep": lambda: _l("The structure of %(file)s is nested more than %(limit)s levels deep, so it cannot be "
                               "read safely. Print it to a new PDF and upload that.", file=filename, limit=limit),
        "too_many_objects": lambda: _l("%(file)s is made of more than %(limit)s parts (PDF objects), %(whose)s. Print "
                                       "it to a new PDF or split it, and upload that.", file=filename, limit=limit,
                                       whose=whose),
        "too_much_data": lambda: _l("%(file)s unpacks to more than %(limit)s MB of data, %(whose)s. Print it to a new "
                                    "PDF and upload that.", file=filename, limit=limit, whose=whose),
        "no_page_size": lambda: _l("Page %(page)s of %(file)s has no size (its page box is empty), so it cannot be "
                                   "shown or stamped. Fix the page size and export the PDF again.",
                                   file=filename, page=page),
        "broken_page": lambda: _l("Page %(page)s of %(file)s is missing or damaged, so the document cannot be read. "
                                  "Export the PDF again and upload it.", file=filename, page=page),
        "limit_reached": lambda: _l("%(file)s holds more in one place than a PDF reader safely accepts (e.g. a list "
                                    "of over 100,000 items), so it cannot be read. Print it to a new PDF and upload "
                                    "that.", file=filename),
        "too_complex": lambda: _l("Checking %(file)s needed more memory or time than a PDF of its size may, so it was "
                                  "refused. Print it to a new PDF and upload that.", file=filename),
    }
    return messages.get(problem.code, messages["corrupt"])()


def check_pdf(data: bytes, limits: PdfLimits | int) -> PdfFacts:
    """The upload check (core.pdfcheck): bounded, once; `limits` or just the size limit in bytes."""
    if isinstance(limits, int):
        limits = PdfLimits(max_bytes=limits)
    return inspect_pdf(data, limits)


RENDER_BOUNDS = (512, 20, 30)  # MB, CPU s, wall s: RENDER_MEMORY_MB ... in core/config.py
MAX_HEIGHT_RATIO = 4  # a page image is at most this many times as tall as wide (a strip-like page is drawn narrower)


def render_scale(page_width: float, page_height: float, width: int) -> float:
    """The scale that draws a page `width` pixels wide, or less for a page that is far taller than wide."""
    return min(width / page_width, MAX_HEIGHT_RATIO * width / page_height)


def render_page_png(data: bytes, page_number: int, width: int = PREVIEW_WIDTH) -> bytes:
    """Page `page_number` (1-based) as a PNG `width` pixels wide, drawn in a bounded child
    (core.bounded): a page that needs more memory or time fails alone (`BoundExceeded`)."""
    return run_bounded(_render_png, data, page_number, width, **config_bounds("RENDER", RENDER_BOUNDS))


def _render_png(data: bytes, page_number: int, width: int) -> bytes:
    import pypdfium2 as pdfium

    with PDFIUM:
        pdf = pdfium.PdfDocument(data)
        try:
            page = pdf[page_number - 1]
            page_width, page_height = page.get_size()
            scale = render_scale(page_width, page_height, width)
            image = page.render(scale=scale).to_pil().copy()  # a copy: the bitmap is pdfium's
        finally:
            pdf.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
