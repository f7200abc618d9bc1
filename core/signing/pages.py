"""Document pages as images for the signer page: rendered once with pdfium, kept as blobs.

WebP at two widths (phones get the small one, wide or high-density screens the large one) works
in current Chromium, Firefox and Safari without any PDF viewer in the browser.
"""

from __future__ import annotations

import io

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.bounded import config_bounds, run_bounded
from core.cases.documents import RENDER_BOUNDS, render_scale
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
    """Page `page_number` (1-based) as WebP `width` pixels wide; returns (image, height). Drawn in a
    bounded child (core.bounded): a page that needs more memory or time fails alone."""
    return run_bounded(_render_webp, pdf, page_number, width, **config_bounds("RENDER", RENDER_BOUNDS))


def _render_webp(pdf: bytes, page_number: int, width: int) -> tuple[bytes, int]:
    import pypdfium2 as pdfium

    with PDFIUM:
        document = pdfium.PdfDocument(pdf)
        try:
            page = document[page_number - 1]
            scale = render_scale(*page.get_size(), width)
            image = page.render(scale=scale, draw_annots=True).to_pil().convert("RGB")
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


def unavailable_image(width: int, text: str) -> bytes:
    """A page-sized grey WebP that says the page cannot be shown (its PDF went over the render bound)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (width, int(width * 1.414)), (236, 238, 242))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(14, width // 32))
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) > width * 0.8 and line:
            lines.append(line)
            line = word
        else:
            line = trial
    lines.append(line)
    y = image.height // 3
    for line in lines:
        draw.text((width // 10, y), line, fill=(60, 64, 72), font=font)
        y += int(font.size * 1.5)
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=60)
    return out.getvalue()
