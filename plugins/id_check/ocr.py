"""Read the machine-readable zone from a photo of an ID document, with Debian's tesseract-ocr.

1. Decode small: a JPEG is decoded at 1/2, 1/4 or 1/8 scale straight away (`Image.draft`), so a
   12-megapixel photo never exists at full size in memory; turned as the phone's EXIF says; grey.
2. Even out the light: the paper's brightness is estimated from a shrunken, dilated copy (text
   gone) and divided out, so ink is dark against 1.0 whatever the lighting.
3. Deskew: the angle (±12°) whose horizontal ink profile has the sharpest rows. A photo without
   EXIF orientation may be on its side (no long lines are found: the next quarter turn is tried)
   or upside down (the fillers point right: turned by 180° before any OCR).
4. Find the MRZ: text lines whose ink runs in one long chain of 20+ glyphs; two or three such
   lines of one height, one under the other, lowest on the page first.
5. OCR those lines alone, scaled to a line height tesseract reads well, with the alphabet
   restricted to A-Z 0-9 <, asking for each character's box. Its English model misreads some
   OCR-B digits at one size and not at another (3 as 5): while a check digit fails, the next of
   `OCR_LINE_HEIGHTS` is tried, until two sizes read the same (the document's own digit is wrong).
6. Put every character in its cell: MRZ glyphs stand apart at a fixed pitch, so the ink columns
   give each glyph's place among the 30, 36 or 44. Tesseract reads long runs of fillers `<` as K,
   E, S or nothing: a glyph shaped like a chevron (within its box, ink at the left only in the
   middle third) is a filler whatever was read. A glyph tesseract passed over (a narrow 1 after a
   '<') gets a second look, on its own.
7. Correct (`repair`): letters in date and digit positions and digits in letter positions are what
   the field allows (O -> 0, 1 -> I ...). In the document number and optional data, which hold
   both, a 0/O, 1/I, 2/Z, 5/S or 8/B swap is made only when the field's check digit confirms it,
   when it puts no letter among digits (or digit among letters) that was not there, and when one
   smallest set of swaps does (of two, the one leaving the field more regular). The composite
   digit must hold too, though in TD3 and TD1 it adds little here: its weights line up with the
   number's and the optional data's own. A document printed with a wrong check digit is so not
   "corrected" into a valid one by changing its number.

Nothing here logs the text read: only its format, time and number of corrections.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
import re
import subprocess
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from plugins.id_check.mrz import FILLER, FORMATS, MRZFormatError, check_digit, parse_mrz

log = logging.getLogger(__name__)

MAX_PIXELS = 60_000_000  # a bigger "photo" is a decompression bomb, not a phone's picture
WORK_SIDE = 1600  # the long side of the working image, in pixels
DETECT_SIDE = 800  # the long side used to find the skew angle
# Heights (pixels) an MRZ line's band is scaled to for tesseract, tried in turn while a check digit fails.
OCR_LINE_HEIGHTS = (28, 36, 22)
INK = 0.62  # darker than this share of the paper's brightness is ink
TESSERACT_TIMEOUT = 20
WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"

Image.MAX_IMAGE_PIXELS = None  # refused above, before decoding, with a message for the person


class UnreadableImage(ValueError):
    """The bytes are no image Pillow can decode, or an absurdly large one."""


@dataclass(frozen=True, repr=False)
class Reading:
    """What was read: the MRZ lines (None when no MRZ was found) and how many characters the
    field types and check digits corrected."""

    lines: tuple[str, ...] | None
    corrections: int = 0

    @property
    def found(self) -> bool:
        return self.lines is not None

    def __repr__(self) -> str:  # never the text: it is personal data
        return f"<Reading {len(self.lines) if self.lines else 0} lines, {self.corrections} corrections>"


def read_mrz(image: bytes) -> Reading:
    """Find and read the MRZ in a photo (JPEG, PNG, WebP ...). A photo without an EXIF
    orientation may be upside down or on its side: those turns are tried while nothing is found."""
    started = time.monotonic()
    grey, _ = load_grey(image, WORK_SIDE)
    paper = flatten_light(grey)
    best, angle = Reading(None), 0.0
    for quarter_turns in (0, 2, 1, 3):
        turned = np.rot90(paper, quarter_turns)
        angle = skew_angle(turned)
        best = max(best, _read_upright(_rotate(turned, angle)), key=_score)
        if _score(best)[0] >= 0:
            break  # an MRZ of a known format; upside down, lines are found but make no MRZ
    log.info("MRZ %s: %d lines, %d corrections, skew %.1f°, %d ms", "read" if best.found else "not found",
             len(best.lines or ()), best.corrections, angle, (time.monotonic() - started) * 1000)
    return best


def _read_upright(upright: np.ndarray) -> Reading:
    best = Reading(None)
    ink = upright < INK
    groups = mrz_line_groups(ink)[:2]
    if groups and _upside_down(ink, groups[0]):
        return best  # the turn by 180° will read it
    for group in groups:
        best = max(best, _read_lines(upright, group), key=_score)
        if _score(best)[0] >= 0:
            break  # an MRZ of a known format: the next group of lines is not one
    return best


# --- the image -----------------------------------------------------------------------------------


def load_grey(data: bytes, side: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The photo in grey, its long side at most `side`, as floats 0..255; and the photo's own size."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise UnreadableImage("too many pixels")
        scale = side / max(image.size)
        turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # EXIF orientation: a quarter turn
        size = image.size[::-1] if turned else image.size
        image.draft("L", (round(image.width * scale), round(image.height * scale)))
        image = ImageOps.exif_transpose(image).convert("L")
        image.thumbnail((side, side), Image.BILINEAR)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(str(exc)) from exc
    return np.asarray(image, dtype=np.float32), size


def flatten_light(grey: np.ndarray) -> np.ndarray:
    """Each pixel as a share of the paper's brightness around it (ink ~0.2, paper ~1.0)."""
    image = Image.fromarray(grey.astype(np.uint8))
    small = image.reduce(8).filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(2))
    paper = np.asarray(small.resize(image.size, Image.BILINEAR), dtype=np.float32)
    return np.clip(grey / np.maximum(paper, 16), 0, 1.2)


def _rotate(paper: np.ndarray, angle: float) -> np.ndarray:
    if not angle:
        return paper
    image = Image.fromarray(np.ascontiguousarray(paper), mode="F")
    image = image.rotate(angle, Image.BILINEAR, expand=True, fillcolor=1.0)
    return np.asarray(image)


def skew_angle(paper: np.ndarray) -> float:
    """The rotation (degrees, counter-clockwise) that makes the text lines level."""
    factor = max(1, round(max(paper.shape) / DETECT_SIDE))
    ink = Image.fromarray(((paper[::factor, ::factor] < INK) * 255).astype(np.uint8))

    def sharpness(angle: float) -> float:
        profile = np.asarray(ink.rotate(angle, Image.NEAREST, expand=True), dtype=np.float32).sum(axis=1)
        return float(np.square(np.diff(profile)).sum())

    coarse = max(np.arange(-12, 12.5, 1.0), key=sharpness)
    return float(max(np.arange(coarse - 0.8, coarse + 0.85, 0.2), key=sharpness))


# --- finding the lines ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TextLine:
    top: int
    bottom: int
    left: int
    right: int
    glyphs: int

    @property
    def height(self) -> int:
        return self.bottom - self.top


def text_lines(ink: np.ndarray) -> list[TextLine]:
    """Bands of rows crossing many strokes, each with its longest chain of glyphs (gaps under a
    line height). Counting crossings, not ink, keeps out the edges of the document and of its photo."""
    rows = np.count_nonzero(ink[:, 1:] != ink[:, :-1], axis=1) >= 20
    lines = []
    for top, bottom in _runs(rows):
        if bottom - top < 6:
            continue
        columns = ink[top:bottom].any(axis=0)
        segments = _runs(columns)
        best = None
        chain: list[tuple[int, int]] = []
        for segment in segments:
            if chain and segment[0] - chain[-1][1] > (bottom - top) * 1.2:
                best = max(best, chain, key=len) if best else chain
                chain = []
            chain.append(segment)
        best = max(best, chain, key=len) if best and chain else (best or chain)
        if best:
            lines.append(TextLine(top, bottom, best[0][0], best[-1][1], len(best)))
    return lines


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def mrz_line_groups(ink: np.ndarray) -> list[list[TextLine]]:
    """Two or three long lines of one height stacked at a steady spacing: the lowest first."""
    candidates = [line for line in text_lines(ink)
                  if line.glyphs >= 20 and 15 <= (line.right - line.left) / line.height <= 90]
    groups: list[list[TextLine]] = []
    for line in candidates:
        group = groups[-1] if groups else None
        if group and _continues(group[-1], line):
            group.append(line)
        else:
            groups.append([line])
    found = [group[-3:] if len(group) >= 3 else group for group in groups if len(group) >= 2]
    return sorted(found, key=lambda g: -g[-1].bottom)


def _continues(above: TextLine, line: TextLine) -> bool:
    pitch = (above.right - above.left) / max(above.glyphs, 1)
    return (0.6 < line.height / above.height < 1.6 and line.top - above.bottom < 2.5 * above.height
            and abs(line.left - above.left) < 3 * pitch)


def _upside_down(ink: np.ndarray, group: list[TextLine]) -> bool:
    """Upside down, an MRZ's fillers point right: more glyphs are chevrons mirrored than not."""
    left = right = 0
    for line in group:
        band = ink[line.top:line.bottom]
        for start, end in _runs(band.any(axis=0)):
            glyph = band[:, start:end]
            left += is_chevron(glyph)
            right += is_chevron(glyph[:, ::-1])
    return right > left


# --- reading the lines ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Symbol:
    char: str
    left: int
    top: int
    right: int
    bottom: int

    @property
    def centre(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2


def _read_lines(upright: np.ndarray, group: list[TextLine]) -> Reading:
    """Read at each height in turn until every check digit holds, or two heights read the same
    (then the document itself has the wrong digit)."""
    best = previous = Reading(None)
    for height in OCR_LINE_HEIGHTS:
        reading = _read_group(upright, group, height)
        best = max(best, reading, key=_score)
        if _score(best)[0] == _all_digits(best) or (reading.found and reading.lines == previous.lines):
            break
        previous = reading
    return best


def _read_group(upright: np.ndarray, group: list[TextLine], line_height: int) -> Reading:
    height = int(np.median([line.height for line in group]))
    margin = height
    top, bottom = max(0, group[0].top - margin), min(upright.shape[0], group[-1].bottom + margin)
    left = max(0, min(line.left for line in group) - margin)
    right = min(upright.shape[1], max(line.right for line in group) + margin)
    scale = line_height / height
    crop = Image.fromarray(np.clip(upright[top:bottom, left:right] * 255, 0, 255).astype(np.uint8))
    crop = crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.LANCZOS)
    symbols = tesseract_symbols(crop)
    ink = np.asarray(crop) < INK * 255
    boxes = [((line.left - left) * scale, (line.top - top) * scale, (line.right - left) * scale,
              (line.bottom - top) * scale) for line in group]
    lengths = [FORMATS["TD1"][1]] if len(group) == 3 else [FORMATS["TD3"][1], FORMATS["TD2"][1]]
    # The line length that reads best (TD3's 44 or TD2's 36 for two lines), then a second look
    # at what tesseract passed over in it.
    cells = max(([_cells(symbols, ink, box, length) for box in boxes] for length in lengths),
                key=lambda option: _score(_assemble(option, {})))
    skipped = [cell for line in cells for cell in line if not isinstance(cell, str)]
    second_look = dict(zip(skipped, read_glyphs(crop, skipped), strict=True)) if skipped else {}
    return _assemble(cells, second_look)


def _assemble(cells: list[list[str | tuple]], second_look: dict[tuple, str]) -> Reading:
    raw = ["".join(c if isinstance(c, str) else second_look.get(c) or FILLER for c in line) for line in cells]
    lines, corrections = repair(raw)
    return Reading(tuple(lines), corrections)


def read_glyphs(crop: Image.Image, boxes: list[tuple[int, int, int, int]]) -> list[str]:
    """A second look at glyphs tesseract passed over in the line (a narrow 1 after a '<'): each
    on its own, spaced out on one strip, in one more tesseract run. '' where it still sees nothing."""
    height = max(bottom - top for top, bottom, _, _ in boxes)
    gap = height
    strip = Image.new("L", (sum(right - left + gap for _, _, left, right in boxes) + gap, height + 2 * gap), 255)
    slots, x = [], gap
    for top, bottom, left, right in boxes:
        strip.paste(crop.crop((left, top, right, bottom)), (x, gap))
        slots.append(x + (right - left) / 2)
        x += right - left + gap
    found = [""] * len(boxes)
    for symbol in tesseract_symbols(strip, single_line=True):
        slot = min(range(len(slots)), key=lambda i: abs(slots[i] - symbol.centre[0]))
        if abs(slots[slot] - symbol.centre[0]) < gap:
            found[slot] = found[slot] or symbol.char
    return found


def tesseract_symbols(image: Image.Image, single_line: bool = False) -> list[Symbol]:
    """Each character tesseract reads, with its box (hOCR with character boxes)."""
    png = io.BytesIO()
    image.save(png, "PNG")
    command = ["tesseract", "stdin", "stdout", "-l", "eng", "--oem", "1", "--psm", "7" if single_line else "6",
               "-c", f"tessedit_char_whitelist={WHITELIST}", "-c", "hocr_char_boxes=1",
               "-c", "load_system_dawg=0", "-c", "load_freq_dawg=0", "hocr"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core per reading; the machine serves others too
    result = subprocess.run(command, input=png.getvalue(), capture_output=True, timeout=TESSERACT_TIMEOUT, env=env,
                            check=True)
    hocr = result.stdout.decode()
    return [Symbol("<" if char == "&lt;" else char, int(a), int(b), int(c), int(d))
            for a, b, c, d, char in re.findall(r"x_bboxes (\d+) (\d+) (\d+) (\d+);[^>]*>([^<]+)</span>", hocr)]


def _cells(symbols: list[Symbol], ink: np.ndarray, box: tuple[float, ...], length: int) -> list[str | tuple]:
    """The line's `length` cells. MRZ glyphs stand apart, so the columns with ink in the line's
    band give each glyph's place; each cell takes the glyph nearest its centre and the symbol
    tesseract read there. A glyph shaped like a chevron is a filler, whatever was read; a glyph
    tesseract read nothing for is given as its box (top, bottom, left, right) for a second look."""
    left, top, right, bottom = box
    pitch = (right - left) / length
    pad = (bottom - top) * 0.15
    band = ink[max(0, round(top - pad)):round(bottom + pad) + 1]
    glyphs = [g for g in _runs(band.any(axis=0)) if g[1] - g[0] >= 2 and left - pitch / 2 < g[0] < right + pitch / 2]
    if len(glyphs) != length:
        glyphs = [_nearest(glyphs, left + (cell + 0.5) * pitch, pitch) for cell in range(length)]
    band_top = max(0, round(top - pad))
    cells: list[str | tuple] = []
    for cell, glyph in enumerate(glyphs):
        centre = (glyph[0] + glyph[1]) / 2 if glyph else left + (cell + 0.5) * pitch
        char = _symbol_at(symbols, centre, top - pitch / 2, bottom + pitch / 2, pitch)
        if not char.isdigit() and (glyph is None or is_chevron(band[:, glyph[0]:glyph[1]])):
            char = FILLER  # no letter or digit is shaped like a chevron; a cell without ink is a filler too
        cells.append(char or (band_top, band_top + band.shape[0], glyph[0], glyph[1]))
    return cells


def _nearest(glyphs: list[tuple[int, int]], centre: float, pitch: float) -> tuple[int, int] | None:
    best = min(glyphs, key=lambda g: abs((g[0] + g[1]) / 2 - centre), default=None)
    return best if best and abs((best[0] + best[1]) / 2 - centre) < pitch / 2 else None


def _symbol_at(symbols: list[Symbol], x: float, top: float, bottom: float, pitch: float) -> str:
    """The symbol tesseract read nearest `x` on this line (within 0.45 of a character), or ''."""
    near = [(abs(s.centre[0] - x), s.char) for s in symbols
            if top <= s.centre[1] <= bottom and abs(s.centre[0] - x) < 0.45 * pitch]
    return min(near)[1] if near else ""


def is_chevron(glyph: np.ndarray) -> bool:
    """'<': within its own box, ink at the left only in the middle third of its height, and ink at
    the right in the top and bottom thirds. No letter or digit has that shape (K, E, S, C, R have ink
    at the left top, X and Z too, A at the left bottom)."""
    rows, columns = np.nonzero(glyph)
    if rows.size < 12:
        return False
    glyph = glyph[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
    height, width = glyph.shape
    if height < 6 or width < 4:
        return False
    thirds = [glyph[i * height // 3:(i + 1) * height // 3] for i in range(3)]
    edge = max(1, round(width * 0.3))
    left = [float(third[:, :edge].mean()) for third in thirds]
    right = [float(third[:, -edge:].mean()) for third in thirds]
    return left[1] > 0.1 and max(left[0], left[2]) < 0.35 * left[1] and min(right[0], right[2]) > 0.08


def _score(reading: Reading) -> tuple[int, int]:
    """More check digits holding, then fewer corrections; a reading that is no MRZ is worst."""
    try:
        mrz = parse_mrz(list(reading.lines or ()))
    except MRZFormatError:
        return (-1, 0) if reading.found else (-2, 0)
    return (sum(check.ok for check in mrz.checks), -reading.corrections)


def _all_digits(reading: Reading) -> int:
    """How many check digits the reading's format has (TD3: 5, TD1 and TD2: 4)."""
    return 5 if reading.lines and len(reading.lines[0]) == FORMATS["TD3"][1] else 4


# --- correcting with the field types and check digits ----------------------------------------------------


TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "G": "6"}
TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G"}
SWAPS = {"0": "O", "O": "0", "1": "I", "I": "1", "2": "Z", "Z": "2", "5": "S", "S": "5", "8": "B", "B": "8"}
MAX_SWAPS = 6

# (line, start, end, kind): "a" letters, "n" digits, "d" a check digit (or a filler where allowed),
# "x" letters and digits (checked by a digit), "s" sex, "t" name. Positions per 9303 parts 4-6.
LAYOUTS = {
    "TD3": [(0, 0, 5, "a"), (0, 5, 44, "t"), (1, 0, 9, "x"), (1, 9, 10, "d"), (1, 10, 13, "a"), (1, 13, 19, "n"),
            (1, 19, 20, "d"), (1, 20, 21, "s"), (1, 21, 27, "n"), (1, 27, 28, "d"), (1, 28, 42, "x"),
            (1, 42, 43, "d"), (1, 43, 44, "d")],
    "TD2": [(0, 0, 5, "a"), (0, 5, 36, "t"), (1, 0, 9, "x"), (1, 9, 10, "d"), (1, 10, 13, "a"), (1, 13, 19, "n"),
            (1, 19, 20, "d"), (1, 20, 21, "s"), (1, 21, 27, "n"), (1, 27, 28, "d"), (1, 28, 35, "x"),
            (1, 35, 36, "d")],
    "TD1": [(0, 0, 5, "a"), (0, 5, 14, "x"), (0, 14, 15, "d"), (0, 15, 30, "x"), (1, 0, 6, "n"), (1, 6, 7, "d"),
            (1, 7, 8, "s"), (1, 8, 14, "n"), (1, 14, 15, "d"), (1, 15, 18, "a"), (1, 18, 29, "x"), (1, 29, 30, "d"),
            (2, 0, 30, "t")],
}
# The letters-and-digits fields, the check digit of each (line, position) and the composite's data.
CHECKED = {
    "TD3": ([((1, 0, 9), (1, 9)), ((1, 28, 42), (1, 42))], (1, 43),
            [(1, 0, 10), (1, 13, 20), (1, 21, 43)]),
    "TD2": ([((1, 0, 9), (1, 9))], (1, 35), [(1, 0, 10), (1, 13, 20), (1, 21, 35)]),
    "TD1": ([((0, 5, 14), (0, 14))], (1, 29), [(0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)]),
}


def repair(raw: list[str]) -> tuple[list[str], int]:
    """The lines with what the field types force and the check digits confirm; and how many
    characters changed."""
    kind = next((name for name, (count, length) in FORMATS.items()
                 if len(raw) == count and all(len(line) == length for line in raw)), None)
    if kind is None:
        return raw, 0
    lines = [list(line) for line in raw]
    for line, start, end, field_kind in LAYOUTS[kind]:
        for i in range(start, end):
            lines[line][i] = _forced(lines[line][i], field_kind)
    _confirm_swaps(lines, kind)
    text = ["".join(line) for line in lines]
    return text, sum(a != b for before, after in zip(raw, text, strict=True) for a, b in zip(before, after,
                                                                                              strict=True))


def _forced(char: str, kind: str) -> str:
    if kind in "nd":
        return TO_DIGIT.get(char, char)
    if kind in "at":
        return TO_LETTER.get(char, char)
    if kind == "s":
        return char if char in "MFX<" else FILLER
    return char


def _confirm_swaps(lines: list[list[str]], kind: str) -> None:
    """Swap 0/O, 1/I, 2/Z, 5/S, 8/B in the letters-and-digits fields where, and only where, one
    smallest set of swaps makes every field's check digit and the composite digit hold."""
    fields, composite_at, composite_ranges = CHECKED[kind]
    originals = [lines[line][start:end] for (line, start, end), _ in fields]
    options = [[v for v in _variants(original) if _holds(v[1], lines[digit_line][digit_at])
                and _consistency(v[1]) >= _consistency(original)] or [(0, original)]
               for original, (_, (digit_line, digit_at)) in zip(originals, fields, strict=True)]
    confirmed: dict[int, list[tuple[tuple[int, list[str]], ...]]] = {}
    for combination in itertools.product(*options):
        _put(lines, fields, [chars for _, chars in combination])
        data = "".join("".join(lines[line][start:end]) for line, start, end in composite_ranges)
        if check_digit(data) == lines[composite_at[0]][composite_at[1]]:
            confirmed.setdefault(sum(changes for changes, _ in combination), []).append(combination)
    fewest = confirmed[min(confirmed)] if confirmed else []
    if len(fewest) > 1:  # a tie: the swap that leaves no letter among digits (or digit among letters) wins
        ranked = sorted(((sum(_consistency(chars) for _, chars in c), i) for i, c in enumerate(fewest)), reverse=True)
        fewest = [fewest[ranked[0][1]]] if ranked[0][0] > ranked[1][0] else []
    _put(lines, fields, [chars for _, chars in fewest[0]] if fewest else originals)


def _consistency(chars: list[str]) -> int:
    """Minus the number of changes between letters and digits along the field (fillers skipped)."""
    kinds = [c.isdigit() for c in chars if c != FILLER]
    return -sum(a != b for a, b in itertools.pairwise(kinds))


def _put(lines: list[list[str]], fields: list, values: list[list[str]]) -> None:
    for ((line, start, end), _), chars in zip(fields, values, strict=True):
        lines[line][start:end] = chars


def _variants(chars: list[str]) -> list[tuple[int, list[str]]]:
    """The field with every set of swaps (at most MAX_SWAPS positions), fewest changes first."""
    positions = [i for i, c in enumerate(chars) if c in SWAPS][:MAX_SWAPS]
    found = []
    for count in range(len(positions) + 1):
        for chosen in itertools.combinations(positions, count):
            variant = list(chars)
            for i in chosen:
                variant[i] = SWAPS[variant[i]]
            found.append((count, variant))
    return found


def _holds(chars: list[str], digit: str) -> bool:
    return check_digit("".join(chars)) == digit or (digit == FILLER and set(chars) <= {FILLER})
