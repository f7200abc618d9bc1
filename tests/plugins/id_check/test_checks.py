"""MRZ check digits, expiry, name, birth date and Swedish personal number: each verdict names the failed check."""

from __future__ import annotations

from datetime import date

import pytest

from core.i18n import force_locale
from plugins.id_check.checks import Check, DocumentFields, Outcome, Person, check_document_fields, check_mrz
from plugins.id_check.mrz import MRZFormatError, check_digit, parse_mrz
from tests.plugins.id_check.specimens import ANNA, ERIK, TODAY, id_card, passport

ANNA_PARTY = Person(ANNA["party"], ANNA["personal_number"])
ICAO_PASSPORT = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
ICAO_ID_CARD = ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]


def test_check_digits_of_the_icao_specimens():
    assert check_digit("L898902C3") == "6" and check_digit("740812") == "2" and check_digit("ZE184226B<<<<<") == "1"
    for lines in (ICAO_PASSPORT, ICAO_ID_CARD):
        assert parse_mrz(lines).failed_digits() == []


def test_the_icao_passport_of_anna_eriksson_on_the_day_before_it_expired():
    verdict = check_mrz("\n".join(ICAO_PASSPORT), Person("Anna Eriksson", birth_date=date(1974, 8, 12)),
                        today=date(2012, 4, 15))
    assert verdict.passed, verdict.failed
    assert verdict.outcome(Check.PERSONAL_NUMBER) is Outcome.NOT_APPLICABLE  # not a Swedish document
    assert verdict.document.kind == "passport" and verdict.document.issuing_state == "UTO"
    assert verdict.document.number_last4 == "02C3" and verdict.document.expiry == date(2012, 4, 15)
    expired = check_mrz(ICAO_PASSPORT, Person("Anna Eriksson"), today=date(2012, 4, 16))
    assert expired.failed == (Check.NOT_EXPIRED,)
    assert expired.outcome(Check.BIRTH_DATE) is Outcome.NOT_APPLICABLE  # no birth date known for this party


@pytest.mark.parametrize("make", [passport, id_card], ids=["passport", "id_card"])
def test_a_good_swedish_document_passes_every_check(make):
    verdict = check_mrz(make().lines(), ANNA_PARTY, TODAY)
    assert verdict.passed, verdict.failed
    checks = dict(verdict.outcomes)
    assert checks[Check.PERSONAL_NUMBER] is Outcome.PASSED and checks[Check.PERSONAL_NUMBER_DIGIT] is Outcome.PASSED
    assert checks[Check.BIRTH_DATE] is Outcome.PASSED and checks[Check.NAME] is Outcome.PASSED
    assert (Check.OPTIONAL_DATA_DIGIT in checks) == (make is passport)  # TD1 has no such digit


BROKEN = [("document_number", Check.DOCUMENT_NUMBER_DIGIT), ("birth_date", Check.BIRTH_DATE_DIGIT),
          ("expiry_date", Check.EXPIRY_DATE_DIGIT), ("composite", Check.COMPOSITE_DIGIT),
          ("personal_number", Check.PERSONAL_NUMBER_DIGIT)]


@pytest.mark.parametrize(("broken", "check"), BROKEN + [("optional_data", Check.OPTIONAL_DATA_DIGIT)])
def test_a_wrong_check_digit_on_a_passport_names_exactly_that_check(broken, check):
    verdict = check_mrz(passport(broken=broken).lines(), ANNA_PARTY, TODAY)
    assert verdict.failed == expected(broken, check)


def expected(broken: str, check: Check) -> tuple[Check, ...]:
    """A wrong Luhn digit (the MRZ's digits agree with it) also makes the number another person's."""
    return (check, Check.PERSONAL_NUMBER) if broken == "personal_number" else (check,)


@pytest.mark.parametrize(("broken", "check"), BROKEN)
def test_a_wrong_check_digit_on_an_id_card_names_exactly_that_check(broken, check):
    verdict = check_mrz(id_card(broken=broken).lines(), ANNA_PARTY, TODAY)
    assert verdict.failed == expected(broken, check)


@pytest.mark.parametrize("make", [passport, id_card], ids=["passport", "id_card"])
def test_another_persons_document(make):
    erik = Person(ERIK["party"], ERIK["personal_number"])
    assert check_mrz(make().lines(), erik, TODAY).failed == (Check.NAME, Check.BIRTH_DATE, Check.PERSONAL_NUMBER)
    # Same name and birthday, another personal number: only the number tells them apart.
    twin = Person(ANNA["party"], "198507099813")
    assert check_mrz(make().lines(), twin, TODAY).failed == (Check.PERSONAL_NUMBER,)
    # A party without a personal number: the birth date is not known either.
    verdict = check_mrz(make().lines(), Person(ANNA["party"]), TODAY)
    assert verdict.passed
    assert verdict.outcome(Check.PERSONAL_NUMBER) is verdict.outcome(Check.BIRTH_DATE) is Outcome.NOT_APPLICABLE


def test_an_expired_id_card_and_one_expiring_today():
    assert check_mrz(id_card(expiry="260503").lines(), ANNA_PARTY, TODAY).failed == (Check.NOT_EXPIRED,)
    assert check_mrz(id_card(expiry="260504").lines(), ANNA_PARTY, TODAY).passed


def test_a_swedish_document_without_a_personal_number_fails_that_check():
    verdict = check_mrz(passport(personal_number="").lines(), ANNA_PARTY, TODAY)
    assert verdict.failed == (Check.PERSONAL_NUMBER_DIGIT, Check.PERSONAL_NUMBER)


def test_a_foreign_passport_has_no_personal_number_checks():
    verdict = check_mrz(passport(state="NOR", personal_number="").lines(), ANNA_PARTY, TODAY)
    assert verdict.passed
    assert verdict.outcome(Check.PERSONAL_NUMBER_DIGIT) is Outcome.NOT_APPLICABLE


def test_a_long_td1_document_number_continues_in_the_optional_data():
    number = "D23145890"
    extension = "7"  # the number is D231458907, its check digit follows the extension
    line1 = f"I<UTO{number}<{extension}{check_digit(number + extension)}".ljust(30, "<")
    line2 = "7408122F1204159UTO<<<<<<<<<<<"
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    mrz = parse_mrz([line1, line2, "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"])
    assert mrz.document_number == "D231458907" and mrz.failed_digits() == []


def test_typed_in_mrz_is_forgiving_about_case_spaces_and_line_breaks():
    lines = passport().lines()
    typed = f"  {lines[0].lower()[:20]} {lines[0].lower()[20:]}\n\n{lines[1]}  "
    assert check_mrz(typed, ANNA_PARTY, TODAY).passed
    assert check_mrz("".join(id_card().lines()), ANNA_PARTY, TODAY).passed  # one run of 90 characters
    assert check_mrz(lines[0].replace("<", "«") + "\n" + lines[1], ANNA_PARTY, TODAY).passed


@pytest.mark.parametrize("text", ["", "P<SWE", "\n".join(ICAO_PASSPORT)[:-1], ICAO_PASSPORT[0] + "\n" + "L898902C3-"
                                  + ICAO_PASSPORT[1][10:], ICAO_PASSPORT[0] + "\n" + ICAO_PASSPORT[1].replace("740812",
                                                                                                           "741332")])
def test_text_that_is_no_mrz_fails_the_format_check(text):
    verdict = check_mrz(text, ANNA_PARTY, TODAY)
    assert verdict.failed == (Check.FORMAT,) and verdict.document is None and not verdict.passed
    with pytest.raises(MRZFormatError):
        parse_mrz(text)


def test_the_parsed_mrz_never_shows_its_lines_or_number():
    mrz = parse_mrz(passport().lines())
    assert repr(mrz) == "<MRZ TD3 SWE …4567>" and str(mrz) == repr(mrz)


def test_reasons_in_english_and_swedish(app):
    verdict = check_mrz(passport(broken="birth_date").lines(), ANNA_PARTY, TODAY)
    with app.test_request_context("/"):
        with force_locale("en"):
            assert verdict.reasons() == ["The date of birth does not agree with its check digit."]
        with force_locale("sv"):
            assert verdict.reasons() == ["Födelsedatumet stämmer inte med sin kontrollsiffra."]


def test_the_evidence_holds_no_full_document_number():
    verdict = check_mrz(passport().lines(), ANNA_PARTY, TODAY)
    evidence = verdict.as_evidence()
    assert evidence["document"] == {"kind": "passport", "issuing_state": "SWE", "number_last4": "4567",
                                    "expiry": "2031-01-15"}
    assert evidence["checks"]["personal_number"] == "passed"
    assert "AA1234567" not in str(evidence) and "8507099805" not in str(evidence)


# --- a driving licence: no MRZ, its fields typed in ------------------------------------------------------------


def licence(**changes) -> DocumentFields:
    fields = {"kind": "driving_licence", "issuing_state": "swe", "number": "12345678", "surname": "Öberg Åström",
              "given_names": "Anna-Karin Maria", "birth_date": date(1985, 7, 9), "expiry": date(2030, 1, 1)}
    return DocumentFields(**(fields | changes))


def test_a_driving_licence_gets_the_name_birth_date_and_expiry_checks():
    verdict = check_document_fields(licence(), ANNA_PARTY, TODAY)
    assert verdict.passed
    assert [check for check, _ in verdict.outcomes] == [Check.NOT_EXPIRED, Check.NAME, Check.BIRTH_DATE]
    assert verdict.document.kind == "driving_licence" and verdict.document.issuing_state == "SWE"
    assert verdict.document.number_last4 == "5678"
    plain = check_document_fields(licence(surname="Oberg Astrom"), ANNA_PARTY, TODAY)
    assert plain.passed  # typed without the Swedish letters


def test_a_driving_licence_that_is_not_the_partys():
    assert check_document_fields(licence(expiry=date(2026, 5, 3)), ANNA_PARTY, TODAY).failed == (Check.NOT_EXPIRED,)
    assert check_document_fields(licence(surname="Lind"), ANNA_PARTY, TODAY).failed == (Check.NAME,)
    assert check_document_fields(licence(birth_date=date(1985, 7, 8)), ANNA_PARTY, TODAY).failed == (Check.BIRTH_DATE,)


def test_a_personal_number_typed_from_a_driving_licence_is_checked_too():
    assert check_document_fields(licence(personal_number="850709-9805"), ANNA_PARTY, TODAY).passed
    assert check_document_fields(licence(personal_number="850709-9806"), ANNA_PARTY, TODAY).failed == (
        Check.PERSONAL_NUMBER_DIGIT, Check.PERSONAL_NUMBER)
