"""Drawing values in their boxes: text that fits, check marks, chosen options, signature images.

Pure reportlab, no database: `draw_page` draws one page's marks on a canvas the size of the page
as viewed; `flatten` turns the drawing into page content. A signature drawn on the signing page is
drawn from its pen strokes as PDF paths ("strokes": crisp at any zoom, a few kilobytes, and no image
to decode and resize while sealing); a signature that only exists as a picture ("image") is decoded
and scaled once per document however many fields show it. Text fits its box or is refused when it
is checked (`text_fits`): it shrinks down to `MIN_SIZE`, then wraps, and is never cut. The font
is DejaVu Sans (Debian's fonts-dejavu-core), embedded, so Swedish letters and whatever else the
font covers print as typed; `missing_characters` names the ones it does not cover.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import cache

from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from core.sealing.stamp import text_font

MAX_SIZE = 11.0
MIN_SIZE = 6.0
STEP = 0.25
LEADING = 1.18  # DejaVu Sans: ascent 0.93 + descent 0.24 of the size
ASCENT = 0.93
PADDING = 1.5  # points between the box's edge and its text
IMAGE_RESOLUTION = 3  # pixels per point of a signature picture
PEN = 1.7  # pad pixels: the signing page's pen draws 0.8 to 2.6 pixels wide
PEN_POINTS = (0.5, 1.6)  # the drawn line's width on paper, however large or small the box
STEP_POINTS = 0.4  # the drawn line's points at least this far apart on paper (finer is invisible)
INK = (0.05, 0.1, 0.3)  # dark blue, like a pen: filled-in values stand out from the printed text


@dataclass(frozen=True)
class Mark:
    """What to draw in one box of a page. `box` is relative to the page as viewed (x, y, w, h from
    the top-left corner). Kinds: "text" (one line, wraps when it must), "paragraph" (multi-line
    text), "check" (a check mark), "dot" (a chosen radio button), "strokes" (a drawn signature's
    pen strokes), "image" (PNG bytes, a signature as a picture), "block" (a printed signature:
    `lines`, the first in bold)."""

    box: tuple[float, float, float, float]
    kind: str
    text: str = ""
    lines: tuple[str, ...] = ()
    image: bytes | None = None
    strokes: Strokes | None = None


@dataclass(frozen=True)
class Strokes:
    """A signature as drawn on the signature pad: each stroke's points (x, y) in the pad's pixels,
    y downwards, as signature_pad's `toData()` gives them."""

    strokes: tuple[tuple[tuple[float, float], ...], ...]

    @classmethod
    def from_pad(cls, data) -> Strokes:
        """From signature_pad's data ([{"points": [{"x", "y", ...}]}]), as the touch method stores it."""
        return cls(tuple(tuple((float(p["x"]), float(p["y"])) for p in group["points"])
                         for group in data if group.get("points")))


@dataclass(frozen=True)
class TextLayout:
    size: float
    lines: tuple[str, ...]


# --- text ------------------------------------------------------------------------------------------


@cache
def _face(font: str):
    return pdfmetrics.getFont(font).face


def missing_characters(text: str, bold: bool = False) -> list[str]:
    """Characters of `text` the embedded font cannot draw (they would print as empty boxes)."""
    font = text_font(bold)
    covered = getattr(_face(font), "charToGlyph", None)
    if covered is None:  # a standard font without DejaVu: only Latin-1 is safe
        return sorted({c for c in text if ord(c) > 0xFF})
    return sorted({c for c in text if c not in "\n\r\t" and ord(c) not in covered})


def _width(text: str, size: float, bold: bool = False) -> float:
    return pdfmetrics.stringWidth(text, text_font(bold), size)


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Lines of at most `width` points; words longer than a line are broken between letters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if _width(candidate, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            while _width(word, size) > width and len(word) > 1:
                cut = _longest_prefix(word, width, size)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _longest_prefix(word: str, width: float, size: float) -> int:
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if _width(word[:middle], size) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _start_size(height: float) -> float:
    return max(MIN_SIZE, min(MAX_SIZE, (height - 2 * PADDING) / LEADING))


def fit_text(text: str, width: float, height: float, multiline: bool = False) -> TextLayout | None:
    """How `text` fits a box of `width` x `height` points: one line shrunk down to MIN_SIZE,
    else wrapped lines at the largest size that fits; None when it does not fit at all."""
    inner_w, inner_h = width - 2 * PADDING, height - 2 * PADDING
    size = _start_size(height)
    if not multiline and "\n" not in text:
        needed = _width(text, size)
        if needed <= inner_w:
            return TextLayout(size, (text,))
        shrunk = size * inner_w / needed
        if shrunk >= MIN_SIZE:
            return TextLayout(_floor_step(shrunk), (text,))
    while size >= MIN_SIZE:
        lines = _wrap(text, inner_w, size)
        if len(lines) * size * LEADING <= inner_h + 0.01 and all(_width(line, size) <= inner_w for line in lines):
            return TextLayout(size, tuple(lines))
        size -= STEP
    return None


def _floor_step(size: float) -> float:
    return max(MIN_SIZE, int(size / STEP) * STEP)


def text_fits(text: str, width: float, height: float, multiline: bool = False) -> bool:
    return fit_text(text, width, height, multiline) is not None


# --- drawing ---------------------------------------------------------------------------------------


def draw_page(drawing: canvas.Canvas, size: tuple[float, float], marks: list[Mark],
              pictures: dict | None = None) -> None:
    """Draw `marks` on the current page of `drawing`, which is `size` (viewed width, height).
    `pictures` keeps the scaled signature pictures between pages of one document."""
    page_w, page_h = size
    pictures = {} if pictures is None else pictures
    for mark in marks:
        x, y, w, h = mark.box
        left, bottom, width, height = x * page_w, (1 - y - h) * page_h, w * page_w, h * page_h
        drawing.saveState()
        if mark.kind == "image":
            _draw_image(drawing, mark, left, bottom, width, height, pictures)
        else:
            _DRAW[mark.kind](drawing, mark, left, bottom, width, height)
        drawing.restoreState()


def _draw_text(drawing, mark: Mark, left, bottom, width, height) -> None:
    layout = fit_text(mark.text, width, height, multiline=mark.kind == "paragraph")
    if layout is None:  # refused when the value was saved; a stored value that grew is drawn small, whole
        layout = TextLayout(MIN_SIZE, tuple(_wrap(mark.text, width - 2 * PADDING, MIN_SIZE)))
    _draw_lines(drawing, layout, left, bottom, height, bold_first=False,
                centre_single=mark.kind == "text" and len(layout.lines) == 1)


def _draw_lines(drawing, layout: TextLayout, left, bottom, height, bold_first: bool, centre_single: bool) -> None:
    drawing.setFillColorRGB(*INK)
    size = layout.size
    block = len(layout.lines) * size * LEADING
    # One line sits in the middle of its box, as a form field shows it; more lines start at the top.
    top = bottom + (height + block) / 2 if centre_single else bottom + height - PADDING
    for index, line in enumerate(layout.lines):
        drawing.setFont(text_font(bold_first and index == 0), size)
        baseline = top - index * size * LEADING - ASCENT * size
        drawing.drawString(left + PADDING, baseline, line)


def _draw_check(drawing, _mark, left, bottom, width, height) -> None:
    side = min(width, height) * 0.8
    x0, y0 = left + (width - side) / 2, bottom + (height - side) / 2
    drawing.setStrokeColorRGB(*INK)
    drawing.setLineWidth(max(0.8, side / 8))
    drawing.setLineCap(1)
    drawing.setLineJoin(1)
    path = drawing.beginPath()
    path.moveTo(x0 + side * 0.1, y0 + side * 0.5)
    path.lineTo(x0 + side * 0.4, y0 + side * 0.15)
    path.lineTo(x0 + side * 0.9, y0 + side * 0.85)
    drawing.drawPath(path, stroke=1, fill=0)


def _draw_dot(drawing, _mark, left, bottom, width, height) -> None:
    drawing.setFillColorRGB(*INK)
    drawing.circle(left + width / 2, bottom + height / 2, min(width, height) * 0.3, stroke=0, fill=1)


def _draw_strokes(drawing, mark: Mark, left, bottom, width, height) -> None:
    if mark.strokes is not None:
        draw_strokes(drawing, mark.strokes, left + PADDING, bottom + PADDING, width - 2 * PADDING,
                     height - 2 * PADDING)


def ink_size(strokes: Strokes) -> tuple[float, float]:
    """Width and height of the ink in pad pixels (with the pen's width): its proportions."""
    points = [p for stroke in strokes.strokes for p in stroke]
    if not points:
        return 2 * PEN, 2 * PEN
    xs, ys = [x for x, _y in points], [y for _x, y in points]
    return max(xs) - min(xs) + 2 * PEN, max(ys) - min(ys) + 2 * PEN


def draw_strokes(drawing, drawn: Strokes, left, bottom, width, height) -> None:
    """The pen strokes as curves through their points, the ink's extent fitted in the box (kept in
    proportion, centred)."""
    strokes = [s for s in drawn.strokes if s]
    if not strokes:
        return
    xs = [x for stroke in strokes for x, _y in stroke]
    ys = [y for stroke in strokes for _x, y in stroke]
    ink_w, ink_h = ink_size(drawn)
    scale = min(width / ink_w, height / ink_h)
    x0 = left + (width - ink_w * scale) / 2 + (PEN - min(xs)) * scale
    y0 = bottom + (height + ink_h * scale) / 2 - (PEN - min(ys)) * scale  # the pad's y runs downwards

    pen = min(max(PEN * scale, PEN_POINTS[0]), PEN_POINTS[1])
    drawing.setStrokeColorRGB(*INK)
    drawing.setFillColorRGB(*INK)
    drawing.setLineWidth(pen)
    drawing.setLineCap(1)
    drawing.setLineJoin(1)
    # The path's operators are written directly: reportlab's path object formats each number
    # through its generic float formatting, several times slower for a signature's thousands.
    # Points are thinned in pad pixels (the same distance as on paper: one scale for x and y), so
    # only the kept ones are moved onto the paper.
    ops = []
    for stroke in strokes:
        kept = _thinned(stroke, STEP_POINTS / scale)
        xs = [x0 + x * scale for x, _y in kept]
        ys = [y0 - y * scale for _x, y in kept]
        if len(kept) == 1:  # a dot
            drawing.circle(xs[0], ys[0], pen / 2, stroke=0, fill=1)
            continue
        ops.append(f"{xs[0]:.2f} {ys[0]:.2f} m")
        # Catmull-Rom through the points as cubic Béziers: smooth like the pad's own drawing.
        # (%-formatting: a third faster than f-strings for the six numbers of each of thousands.)
        last = len(kept) - 1
        for i in range(last):
            before, after = (i - 1 if i else 0), (i + 2 if i + 2 < last else last)
            x1, y1, x2, y2 = xs[i], ys[i], xs[i + 1], ys[i + 1]
            ops.append(_CURVE % (x1 + (x2 - xs[before]) / 6, y1 + (y2 - ys[before]) / 6,
                                 x2 - (xs[after] - x1) / 6, y2 - (ys[after] - y1) / 6, x2, y2))
    if ops:
        ops.append("S")
        drawing.addLiteral("\n".join(ops))


_CURVE = "%.2f %.2f %.2f %.2f %.2f %.2f c"


def _thinned(points, step: float) -> list[tuple[float, float]]:
    """The points less than `step` apart dropped (STEP_POINTS on paper: a fast pen on a large pad
    gives hundreds a centimetre); the first and the last kept."""
    kept = [points[0]]
    last_x, last_y = points[0]
    for point in points[1:]:
        if abs(point[0] - last_x) + abs(point[1] - last_y) >= step:
            kept.append(point)
            last_x, last_y = point
    if len(kept) > 1 and kept[-1] != points[-1]:
        kept[-1] = points[-1]
    elif len(kept) == 1 and points[-1] != points[0]:
        kept.append(points[-1])
    return kept


def _draw_image(drawing, mark: Mark, left, bottom, width, height, pictures: dict) -> None:
    # Three pixels a point is sharp in print and keeps a phone's large canvas from bloating the file.
    limit = (max(1, int(width * IMAGE_RESOLUTION)), max(1, int(height * IMAGE_RESOLUTION)))
    key = (hashlib.sha256(mark.image).digest(), limit)
    if key not in pictures:  # one decode and one embedded image per picture and size in a document
        image = Image.open(io.BytesIO(mark.image))
        image.draft(None, limit)
        image.thumbnail(limit, reducing_gap=2.0)
        pictures[key] = ImageReader(image)
    reader = pictures[key]
    image_w, image_h = reader.getSize()
    scale = min(width / image_w, height / image_h)
    shown_w, shown_h = image_w * scale, image_h * scale
    drawing.drawImage(reader, left + (width - shown_w) / 2, bottom + (height - shown_h) / 2,
                      shown_w, shown_h, mask="auto")


def _draw_block(drawing, mark: Mark, left, bottom, width, height) -> None:
    """A printed signature: the lines shrunk together until the widest and all of them fit."""
    inner_w, inner_h = width - 2 * PADDING, height - 2 * PADDING
    size = _start_size(height / max(1, len(mark.lines)) + 2 * PADDING)
    while size > MIN_SIZE / 2:
        widest = max(_width(line, size, bold=i == 0) for i, line in enumerate(mark.lines))
        if widest <= inner_w and len(mark.lines) * size * LEADING <= inner_h + 0.01:
            break
        size -= STEP
    drawing.setStrokeColorRGB(*INK)
    drawing.setLineWidth(0.6)
    drawing.line(left + PADDING, bottom + height - 0.5, left + PADDING, bottom + 0.5)
    _draw_lines(drawing, TextLayout(size, mark.lines), left + 1, bottom, height, bold_first=True, centre_single=False)


_DRAW = {"text": _draw_text, "paragraph": _draw_text, "check": _draw_check, "dot": _draw_dot, "image": _draw_image,
         "strokes": _draw_strokes, "block": _draw_block}
KINDS = tuple(_DRAW)


def render_pages(pages: list[tuple[tuple[float, float], list[Mark]]]) -> bytes:
    """A PDF with one page per entry, each of the given size with its marks: the overlay."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pageCompression=1, invariant=1)
    pictures: dict = {}
    for size, marks in pages:
        drawing.setPageSize(size)
        draw_page(drawing, size, marks, pictures)
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()
