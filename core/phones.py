"""Phone numbers: one set of rules for everything that takes or uses one.

The office form, the API, template fields and the SMS gateway all call `normalise_phone`:

- written nationally, a number is Swedish: 070-123 45 67 becomes +46701234567 (and "46..." without
  the plus is read as the country code, as people often type it);
- written internationally (+45 ..., 0045 ...), any country;
- spaces, dashes, dots and a "(0)" are ignored;
- the result must be a valid number for its country (libphonenumber's metadata), not merely one of
  plausible length: "070-123" is refused rather than sent to +46070123;
- the result is E.164 (+46701234567), which is what is stored, compared, masked and sent.
"""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "SE"
MAX_INPUT = 40


class InvalidPhoneNumber(ValueError):
    """The text is not a valid phone number."""


def normalise_phone(raw: str | None) -> str:
    """The number in E.164 (+46701234567); raises `InvalidPhoneNumber` when it is not a valid number."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_INPUT:
        raise InvalidPhoneNumber(raw)
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
