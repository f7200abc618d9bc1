"""PDF generators for the sealing tests: several producers, sizes and page geometries."""

import io

from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject, RectangleObject
from reportlab.lib.pagesizes import A3, A4, landscape, letter
from reportlab.pdfgen import canvas

MIXED_SIZES = [A4, letter, landscape(A3)]


def reportlab_pdf(pages: int, sizes=(A4,)) -> bytes:
    """A text document with a heading, body lines and a page number on each page."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, invariant=1)
    for number in range(1, pages + 1):
        width, height = sizes[(number - 1) % len(sizes)]
        drawing.setPageSize((width, height))
        drawing.setFont("Helvetica-Bold", 16)
        drawing.drawString(72, height - 72, f"Agreement, page {number}")
        drawing.setFont("Helvetica", 10)
        for line in range(30):
            drawing.drawString(72, height - 110 - 14 * line, f"Clause {number}.{line}: text " * 4)
        drawing.drawCentredString(width / 2, 40, f"{number} / {pages}")
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def rotated_pdf() -> bytes:
    """Four pages with /Rotate 0, 90, 180 and 270, and one with a cropbox offset."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(reportlab_pdf(5))))
    for page, rotation in zip(writer.pages, (0, 90, 180, 270), strict=False):
        page[NameObject("/Rotate")] = NumberObject(rotation)
    writer.pages[4][NameObject("/CropBox")] = RectangleObject([30, 20, 560, 800])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
