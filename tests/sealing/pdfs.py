"""PDF generators for the sealing tests: several producers, sizes and page geometries."""

import io
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject, RectangleObject
from reportlab.lib.pagesizes import A3, A4, landscape, letter
from reportlab.pdfgen import canvas

from tests.support import require_program

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


POSTSCRIPT = """%!PS-Adobe-3.0
/Helvetica findfont 14 scalefont setfont
1 1 3 {
  /n exch def
  n 3 eq { << /PageSize [842 595] >> setpagedevice } if
  72 720 moveto (Ghostscript page ) show n 3 string cvs show
  0.2 setgray 72 600 200 80 rectfill 0 setgray
  72 560 moveto (Written in PostScript, converted by pdfwrite.) show
  showpage
} for
"""

PDFA_DEF = """%!
/ICCProfile ({icc}) def
[/_objdef {{icc_PDFA}} /type /stream /OBJ pdfmark
[{{icc_PDFA}} << /N 3 >> /PUT pdfmark
[{{icc_PDFA}} ICCProfile (r) file /PUT pdfmark
[/_objdef {{OutputIntent_PDFA}} /type /dict /OBJ pdfmark
[{{OutputIntent_PDFA}} << /Type /OutputIntent /S /GTS_PDFA1
  /DestOutputProfile {{icc_PDFA}} /OutputConditionIdentifier (sRGB) >> /PUT pdfmark
[{{Catalog}} << /OutputIntents [ {{OutputIntent_PDFA}} ] >> /PUT pdfmark
"""


def ghostscript_pdf(directory: Path, pdfa: bool = False) -> bytes:
    """Three pages (the last landscape) from PostScript through gs pdfwrite; PDF/A-2b on request."""
    source = directory / "doc.ps"
    source.write_text(POSTSCRIPT)
    target = directory / ("pdfa.pdf" if pdfa else "gs.pdf")
    command = ["gs", "-q", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", f"-sOutputFile={target}"]
    inputs = [str(source)]
    if pdfa:
        icc = next(Path("/usr/share/ghostscript").glob("*/iccprofiles/default_rgb.icc"))
        definition = directory / "PDFA_def.ps"
        definition.write_text(PDFA_DEF.format(icc=icc))
        command += ["-dPDFA=2", "-dPDFACompatibilityPolicy=1", "-sColorConversionStrategy=RGB",
                    f"--permit-file-read={icc}"]
        inputs = [str(definition), str(source)]
    subprocess.run([*command, *inputs], check=True, capture_output=True)
    return target.read_bytes()


def scanned_pdf() -> bytes:
    """Two full-bleed JPEG 'scans' at 150 dpi, as PIL writes them (no margins at all)."""
    pages = []
    for number in (1, 2):
        image = Image.new("RGB", (1240, 1754), (246, 244, 238))
        draw = ImageDraw.Draw(image)
        for line in range(40):
            draw.rectangle((120, 150 + line * 38, 1100 - (line * 13) % 300, 168 + line * 38),
                           fill=(40, 40, 40))
        draw.text((600, 1700), f"scan {number}", fill=(0, 0, 0))
        pages.append(image)
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=150, save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def acroform_pdf() -> bytes:
    """A form with a text field, a checkbox and a choice, as reportlab's acroform writes it."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, invariant=1)
    drawing.drawString(72, 760, "Application form")
    form = drawing.acroForm
    form.textfield(name="full_name", tooltip="Name", x=72, y=700, width=300, height=20,
                   value="Anna Ärlig")
    form.checkbox(name="accept", x=72, y=660, size=16, checked=True)
    form.choice(name="city", value="Umeå", options=["Umeå", "Malmö"], x=72, y=620,
                width=200, height=20)
    drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def libreoffice_pdf(directory: Path) -> bytes:
    """A Writer document exported by LibreOffice."""
    soffice = require_program("soffice", "libreoffice")
    source = directory / "letter.txt"
    source.write_text("Avtal\n\nParterna är överens om följande.\n" * 40)
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(directory),
                    str(source)], check=True, capture_output=True, timeout=120)
    return (directory / "letter.pdf").read_bytes()


def page_variants_pdf() -> bytes:
    """Eight pages whose dictionaries are written in the ways stamping must handle.

    1: as reportlab writes it; 2: resources in their own object; 3: an inline /XObject
    dictionary; 4: /XObject in its own object; 5: /Contents as an inline array;
    6: /Contents as an array in its own object; 7: /MediaBox, /CropBox and /Rotate
    inherited from the page tree; 8: a literal string in the page dictionary.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, TextStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(reportlab_pdf(8))))
    pages = writer.pages
    form = writer._add_object(_empty_form())

    def resources(page):
        return page["/Resources"].get_object()

    pages[1][NameObject("/Resources")] = writer._add_object(DictionaryObject(resources(pages[1])))
    resources(pages[2])[NameObject("/XObject")] = DictionaryObject({NameObject("/Existing"): form})
    resources(pages[3])[NameObject("/XObject")] = writer._add_object(
        DictionaryObject({NameObject("/Existing"): form})
    )
    pages[4][NameObject("/Contents")] = ArrayObject([pages[4].raw_get("/Contents")])
    pages[5][NameObject("/Contents")] = writer._add_object(
        ArrayObject([pages[5].raw_get("/Contents")])
    )
    tree = writer.root_object["/Pages"]
    tree[NameObject("/MediaBox")] = RectangleObject([0, 0, 595.2756, 841.8898])
    tree[NameObject("/CropBox")] = RectangleObject([10, 10, 585, 830])
    tree[NameObject("/Rotate")] = NumberObject(90)
    for page in pages:
        if page is not pages[6]:
            page[NameObject("/Rotate")] = NumberObject(0)
    del pages[6]["/MediaBox"]
    del pages[6]["/Rotate"]
    pages[7][NameObject("/SigillNote")] = TextStringObject("a (nested) string")
    pages[7][NameObject("/UserUnit")] = FloatObject(1)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _empty_form():
    from pypdf.generic import DecodedStreamObject

    form = DecodedStreamObject()
    form.set_data(b"")
    form.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): RectangleObject([0, 0, 1, 1]),
    })
    return form


def with_object_streams(pdf: bytes) -> bytes:
    """The same document rewritten by qpdf with objects (pages too) in object streams."""
    require_program("qpdf")
    with tempfile.TemporaryDirectory() as directory:
        source, target = Path(directory) / "in.pdf", Path(directory) / "out.pdf"
        source.write_bytes(pdf)
        subprocess.run(["qpdf", "--object-streams=generate", str(source), str(target)], check=True)
        return target.read_bytes()


HIDDEN_WORDS = "the buyer also pays an extra fee"


def boxed_pdf(media, crop=None, rotate=0, user_unit=None, trim=None, bleed=None, hidden=True,
              hidden_annotation=False) -> bytes:
    """One page whose visible box (crop box clipped by media box) shows an agreement, and
    around it, just outside that box on all four sides, HIDDEN_WORDS and a black bar: content
    a signer never sees. `hidden_annotation` puts the bars in annotations instead.
    """
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject

    mx1, my1, mx2, my2 = media
    if crop is None:
        left, bottom, right, top = media
    else:
        left, bottom = max(mx1, crop[0]), max(my1, crop[1])
        right, top = min(mx2, crop[2]), min(my2, crop[3])
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=(mx2 - mx1, my2 - my1), invariant=1)
    drawing.setFillGray(0.85)
    drawing.rect(left + 4, bottom + 4, right - left - 8, top - bottom - 8, stroke=0, fill=1)
    drawing.setFillGray(0)
    drawing.setFont("Helvetica-Bold", 14)
    drawing.drawString(left + 20, top - 30, "Agreement")
    drawing.setFont("Helvetica", 9)
    for line in range(int((top - bottom - 60) // 40)):
        drawing.drawString(left + 20, top - 60 - 40 * line, f"Clause {line}: the price is 100 SEK.")
    bands = [  # (x, y, width, height) just outside each edge of the visible box
        (left, bottom - 10, right - left, 9),
        (left, top + 1, right - left, 9),
        (left - 10, bottom, 9, top - bottom),
        (right + 1, bottom, 9, top - bottom),
    ]
    if hidden and not hidden_annotation:
        for x, y, width, height in bands:
            drawing.rect(x, y, width, height, stroke=0, fill=1)
        drawing.setFont("Helvetica", 8)
        drawing.setFillGray(1)
        drawing.drawString(left + 10, bottom - 8, HIDDEN_WORDS)
        drawing.drawString(left + 10, top + 2, HIDDEN_WORDS)
        drawing.setFillGray(0)
    drawing.showPage()
    drawing.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    page = writer.pages[0]
    page[NameObject("/MediaBox")] = RectangleObject(media)
    if crop is not None:
        page[NameObject("/CropBox")] = RectangleObject(crop)
    for key, box in (("/TrimBox", trim), ("/BleedBox", bleed)):
        if box is not None:
            page[NameObject(key)] = RectangleObject(box)
    if rotate:
        page[NameObject("/Rotate")] = NumberObject(rotate)
    if user_unit is not None:
        page[NameObject("/UserUnit")] = FloatObject(user_unit)
    if hidden and hidden_annotation:
        annots = ArrayObject()
        for x, y, width, height in bands:
            appearance = DecodedStreamObject()
            appearance.set_data(b"0 g 0 0 %f %f re f" % (width, height))
            appearance.update({
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): RectangleObject([0, 0, width, height]),
            })
            annots.append(writer._add_object(DictionaryObject({
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Square"),
                NameObject("/Rect"): RectangleObject([x, y, x + width, y + height]),
                NameObject("/F"): NumberObject(4),
                NameObject("/AP"): DictionaryObject({NameObject("/N"): writer._add_object(appearance)}),
            })))
        page[NameObject("/Annots")] = annots
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def signed_pdf(pdf: bytes, signer_name: str = "Anna Andersson", certify: int | None = None) -> bytes:
    """`pdf` signed by pyHanko with a new self-signed test certificate naming `signer_name`;
    `certify` (1, 2 or 3) makes it a certification signature with that DocMDP level."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from core.sealing.pki import signer_from_key
    from tests.certificates import certificate_for

    key = ec.generate_private_key(ec.SECP256R1())
    signer = signer_from_key(key, certificate_for(signer_name, key, organisation="Test AB", days=365))
    meta = signers.PdfSignatureMetadata(
        field_name=f"Signature {signer_name}", subfilter=fields.SigSeedSubFilter.PADES,
        certify=certify is not None, docmdp_permissions=fields.MDPPerm(certify or 2),
    )
    return signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer).getvalue()
