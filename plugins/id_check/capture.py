"""Is a photo of an ID document good enough to read? Size, sharpness, glare and light, each with a
"take it again" reason. The same measures, with the same limits, run in the browser before upload
(`static/id_check/capture_quality.js`, for the capture page) and here on the server.

Measured on the photo in grey with its long side scaled to 1000 pixels (so a phone's 12 MP and a
webcam's 1 MP give comparable numbers):
* size: the original's shorter side in pixels;
* blur: the width of the sharpest edges, p99.5 of the gradient over p99.5 of the Laplacian (a
  sharp edge ~1 pixel; Gaussian blur widens it in proportion). Unlike the Laplacian's variance it
  does not depend on how much text or noise the photo has;
* glare: the share of pixels at 250 or brighter (a reflection burns out the print beneath it);
* light: the mean grey level.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from core.i18n import _l
from plugins.id_check.ocr import load_grey

MEASURE_SIDE = 1000
MIN_SHORT_SIDE = 480
MAX_BLUR = 1.45
MAX_GLARE = 0.01
MIN_BRIGHTNESS = 40.0


def limits() -> dict[str, float]:
    """The limits, for the capture page to hand to the browser's twin of these checks."""
    return {"minShortSide": MIN_SHORT_SIDE, "maxBlur": MAX_BLUR, "maxGlare": MAX_GLARE, "minBrightness": MIN_BRIGHTNESS}


class Problem(StrEnum):
    TOO_SMALL = "too_small"
    BLURRED = "blurred"
    GLARE = "glare"
    TOO_DARK = "too_dark"


MESSAGES = {
    Problem.TOO_SMALL: _l("The photo is too small. Take it again closer to the document, or with a better camera."),
    Problem.BLURRED: _l("The photo is blurred. Hold the camera still, let it focus, and take it again."),
    Problem.GLARE: _l("The photo has glare. Tilt the document or move away from the light, and take it again."),
    Problem.TOO_DARK: _l("The photo is too dark. Take it again in better light."),
}
UNREADABLE_MESSAGE = _l("The file is not a photo that can be read. Take the photo again or choose a JPEG or PNG image.")
NOT_FOUND_MESSAGE = _l("No machine-readable zone was found in the photo. Take it again with the whole document in the "
                       "frame, flat and in good light, or type the lines in.")


@dataclass(frozen=True)
class Quality:
    short_side: int
    blur: float
    glare: float
    brightness: float

    @property
    def problems(self) -> list[Problem]:
        found = []
        if self.short_side < MIN_SHORT_SIDE:
            found.append(Problem.TOO_SMALL)
        if self.blur > MAX_BLUR:
            found.append(Problem.BLURRED)
        if self.glare > MAX_GLARE:
            found.append(Problem.GLARE)
        if self.brightness < MIN_BRIGHTNESS:
            found.append(Problem.TOO_DARK)
        return found

    def reasons(self) -> list[str]:
        """Each problem as a "take it again" sentence in the current language."""
        return [str(MESSAGES[problem]) for problem in self.problems]


def measure(image: bytes) -> Quality:
    """The photo's measures; raises `plugins.id_check.ocr.UnreadableImage` for a file that is no image."""
    grey, size = load_grey(image, MEASURE_SIDE)
    return Quality(short_side=min(size), blur=blur_width(grey), glare=float((grey >= 250).mean()),
                   brightness=float(grey.mean()))


def blur_width(grey: np.ndarray) -> float:
    gradient = np.hypot(np.diff(grey, axis=1)[:-1, :], np.diff(grey, axis=0)[:, :-1])
    laplacian = np.abs(grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1] - 4 * grey[1:-1, 1:-1])
    return float(np.percentile(gradient, 99.5) / max(float(np.percentile(laplacian, 99.5)), 1.0))
