"""Fidelity: the unmodified third-party client pybankid (PyPI `pybankid`) works against the simulator.

pybankid hard-codes BankID's URLs and CAs; we only point its public `api_url`, the endpoint
attributes its constructor derives from it, and its SSL context's trust store at the simulator.
"""

from __future__ import annotations

import time
from urllib.parse import urljoin

import bankid
import pytest

from core.bankid import verify_completion
from tests.bankid.conftest import ALICE, VISIBLE, approve, control

# pybankid 1.5 passes `cert=` to httpx, which httpx deprecates: their business, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:`cert=...` is deprecated:DeprecationWarning")


@pytest.fixture
def pybankid(sim) -> bankid.BankIDClient:
    client = bankid.BankIDClient(certificates=(str(sim.certs.rp_cert), str(sim.certs.rp_key)),
                                 test_server=True, request_timeout=5)
    client.ctx.load_verify_locations(cafile=str(sim.certs.ca))
    client.api_url = sim.url
    for endpoint in ("auth", "phone/auth", "sign", "phone/sign", "collect", "cancel"):
        setattr(client, f"_{endpoint.replace('/', '_')}_endpoint", urljoin(client.api_url, endpoint))
    return client


def test_pybankid_signs_and_collects(sim, pybankid):
    order = pybankid.sign("192.0.2.10", VISIBLE, user_non_visible_data="hashes",
                          user_visible_data_format="simpleMarkdownV1")
    arrived = time.time()
    assert pybankid.collect(order["orderRef"])["hintCode"] == "outstandingTransaction"

    qr = pybankid.generate_qr_code_content(order["qrStartToken"], arrived, order["qrStartSecret"])
    control(sim, "scan", qr=qr, personalNumber=ALICE.personal_number)
    assert pybankid.collect(order["orderRef"])["hintCode"] == "userSign"

    approve(sim, order["orderRef"])
    result = pybankid.collect(order["orderRef"])
    assert result["status"] == "complete"
    verify_completion(result["completionData"], VISIBLE, "hashes", ca_path=sim.certs.ca)


def test_pybankid_cancels(sim, pybankid):
    order = pybankid.authenticate("192.0.2.10")
    assert pybankid.cancel(order["orderRef"]) is True
    with pytest.raises(bankid.exceptions.InvalidParametersError):
        pybankid.collect(order["orderRef"])


def test_pybankid_phone_sign(sim, pybankid):
    order = pybankid.phone_sign(ALICE.personal_number, "user", "Read aloud")
    approve(sim, order["orderRef"])
    assert pybankid.collect(order["orderRef"])["completionData"]["user"]["name"] == "Alice Andersson"


def test_pybankid_maps_simulator_errors(sim, pybankid):
    control(sim, "faults", error="maintenance")
    with pytest.raises(bankid.exceptions.MaintenanceError):
        pybankid.authenticate("192.0.2.10")
    pybankid.authenticate("192.0.2.10", requirement={"personalNumber": ALICE.personal_number})
    with pytest.raises(bankid.exceptions.AlreadyInProgressError):
        pybankid.authenticate("192.0.2.10", requirement={"personalNumber": ALICE.personal_number})
