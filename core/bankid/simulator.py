"""A local BankID: the RP API v6.0 over mutual TLS, plus a control port for tests and people.

    handle = start_in_thread(certs_dir=tmp)       # tests
    run(port=8443, control_port=8444, certs_dir="instance/bankid-sim")   # `sigill bankid-simulator`

The RP API (https://127.0.0.1:PORT/rp/v6.0/...) requires a client certificate issued by the
simulator's CA (`rp.p12`, password qwerty123). The control API and the phone-app page
(http://127.0.0.1:CONTROL_PORT/sim/) are plain HTTP and bound to loopback only.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from core.bankid.sim import control, rp_api
from core.bankid.sim.certs import CertPaths, ensure_certs
from core.bankid.sim.control import Faults
from core.bankid.sim.orders import OrderBook, Settings
from core.bankid.sim.signing import BankIDIssuer

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000


class _Handler(BaseHTTPRequestHandler):
    """Shared plumbing: HTTP/1.1 keep-alive (BankID clients reuse connections), JSON out."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)

    def _body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, content_type: str, body: bytes, location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, data: Any) -> None:
        self._send(status, "application/json", json.dumps(data).encode())


class _RPHandler(_Handler):
    """The relying party's side: every method goes through `rp_api.handle`."""

    def _answer(self) -> None:
        body = self._body()
        if body is None:
            self._send_json(*rp_api.error("invalidParameters", "Request too large"))
            return
        endpoint = self.path.removeprefix(rp_api.PREFIX)
        injected = control.apply_fault(self.server.faults.take(endpoint))
        status, data = injected or rp_api.handle(
            self.server.book, self.command, self.path.split("?")[0],
            self.headers.get("Content-Type", ""), body)
        self._send_json(status, data)

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _answer


class _ControlHandler(_Handler):
    """Control API and phone page; refuses anything not from loopback."""

    def _loopback(self) -> bool:
        if ipaddress.ip_address(self.client_address[0]).is_loopback:
            return True
        self._send_json(403, {"error": "The simulator's control API is for localhost only"})
        return False

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self._loopback():
            self._send(*control.handle_get(self.server.book, self.path))

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        if not self._loopback():
            return
        try:
            request = json.loads(self._body() or b"{}")
        except ValueError:
            request = None
        if not isinstance(request, dict):
            self._send_json(400, {"error": "Send a JSON object"})
            return
        self._send_json(*control.handle_post(self.server.book, self.server.faults, self.path, request))


class _Server(ThreadingHTTPServer):
    """A threaded server sharing the order book; TLS (if any) is negotiated on the worker thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], book: OrderBook,
                 faults: Faults, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(address, handler)
        self.book, self.faults, self.tls = book, faults, tls

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Handshake here, not in accept(): a slow or certificate-less client blocks only itself."""
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                log.info("TLS handshake with %s refused: %s", client_address[0], exc)
                return
        super().finish_request(request, client_address)


def server_tls_context(certs: CertPaths) -> ssl.SSLContext:
    """Mutual TLS as BankID does it: our server certificate, client certificates from our CA only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certs.server_cert, certs.server_key)
    context.load_verify_locations(certs.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


@dataclass
class SimulatorHandle:
    """A running simulator: where to reach it, its certificates, and how to stop it."""

    url: str
    control_url: str
    certs: CertPaths
    book: OrderBook
    faults: Faults
    servers: tuple[_Server, _Server]

    def stop(self) -> None:
        """Stop both servers and close their sockets."""
        for server in self.servers:
            server.shutdown()
            server.server_close()


def build(port: int, control_port: int, certs_dir: Path | str,
          settings: Settings | None = None) -> SimulatorHandle:
    """Bind both servers on loopback (port 0 picks a free one) without starting them."""
    certs = ensure_certs(certs_dir)
    book = OrderBook(BankIDIssuer(certs), settings or Settings())
    faults = Faults()
    rp = _Server(("127.0.0.1", port), _RPHandler, book, faults, server_tls_context(certs))
    ctl = _Server(("127.0.0.1", control_port), _ControlHandler, book, faults)
    return SimulatorHandle(f"https://127.0.0.1:{rp.server_address[1]}{rp_api.PREFIX}",
                           f"http://127.0.0.1:{ctl.server_address[1]}/sim/", certs, book, faults, (rp, ctl))


def start_in_thread(port: int = 0, control_port: int = 0, certs_dir: Path | str = "instance/bankid-sim",
                    settings: Settings | None = None) -> SimulatorHandle:
    """Run the simulator on background threads (for tests); call `.stop()` when done."""
    handle = build(port, control_port, certs_dir, settings)
    for server in handle.servers:
        threading.Thread(target=server.serve_forever, name="bankid-sim", daemon=True).start()
    return handle


def run(port: int = 8443, control_port: int = 8444, certs_dir: Path | str = "instance/bankid-sim",
        settings: Settings | None = None) -> None:
    """Run the simulator in the foreground until interrupted."""
    handle = start_in_thread(port, control_port, certs_dir, settings)
    log.info("BankID simulator: RP API %s, phone page %s", handle.url, handle.control_url)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
