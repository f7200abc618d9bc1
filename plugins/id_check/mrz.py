"""The machine-readable zone (MRZ) of travel documents, ICAO Doc 9303 parts 3-6: parse and check digits.

Formats: TD3 (passports, 2 lines of 44), TD1 (ID cards such as the Swedish national ID card,
3 lines of 30) and TD2 (2 lines of 36). `parse_mrz` takes the lines as OCR or an officer gives
them and returns an `MRZ` whose `digit_checks()` say which check digit holds. It raises
`MRZFormatError` for text that is no MRZ at all (wrong line count, length or characters, dates
that do not exist). Personal data: an `MRZ` never shows its number or lines in `repr`, so a
stray log line or traceback cannot carry them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

FILLER = "<"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
_WEIGHTS = (7, 3, 1)
_LINE = re.compile(r"[0-9A-Z<]+")
# Lines per format and their length.
FORMATS = {"TD1": (3, 30), "TD2": (2, 36), "TD3": (2, 44)}


class MRZFormatError(ValueError):
    """The text is not a machine-readable zone of a known format."""


def char_value(char: str) -> int:
    """0-9 are their value, A-Z 10-35, the filler 0 (9303 part 3, 4.9)."""
    if char.isdigit():
        return int(char)
    if char == FILLER:
        return 0
    return ord(char) - ord("A") + 10


def check_digit(data: str) -> str:
    """The check digit over `data`: weights 7, 3, 1 repeating, sum modulo 10."""
    return str(sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)


def normalise_lines(text: str) -> list[str]:
    """The MRZ's lines from typed or OCR text: upper case, no spaces, '«' as filler. One unbroken
    run of 90, 72 or 88 characters is cut into its lines."""
    cleaned = text.upper().replace("«", FILLER)
    lines = ["".join(line.split()) for line in cleaned.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) == 1:
        for count, length in FORMATS.values():
            if len(lines[0]) == count * length:
                return [lines[0][i * length:(i + 1) * length] for i in range(count)]
    return lines


def format_of(lines: list[str]) -> str:
    for name, (count, length) in FORMATS.items():
        if len(lines) == count and all(len(line) == length for line in lines):
            return name
    raise MRZFormatError("no MRZ format has these line lengths")


@dataclass(frozen=True)
class DigitCheck:
    """One check digit: the field it protects, and whether it holds."""

    field: str  # document_number, birth_date, expiry_date, optional_data, composite
    ok: bool


@dataclass(frozen=True, repr=False)
class MRZ:
    """A parsed machine-readable zone. Dates stay YYMMDD strings here; `birth_date()` and
    `expiry_date()` resolve the century."""

    format: str
    lines: tuple[str, ...]
    document_code: str
    issuing_state: str
    document_number: str
    birth_date_text: str
    sex: str
    expiry_date_text: str
    nationality: str
    surname: tuple[str, ...]
    given_names: tuple[str, ...]
    optional_data: tuple[str, ...]
    name_truncated: bool
    checks: tuple[DigitCheck, ...] = field(default=())

    def __repr__(self) -> str:
        return f"<MRZ {self.format} {self.issuing_state} …{self.document_number[-4:]}>"

    @property
    def document_kind(self) -> str:
        """passport, id_card or visa, from the first letter of the document code (9303 part 4-6)."""
        return {"P": "passport", "V": "visa"}.get(self.document_code[:1], "id_card")

    def birth_date(self, today: date) -> date:
        """The birth date; a two-digit year is in the past (a newborn's passport is 2026 not 1926)."""
        return _resolve(self.birth_date_text, today, past=True)

    def expiry_date(self, today: date) -> date:
        return _resolve(self.expiry_date_text, today, past=False)

    def failed_digits(self) -> list[str]:
        return [c.field for c in self.checks if not c.ok]


def _resolve(yymmdd: str, today: date, past: bool) -> date:
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    century = today.year // 100 * 100
    year = century + yy
    if past and year > today.year:
        year -= 100
    elif not past and year < today.year - 50:  # an expiry is never half a century ago
        year += 100
    return date(year, month, day)


def _valid_date(yymmdd: str) -> bool:
    if not yymmdd.isdigit():
        return False
    try:
        date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        try:  # 29 February of a year that is a leap year only in the other century (1900, 2100)
            date(1904, int(yymmdd[2:4]), int(yymmdd[4:6]))
        except ValueError:
            return False
    return True


def split_name(field_text: str) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """SURNAME<<GIVEN<NAMES<<< -> (surname words, given-name words, truncated?).

    A field filled to its last position may have been cut short (9303 part 3, 4.6: names that do
    not fit are truncated), so its last word may be only the beginning of a name."""
    truncated = not field_text.endswith(FILLER)
    body = field_text.rstrip(FILLER)
    surname, _, given = body.partition(FILLER * 2)
    words = lambda text: tuple(w for w in text.split(FILLER) if w)  # noqa: E731
    return words(surname), words(given), truncated


def _digit(field_name: str, data: str, digit: str, optional: bool = False) -> DigitCheck:
    if optional and digit == FILLER and set(data) <= {FILLER}:
        return DigitCheck(field_name, True)  # an unused optional field may have a filler as its check digit
    return DigitCheck(field_name, digit == check_digit(data))


def _document_number(number_field: str, digit: str, overflow: str) -> tuple[str, str, str]:
    """(number, the data its check digit covers, the check digit). A TD1/TD2 number longer than 9
    characters continues in the optional data: its check character is then a filler, and the
    extension's last character before the next filler is the check digit (9303 part 5, note j)."""
    if digit == FILLER and overflow and overflow[0] != FILLER:
        extension = overflow.split(FILLER, 1)[0]
        number = number_field + extension[:-1]
        return number, number, extension[-1]
    return number_field.rstrip(FILLER), number_field, digit


def parse_mrz(text: str | list[str]) -> MRZ:
    """Parse an MRZ from text (lines separated by newlines) or a list of lines."""
    lines = normalise_lines("\n".join(text) if isinstance(text, list) else text)
    kind = format_of(lines)
    if not all(_LINE.fullmatch(line) for line in lines):
        raise MRZFormatError("characters outside A-Z, 0-9 and <")
    parsed = _PARSERS[kind](lines)
    if not (_valid_date(parsed.birth_date_text) and _valid_date(parsed.expiry_date_text)):
        raise MRZFormatError("a date that does not exist")
    return parsed


def _parse_td3(lines: list[str]) -> MRZ:
    one, two = lines
    surname, given, truncated = split_name(one[5:44])
    return MRZ(
        format="TD3", lines=tuple(lines), document_code=one[0:2].rstrip(FILLER), issuing_state=one[2:5].rstrip(FILLER),
        document_number=two[0:9].rstrip(FILLER), birth_date_text=two[13:19], sex=two[20],
        expiry_date_text=two[21:27], nationality=two[10:13].rstrip(FILLER), surname=surname, given_names=given,
        optional_data=(two[28:42],), name_truncated=truncated,
        checks=(
            _digit("document_number", two[0:9], two[9]),
            _digit("birth_date", two[13:19], two[19]),
            _digit("expiry_date", two[21:27], two[27]),
            _digit("optional_data", two[28:42], two[42], optional=True),
            _digit("composite", two[0:10] + two[13:20] + two[21:43], two[43]),
        ),
    )


def _parse_td1(lines: list[str]) -> MRZ:
    one, two, three = lines
    number, number_data, number_digit = _document_number(one[5:14], one[14], one[15:30])
    surname, given, truncated = split_name(three)
    return MRZ(
        format="TD1", lines=tuple(lines), document_code=one[0:2].rstrip(FILLER), issuing_state=one[2:5].rstrip(FILLER),
        document_number=number, birth_date_text=two[0:6], sex=two[7], expiry_date_text=two[8:14],
        nationality=two[15:18].rstrip(FILLER), surname=surname, given_names=given,
        optional_data=(one[15:30], two[18:29]), name_truncated=truncated,
        checks=(
            _digit("document_number", number_data, number_digit),
            _digit("birth_date", two[0:6], two[6]),
            _digit("expiry_date", two[8:14], two[14]),
            _digit("composite", one[5:30] + two[0:7] + two[8:15] + two[18:29], two[29]),
        ),
    )


def _parse_td2(lines: list[str]) -> MRZ:
    one, two = lines
    number, number_data, number_digit = _document_number(two[0:9], two[9], two[28:35])
    surname, given, truncated = split_name(one[5:36])
    return MRZ(
        format="TD2", lines=tuple(lines), document_code=one[0:2].rstrip(FILLER), issuing_state=one[2:5].rstrip(FILLER),
        document_number=number, birth_date_text=two[13:19], sex=two[20], expiry_date_text=two[21:27],
        nationality=two[10:13].rstrip(FILLER), surname=surname, given_names=given, optional_data=(two[28:35],),
        name_truncated=truncated,
        checks=(
            _digit("document_number", number_data, number_digit),
            _digit("birth_date", two[13:19], two[19]),
            _digit("expiry_date", two[21:27], two[27]),
            _digit("composite", two[0:10] + two[13:20] + two[21:35], two[35]),
        ),
    )


_PARSERS = {"TD1": _parse_td1, "TD2": _parse_td2, "TD3": _parse_td3}
