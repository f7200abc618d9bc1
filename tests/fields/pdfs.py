"""PDFs for the field tests: plain pages, and a lease with its own form fields (AcroForm)."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def plain(pages: int = 1, size=A4, rotate: int = 0, text: str = "Lease agreement") -> bytes:
    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=size, invariant=1)
    for number in range(1, pages + 1):
        drawing.setFont("Helvetica", 12)
        drawing.drawString(72, size[1] - 72, f"{text}, page {number}")
        if rotate:
            drawing.setPageRotation(rotate)
        drawing.showPage()
    drawing.save()
    return out.getvalue()


def lease_form(filled: bool = False) -> bytes:
    """A one-page lease with a text field, a multi-line text, a checkbox, a radio group of two,
    a drop-down and an empty signature field; `filled` fills some of them in."""
    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=A4, invariant=1)
    form = drawing.acroForm
    drawing.setFont("Helvetica", 11)
    drawing.drawString(72, 780, "Lease agreement for flat 12")
    drawing.drawString(72, 742, "Tenant:")
    form.textfield(name="tenant", tooltip="Tenant's name", x=140, y=735, width=250, height=20,
                   value="Åsa Öberg" if filled else "", fieldFlags="required", forceBorder=True)
    drawing.drawString(72, 700, "Notes:")
    form.textfield(name="notes", x=140, y=640, width=300, height=60, fieldFlags="multiline", value="",
                   forceBorder=True)
    drawing.drawString(72, 610, "Pets allowed")
    form.checkbox(name="pets", x=180, y=605, size=14, checked=filled, buttonStyle="check")
    drawing.drawString(72, 570, "Payment:")
    form.radio(name="payment", value="monthly", selected=filled, x=140, y=565, size=14)
    drawing.drawString(160, 568, "monthly")
    form.radio(name="payment", value="quarterly", selected=False, x=240, y=565, size=14)
    drawing.drawString(260, 568, "quarterly")
    drawing.drawString(72, 530, "City:")
    form.choice(name="city", x=140, y=522, width=150, height=20, options=["Stockholm", "Göteborg", "Malmö"],
                value="Göteborg" if filled else "Stockholm")
    drawing.showPage()
    drawing.save()
    return _with_signature_field(out.getvalue())


def _with_signature_field(pdf: bytes) -> bytes:
    """Add an empty signature field (reportlab cannot) with pypdf."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject, TextStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    page = writer.pages[0]
    widget = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Widget"),
        NameObject("/FT"): NameObject("/Sig"), NameObject("/T"): TextStringObject("tenant_signature"),
        NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (140, 420, 340, 470)]),
        NameObject("/F"): NumberObject(4), NameObject("/P"): page.indirect_reference,
    })
    ref = writer._add_object(widget)
    page[NameObject("/Annots")].append(ref)
    writer._root_object["/AcroForm"]["/Fields"].append(ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def odd_pages() -> bytes:
    """Three pages as a reader sees them differently from their user space: turned a quarter,
    cropped with an offset, and both, half-turned."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import RectangleObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain(pages=3))))
    writer.pages[0].rotate(90)
    writer.pages[1].cropbox = RectangleObject([50, 60, 545, 780])
    writer.pages[2].cropbox = RectangleObject([30, 40, 500, 700])
    writer.pages[2].rotate(180)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def black_png(width: int = 60, height: int = 20) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 0, 0, 255)).save(out, format="PNG")
    return out.getvalue()


def nested_tree(pages: int = 5) -> bytes:
    """A PDF whose page tree has a node of two pages and then single pages: kids are not all leaves."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain(pages=pages))))
    root_ref = writer._root_object.raw_get("/Pages")
    root = root_ref.get_object()
    kids = list(root["/Kids"])
    node = DictionaryObject({NameObject("/Type"): NameObject("/Pages"), NameObject("/Kids"): ArrayObject(kids[:2]),
                             NameObject("/Count"): NumberObject(2), NameObject("/Parent"): root_ref})
    node_ref = writer._add_object(node)
    for kid in kids[:2]:
        kid.get_object()[NameObject("/Parent")] = node_ref
    root[NameObject("/Kids")] = ArrayObject([node_ref, *kids[2:]])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
