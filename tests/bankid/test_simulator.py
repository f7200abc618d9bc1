"""The simulator speaks the RP API as BankID does: transport, validation, QR and same-device start."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests

from core.bankid import BankIDClient, BankIDError
from core.bankid.client import qr_frame
from core.bankid.sim.certs import ensure_certs
from tests.bankid.conftest import ALICE, VISIBLE, control


def rp_post(sim, endpoint: str, body: bytes | str, content_type: str = "application/json"):
    """A raw request with the RP certificate, bypassing our client's conveniences."""
    return requests.post(sim.url + endpoint, data=body, headers={"Content-Type": content_type},
                         cert=(str(sim.certs.rp_cert), str(sim.certs.rp_key)),
                         verify=str(sim.certs.ca), timeout=5)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_it_answers_only_json_with_415(sim):
    response = rp_post(sim, "sign", "endUserIp=1.2.3.4", "application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["errorCode"] == "unsupportedMediaType"


def test_unknown_paths_are_404(sim):
    response = rp_post(sim, "identify", "{}")
    assert (response.status_code, response.json()["errorCode"]) == (404, "notFound")


def test_get_is_method_not_allowed(sim):
    response = requests.get(sim.url + "collect", cert=(str(sim.certs.rp_cert), str(sim.certs.rp_key)),
                            verify=str(sim.certs.ca), timeout=5)
    assert (response.status_code, response.json()["errorCode"]) == (405, "methodNotAllowed")


@pytest.mark.parametrize("body", [
    {"userVisibleData": b64("x")},
    {"endUserIp": "not-an-ip", "userVisibleData": b64("x")},
    {"endUserIp": "1.2.3.4"},
    {"endUserIp": "1.2.3.4", "userVisibleData": "%%%not base64"},
    {"endUserIp": "1.2.3.4", "userVisibleData": b64("x"), "userVisibleDataFormat": "html"},
    {"endUserIp": "1.2.3.4", "userVisibleData": b64("x" * 40_000)},
    {"endUserIp": "1.2.3.4", "userVisibleData": b64("x"), "requirement": {"personalNumber": "8001011234"}},
    {"endUserIp": "1.2.3.4", "userVisibleData": b64("x"), "requirement": {"allowFingerprint": True}},
])
def test_sign_validates_parameters(sim, body):
    response = rp_post(sim, "sign", json.dumps(body))
    assert (response.status_code, response.json()["errorCode"]) == (400, "invalidParameters")


def test_a_body_that_is_not_a_json_object_is_invalid_parameters(sim):
    response = rp_post(sim, "collect", "[1, 2]")
    assert response.json()["errorCode"] == "invalidParameters"


def test_collect_of_an_unknown_order_is_invalid_parameters(sim):
    response = rp_post(sim, "collect", json.dumps({"orderRef": "nope"}))
    assert response.json()["errorCode"] == "invalidParameters"


def test_a_client_without_certificate_is_refused_at_tls(sim):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(sim.url + "collect", json={"orderRef": "x"}, verify=str(sim.certs.ca), timeout=5)


def test_a_client_certificate_from_another_ca_is_refused(sim, tmp_path):
    stranger = ensure_certs(tmp_path)
    client = BankIDClient(sim.url, stranger.rp_p12, "qwerty123", sim.certs.ca, timeout=5)
    with pytest.raises(BankIDError) as refused:
        client.collect("x")
    assert refused.value.error_code == "connectionError"


def test_our_client_pins_the_ca(sim, tmp_path):
    other = ensure_certs(tmp_path)
    client = BankIDClient(sim.url, sim.certs.rp_p12, "qwerty123", other.ca, timeout=5)
    with pytest.raises(BankIDError) as refused:
        client.collect("x")
    assert refused.value.error_code == "connectionError"


def test_qr_frames_follow_bankids_formula():
    """The worked example in BankID's QR documentation (time 0)."""
    assert qr_frame("67df3917-fa0d-44e5-b327-edcc928297f8", "d28db9a7-4cde-429e-a983-359be676944c", 0.9) == (
        "bankid.67df3917-fa0d-44e5-b327-edcc928297f8.0."
        "dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"
    )


def test_the_app_refuses_a_qr_with_a_wrong_hmac(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE)
    forged = qr_frame(order.qr_start_token, "not-the-secret", 0)
    assert "HMAC" in control(sim, "scan", 400, qr=forged)["error"]


def test_the_app_refuses_a_stale_qr_frame(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE)
    late = qr_frame(order.qr_start_token, order.qr_start_secret, 20)
    assert "stale" in control(sim, "scan", 400, qr=late)["error"]


def test_the_app_refuses_a_qr_it_already_scanned(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE)
    control(sim, "scan", qr=order.qr_frame())
    control(sim, "scan", 400, qr=order.qr_frame())


def test_same_device_start_opens_the_order_and_returns_to_the_rp(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE, return_url="https://sigill.test/sign/return")
    response = requests.get(sim.control_url + "autostart", params={"autostarttoken": order.auto_start_token},
                            allow_redirects=False, timeout=5)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/sim/?order={order.order_ref}"
    assert bankid.collect(order.order_ref).hint_code == "userSign"
    approved = control(sim, f"orders/{order.order_ref}/approve")
    assert approved["returnUrl"] == "https://sigill.test/sign/return" and approved["sameDevice"]


def test_the_phone_page_lists_orders(sim, bankid):
    order = bankid.sign("192.0.2.10", VISIBLE)
    page = requests.get(sim.control_url, timeout=5)
    assert page.status_code == 200 and "phone app" in page.text
    orders = requests.get(sim.control_url + "orders", timeout=5).json()
    assert [o["orderRef"] for o in orders["orders"]] == [order.order_ref]
    assert "qrStartSecret" not in json.dumps(orders)


def test_phone_sign_completes_for_the_called_person(sim):
    body = {"personalNumber": ALICE.personal_number, "callInitiator": "RP", "userVisibleData": b64("Hi")}
    order_ref = rp_post(sim, "phone/sign", json.dumps(body)).json()["orderRef"]
    control(sim, f"orders/{order_ref}/approve")
    collected = rp_post(sim, "collect", json.dumps({"orderRef": order_ref})).json()
    assert collected["completionData"]["user"]["personalNumber"] == ALICE.personal_number


def test_phone_auth_requires_a_call_initiator(sim):
    body = {"personalNumber": ALICE.personal_number}
    assert rp_post(sim, "phone/auth", json.dumps(body)).json()["errorCode"] == "invalidParameters"


def test_internal_error_can_be_injected(sim, bankid):
    control(sim, "faults", error="internalError", count=2)
    for _ in range(2):
        with pytest.raises(BankIDError) as refused:
            bankid.auth("192.0.2.10")
        assert (refused.value.error_code, refused.value.http_status) == ("internalError", 500)
    assert bankid.auth("192.0.2.10").order_ref


def test_timings_are_configurable(tmp_path, simulator):
    from core.bankid.sim.orders import Settings
    from core.bankid.simulator import start_in_thread

    hasty = start_in_thread(certs_dir=simulator.certs.dir, settings=Settings(start_timeout=0.3, order_timeout=0.6))
    try:
        client = BankIDClient(hasty.url, hasty.certs.rp_p12, "qwerty123", hasty.certs.ca, timeout=5)
        unscanned = client.sign("192.0.2.10", VISIBLE)
        scanned = client.sign("192.0.2.10", VISIBLE)
        control(hasty, "scan", qr=scanned.qr_frame())
        time.sleep(0.7)
        assert client.collect(unscanned.order_ref).hint_code == "startFailed"
        assert client.collect(scanned.order_ref).hint_code == "expiredTransaction"
    finally:
        hasty.stop()
