"""Phone numbers and personal identity numbers: one set of rules wherever they are typed or used."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.personal_numbers import InvalidPersonalNumber, is_valid, normalise_personal_number
from core.phones import InvalidPhoneNumber, normalise_phone
from core.signing.bankid_method import _required_personal_number
from core.sms import outbox_messages
from tests.api.conftest import ApiClient, case_body, make_key
from tests.signing.helpers import SARA, make_case, signer
from tests.signing.test_sms import send_code


@pytest.mark.parametrize(("typed", "stored"), [
    ("070-123 45 67", "+46701234567"),        # Swedish, written nationally
    ("0701234567", "+46701234567"),
    ("+46 70 123 45 67", "+46701234567"),
    ("+46 (0)70-123 45 67", "+46701234567"),  # the "(0)" people copy from letterheads
    ("0046 70 123 45 67", "+46701234567"),    # international prefix from Sweden
    ("46701234567", "+46701234567"),          # country code without the plus
    ("08-123 456 78", "+46812345678"),        # a Stockholm number
    ("+45 32 12 34 56", "+4532123456"),       # Danish
    ("+1 202 555 0143", "+12025550143"),
])
def test_a_phone_number_is_stored_in_e164(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", [
    "", "12345", "070-123",                   # too short: was once sent on as +46070123
    "+46 99 123 45 67",                       # no such Swedish series
    "+46 70 123 45 67 89", "call me", "070-123 45 67, 070-765 43 21",
])
def test_what_is_not_a_valid_phone_number_is_refused(typed):
    with pytest.raises(InvalidPhoneNumber):
        normalise_phone(typed)


@pytest.mark.parametrize(("typed", "stored"), [
    ("19121212-1212", "191212121212"), ("191212121212", "191212121212"), ("1912 1212 1212", "191212121212"),
    ("19121272-1219", "191212721219"),       # a coordination number: the day plus 60
])
def test_a_personal_number_is_twelve_digits_with_a_correct_check_digit(typed, stored):
    assert normalise_personal_number(typed) == stored


@pytest.mark.parametrize("typed", ["191212121213", "1212121212", "19121312-1212", "abc", "", None])
def test_what_is_not_a_personal_number_is_refused(typed):
    with pytest.raises(InvalidPersonalNumber):
        normalise_personal_number(typed)
    assert not is_valid(typed)


def test_the_api_stores_the_numbers_as_the_office_does(app, people):
    api = ApiClient(app.test_client(), make_key(people.alice))
    body = case_body(methods=["touch", "sms"])
    body["parties"][0].update(phone="070-123 45 67", personal_number="19121212-1212")
    created = api.post("/api/v1/cases", json=body).json
    assert (created["parties"][0]["phone"], created["parties"][0]["personal_number"]) == (
        "+46701234567", "19121212-XXXX")
    body["parties"][0]["phone"] = "070-123"
    refused = api.post("/api/v1/cases", json=body)
    assert refused.status_code == 422 and "phone" in refused.json["error"]["fields"]["parties"]["0"]


def test_a_stored_number_that_is_not_valid_gets_no_code_and_the_signer_is_told(app, people, client):
    made = make_case(people.bob, [signer(phone="070-123")], methods=["sms"])
    page = send_code(client, made.path(SARA)).get_data(as_text=True)
    assert "Your phone number cannot receive codes." in page
    assert outbox_messages(Path(app.config["OUTBOX_DIR"]) / "sms") == []


def test_bankid_binds_an_order_only_to_a_valid_personal_number(app, people):
    class Party:
        personal_number = "191212121213"

    assert _required_personal_number(Party()) is None
    Party.personal_number = "191212121212"
    assert _required_personal_number(Party()) == "191212121212"
