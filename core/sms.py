"""Text messages: pluggable gateways chosen by `SMS_GATEWAY`.

* `outbox` (default): messages are written as JSON files to the outbox folder, where the
  development outbox page lists them. Nothing leaves the machine.
* `46elks`: the 46elks REST API (`POST {ELKS_URL}/sms`, form-encoded, HTTP Basic auth), with
  `dontlog=message` so one-time codes stay out of their logs.

Messages are sent synchronously: a one-time code is never stored in clear text, so it cannot wait
in a job queue, and the signer is told at once when the gateway fails.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests
from flask import current_app

from core.models.base import utcnow
from core.phones import InvalidPhoneNumber, normalise_phone  # noqa: F401  (InvalidPhoneNumber: what send_sms raises)
from core.security import mask_phone

log = logging.getLogger(__name__)
_PHONE_LIKE = re.compile(r"\+?\d[\d \-]{6,}\d")


class SmsError(RuntimeError):
    """The message could not be handed to the gateway."""


@dataclass
class SentSms:
    gateway: str
    message_id: str
    to: str


class SmsGateway(Protocol):
    name: str

    def send(self, to: str, message: str) -> SentSms: ...


class OutboxGateway:
    """Development gateway: one JSON file per message in OUTBOX_DIR/sms."""

    name = "outbox"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def send(self, to: str, message: str) -> SentSms:
        self.folder.mkdir(parents=True, exist_ok=True)
        message_id = secrets.token_hex(8)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        record = {"id": message_id, "to": to, "message": message, "created": utcnow().isoformat()}
        (self.folder / f"{stamp}-{message_id}.json").write_text(json.dumps(record))
        log.info("sms %s to %s written to the outbox", message_id, mask_phone(to))
        return SentSms(self.name, message_id, to)


def outbox_messages(folder: str | Path, limit: int = 100) -> list[dict]:
    """The newest messages the outbox gateway wrote (for the development outbox page)."""
    path = Path(folder)
    if not path.is_dir():
        return []
    return [json.loads(p.read_text()) for p in sorted(path.glob("*.json"), reverse=True)[:limit]]


class ElksGateway:
    """46elks: https://46elks.com/docs/send-sms."""

    name = "46elks"

    def __init__(self, url: str, username: str, password: str, sender: str, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.auth = (username, password)
        self.sender = sender
        self.timeout = timeout

    def send(self, to: str, message: str) -> SentSms:
        form = {"from": self.sender, "to": to, "message": message, "dontlog": "message"}
        try:
            response = requests.post(f"{self.url}/sms", data=form, auth=self.auth, timeout=self.timeout)
        except requests.RequestException as exc:
            log.warning("46elks unreachable sending to %s: %s", mask_phone(to), type(exc).__name__)
            raise SmsError("gateway unreachable") from exc
        if response.status_code >= 300:
            # 46elks answers errors as short plain text ("Invalid to number", "Not enough credits").
            answer = _PHONE_LIKE.sub("[number]", response.text[:200])  # in case it echoes the number
            log.warning("46elks refused sms to %s: %s %s", mask_phone(to), response.status_code, answer)
            raise SmsError(f"gateway answered {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise SmsError("gateway answered something that is not JSON") from exc
        if answer.get("status") == "failed":
            raise SmsError("gateway reports the message failed")
        log.info("sms %s to %s accepted by 46elks (%s)", answer.get("id"), mask_phone(to), answer.get("status"))
        return SentSms(self.name, str(answer.get("id", "")), to)


def gateway() -> SmsGateway:
    """The gateway the configuration asks for."""
    config = current_app.config
    choice = (config.get("SMS_GATEWAY") or "outbox").lower()
    if choice == "outbox":
        return OutboxGateway(Path(config["OUTBOX_DIR"]) / "sms")
    if choice == "46elks":
        if not config.get("ELKS_USERNAME") or not config.get("ELKS_PASSWORD"):
            raise SmsError("SMS_GATEWAY=46elks needs ELKS_USERNAME and ELKS_PASSWORD")
        return ElksGateway(config["ELKS_URL"], config["ELKS_USERNAME"], config["ELKS_PASSWORD"],
                           config.get("SMS_SENDER") or "Sigill")
    raise SmsError(f"unknown SMS_GATEWAY {choice!r} (use outbox or 46elks)")


def send_sms(to: str, message: str) -> SentSms:
    return gateway().send(normalise_phone(to), message)
