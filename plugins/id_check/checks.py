"""Check an ID document against a party: the verdict says which check passed and which failed.

Three ways in, one set of checks:
* `check_mrz(text, person, today)`: MRZ lines, read by OCR (`plugins.id_check.ocr`) or typed in by
  the officer when the photo cannot be read;
* `check_document_fields(fields, person, today)`: a document without an MRZ (a Swedish driving
  licence), its fields typed in.

The checks, in the order a person reads them (`Check`): the MRZ's format and every check digit,
expiry against `today`, the name (`plugins.id_check.names`), the date of birth and, for Swedish
documents, the personal identity number carried in the optional data: its Luhn digit and that
it is the party's. A check that does not apply (no personal number for a foreign passport, no
birth date known for the party) is `not_applicable`, never passed.

A `Verdict` holds only what the evidence may keep (document kind, issuing state, the last four
characters of the number, expiry, the outcomes); `reasons()` gives each failure as a sentence in
the current language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from core.i18n import _l
from core.personal_numbers import luhn_ok, normalise_personal_number
from plugins.id_check.mrz import FILLER, MRZ, MRZFormatError, parse_mrz
from plugins.id_check.names import document_spellings, names_match


class Check(StrEnum):
    FORMAT = "format"
    DOCUMENT_NUMBER_DIGIT = "document_number_digit"
    BIRTH_DATE_DIGIT = "birth_date_digit"
    EXPIRY_DATE_DIGIT = "expiry_date_digit"
    OPTIONAL_DATA_DIGIT = "optional_data_digit"
    COMPOSITE_DIGIT = "composite_digit"
    NOT_EXPIRED = "not_expired"
    NAME = "name"
    BIRTH_DATE = "birth_date"
    PERSONAL_NUMBER_DIGIT = "personal_number_digit"
    PERSONAL_NUMBER = "personal_number"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"


MESSAGES = {
    Check.FORMAT: _l("The machine-readable zone is not complete or not in a known format. Check the lines "
                     "character by character, or take a new photo."),
    Check.DOCUMENT_NUMBER_DIGIT: _l("The document number does not agree with its check digit."),
    Check.BIRTH_DATE_DIGIT: _l("The date of birth does not agree with its check digit."),
    Check.EXPIRY_DATE_DIGIT: _l("The expiry date does not agree with its check digit."),
    Check.OPTIONAL_DATA_DIGIT: _l("The personal number field does not agree with its check digit."),
    Check.COMPOSITE_DIGIT: _l("The machine-readable zone does not agree with its final check digit."),
    Check.NOT_EXPIRED: _l("The document has expired."),
    Check.NAME: _l("The name on the document is not the party's name."),
    Check.BIRTH_DATE: _l("The date of birth on the document is not the party's."),
    Check.PERSONAL_NUMBER_DIGIT: _l("The personal identity number on the document has a wrong check digit."),
    Check.PERSONAL_NUMBER: _l("The personal identity number on the document is not the party's."),
}
_DIGIT_CHECKS = {"document_number": Check.DOCUMENT_NUMBER_DIGIT, "birth_date": Check.BIRTH_DATE_DIGIT,
                 "expiry_date": Check.EXPIRY_DATE_DIGIT, "optional_data": Check.OPTIONAL_DATA_DIGIT,
                 "composite": Check.COMPOSITE_DIGIT}
_SWEDISH_NUMBER = re.compile(r"(?<![0-9])([0-9]{6})<?([0-9]{4})(?![0-9])")


@dataclass(frozen=True)
class Person:
    """Whom the document must belong to: the party's name, personal number (12 digits, optional)
    and birth date (taken from the personal number when not given)."""

    name: str
    personal_number: str | None = None
    birth_date: date | None = None

    def known_birth_date(self) -> date | None:
        if self.birth_date or not self.personal_number:
            return self.birth_date
        digits = self.personal_number_digits()
        if digits is None:
            return None
        day = int(digits[6:8])
        return date(int(digits[:4]), int(digits[4:6]), day - 60 if day > 60 else day)  # coordination numbers

    def personal_number_digits(self) -> str | None:
        try:
            return normalise_personal_number(self.personal_number or "")
        except ValueError:
            return None


@dataclass(frozen=True)
class DocumentSummary:
    """What the evidence and the receipt may hold about the document: never the full number."""

    kind: str  # passport, id_card, visa, driving_licence
    issuing_state: str
    number_last4: str
    expiry: date | None


@dataclass(frozen=True)
class Verdict:
    document: DocumentSummary | None
    outcomes: tuple[tuple[Check, Outcome], ...]

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and not self.failed

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(check for check, outcome in self.outcomes if outcome is Outcome.FAILED)

    def outcome(self, check: Check) -> Outcome | None:
        return dict(self.outcomes).get(check)

    def reasons(self) -> list[str]:
        """Each failed check as a sentence in the current language."""
        return [str(MESSAGES[check]) for check in self.failed]

    def as_evidence(self) -> dict:
        """JSON for the case's event chain."""
        document = self.document
        summary = None if document is None else {
            "kind": document.kind, "issuing_state": document.issuing_state, "number_last4": document.number_last4,
            "expiry": document.expiry.isoformat() if document.expiry else None}
        return {"document": summary, "checks": {check.value: outcome.value for check, outcome in self.outcomes}}


@dataclass(frozen=True)
class DocumentFields:
    """A document without an MRZ, typed in by the officer (a driving licence)."""

    kind: str
    issuing_state: str
    number: str
    surname: str
    given_names: str
    birth_date: date
    expiry: date
    personal_number: str | None = None


def _outcome(ok: bool | None) -> Outcome:
    return Outcome.NOT_APPLICABLE if ok is None else Outcome.PASSED if ok else Outcome.FAILED


def check_mrz(text: str | list[str], person: Person, today: date) -> Verdict:
    """Parse and check MRZ lines (from OCR or typed in) against `person` on the day `today`."""
    try:
        mrz = parse_mrz(text)
    except MRZFormatError:
        return Verdict(None, ((Check.FORMAT, Outcome.FAILED),))
    return check_parsed_mrz(mrz, person, today)


def check_parsed_mrz(mrz: MRZ, person: Person, today: date) -> Verdict:
    digits = [(_DIGIT_CHECKS[c.field], _outcome(c.ok)) for c in mrz.checks]
    expiry = mrz.expiry_date(today)
    summary = DocumentSummary(mrz.document_kind, mrz.issuing_state, mrz.document_number[-4:], expiry)
    swedish = mrz.issuing_state == "SWE"
    found = _personal_number_in(mrz) if swedish else None
    outcomes = [
        (Check.FORMAT, Outcome.PASSED), *digits,
        (Check.NOT_EXPIRED, _outcome(expiry >= today)),
        (Check.NAME, _outcome(names_match(mrz.surname, mrz.given_names, person.name, mrz.name_truncated))),
        (Check.BIRTH_DATE, _birth_date_outcome(mrz.birth_date(today), person)),
        (Check.PERSONAL_NUMBER_DIGIT, _outcome(None if not swedish else found is not None and luhn_ok(found))),
        (Check.PERSONAL_NUMBER, _personal_number_outcome(found, mrz.birth_date(today), person) if swedish
         else Outcome.NOT_APPLICABLE),
    ]
    return Verdict(summary, tuple(outcomes))


def check_document_fields(fields: DocumentFields, person: Person, today: date) -> Verdict:
    """The checks that apply to a document without an MRZ: expiry, name, date of birth, and the
    personal number when one was typed in."""
    summary = DocumentSummary(fields.kind, fields.issuing_state.upper(), fields.number.strip()[-4:], fields.expiry)
    name_ok = any(names_match(surname, given, person.name)
                  for surname, given in zip(document_spellings(fields.surname),
                                            document_spellings(fields.given_names), strict=True))
    found = re.sub(r"\D", "", fields.personal_number or "")[-10:] or None
    outcomes = [
        (Check.NOT_EXPIRED, _outcome(fields.expiry >= today)),
        (Check.NAME, _outcome(name_ok)),
        (Check.BIRTH_DATE, _birth_date_outcome(fields.birth_date, person)),
    ]
    if found:
        outcomes += [(Check.PERSONAL_NUMBER_DIGIT, _outcome(len(found) == 10 and luhn_ok(found))),
                     (Check.PERSONAL_NUMBER, _personal_number_outcome(found, fields.birth_date, person))]
    return Verdict(summary, tuple(outcomes))


def _birth_date_outcome(on_document: date, person: Person) -> Outcome:
    known = person.known_birth_date()
    return Outcome.NOT_APPLICABLE if known is None else _outcome(on_document == known)


def _personal_number_in(mrz: MRZ) -> str | None:
    """The ten digits YYMMDDNNNC a Swedish passport or ID card carries in its optional data."""
    for data in mrz.optional_data:
        match = _SWEDISH_NUMBER.search(data.strip(FILLER))
        if match:
            return match.group(1) + match.group(2)
    return None


def _personal_number_outcome(found: str | None, birth_date: date, person: Person) -> Outcome:
    """The document's number (10 digits) is the party's (12 digits, whose century the document's
    birth date confirms). A Swedish document without a number fails: it always carries one."""
    party = person.personal_number_digits()
    if party is None:
        return Outcome.NOT_APPLICABLE
    return _outcome(found is not None and party[2:] == found and party[:2] == f"{birth_date.year // 100:02d}")
