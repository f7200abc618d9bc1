"""Page geometry: where a page's visible box is and how it is turned when viewed.

Field boxes are stored relative to the visible box as viewed: (0, 0) is the top-left corner the
reader sees, (1, 1) the bottom-right, whatever the page's size, crop box or /Rotate. The page
images the signer and the officer see are rendered by pdfium from the same box, so a box placed
on an image lands on the same spot of the PDF.
"""

from __future__ import annotations

import io
from dataclasses import dataclass


@dataclass(frozen=True)
class PageBox:
    """A page's visible box in user space (the crop box clipped by the media box) and rotation."""

    left: float
    bottom: float
    right: float
    top: float
    rotation: int = 0  # 0, 90, 180 or 270: clockwise, as /Rotate says

    @property
    def viewed_size(self) -> tuple[float, float]:
        """Width and height as the reader sees the page, in points."""
        width, height = self.right - self.left, self.top - self.bottom
        return (height, width) if self.rotation in (90, 270) else (width, height)

    def matrix(self) -> tuple[float, float, float, float, float, float]:
        """The transformation from viewed coordinates (origin bottom-left as viewed, in points)
        to the page's user space: what to draw an overlay with."""
        left, bottom, right, top = self.left, self.bottom, self.right, self.top
        return {
            0: (1, 0, 0, 1, left, bottom),
            90: (0, 1, -1, 0, right, bottom),
            180: (-1, 0, 0, -1, right, top),
            270: (0, -1, 1, 0, left, top),
        }[self.rotation]

    def to_viewed(self, x: float, y: float) -> tuple[float, float]:
        """A user-space point in viewed coordinates (points, origin bottom-left as viewed)."""
        a, b, c, d, e, f = self.matrix()
        # The matrix is a rotation by a multiple of 90° plus a shift: its inverse is its transpose.
        dx, dy = x - e, y - f
        return a * dx + b * dy, c * dx + d * dy

    def relative_rect(self, rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """A user-space rectangle (x1, y1, x2, y2) as a relative box (x, y, w, h) from the viewed top-left."""
        width, height = self.viewed_size
        corners = [self.to_viewed(x, y) for x in (rect[0], rect[2]) for y in (rect[1], rect[3])]
        xs = [c[0] for c in corners]
        ys = [c[1] for c in corners]
        return (min(xs) / width, 1 - max(ys) / height, (max(xs) - min(xs)) / width, (max(ys) - min(ys)) / height)


def page_box(media, crop=None, rotate=0) -> PageBox:
    """The visible box from /MediaBox, /CropBox and /Rotate values (numbers, any corner order)."""
    mx1, my1, mx2, my2 = (float(v) for v in media)
    left, bottom, right = min(mx1, mx2), min(my1, my2), max(mx1, mx2)
    top = max(my1, my2)
    if crop is not None and len(crop) == 4:
        cx1, cy1, cx2, cy2 = (float(v) for v in crop)
        clipped = (max(left, min(cx1, cx2)), max(bottom, min(cy1, cy2)), min(right, max(cx1, cx2)),
                   min(top, max(cy1, cy2)))
        if clipped[0] < clipped[2] and clipped[1] < clipped[3]:  # a crop box outside the page is ignored
            left, bottom, right, top = clipped
    return PageBox(left, bottom, right, top, int(rotate or 0) % 360 // 90 * 90)


def page_boxes(pdf: bytes) -> list[PageBox]:
    """The visible box of every page of a PDF, in order."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf), strict=False)
    return [_pypdf_box(page) for page in reader.pages]


def _pypdf_box(page) -> PageBox:
    # pypdf copies inherited /MediaBox, /CropBox and /Rotate into every page when it reads the tree.
    crop = page.get("/CropBox")
    return page_box(list(page.mediabox), list(crop.get_object()) if crop is not None else None, page.rotation)
