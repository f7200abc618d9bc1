"""Page images for the office: previews of a case's documents and of uploads not yet saved."""

from __future__ import annotations

import logging

from core.cases.documents import render_page_png
from core.cases.service import CaseError
from core.models import Document
from core.storage import blobs

log = logging.getLogger(__name__)


def page_preview(document: Document, page_number: int) -> bytes:
    """A PNG of one page, rendered once and kept as a blob."""
    if not 1 <= page_number <= document.page_count:
        raise CaseError("no_such_page")
    store = blobs()
    previews = dict(document.previews or {})
    cached = previews.get(str(page_number))
    if cached and store.exists(cached):
        return store.get(cached)
    try:
        png = render_page_png(store.get(document.sha256), page_number)
    except Exception as exc:  # noqa: BLE001  a page pdfium cannot draw gets no preview, not an error page
        log.warning("no preview of page %s of document %s: %s", page_number, document.id, type(exc).__name__)
        raise CaseError("no_preview") from exc
    previews[str(page_number)] = store.put(png)
    document.previews = previews
    return png


def upload_preview(sha256: str, page_number: int, width: int) -> bytes:
    """A small PNG of a page of an accepted upload not yet attached to a case (rendered each time)."""
    try:
        return render_page_png(blobs().get(sha256), page_number, width=width)
    except Exception as exc:  # noqa: BLE001  no preview, not an error page
        log.warning("no preview of page %s of upload %s: %s", page_number, sha256[:12], type(exc).__name__)
        raise CaseError("no_preview") from exc
