"""Values checked by the schema generated from the field definitions, hashed, typed and shown."""

import hashlib
from datetime import date
from decimal import Decimal

import pytest

from core.fields.definitions import FieldSpec
from core.fields.values import display_text, load_values, typed, values_sha256
from core.i18n import force_locale


def field(name: str, type_: str = "text", **extra) -> FieldSpec:
    return FieldSpec(name=name, type=type_, document=0, page=1, x=0.1, y=0.1, w=0.3, h=0.03, **extra)


FIELDS = [
    field("rent", "number", required=True, min="0", max="100000"),
    field("moving_in", "date", min="2026-01-01"),
    field("email", "email"),
    field("phone", "phone"),
    field("pnr", "personal_number"),
    field("pets", "checkbox", required=True),
    field("payment", "radio", options=("monthly", "quarterly")),
    field("city", "select", options=("Stockholm", "Göteborg")),
    field("notes", "textarea", max_length=50),
    field("code", "text", pattern=r"[A-Z]{3}\d{3}"),
]


def load(raw: dict, partial: bool = False, language: str = "en", **kwargs):
    with force_locale(language):
        return load_values(FIELDS, raw, partial=partial, **kwargs)


def test_good_values_come_out_canonical(app):
    values, errors = load({"rent": "12 500,50", "moving_in": "2026-02-01", "email": "sara@example.com",
                           "phone": "070-123 45 67", "pnr": "19121212-1212", "pets": "yes", "payment": "monthly",
                           "city": "Göteborg", "notes": "Åsa\r\nÖberg", "code": "ABC123"})
    assert errors == {}
    assert values == {"rent": "12500.50", "moving_in": "2026-02-01", "email": "sara@example.com",
                      "phone": "+46701234567", "pnr": "191212121212", "pets": True, "payment": "monthly",
                      "city": "Göteborg", "notes": "Åsa\nÖberg", "code": "ABC123"}


@pytest.mark.parametrize(("raw", "message"), [
    ({"rent": "a lot"}, "Give a number, like 1250 or 12,5."),
    ({"rent": "-5"}, "Give at least 0."),
    ({"rent": "NaN"}, "Give a number, like 1250 or 12,5."),
    ({"moving_in": "1 feb"}, "Give the date as YYYY-MM-DD."),
    ({"moving_in": "2025-12-31"}, "Give 2026-01-01 or later."),
    ({"email": "sara@"}, "Give a valid email address, like name@example.com."),
    ({"phone": "12"}, "This is not a valid phone number. Give it like 070-123 45 67 or +46 70 123 45 67."),
    ({"pnr": "191212121213"}, "Give a personal identity number with 12 digits, YYYYMMDDNNNN, with a correct check "
                              "digit."),
    ({"payment": "weekly"}, "Choose one of the options."),
    ({"notes": "x" * 51}, "Use at most 50 characters."),
    ({"code": "abc123"}, "The text does not have the expected form."),
    ({"rent": ["1"]}, "Give a number."),
])
def test_a_value_of_the_wrong_type_gets_a_message_next_to_its_field(app, raw, message):
    _values, errors = load(raw, partial=True)
    assert errors == {next(iter(raw)): [message]}


def test_required_fields_must_be_filled_and_a_required_box_ticked(app):
    _values, errors = load({"rent": "", "pets": "no"})
    assert errors == {"rent": ["Fill in this field."], "pets": ["Tick this box to continue."]}
    _values, errors = load({"rent": ""}, language="sv")
    assert errors["rent"] == ["Fyll i fältet."]


def test_partial_saves_do_not_demand_required_fields(app):
    assert load({"email": "sara@example.com"}, partial=True)[1] == {}


def test_names_that_are_not_the_partys_fields_are_errors_not_ignored(app):
    assert load({"landlord_signature": "x"}, partial=True)[1] == {
        "landlord_signature": ["There is no such field for you to fill in."]}


def test_text_must_fit_its_box_and_its_characters_the_font(app):
    boxes = {"notes": (60.0, 14.0)}
    _values, errors = load({"notes": "Åsa Öberg lives here"}, partial=True, boxes=boxes)
    assert errors == {"notes": ["The text is too long for its place in the document. Shorten it."]}
    _values, errors = load({"notes": "Åsa 中文"}, partial=True)
    assert errors == {"notes": ["These characters cannot be printed in the document: 中 文"]}
    values, errors = load({"notes": "Ψ Ж ß ø ŀ €"}, partial=True)  # covered by DejaVu Sans
    assert errors == {} and values["notes"] == "Ψ Ж ß ø ŀ €"


def test_the_hash_binds_every_value_and_nothing_else(app):
    base = {"rent": "9500", "pets": True, "city": None}
    assert values_sha256(base) == values_sha256(dict(reversed(list(base.items()))))
    assert values_sha256(base) != values_sha256({**base, "rent": "9501"})
    assert values_sha256(base) != values_sha256({**base, "city": "Stockholm"})
    # Anyone can recompute it: canonical JSON, keys sorted, no spaces, UTF-8.
    expected = b'{"city":null,"pets":true,"rent":"9500"}'
    assert values_sha256(base) == hashlib.sha256(expected).hexdigest()


def test_stored_values_read_back_typed(app):
    assert typed("number", "12500.50") == Decimal("12500.50")
    assert typed("date", "2026-02-01") == date(2026, 2, 1)
    assert typed("checkbox", None) is False and typed("checkbox", True) is True
    assert typed("text", "Åsa") == "Åsa" and typed("text", None) is None


def test_values_read_as_the_reader_writes_them(app):
    assert display_text("number", "12500.50", "sv") == "12\u00a0500,50"
    assert display_text("number", "-1234567.5", "en") == "-1,234,567.5"
    assert display_text("checkbox", True, "sv") == "Ja"
    assert display_text("personal_number", "191212121212") == "19121212-1212"
    assert display_text("phone", "+46701234567") == "+46 70 123 45 67"
