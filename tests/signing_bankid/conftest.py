"""A BankID simulator for the session and apps configured against it, as `make run` does."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from core.bankid.sim.orders import TEST_USERS
from core.bankid.simulator import SimulatorHandle
from tests.bankid_fixtures import control  # noqa: F401  (re-exported for the tests here)
from tests.conftest import free_port

ALICE, BERTIL, _ = TEST_USERS


def bankid_settings(sim: SimulatorHandle) -> dict[str, Any]:
    return {
        "BANKID_URL": sim.url,
        "BANKID_CERT_P12": str(sim.certs.rp_p12),
        "BANKID_CERT_PASSWORD": sim.certs.rp_p12_password,
        "BANKID_CA": str(sim.certs.ca),
        "BANKID_APP_URL": sim.control_url + "autostart",
        "BANKID_TIMEOUT": 5,
    }


@pytest.fixture
def app(app_factory, sim):
    app = app_factory(**bankid_settings(sim))
    with app.app_context():
        yield app


@pytest.fixture
def bankid_server(app_factory, sim, smtp):
    """The app with BankID on a loopback port, for the browser."""
    port = free_port()
    app = app_factory(BASE_URL=f"http://127.0.0.1:{port}", SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
                      JOBS_MANUAL=False, WTF_CSRF_ENABLED=True, **bankid_settings(sim))
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{port}"
    server.app = app
    yield server
    server.shutdown()


def orders(sim: SimulatorHandle) -> list[dict[str, Any]]:
    return requests.get(sim.control_url + "orders", timeout=5).json()["orders"]
