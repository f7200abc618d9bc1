"""Independent checks of sealed PDFs: qpdf, pdfsig, pdftotext, pdfium rendering, zbarimg."""

import io
import subprocess
import tempfile
from pathlib import Path

import pypdfium2
from PIL import Image
from pypdf import PdfReader

from core.pdfium import LOCK as PDFIUM


def run_on_file(command: list[str], pdf: bytes, suffix: str = ".pdf") -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile(suffix=suffix) as file:
        file.write(pdf)
        file.flush()
        return subprocess.run([*command, file.name], capture_output=True, text=True)


def qpdf_check(pdf: bytes) -> str:
    """qpdf --check: exit 0 means no errors and no warnings."""
    result = run_on_file(["qpdf", "--check"], pdf)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def pdfsig(pdf: bytes) -> str:
    return run_on_file(["pdfsig"], pdf).stdout


def page_texts(pdf: bytes) -> list[str]:
    """Text of each page by poppler's pdftotext (not pypdf, which we stamp with)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        out = subprocess.run(
            ["pdftotext", "-layout", file.name, "-"], capture_output=True, text=True, check=True
        ).stdout
    return out.split("\f")[:-1]


def render(pdf: bytes, index: int, scale: float = 1.0, crop=(0, 0, 0, 0)) -> Image.Image:
    """Page as viewed (pdfium applies /Rotate and the crop box), greyscale.

    `crop` cuts points off the viewed left, bottom, right and top edges.
    """
    with PDFIUM:  # the app may be rendering in a live server's thread
        document = pypdfium2.PdfDocument(pdf)
        try:
            return document[index].render(scale=scale, crop=crop).to_pil().convert("L")
        finally:
            document.close()


def dark_rows(image: Image.Image, threshold: int = 128) -> list[int]:
    """Indexes of pixel rows that contain ink."""
    width, height = image.size
    pixels = image.load()
    return [y for y in range(height) if any(pixels[x, y] < threshold for x in range(width))]


def decode_qr(image: Image.Image) -> list[str]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "page.png"
        image.save(path)
        result = subprocess.run(["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True)
    return result.stdout.split()


def footer_directions(pdf: bytes, marker: str) -> list[tuple[int, int]]:
    """For each page, the viewed reading direction of the text run containing `marker`.

    Text direction in user space comes from the text and current transformation matrices;
    then the page's /Rotate (clockwise) turns it into the direction as viewed. Upright
    text reads (1, 0).
    """
    directions = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        found: list[tuple[float, float]] = []

        def visit(text, cm, tm, font_dict, font_size, found=found):
            if marker in text:
                # image of the unit x vector under Tm x CTM (PDF row-vector convention)
                found.append((tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]))

        page.extract_text(visitor_text=visit)
        dx, dy = found[0]
        for _ in range(page.rotation // 90 % 4):
            dx, dy = dy, -dx  # one quarter turn clockwise
        directions.append((round(dx / max(abs(dx), abs(dy))), round(dy / max(abs(dx), abs(dy)))))
    return directions


def text_box(pdf: bytes, index: int, text: str) -> tuple[float, float, float, float]:
    """Union of pdfium's character boxes for `text` on a page, in user space (l, b, r, t)."""
    with PDFIUM:
        document = pypdfium2.PdfDocument(pdf)
        try:
            text_page = document[index].get_textpage()
            start = text_page.get_text_range().index(text)
            boxes = [text_page.get_charbox(i) for i in range(start, start + len(text))]
        finally:
            document.close()
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def render_area(pdf: bytes, index: int, width: float, height: float, scale: float = 2.0) -> Image.Image:
    """The top-left `width` x `height` points of a page as viewed, greyscale, unstretched.

    `render` fits the page box into whole pixels, so a page whose height changes by a
    fraction of a point is drawn stretched a little differently; this draws one point
    as `scale` pixels exactly, to compare the same area of two files pixel by pixel.
    """
    import pypdfium2.raw as pdfium_c

    size = (round(width * scale), round(height * scale))
    with PDFIUM:
        document = pypdfium2.PdfDocument(pdf)
        try:
            page = document[index]
            bitmap = pypdfium2.PdfBitmap.new_native(*size, pdfium_c.FPDFBitmap_BGRx)
            bitmap.fill_rect((255, 255, 255, 255), 0, 0, *size)
            matrix = pdfium_c.FS_MATRIX(scale, 0, 0, scale, 0, 0)
            clip = pdfium_c.FS_RECTF(0, 0, *size)
            pdfium_c.FPDF_RenderPageBitmapWithMatrix(bitmap, page, matrix, clip, pdfium_c.FPDF_ANNOT)
            return bitmap.to_pil().convert("L")
        finally:
            document.close()
