"""Pictures of specimen ID documents as a phone takes them: a data page drawn with Pillow (the MRZ
in OCR-B from Debian's fonts-ocr-b), laid on a desk and photographed: turned a few degrees, in
perspective, blurred, in uneven light, noisy, at a lower resolution, JPEG-compressed."""

from __future__ import annotations

import functools
import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests.plugins.id_check.specimens import Specimen

OCR_B = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"
LABELS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
VALUES = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
PITCH_MM = 2.54  # an MRZ has 10 characters per inch (9303 part 3)
OCR_B_ADVANCE = 0.723  # OCR-B's advance width per em
# width, height in mm; MRZ lines' vertical centres from the bottom edge, in mm
PAGES = {"TD3": ((125.0, 88.0), (10.4, 5.6)), "TD1": ((85.6, 54.0), (15.4, 10.6, 5.8)),
         "TD2": ((105.0, 74.0), (10.4, 5.6))}


def data_page(specimen: Specimen, px_per_mm: float = 12.0) -> Image.Image:
    """The page with the MRZ, in colour: a tinted pattern, a photo, printed fields and the MRZ."""
    (width_mm, height_mm), rows = PAGES[specimen.format]
    size = (round(width_mm * px_per_mm), round(height_mm * px_per_mm))
    page = Image.new("RGB", size, (232, 236, 226))
    draw = ImageDraw.Draw(page)
    for y in range(0, size[1], max(3, round(px_per_mm))):  # the guilloche of the real thing, simplified
        points = [(x, y + 4 * math.sin(x / (2.5 * px_per_mm) + y / 50)) for x in range(0, size[0], 6)]
        draw.line(points, fill=(205, 214, 222), width=1)
    mm = lambda v: round(v * px_per_mm)  # noqa: E731
    labels, values = ImageFont.truetype(LABELS, mm(1.8)), ImageFont.truetype(VALUES, mm(2.6))
    if specimen.format == "TD1":  # the back of the card: a few printed fields above the MRZ
        fields, left, step = [("Längd/Height", "172"), ("Utfärdad av/Authority", "POLISMYNDIGHETEN")], 5, 8
    else:  # the data page: photo and fields
        draw.rounded_rectangle((mm(5), mm(8), mm(30), mm(40)), radius=mm(2), fill=(150, 140, 130))
        draw.ellipse((mm(10), mm(12), mm(25), mm(30)), fill=(200, 180, 160))
        fields = [("Efternamn/Surname", specimen.surname), ("Förnamn/Given names", specimen.given),
                  ("Födelsedatum/Date of birth", specimen.birth), ("Giltig t.o.m./Date of expiry", specimen.expiry)]
        left, step = 34, 7.5
    for i, (label, value) in enumerate(fields):
        top = mm(6 + i * step)
        draw.text((mm(left), top), label, font=labels, fill=(90, 90, 110))
        draw.text((mm(left), top + mm(2.3)), value, font=values, fill=(20, 20, 30))
    font = ImageFont.truetype(OCR_B, mm(PITCH_MM / OCR_B_ADVANCE))
    line_width = len(specimen.lines()[0]) * PITCH_MM
    left = (width_mm - line_width) / 2
    for line, from_bottom in zip(specimen.lines(), rows, strict=True):
        draw.text((mm(left), mm(height_mm - from_bottom)), line, font=font, fill=(15, 15, 20), anchor="lm")
    return page


@dataclass(frozen=True)
class Shot:
    """How the photo was taken."""

    name: str
    angle: float = 0.0  # degrees, counter-clockwise
    blur: float = 0.0  # Gaussian radius in photo pixels
    light: float = 0.0  # 0 even; 0.5: one corner at half the light of the other
    perspective: float = 0.0  # how much narrower the far edge is (0.06 = 6 %)
    noise: float = 2.0  # sensor noise, standard deviation in grey levels
    fill: float = 0.8  # share of the photo's width the document takes
    exposure: float = 1.0  # 0.2: a fifth of the light
    glare: float = 0.0  # radius of a burnt-out reflection, as a share of the photo's width
    size: tuple[int, int] = (1280, 960)
    quality: int = 85


SHOTS = [
    Shot("flat"),
    Shot("turned +4°", angle=4),
    Shot("turned -7°", angle=-7),
    Shot("blurred", blur=1.6),
    Shot("low resolution", size=(720, 540), fill=0.9),
    Shot("uneven light", light=0.55),
    Shot("perspective", perspective=0.07, angle=2),
    Shot("all at once", angle=-3, blur=1.1, light=0.4, perspective=0.04, noise=4, quality=70),
]


@functools.cache
def photo_of(specimen: Specimen, shot: Shot) -> bytes:
    """The specimen's data page photographed; made once per test session."""
    return photograph(data_page(specimen), shot)


def photograph(page: Image.Image, shot: Shot, seed: int = 7) -> bytes:
    """A JPEG of `page` lying on a desk, taken as `shot` says."""
    rng = random.Random(seed)
    width, height = shot.size
    desk = Image.effect_noise((width, height), 18).convert("RGB")
    desk = Image.blend(desk, Image.new("RGB", desk.size, (120, 95, 70)), 0.7)
    scale = shot.fill * width / page.width
    document = page.resize((round(page.width * scale), round(page.height * scale)), Image.LANCZOS)
    mask = Image.new("L", document.size, 255)
    document, mask = document.rotate(shot.angle, Image.BICUBIC, expand=True), mask.rotate(shot.angle, expand=True)
    offset = ((width - document.width) // 2 + rng.randint(-10, 10),
              (height - document.height) // 2 + rng.randint(-10, 10))
    desk.paste(document, offset, mask)
    photo = _perspective(desk, shot.perspective) if shot.perspective else desk
    pixels = np.asarray(photo, dtype=np.float32)
    pixels *= shot.exposure
    if shot.light:
        ys, xs = np.ogrid[0:height, 0:width]
        pixels *= (1 - shot.light * (xs / width + ys / height) / 2)[..., None]
    pixels += np.random.default_rng(seed).normal(0, shot.noise, pixels.shape)
    if shot.glare:
        ys, xs = np.ogrid[0:height, 0:width]
        spot = np.hypot(xs - width * 0.55, (ys - height * 0.6) * 1.6) / (shot.glare * width)
        pixels += (np.clip(1.6 - spot, 0, 1) * 255)[..., None]
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if shot.blur:
        photo = photo.filter(ImageFilter.GaussianBlur(shot.blur))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=shot.quality)
    return out.getvalue()


def _perspective(image: Image.Image, amount: float) -> Image.Image:
    """The far (top) edge narrower, as when the phone is tilted towards the reader."""
    w, h = image.size
    inset = amount * w / 2
    # Where each corner of the output comes from in the input: Pillow maps output to input.
    source = [(-inset, 0), (w + inset, 0), (w, h), (0, h)]
    target = [(0, 0), (w, 0), (w, h), (0, h)]
    rows = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coefficients = np.linalg.solve(np.array(rows, float), np.array([c for p in source for c in p], float))
    return image.transform(image.size, Image.PERSPECTIVE, tuple(coefficients), Image.BICUBIC,
                           fillcolor=(120, 95, 70))


def random_shots(seed: int, count: int) -> list[Shot]:
    """Photos taken every which way within what a person does (turned up to 10°, blur, light,
    perspective, noise, distance, resolution, JPEG quality), for an accuracy figure beyond SHOTS."""
    rng = random.Random(seed)
    return [Shot(f"random {i}", angle=rng.uniform(-10, 10), blur=rng.uniform(0, 2.0), light=rng.uniform(0, 0.6),
                 perspective=rng.uniform(0, 0.08), noise=rng.uniform(1, 5), fill=rng.uniform(0.6, 0.95),
                 size=rng.choice([(960, 720), (1280, 960), (1600, 1200)]), quality=rng.randint(60, 95))
            for i in range(count)]


# Photos to take again: the reader may or may not cope, the capture check must say why.
RETAKES = {
    "blurred": Shot("out of focus", blur=4.0),
    "glare": Shot("glare", glare=0.12),
    "too_dark": Shot("dark", exposure=0.18),
    "too_small": Shot("tiny", size=(440, 330), fill=0.9),
}


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
