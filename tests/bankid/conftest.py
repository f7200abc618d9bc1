"""A BankID simulator for the whole session, reset before each test, and clients for it."""

from __future__ import annotations

from typing import Any

import pytest

from core.bankid.client import BankIDClient, OrderStart
from core.bankid.sim.orders import TEST_USERS
from core.bankid.simulator import SimulatorHandle
from tests.bankid_fixtures import control

ALICE, BERTIL, CECILIA = TEST_USERS
VISIBLE = "Sign **Lease agreement 12**\n\n- lease.pdf sha256 9f86d081884c7d65"
NON_VISIBLE = "lease.pdf:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture
def bankid(sim: SimulatorHandle) -> BankIDClient:
    return BankIDClient(sim.url, sim.certs.rp_p12, sim.certs.rp_p12_password, sim.certs.ca, timeout=5)


def scan(sim: SimulatorHandle, order: OrderStart, person: str = ALICE.personal_number,
         expect: int = 200) -> dict[str, Any]:
    """The phone app reads the order's current QR frame, as drawn by our client."""
    return control(sim, "scan", expect, qr=order.qr_frame(), personalNumber=person)


def approve(sim: SimulatorHandle, order_ref: str, expect: int = 200, **body: Any) -> dict[str, Any]:
    return control(sim, f"orders/{order_ref}/approve", expect, **body)


def signed_order(sim: SimulatorHandle, bankid: BankIDClient, **requirement: str) -> OrderStart:
    """A sign order the phone has scanned and approved."""
    order = bankid.sign("192.0.2.10", VISIBLE, NON_VISIBLE, requirement=requirement or None)
    scan(sim, order)
    approve(sim, order.order_ref)
    return order
