"""Text fits its box: it shrinks to a minimum, then wraps, and is never cut."""

import pytest

from core.fields.drawing import MAX_SIZE, MIN_SIZE, fit_text, missing_characters

LONG = "Hyresgästen Åsa Öberg förbinder sig att betala hyran i förskott den sista vardagen varje månad"


def test_short_text_keeps_the_largest_size_on_one_line():
    layout = fit_text("Åsa Öberg", 200, 20)
    assert layout.lines == ("Åsa Öberg",) and layout.size == pytest.approx(min(MAX_SIZE, (20 - 3) / 1.18), abs=0.01)


def test_a_little_too_long_shrinks_on_one_line():
    layout = fit_text("Åsa Öberg, Storgatan 1, 903 26 Umeå", 150, 14)
    assert len(layout.lines) == 1 and MIN_SIZE <= layout.size < MAX_SIZE


def test_much_too_long_wraps_at_a_readable_size_and_keeps_every_word():
    layout = fit_text(LONG, 150, 60)
    assert len(layout.lines) > 1 and layout.size >= MIN_SIZE
    assert " ".join(layout.lines) == LONG


def test_a_word_longer_than_the_box_is_broken_not_cut():
    word = "Lägenhetsnummer1234567890ABCDEFGHIJ"
    layout = fit_text(word, 60, 60, multiline=True)
    assert "".join(layout.lines) == word


def test_text_that_cannot_fit_is_said_so():
    assert fit_text(LONG, 60, 12) is None


def test_multiline_keeps_the_lines_given():
    layout = fit_text("Rad ett\nRad två", 200, 60, multiline=True)
    assert layout.lines[:2] == ("Rad ett", "Rad två")


def test_characters_the_font_lacks_are_named():
    assert missing_characters("Åäö ÆØ ß Ж 中") == ["中"]
