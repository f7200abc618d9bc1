"""Our client against the simulator: the journeys a signer can take."""

from __future__ import annotations

import pytest

from core.bankid import BankIDError, message_for, verify_completion
from tests.bankid.conftest import (
    ALICE,
    BERTIL,
    NON_VISIBLE,
    VISIBLE,
    approve,
    control,
    scan,
    signed_order,
)


def test_it_signs_after_the_qr_is_scanned_and_the_evidence_verifies(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE, NON_VISIBLE)
    assert bankid.collect(order.order_ref).hint_code == "outstandingTransaction"

    scan(sim, order)
    assert bankid.collect(order.order_ref).hint_code == "userSign"

    approve(sim, order.order_ref)
    result = bankid.collect(order.order_ref)
    assert result.status == "complete"
    evidence = verify_completion(result.completion_data, VISIBLE, NON_VISIBLE, ca_path=sim.certs.ca)
    assert evidence["personal_number"] == ALICE.personal_number
    assert evidence["name"] == "Alice Andersson"
    assert evidence["ip_address"] == "192.0.2.10"
    assert "serialNumber=198001012387" in evidence["cert_subject"]
    assert evidence["ocsp_produced_at"]


def test_it_identifies_with_auth(sim, bankid):
    order = bankid.auth("2001:db8::1")
    scan(sim, order, BERTIL.personal_number)
    approve(sim, order.order_ref)
    result = bankid.collect(order.order_ref)
    assert result.completion_data["user"]["personalNumber"] == BERTIL.personal_number
    verify_completion(result.completion_data, None, None, ca_path=sim.certs.ca)


def test_it_reports_user_cancel(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE)
    scan(sim, order)
    control(sim, f"orders/{order.order_ref}/cancel")
    result = bankid.collect(order.order_ref)
    assert (result.status, result.hint_code) == ("failed", "userCancel")
    assert message_for(result.status, result.hint_code, language="en") == "Action cancelled."


def test_it_expires_a_pending_order(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE)
    scan(sim, order)
    control(sim, "time", advance=181)
    result = bankid.collect(order.order_ref)
    assert (result.status, result.hint_code) == ("failed", "expiredTransaction")


def test_it_fails_start_when_nobody_scans_in_time(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE)
    control(sim, "time", advance=29)
    assert bankid.collect(order.order_ref).status == "pending"
    control(sim, "time", advance=2)
    result = bankid.collect(order.order_ref)
    assert (result.status, result.hint_code) == ("failed", "startFailed")


def test_a_scanned_order_does_not_fail_start(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE)
    scan(sim, order)
    control(sim, "time", advance=60)
    assert bankid.collect(order.order_ref).hint_code == "userSign"


def test_a_second_order_for_the_same_person_aborts_both(sim, bankid):
    first = bankid.sign("192.0.2.10", VISIBLE, requirement={"personalNumber": ALICE.personal_number})
    with pytest.raises(BankIDError) as refused:
        bankid.sign("192.0.2.10", VISIBLE, requirement={"personalNumber": ALICE.personal_number})
    assert refused.value.error_code == "alreadyInProgress"
    assert refused.value.http_status == 400
    result = bankid.collect(first.order_ref)
    assert (result.status, result.hint_code) == ("failed", "cancelled")


def test_starting_a_second_order_in_the_app_cancels_the_first(sim, bankid):
    first = bankid.sign("192.0.2.10", VISIBLE)
    scan(sim, first)
    second = bankid.sign("192.0.2.11", VISIBLE)
    scan(sim, second)
    assert bankid.collect(first.order_ref).hint_code == "cancelled"
    assert bankid.collect(second.order_ref).hint_code == "userSign"


def test_the_wrong_person_cannot_sign_an_order_bound_to_a_personal_number(sim, bankid):
    """BankID's app finds no usable BankID: `started` (RFA14), then startFailed when time runs out."""
    order = bankid.sign("192.0.2.10", VISIBLE, requirement={"personalNumber": ALICE.personal_number})
    scan(sim, order, BERTIL.personal_number)
    result = bankid.collect(order.order_ref)
    assert (result.status, result.hint_code) == ("pending", "started")
    assert message_for(result.status, result.hint_code, language="en").startswith("Searching for BankID")

    approve(sim, order.order_ref, expect=400, personalNumber=BERTIL.personal_number)
    control(sim, "time", advance=31)
    assert bankid.collect(order.order_ref).hint_code == "startFailed"


def test_the_right_person_signs_an_order_bound_to_their_personal_number(sim, bankid):
    order = signed_order(sim, bankid, personalNumber=ALICE.personal_number)
    result = bankid.collect(order.order_ref)
    assert result.completion_data["user"]["personalNumber"] == ALICE.personal_number


def test_maintenance_is_an_error_with_rfa5(sim, bankid):
    control(sim, "faults", endpoint="sign", error="maintenance")
    with pytest.raises(BankIDError) as refused:
        bankid.sign("192.0.2.10", VISIBLE)
    assert (refused.value.error_code, refused.value.http_status) == ("maintenance", 503)
    assert message_for(None, error_code="maintenance", language="sv") == "Internt tekniskt fel. Försök igen."
    assert bankid.sign("192.0.2.10", VISIBLE).order_ref  # the fault was used up: retry works


def test_a_slow_answer_is_a_request_timeout(sim):
    from core.bankid import BankIDClient

    impatient = BankIDClient(sim.url, sim.certs.rp_p12, "qwerty123", sim.certs.ca, timeout=0.3)
    control(sim, "faults", endpoint="collect", sleep=1.0)
    with pytest.raises(BankIDError) as refused:
        impatient.collect("00000000-0000-0000-0000-000000000000")
    assert refused.value.error_code == "requestTimeout"


def test_after_cancel_collect_is_invalid_parameters(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE)
    bankid.cancel(order.order_ref)
    with pytest.raises(BankIDError) as refused:
        bankid.collect(order.order_ref)
    assert refused.value.error_code == "invalidParameters"


def test_outcomes_can_be_scripted_per_personal_number(sim, bankid):
    control(sim, "script", personalNumber=BERTIL.personal_number, outcome="complete", delay=4)
    order = bankid.sign("192.0.2.10", VISIBLE, requirement={"personalNumber": BERTIL.personal_number})
    assert bankid.collect(order.order_ref).status == "pending"
    control(sim, "time", advance=5)
    result = bankid.collect(order.order_ref)
    assert result.completion_data["user"]["name"] == "Bertil Berg"
    verify_completion(result.completion_data, VISIBLE, None, ca_path=sim.certs.ca)


def test_outcomes_can_be_scripted_per_order(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE)
    control(sim, "script", orderRef=order.order_ref, outcome="fail:certificateErr")
    assert bankid.collect(order.order_ref).hint_code == "certificateErr"


def test_only_the_person_who_opened_the_order_can_approve_it(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE)
    scan(sim, order, BERTIL.personal_number)
    approve(sim, order.order_ref, expect=400, personalNumber=ALICE.personal_number)
    approve(sim, order.order_ref)
    assert bankid.collect(order.order_ref).completion_data["user"]["name"] == "Bertil Berg"
