"""The recommended message for every state, unknown codes included."""

from __future__ import annotations

import pytest

from core.bankid.messages import MESSAGES, message_for, rfa_for


@pytest.mark.parametrize(("status", "hint", "same_device", "rfa"), [
    ("pending", "outstandingTransaction", False, "RFA1"),
    ("pending", "outstandingTransaction", True, "RFA13"),
    ("pending", "noClient", False, "RFA1"),
    ("pending", "started", False, "RFA14B"),
    ("pending", "started", True, "RFA15B"),
    ("pending", "userSign", False, "RFA9"),
    ("pending", "userMrtd", False, "RFA23"),
    ("pending", "somethingNew", False, "RFA21"),
    ("failed", "userCancel", False, "RFA6"),
    ("failed", "expiredTransaction", False, "RFA8"),
    ("failed", "certificateErr", False, "RFA16"),
    ("failed", "startFailed", False, "RFA17B"),
    ("failed", "startFailed", True, "RFA17A"),
    ("failed", "cancelled", False, "RFA3"),
    ("failed", "somethingNew", False, "RFA22"),
    ("complete", None, False, None),
])
def test_hint_codes_map_to_rfa_messages(status, hint, same_device, rfa):
    assert rfa_for(status, hint, same_device=same_device) == rfa


@pytest.mark.parametrize(("error", "rfa"), [
    ("alreadyInProgress", "RFA4"), ("internalError", "RFA5"), ("maintenance", "RFA5"),
    ("requestTimeout", "RFA5"), ("connectionError", "RFA5"), ("invalidParameters", "RFA22"),
    ("brandNewError", "RFA22"),
])
def test_error_codes_map_to_rfa_messages(error, rfa):
    assert rfa_for(None, error_code=error) == rfa


def test_every_message_exists_in_swedish_and_english():
    assert all(set(texts) == {"sv", "en"} and all(texts.values()) for texts in MESSAGES.values())


def test_language_falls_back_to_english():
    assert message_for("pending", "outstandingTransaction", language="sv-SE") == "Starta BankID-appen."
    assert message_for("pending", "outstandingTransaction", language="de") == "Start your BankID app."
    assert message_for("complete") is None
