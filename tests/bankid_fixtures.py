"""The BankID simulator for the whole test session (one for every test package), reset before each
test; registered from tests/conftest.py as a pytest plugin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from core.bankid.simulator import SimulatorHandle, start_in_thread


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorHandle]:
    handle = start_in_thread(certs_dir=tmp_path_factory.mktemp("bankid-certs"))
    yield handle
    handle.stop()


@pytest.fixture
def sim(simulator: SimulatorHandle) -> SimulatorHandle:
    """The simulator with no orders, scripts, faults or clock offset left by earlier tests."""
    control(simulator, "reset")
    return simulator


def control(sim: SimulatorHandle, path: str, expect: int = 200, **body: Any) -> dict[str, Any]:
    """POST to the simulator's control API and check the status."""
    response = requests.post(sim.control_url + path, json=body, timeout=5)
    assert response.status_code == expect, response.text
    return response.json()
