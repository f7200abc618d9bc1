"""Swedish personal identity numbers (personnummer and samordningsnummer): one check for all.

The office form, the API, template fields, BankID (the number an order is bound to, and the
simulator's check of what BankID accepts) and the ID check plugin use `normalise_personal_number`:
12 digits YYYYMMDDNNNN (spaces and dashes ignored), a real date (a coordination number adds 60 to
the day), and a correct check digit (Luhn over the last ten digits). Never log or show a full
number: `mask` keeps the date only.
"""

from __future__ import annotations

import re
from datetime import date

from core.security import mask_personal_number


class InvalidPersonalNumber(ValueError):
    """Not a valid personal identity number; the argument says why (for logs: no digits in it)."""


def normalise_personal_number(raw: str | None) -> str:
    """The 12 digits YYYYMMDDNNNN; raises `InvalidPersonalNumber` otherwise."""
    digits = re.sub(r"[\s-]", "", raw or "")
    if not re.fullmatch(r"\d{12}", digits):
        raise InvalidPersonalNumber("not 12 digits")
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]) % 60 or 1)  # coordination numbers add 60
    except ValueError as exc:
        raise InvalidPersonalNumber("no such date") from exc
    if not luhn_ok(digits[2:]):
        raise InvalidPersonalNumber("check digit")
    return digits


def is_valid(personal_number: str | None) -> bool:
    try:
        return normalise_personal_number(personal_number) == personal_number
    except InvalidPersonalNumber:
        return False


def luhn_ok(digits: str) -> bool:
    """The Luhn check over the digits (a personal number's last ten)."""
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def mask(personal_number: str | None) -> str:
    """Hide the last four digits (19800101-XXXX), so logs never carry the full number."""
    return mask_personal_number(personal_number) or "-"
