"""Name matching between a party (as the officer typed the name) and the MRZ's transliterated name."""

from __future__ import annotations

import pytest

from plugins.id_check.names import document_spellings, names_match, spellings


def test_it_spells_swedish_letters_the_icao_way_and_the_plain_way():
    assert spellings("Åsa") == {"AASA", "ASA"}
    assert spellings("Björk") == {"BJOERK", "BJORK"}
    assert spellings("Hägg") == {"HAEGG", "HAGG"}
    assert spellings("Renée") == {"RENEE"}
    assert spellings("O'Brien") == {"OBRIEN"}


@pytest.mark.parametrize(("surname", "given", "party"), [
    (["OEBERG"], ["ANNA"], "Anna Öberg"),  # ICAO: Ö -> OE
    (["OBERG"], ["ANNA"], "Anna Öberg"),  # the diacritic dropped
    (["AASTROEM"], ["AASA"], "Åsa Åström"),
    (["ASTROM"], ["ASA"], "åsa åström"),  # case does not matter
    (["ERIKSSON"], ["ANNA", "MARIA"], "Anna Eriksson"),  # the officer typed one of the given names
    (["ERIKSSON"], ["ANNA", "MARIA"], "Maria Eriksson"),
    (["ERIKSSON"], ["ANNA", "MARIA"], "Eriksson, Anna Maria"),  # surname first
    (["ERIKSSON"], ["KARL", "JOHAN"], "Karl-Johan Eriksson"),  # a hyphen is a filler in the MRZ
    (["ERIKSSON"], ["KARLJOHAN"], "Karl-Johan Eriksson"),  # ... or run together
    (["OEBERG", "AASTROEM"], ["ANNA", "KARIN"], "Anna-Karin Öberg Åström"),  # two surnames
    (["LINDQVIST", "HAEGG"], ["PER"], "Per Lindqvist-Hägg"),
    (["OBRIEN"], ["SEAN"], "Seán O'Brien"),
])
def test_it_accepts_the_same_name_written_as_documents_write_it(surname, given, party):
    assert names_match(surname, given, party)


@pytest.mark.parametrize(("surname", "given", "party"), [
    (["ERIKSSON"], ["ANNA"], "Anna Svensson"),  # another surname
    (["ERIKSSON"], ["ANNA"], "Maria Eriksson"),  # another given name
    (["ERIKSSON"], ["ANNA", "MARIA"], "Eriksson"),  # no given name of the document
    (["OEBERG", "AASTROEM"], ["ANNA"], "Anna Öberg"),  # half of a double surname
    (["ERIKSSON"], ["ANNA"], "Anna Maria Eriksson"),  # the party has a name the document lacks
    (["OEBERG"], ["ANNA"], "Anna Oeberg Lind"),
    (["ERIKSSON"], ["ANNA"], "Anna Erikson"),  # one letter off is another name
    (["ERIKSSON"], ["ANNA"], "   "),
    ([], [], "Anna Eriksson"),
])
def test_it_refuses_a_different_name(surname, given, party):
    assert not names_match(surname, given, party)


def test_a_truncated_name_field_matches_the_beginning_of_a_name():
    # 9303 cuts long names: the field ends on a letter, not a filler.
    assert names_match(["WOLFESCHLEGELSTEINHAUSEN"], ["HUBERT", "BLAI"], "Hubert Blaine Wolfeschlegelsteinhausen",
                       truncated=True)
    assert names_match(["WOLFESCHLEGELSTEINHAUSEN"], ["HUBERT"], "Hubert Blaine Wolfeschlegelsteinhausen",
                       truncated=True)  # a given name with no room left
    assert not names_match(["WOLFESCHLEGELSTEINHAUSEN"], ["HUBERT", "BLAI"], "Hubert Blaine Wolfeschlegelsteinhausen")
    assert not names_match(["WOLFESCHLEGELSTEINHAUSEN"], ["HUBERT", "BLAI"], "Hubert Bernt Wolfeschlegelsteinhausen",
                           truncated=True)


def test_a_typed_in_document_name_is_spelled_both_ways():
    assert document_spellings("Öberg-Åström") == [("OEBERG", "AASTROEM"), ("OBERG", "ASTROM")]
