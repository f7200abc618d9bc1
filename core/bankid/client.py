"""A client for BankID's Relying Party API v6.0 over mutual TLS.

The same code talks to production, BankID's public test environment and the local simulator;
only the base URL, the RP certificate (PKCS#12) and the pinned CA differ:

    client = BankIDClient("https://appapi2.test.bankid.com/rp/v6.0/", "FPTestcert5.p12",
                          "qwerty123", "bankid-test-ca.pem")
    order = client.sign("203.0.113.7", "Sign **Lease 12**", "sha256:...")
    qr = order.qr_frame()             # once a second, server side
    result = client.collect(order.order_ref)   # every 2 seconds while result.status == "pending"
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)


class BankIDError(Exception):
    """BankID refused a request (`error_code` is BankID's errorCode) or could not be reached."""

    def __init__(self, error_code: str, details: str = "", http_status: int | None = None) -> None:
        super().__init__(f"{error_code}: {details}" if details else error_code)
        self.error_code = error_code
        self.details = details
        self.http_status = http_status


def qr_frame(qr_start_token: str, qr_start_secret: str, elapsed_seconds: float) -> str:
    """The animated QR payload for whole second `elapsed_seconds` since the order response arrived."""
    t = int(elapsed_seconds)
    code = hmac.new(qr_start_secret.encode(), str(t).encode(), hashlib.sha256).hexdigest()
    return f"bankid.{qr_start_token}.{t}.{code}"


def autostart_url(auto_start_token: str, redirect: str = "null") -> str:
    """The same-device link that opens the BankID app (BankID's universal link)."""
    return f"https://app.bankid.com/?autostarttoken={auto_start_token}&redirect={redirect}"


@dataclass(frozen=True)
class OrderStart:
    """BankID's answer to auth/sign. Keep `qr_start_secret` on the server; it must not reach a browser."""

    order_ref: str
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str
    started_at: float = field(default_factory=time.time)

    def qr_frame(self, now: float | None = None) -> str:
        """The QR payload for this moment (wall clock, so any process holding the order can draw it)."""
        return qr_frame(self.qr_start_token, self.qr_start_secret,
                        (time.time() if now is None else now) - self.started_at)


@dataclass(frozen=True)
class CollectResult:
    """One collect answer: pending or failed with a hint code, or complete with completion data."""

    order_ref: str
    status: str
    hint_code: str | None = None
    completion_data: dict[str, Any] | None = None


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _mutual_tls_context(p12_path: str | Path, password: str, ca_path: str | Path) -> ssl.SSLContext:
    """An SSLContext presenting the RP certificate and trusting only `ca_path`.

    ssl can only load client keys from files, so the PKCS#12 is unpacked once into temporary PEM
    files (the key stays encrypted with the same password) that are deleted straight after loading.
    """
    key, cert, extra = pkcs12.load_key_and_certificates(Path(p12_path).read_bytes(), password.encode())
    if key is None or cert is None:
        raise ValueError(f"{p12_path} holds no key and certificate")
    context = ssl.create_default_context(cafile=str(ca_path))
    with tempfile.TemporaryDirectory(prefix="bankid-") as tmp:
        cert_file, key_file = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        with open(cert_file, "wb") as f:
            for c in [cert, *extra]:
                f.write(c.public_bytes(serialization.Encoding.PEM))
        with open(key_file, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(password.encode())))
        context.load_cert_chain(cert_file, key_file, password=password)
    return context


class _ContextAdapter(HTTPAdapter):
    """Hands our SSLContext to urllib3, which requests offers no other way to do."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


class BankIDClient:
    """BankID RP API v6.0: auth, sign, collect, cancel. Errors raise `BankIDError`."""

    def __init__(self, base_url: str, cert_p12_path: str | Path, cert_password: str,
                 ca_path: str | Path, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.verify = str(ca_path)  # pin: urllib3 loads only this CA, never certifi
        self.session.trust_env = False  # BankID must be reached directly, not via env proxies
        self.session.mount("https://", _ContextAdapter(
            _mutual_tls_context(cert_p12_path, cert_password, ca_path)))

    def auth(self, end_user_ip: str, user_visible_data: str | None = None,
             user_non_visible_data: str | None = None, requirement: dict[str, Any] | None = None,
             return_url: str | None = None) -> OrderStart:
        """Start an identification order."""
        payload = _order_payload(end_user_ip, user_visible_data, user_non_visible_data,
                                 requirement, return_url)
        return _order_start(self._post("auth", payload))

    def sign(self, end_user_ip: str, user_visible_data: str, user_non_visible_data: str | None = None,
             requirement: dict[str, Any] | None = None, return_url: str | None = None) -> OrderStart:
        """Start a signing order; `user_visible_data` is simpleMarkdownV1 text shown in the app."""
        payload = _order_payload(end_user_ip, user_visible_data, user_non_visible_data,
                                 requirement, return_url)
        return _order_start(self._post("sign", payload))

    def collect(self, order_ref: str) -> CollectResult:
        """The order's state; call every 2 seconds while pending."""
        data = self._post("collect", {"orderRef": order_ref})
        return CollectResult(data["orderRef"], data["status"], data.get("hintCode"),
                             data.get("completionData"))

    def cancel(self, order_ref: str) -> None:
        """Cancel a pending order (the signer cancelled or left)."""
        self._post("cancel", {"orderRef": order_ref})

    def _post(self, endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.session.post(self.base_url + endpoint, json=payload, timeout=self.timeout)
        except requests.Timeout as exc:
            raise BankIDError("requestTimeout", f"No answer from BankID within {self.timeout} s") from exc
        except requests.RequestException as exc:
            raise BankIDError("connectionError", type(exc).__name__) from exc
        if response.status_code != 200:
            raise _error(response)
        log.debug("bankid %s -> %s", endpoint, response.status_code)
        return response.json()


def _order_payload(end_user_ip: str, visible: str | None, non_visible: str | None,
                   requirement: dict[str, Any] | None, return_url: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"endUserIp": end_user_ip}
    if visible:
        payload["userVisibleData"] = _b64(visible)
        payload["userVisibleDataFormat"] = "simpleMarkdownV1"
    if non_visible:
        payload["userNonVisibleData"] = _b64(non_visible)
    if requirement:
        payload["requirement"] = requirement
    if return_url:
        payload["returnUrl"] = return_url
    return payload


def _order_start(data: dict[str, Any]) -> OrderStart:
    return OrderStart(data["orderRef"], data["autoStartToken"], data["qrStartToken"],
                      data["qrStartSecret"])


def _error(response: requests.Response) -> BankIDError:
    try:
        body = response.json()
        code, details = body.get("errorCode") or "unknown", body.get("details") or ""
    except ValueError:
        code, details = "unknown", response.text[:200]
    log.warning("bankid refused: %s (%s) HTTP %s", code, details, response.status_code)
    return BankIDError(code, details, response.status_code)
