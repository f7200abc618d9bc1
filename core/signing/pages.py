"""Document pages as images for the signer page: rendered once with pdfium, kept as blobs.

WebP at two widths (phones get the small one, wide or high-density screens the large one) works
in current Chromium, Firefox and Safari without any PDF viewer in the browser.
"""

from __future__ import annotations

import io

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.models import Document
from core.pdfium import LOCK as PDFIUM
from core.signing.models import PageImage
from core.storage import blobs

WIDTHS = (800, 1600)
MIME = "image/webp"
# Pages per piece of the viewer: the signer page holds the first piece, the rest load as they
# are viewed (/pages?start=N), so a document of thousands of pages is a small page.
CHUNK = 20


def render_page(pdf: bytes, page_number: int, width: int) -> tuple[bytes, int]:
    """Page `page_number` (1-based) as WebP `width` pixels wide; returns (image, height)."""
    import pypdfium2 as pdfium

    with PDFIUM:
        document = pdfium.PdfDocument(pdf)
        try:
            page = document[page_number - 1]
            page_width, _ = page.get_size()
            image = page.render(scale=width / page_width, draw_annots=True).to_pil().convert("RGB")
            page.close()
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue(), image.height


def page_image(document: Document, page_number: int, width: int) -> bytes:
    """The cached image of one page (rendered and stored on first request)."""
    if width not in WIDTHS or not 1 <= page_number <= document.page_count:
        raise LookupError("no such page image")
    store = blobs()
    cached = db.session.scalar(sa.select(PageImage.blob_sha256).where(
        PageImage.document_id == document.id, PageImage.page == page_number, PageImage.width == width))
    if cached and store.exists(cached):
        return store.get(cached)
    image, height = render_page(store.get(document.sha256), page_number, width)
    sha256 = store.put(image)
    if not cached:
        db.session.add(PageImage(document_id=document.id, tenant_id=document.tenant_id, page=page_number,
                                 width=width, blob_sha256=sha256, height=height))
        try:
            db.session.commit()
        except IntegrityError:  # a parallel request rendered the same page
            db.session.rollback()
    return image
