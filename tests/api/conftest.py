"""API fixtures: keys made through the service, a client that sends them, local webhook receivers.

The receivers listen on loopback, where webhooks may not go by default: every app of these tests
allows loopback explicitly (`WEBHOOK_ALLOWED_NETWORKS`), as an operator would for an on-premises
receiver.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.api import service
from core.extensions import db
from tests.cases import pdfs

LOOPBACK = ("127.0.0.0/8", "::1/128")


@pytest.fixture
def app_factory(app_factory):
    """The shared factory, with loopback opened for webhooks unless a test says otherwise."""

    def make(**extra):
        extra.setdefault("WEBHOOK_ALLOWED_NETWORKS", LOOPBACK)
        return app_factory(**extra)

    return make


def make_key(officer, name: str = "HR system") -> str:
    key, secret = service.create_api_key(officer.tenant, name, officer)
    db.session.commit()
    return secret


class ApiClient:
    """The test client with an API key on every request."""

    def __init__(self, client, key: str):
        self.client = client
        self.key = key

    def _headers(self, headers: dict | None) -> dict:
        return {"Authorization": f"Bearer {self.key}", **(headers or {})}

    def get(self, url: str, **kwargs):
        return self.client.get(url, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, url: str, json=None, **kwargs):
        return self.client.post(url, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def patch(self, url: str, json=None, **kwargs):
        return self.client.patch(url, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, url: str, **kwargs):
        return self.client.delete(url, headers=self._headers(kwargs.pop("headers", None)), **kwargs)


@pytest.fixture
def alice_key(people) -> str:
    return make_key(people.alice)


@pytest.fixture
def api(client, alice_key) -> ApiClient:
    """Alice's integration at Acme."""
    return ApiClient(client, alice_key)


@pytest.fixture
def charlie_api(app, people) -> ApiClient:
    """Charlie's integration at Globex (another tenant), on its own client."""
    return ApiClient(app.test_client(), make_key(people.charlie, "Globex CRM"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def case_body(**overrides) -> dict:
    body = {
        "title": "Lease agreement",
        "message": "Please sign",
        "methods": ["touch"],
        "language": "en",
        "parties": [{"name": "Sam Signer", "email": "sam@example.org", "language": "en"}],
        "documents": [{"filename": "lease.pdf", "content_base64": b64(pdfs.pdf(2, "Lease"))}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def new_case(api):
    """`new_case(**overrides)` -> the created case's JSON (a draft)."""

    def make(**overrides) -> dict:
        response = api.post("/api/v1/cases", json=case_body(**overrides))
        assert response.status_code == 201, response.json
        return response.json

    return make


# --- a webhook receiver --------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP(S) server on loopback that records every POST; answers `statuses` in turn, then 200."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    tls: ssl.SSLContext | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(Received(dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = self.url_at("127.0.0.1")
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url_at(self, host: str) -> str:
        """The receiver's URL with another host name (which the test makes resolve to loopback)."""
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}/hooks/sigill"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[str]:
        return [r.headers["Sigill-Event"] for r in self.received]


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    server.stop()
