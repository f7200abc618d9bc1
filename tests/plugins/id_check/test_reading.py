"""Reading the MRZ from photos of specimen passports and ID cards, as a phone takes them.

Each good specimen, under each way of taking the photo (`images.SHOTS`: flat, turned, blurred,
low resolution, uneven light, perspective, all at once), must be read character for character
and pass every check. Each specimen with one wrong check digit must be read as printed and fail
exactly that check, and typing its MRZ in must give the same verdict."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from plugins.id_check.checks import Check, Person, check_mrz
from plugins.id_check.ocr import UnreadableImage, load_grey, read_mrz, repair
from tests.plugins.id_check.images import SHOTS, photo_of
from tests.plugins.id_check.specimens import ANNA, ERIK, TODAY, id_card, passport

ANNA_PARTY = Person(ANNA["party"], ANNA["personal_number"])
KINDS = {"passport": passport, "id_card": id_card}


@pytest.mark.parametrize("shot", SHOTS, ids=[s.name for s in SHOTS])
@pytest.mark.parametrize("kind", KINDS)
def test_a_good_specimen_is_read_exactly_and_passes(kind, shot):
    specimen = KINDS[kind]()
    reading = read_mrz(photo_of(specimen, shot))
    assert reading.lines == tuple(specimen.lines())
    verdict = check_mrz(list(reading.lines), ANNA_PARTY, TODAY)
    assert verdict.passed, verdict.failed


# Each broken check digit on each kind of document, photographed one of the ways in turn.
BROKEN = [("document_number", (Check.DOCUMENT_NUMBER_DIGIT,)), ("birth_date", (Check.BIRTH_DATE_DIGIT,)),
          ("expiry_date", (Check.EXPIRY_DATE_DIGIT,)), ("composite", (Check.COMPOSITE_DIGIT,)),
          ("personal_number", (Check.PERSONAL_NUMBER_DIGIT, Check.PERSONAL_NUMBER)),
          ("optional_data", (Check.OPTIONAL_DATA_DIGIT,))]
CASES = [(kind, broken, failed, SHOTS[(i * 3 + j) % len(SHOTS)])
         for i, kind in enumerate(KINDS) for j, (broken, failed) in enumerate(BROKEN)
         if not (kind == "id_card" and broken == "optional_data")]  # TD1 has no such digit


@pytest.mark.parametrize(("kind", "broken", "failed", "shot"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[3].name}" for c in CASES])
def test_a_wrong_check_digit_is_read_as_printed_and_named(kind, broken, failed, shot):
    specimen = KINDS[kind](broken=broken)
    reading = read_mrz(photo_of(specimen, shot))
    assert reading.lines == tuple(specimen.lines())  # not "corrected" into a valid MRZ
    assert check_mrz(list(reading.lines), ANNA_PARTY, TODAY).failed == failed
    assert check_mrz("\n".join(specimen.lines()), ANNA_PARTY, TODAY).failed == failed  # typed in


def test_another_persons_passport_is_read_and_refused():
    specimen = passport(ERIK)
    reading = read_mrz(photo_of(specimen, SHOTS[1]))
    assert reading.lines == tuple(specimen.lines())
    assert check_mrz(list(reading.lines), ANNA_PARTY, TODAY).failed == (Check.NAME, Check.BIRTH_DATE,
                                                                        Check.PERSONAL_NUMBER)


def test_a_photo_without_an_mrz_is_not_found():
    image = Image.new("RGB", (1200, 900), (230, 230, 225))
    out = io.BytesIO()
    image.save(out, "JPEG")
    reading = read_mrz(out.getvalue())
    assert not reading.found and reading.lines is None


def test_a_twelve_megapixel_photo_is_decoded_small():
    image = Image.new("RGB", (4000, 3000), "white")
    out = io.BytesIO()
    image.save(out, "JPEG")
    grey, size = load_grey(out.getvalue(), 1600)
    assert size == (4000, 3000) and max(grey.shape) == 1600


def test_a_file_that_is_no_image_is_refused():
    with pytest.raises(UnreadableImage):
        read_mrz(b"%PDF-1.7 not a photo")


def test_a_reading_never_shows_its_text():
    reading = read_mrz(photo_of(passport(), SHOTS[0]))
    assert repr(reading) == "<Reading 2 lines, 0 corrections>"


@pytest.mark.parametrize("turn", [180, 90, 270])
def test_a_photo_upside_down_or_on_its_side_without_exif_is_read(turn):
    specimen = passport()
    photo = Image.open(io.BytesIO(photo_of(specimen, SHOTS[1])))
    out = io.BytesIO()
    photo.rotate(turn, expand=True).save(out, "JPEG", quality=90)
    assert read_mrz(out.getvalue()).lines == tuple(specimen.lines())


# --- corrections by field type and check digit ------------------------------------------------------------------

GOOD = passport().lines()


def test_a_letter_misread_among_digits_is_corrected_when_the_check_digit_confirms_it():
    misread = GOOD[1][:29] + "S" + GOOD[1][30:]  # 8507099805 read as 8S07099805
    assert repair([GOOD[0], misread]) == (GOOD, 1)
    misread = GOOD[1][:2] + "I" + GOOD[1][3:]  # AA1234567 read as AAI234567
    assert repair([GOOD[0], misread]) == (GOOD, 1)


def test_letters_in_dates_and_digits_in_names_are_what_the_field_allows():
    misread = [GOOD[0].replace("OEBERG", "0EBERG"), GOOD[1][:13] + "B5O7O99" + GOOD[1][20:]]
    assert repair(misread) == (GOOD, 4)


def test_a_wrong_check_digit_is_never_corrected_by_changing_the_number():
    printed = passport(broken="document_number").lines()  # AA1234567 with a wrong check digit
    assert repair(printed) == (printed, 0)
    printed = passport(broken="personal_number").lines()
    assert repair(printed) == (printed, 0)

