"""Specimen ID documents for the tests and the bench: MRZ lines with right or deliberately wrong
check digits, and (see `images`) pictures of passport and ID-card data pages as a phone takes them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from plugins.id_check.mrz import FILLER, check_digit

# The personal numbers are the Swedish Tax Agency's test numbers' shape: valid Luhn digits, made-up people.
ANNA = {"surname": "ÖBERG ÅSTRÖM", "given": "ANNA-KARIN MARIA", "party": "Anna-Karin Öberg Åström",
        "personal_number": "198507099805", "sex": "F"}
ERIK = {"surname": "ERIKSSON", "given": "ERIK JOHAN", "party": "Erik Eriksson", "personal_number": "196408233234",
        "sex": "M"}
TODAY = date(2026, 5, 4)


@dataclass(frozen=True)
class Specimen:
    """The data of one document; `lines()` writes its MRZ, `broken` names the check digit to get wrong."""

    format: str  # TD3 or TD1 (or TD2)
    surname: str
    given: str
    number: str
    birth: str  # YYMMDD
    expiry: str  # YYMMDD
    sex: str = "F"
    state: str = "SWE"
    personal_number: str = ""  # 10 digits in the optional data of Swedish documents
    broken: str = ""  # document_number, birth_date, expiry_date, optional_data, composite, personal_number

    def with_(self, **changes) -> Specimen:
        return replace(self, **changes)

    def lines(self) -> list[str]:
        return {"TD3": self._td3, "TD1": self._td1, "TD2": self._td2}[self.format]()

    def _digit(self, field: str, data: str) -> str:
        right = check_digit(data)
        return str((int(right) + 1) % 10) if self.broken == field else right

    def _number_in_optional(self) -> str:
        number = self.personal_number
        if number and self.broken == "personal_number":
            number = number[:-1] + str((int(number[-1]) + 1) % 10)
        return number

    def _name(self, width: int) -> str:
        surname = mrz_words(self.surname)
        given = mrz_words(self.given)
        return fit(f"{surname}{FILLER * 2}{given}", width)

    def _td3(self) -> list[str]:
        one = fit(f"P{FILLER}{self.state}{self._name(39)}", 44)
        number = fit(self.number, 9)
        optional = fit(self._number_in_optional(), 14)
        two = (self._number_and_dates(number) + optional + self._digit("optional_data", optional))
        return [one, two + self._composite(two[0:10] + two[13:20] + two[21:43])]

    def _td1(self) -> list[str]:
        number = fit(self.number, 9)
        one = fit(f"ID{self.state}{number}{self._digit('document_number', number)}{self._number_in_optional()}", 30)
        two = (self.birth + self._digit("birth_date", self.birth) + self.sex + self.expiry
               + self._digit("expiry_date", self.expiry) + self.state + FILLER * 11)
        return [one, two + self._composite(one[5:30] + two[0:7] + two[8:15] + two[18:29]), self._name(30)]

    def _td2(self) -> list[str]:
        number = fit(self.number, 9)
        one = fit(f"I{FILLER}{self.state}{self._name(31)}", 36)
        two = self._number_and_dates(number) + fit(self._number_in_optional(), 7)
        return [one, two + self._composite(two[0:10] + two[13:20] + two[21:35])]

    def _number_and_dates(self, number: str) -> str:
        """TD3's and TD2's second line up to the optional data."""
        return (number + self._digit("document_number", number) + self.state + self.birth
                + self._digit("birth_date", self.birth) + self.sex + self.expiry
                + self._digit("expiry_date", self.expiry))

    def _composite(self, data: str) -> str:
        """Only the broken field fails: the composite digit is computed over what is printed."""
        return self._digit("composite", data)


def mrz_words(name: str) -> str:
    """ICAO transliteration, as a Swedish document prints it."""
    table = {"Å": "AA", "Ä": "AE", "Ö": "OE", "Ü": "UE", " ": FILLER, "-": FILLER}
    return "".join(table.get(c, c) for c in name.upper())


def fit(text: str, width: int) -> str:
    return text[:width].ljust(width, FILLER)


def passport(person: dict = ANNA, **changes) -> Specimen:
    number = person["personal_number"]
    base = Specimen("TD3", person["surname"], person["given"], "AA1234567", number[2:8], "310115", sex=person["sex"],
                    personal_number=number[2:])
    return base.with_(**changes)


def id_card(person: dict = ANNA, **changes) -> Specimen:
    number = person["personal_number"]
    base = Specimen("TD1", person["surname"], person["given"], "HB7531590", number[2:8], "290630", sex=person["sex"],
                    personal_number=number[2:])
    return base.with_(**changes)
