"""Logs never hold MRZ text, document numbers or personal numbers (in the style of
tests/test_no_secrets_in_logs.py): everything logged at DEBUG while a photo is measured, read and
checked, a bad photo and a typed-in MRZ included, is searched for the document's values."""

from __future__ import annotations

import logging

import pytest

from plugins.id_check.capture import measure
from plugins.id_check.checks import Person, check_mrz
from plugins.id_check.mrz import parse_mrz
from plugins.id_check.ocr import read_mrz
from tests.plugins.id_check.images import RETAKES, SHOTS, photo_of
from tests.plugins.id_check.specimens import ANNA, TODAY, id_card, passport
from tests.test_no_secrets_in_logs import Capture, assert_not_logged


@pytest.fixture
def logs():
    root = logging.getLogger()
    capture = Capture()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture)
    root.setLevel(level)


def test_reading_and_checking_log_no_mrz_text_or_numbers(logs):
    party = Person(ANNA["party"], ANNA["personal_number"])
    secrets = {}
    for specimen in (passport(), id_card(broken="birth_date")):
        lines = specimen.lines()
        secrets |= {f"{specimen.format} line {i}": line for i, line in enumerate(lines)}
        secrets[f"{specimen.format} document number"] = specimen.number
        secrets[f"{specimen.format} personal number"] = specimen.personal_number
        reading = read_mrz(photo_of(specimen, SHOTS[1]))
        logging.getLogger("plugins.id_check").info("read %r, parsed %r", reading, parse_mrz(list(reading.lines)))
        check_mrz(list(reading.lines), party, TODAY)
        check_mrz("\n".join(lines).lower(), party, TODAY)  # typed in
        measure(photo_of(specimen, RETAKES["blurred"]))
        read_mrz(photo_of(specimen, RETAKES["blurred"]))
    secrets["the party's personal number"] = ANNA["personal_number"]
    assert "MRZ read: 2 lines" in logs.text and "MRZ read: 3 lines" in logs.text  # the reader's own log was captured
    assert_not_logged(logs, secrets)
    assert_not_logged(logs, {f"{name} without fillers": value.replace("<", "") for name, value in secrets.items()
                             if "line" in name})
