"""Capture checks: a photo to take again says why (size, blur, glare, light); good specimens pass."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from core.i18n import force_locale
from plugins.id_check.capture import Problem, limits, measure
from plugins.id_check.ocr import UnreadableImage
from tests.plugins.id_check.images import RETAKES, SHOTS, photo_of
from tests.plugins.id_check.specimens import id_card, passport


@pytest.mark.parametrize("shot", SHOTS, ids=[s.name for s in SHOTS])
def test_every_readable_specimen_photo_passes(shot):
    for specimen in (passport(), id_card()):
        quality = measure(photo_of(specimen, shot))
        assert quality.problems == [], quality


@pytest.mark.parametrize("problem", list(RETAKES), ids=list(RETAKES))
def test_a_photo_to_take_again_says_why(problem):
    quality = measure(photo_of(passport(), RETAKES[problem]))
    assert quality.problems == [Problem(problem)], quality


def test_the_reasons_in_english_and_swedish(app):
    quality = measure(photo_of(id_card(), RETAKES["glare"]))
    with app.test_request_context("/"):
        with force_locale("en"):
            assert quality.reasons() == ["The photo has glare. Tilt the document or move away from the light, and "
                                         "take it again."]
        with force_locale("sv"):
            assert quality.reasons() == ["Fotot har reflexer. Vinkla handlingen eller flytta dig från ljuset och ta "
                                         "om det."]


def test_a_phone_turned_photo_is_measured_upright():
    image = Image.new("RGB", (900, 500), "white")
    out = io.BytesIO()
    exif = image.getexif()
    exif[0x0112] = 6  # rotated a quarter turn: 500 x 900 as shown
    image.save(out, "JPEG", exif=exif)
    assert measure(out.getvalue()).short_side == 500


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 100])
def test_a_file_that_is_no_image_is_refused(data):
    with pytest.raises(UnreadableImage):
        measure(data)


def test_a_decompression_bomb_is_refused_before_decoding():
    out = io.BytesIO()
    Image.new("1", (10000, 10000)).save(out, "PNG")  # 100 megapixels in a few kilobytes
    with pytest.raises(UnreadableImage):
        measure(out.getvalue())


# --- the same checks in the browser, before upload ---------------------------------------------------------------

SCRIPT = Path(__file__).resolve().parents[3] / "plugins/id_check/static/id_check/capture_quality.js"
BROWSER_PHOTOS = {"flat": SHOTS[0], "all at once": SHOTS[-1], "low resolution": SHOTS[4], **RETAKES}


@pytest.mark.browser
def test_the_browser_says_what_the_server_says(page):
    """Chromium measures the same photos with capture_quality.js and the server's limits: the
    same problems, and measures close to the server's."""
    page.set_content("<!doctype html><title>capture</title>")
    page.add_script_tag(path=str(SCRIPT))
    for name, shot in BROWSER_PHOTOS.items():
        photo = photo_of(id_card(), shot)
        url = "data:image/jpeg;base64," + base64.b64encode(photo).decode()
        in_browser = page.evaluate("""async ([url, limits]) => {
            const image = new Image(); image.src = url; await image.decode();
            return SigillIdCheck.measureCapture(image, image.naturalWidth, image.naturalHeight, limits);
        }""", [url, limits()])
        on_server = measure(photo)
        assert in_browser["problems"] == [p.value for p in on_server.problems], name
        assert in_browser["shortSide"] == on_server.short_side
        assert in_browser["blur"] == pytest.approx(on_server.blur, rel=0.15), name
        assert in_browser["brightness"] == pytest.approx(on_server.brightness, abs=3), name
