"""Field values: checked on the server, stored in one canonical form, hashed, shown, typed.

A value is checked by a marshmallow schema generated from the field definitions
(`values_schema`); the browser's checks are only a convenience. Stored values are canonical JSON
scalars: text as typed (trimmed), numbers as plain decimal strings ("1234.50"), dates as ISO
strings, phone numbers in E.164, personal numbers as 12 digits, checkboxes as booleans.
`typed` turns them into Python values (Decimal, date, bool, str) for exports; `values_sha256` is
what the party's signature binds; `display_text` is how a value reads on the document and receipt.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import phonenumbers
from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema

from core.fields.definitions import AUTOMATIC_TYPES, FieldSpec
from core.fields.drawing import missing_characters, text_fits
from core.i18n import _
from core.personal_numbers import normalise_personal_number
from core.phones import normalise_phone
from core.text import valid_email

MAX_LENGTH = {"text": 200, "textarea": 2000, "initials": 12}
MAX_NUMBER_CHARACTERS = 40
TRUE_WORDS = {"yes", "on", "true", "1", "ja"}
FALSE_WORDS = {"", "no", "off", "false", "0", "nej"}
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f']")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

Box = tuple[float, float]  # a field's width and height in points


class ValueProblem(ValueError):
    """A value that cannot be accepted; the message is for the person who typed it."""


# --- one value -----------------------------------------------------------------------------------


def check_value(spec: FieldSpec, raw: Any, box: Box | None = None) -> tuple[Any, str | None]:
    """(canonical value or None for empty, problem or None). `box` enables the fit check."""
    try:
        return _NORMALISE[spec.type](spec, raw, box), None
    except ValueProblem as problem:
        return None, str(problem)


def _text(spec: FieldSpec, raw: Any, box: Box | None) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValueProblem(_("Type text here."))
    multiline = spec.type == "textarea"
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\t", " "))
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip() if multiline else " ".join(text.split())
    if not text:
        return None
    if _CONTROL.search(text) or (not multiline and "\n" in text):
        raise ValueProblem(_("The text contains characters that cannot be printed."))
    longest = spec.max_length or MAX_LENGTH.get(spec.type, 200)
    if len(text) > longest:
        raise ValueProblem(_("Use at most %(num)s characters.", num=longest))
    if spec.min_length and len(text) < spec.min_length:
        raise ValueProblem(_("Use at least %(num)s characters.", num=spec.min_length))
    if spec.pattern and not re.fullmatch(spec.pattern, text):
        raise ValueProblem(_("The text does not have the expected form."))
    _check_printable(text, box, multiline)
    return text


def _check_printable(text: str, box: Box | None, multiline: bool) -> None:
    missing = missing_characters(text)
    if missing:
        raise ValueProblem(_("These characters cannot be printed in the document: %(chars)s", chars=" ".join(missing)))
    if box is not None and not text_fits(text, box[0], box[1], multiline):
        raise ValueProblem(_("The text is too long for its place in the document. Shorten it."))


def _number(spec: FieldSpec, raw: Any, box: Box | None) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueProblem(_("Give a number."))
    text = _SPACES.sub("", str(raw)).replace("\u2212", "-").replace(",", ".")
    if len(text) > MAX_NUMBER_CHARACTERS:
        raise ValueProblem(_("Give a number."))
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueProblem(_("Give a number, like 1250 or 12,5.")) from None
    if not number.is_finite():
        raise ValueProblem(_("Give a number, like 1250 or 12,5."))
    if spec.min is not None and number < Decimal(spec.min):
        raise ValueProblem(_("Give at least %(min)s.", min=spec.min))
    if spec.max is not None and number > Decimal(spec.max):
        raise ValueProblem(_("Give at most %(max)s.", max=spec.max))
    canonical = format(number, "f")
    _check_printable(canonical, box, False)
    return canonical


def _date(spec: FieldSpec, raw: Any, box: Box | None) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        day = date.fromisoformat(raw.strip()) if isinstance(raw, str) and len(raw.strip()) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ValueProblem(_("Give the date as YYYY-MM-DD."))
    if spec.min is not None and day < date.fromisoformat(spec.min):
        raise ValueProblem(_("Give %(date)s or later.", date=spec.min))
    if spec.max is not None and day > date.fromisoformat(spec.max):
        raise ValueProblem(_("Give %(date)s or earlier.", date=spec.max))
    return day.isoformat()


def _email(spec: FieldSpec, raw: Any, box: Box | None) -> str | None:
    text = _text(spec, raw, None)
    if text is None:
        return None
    if not valid_email(text):
        raise ValueProblem(_("Give a valid email address, like name@example.com."))
    _check_printable(text, box, False)
    return text


def _phone(spec: FieldSpec, raw: Any, box: Box | None) -> str | None:
    text = _text(spec, raw, None)
    if text is None:
        return None
    try:
        return normalise_phone(text)
    except ValueError:
        raise ValueProblem(_("This is not a valid phone number. Give it like 070-123 45 67 or +46 70 123 45 67.")) \
            from None


def _personal_number(spec: FieldSpec, raw: Any, box: Box | None) -> str | None:
    text = _text(spec, raw, None)
    if text is None:
        return None
    try:
        return normalise_personal_number(text)
    except ValueError:
        raise ValueProblem(_("Give a personal identity number with 12 digits, YYYYMMDDNNNN, with a correct check "
                             "digit.")) from None


def _checkbox(spec: FieldSpec, raw: Any, box: Box | None) -> bool:
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueProblem(_("Tick the box or leave it empty."))


def _choice(spec: FieldSpec, raw: Any, box: Box | None) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in spec.options:
        raise ValueProblem(_("Choose one of the options."))
    return raw


def _automatic(spec: FieldSpec, raw: Any, box: Box | None) -> None:
    if raw not in (None, ""):
        raise ValueProblem(_("This field is filled in when the party signs."))
    return None


_NORMALISE = {
    "text": _text, "textarea": _text, "initials": _text, "number": _number, "date": _date, "email": _email,
    "phone": _phone, "personal_number": _personal_number, "checkbox": _checkbox, "radio": _choice,
    "select": _choice, **dict.fromkeys(AUTOMATIC_TYPES, _automatic),
}


def is_empty(spec: FieldSpec, value: Any) -> bool:
    return value is None or (spec.type == "checkbox" and value is not True)


# --- the schema generated from the definitions ---------------------------------------------------


class _Value(fields.Field):
    """One field's value, checked and made canonical by `check_value`."""

    def __init__(self, spec: FieldSpec, box: Box | None):
        super().__init__(allow_none=True, load_default=None)
        self.spec, self.box = spec, box

    def _deserialize(self, value, attr, data, **kwargs):
        canonical, problem = check_value(self.spec, value, self.box)
        if problem:
            raise ValidationError(problem)
        return canonical


class _Values(Schema):
    class Meta:
        unknown = RAISE

    specs: dict[str, FieldSpec] = {}

    @validates_schema
    def _required(self, data: dict, partial=None, **_kwargs) -> None:
        if partial:
            return
        errors = {}
        for name, spec in self.specs.items():
            if spec.required and is_empty(spec, data.get(name)):
                errors[name] = [_("Tick this box to continue.") if spec.type == "checkbox"
                                else _("Fill in this field.")]
        if errors:
            raise ValidationError(errors)


@lru_cache(maxsize=512)
def _schema_class(specs: tuple[FieldSpec, ...], boxes: tuple[Box | None, ...]) -> type[Schema]:
    attributes: dict[str, Any] = {spec.name: _Value(spec, box) for spec, box in zip(specs, boxes, strict=True)}
    attributes["specs"] = {spec.name: spec for spec in specs}
    return type("FieldValues", (_Values,), attributes)


def values_schema(specs: Iterable[FieldSpec], boxes: dict[str, Box] | None = None) -> Schema:
    """A schema for the values of `specs` (the fields a party fills in); `boxes` by field name
    (sizes in points) enables the check that text fits its place."""
    specs = tuple(specs)
    schema_class = _schema_class(specs, tuple((boxes or {}).get(spec.name) for spec in specs))
    return schema_class()


def load_values(specs: Iterable[FieldSpec], raw: dict, partial: bool = False,
                boxes: dict[str, Box] | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(canonical values by name, errors by name). Unknown names are errors, not ignored."""
    specs = list(specs)
    known = {spec.name for spec in specs}
    errors = {name: [_("There is no such field for you to fill in.")] for name in raw if name not in known}
    try:
        values = values_schema(specs, boxes).load({k: v for k, v in raw.items() if k in known},
                                                  partial=partial or None)
    except ValidationError as error:
        values = {k: v for k, v in (error.valid_data or {}).items()}
        errors.update({str(k): [str(m) for m in v] if isinstance(v, list) else [str(v)]
                       for k, v in error.messages.items()})
    return values, errors


# --- what the party signs ------------------------------------------------------------------------


def canonical_json(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def values_sha256(values: dict[str, Any]) -> str:
    """SHA-256 of the values as canonical JSON: {"<field name>": <canonical value or null>, ...},
    keys sorted, no spaces, UTF-8. Anyone with the values can recompute it."""
    return hashlib.sha256(canonical_json(values).encode()).hexdigest()


# --- reading values ------------------------------------------------------------------------------


def typed(kind: str, value: Any) -> Any:
    """The Python value of a stored one: Decimal, date, bool or str (None stays None)."""
    if value is None:
        return False if kind == "checkbox" else None
    if kind == "number":
        return Decimal(value)
    if kind in ("date", "date_signed"):
        return date.fromisoformat(value)
    if kind == "checkbox":
        return value is True
    return value


YES_NO = {"sv": ("Ja", "Nej"), "en": ("Yes", "No")}
NUMBER_MARKS = {"sv": ("\u00a0", ","), "en": (",", ".")}  # thousands, decimals


def _grouped(value: str, thousands: str, decimals: str) -> str:
    """A canonical number with the reader's separators, every decimal kept (12 500,50)."""
    sign, digits = ("-", value[1:]) if value.startswith("-") else ("", value)
    whole, _dot, fraction = digits.partition(".")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    text = thousands.join([whole, *groups])
    return sign + text + (decimals + fraction if fraction else "")


def display_text(kind: str, value: Any, language: str = "sv") -> str:
    """How a value reads on the document and the receipt."""
    if kind == "checkbox":
        yes, no = YES_NO.get(language, YES_NO["en"])
        return yes if value is True else no
    if value is None:
        return ""
    if kind == "number":
        return _grouped(value, *NUMBER_MARKS.get(language, NUMBER_MARKS["en"]))
    if kind == "phone":
        try:
            return phonenumbers.format_number(phonenumbers.parse(value), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        except phonenumbers.NumberParseException:
            return value
    if kind == "personal_number" and len(value) == 12:
        return f"{value[:8]}-{value[8:]}"
    return str(value)
