"""Swedish personal identity numbers (personnummer) as BankID uses them: 12 digits, YYYYMMDDNNNN."""

from __future__ import annotations

import re

from core.security import mask_personal_number

_TWELVE_DIGITS = re.compile(r"^\d{12}$")


def is_well_formed(personal_number: str) -> bool:
    """True for the 12-digit form BankID requires in `requirement.personalNumber`."""
    return bool(_TWELVE_DIGITS.match(personal_number or ""))


def mask(personal_number: str | None) -> str:
    """Hide the last four digits (19800101-XXXX), so logs never carry the full number."""
    return mask_personal_number(personal_number) or "-"
