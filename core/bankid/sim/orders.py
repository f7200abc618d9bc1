"""The simulated BankID server's orders and their life: pending, then complete or failed.

Time-driven transitions (startFailed, expiredTransaction) are applied lazily whenever an order is
looked at, against a clock tests can move forward. The QR check uses real elapsed time, as the real
app compares the frame against BankID's own clock.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from core.bankid.sim.signing import BankIDIssuer, SignedData, TestUser
from core.personal_numbers import mask

log = logging.getLogger(__name__)

TEST_USERS = (
    TestUser("198001012387", "Alice", "Andersson"),
    TestUser("197503151230", "Bertil", "Berg"),
    TestUser("199207204562", "Cecilia", "Carlsson"),
)


class OrderError(Exception):
    """A request the simulated server refuses; `error_code` is BankID's errorCode."""

    def __init__(self, error_code: str, details: str) -> None:
        super().__init__(f"{error_code}: {details}")
        self.error_code = error_code
        self.details = details


class ScanError(Exception):
    """The simulated phone app refuses a QR code or start token (wrong HMAC, stale frame ...)."""


@dataclass
class Settings:
    """Timings, in seconds; tests shorten them."""

    start_timeout: float = 30.0
    order_timeout: float = 180.0
    qr_tolerance: int = 3


@dataclass
class Order:
    """One auth or sign order as the BankID server keeps it."""

    kind: str  # auth, sign, phone/auth, phone/sign
    end_user_ip: str | None
    visible_b64: str | None
    non_visible_b64: str | None
    requirement: dict[str, Any]
    return_url: str | None
    created: float
    phone_personal_number: str | None = None
    ref: str = field(default_factory=lambda: str(uuid.uuid4()))
    auto_start_token: str = field(default_factory=lambda: str(uuid.uuid4()))
    qr_start_token: str = field(default_factory=lambda: str(uuid.uuid4()))
    qr_start_secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_real: float = field(default_factory=time.monotonic)
    status: str = "pending"
    hint_code: str = "outstandingTransaction"
    user: TestUser | None = None
    same_device: bool = False
    completion: dict[str, Any] | None = None

    @property
    def required_personal_number(self) -> str | None:
        """Whose BankID may answer: the phone order's person or `requirement.personalNumber`."""
        return self.phone_personal_number or self.requirement.get("personalNumber")

    @property
    def started(self) -> bool:
        return self.hint_code not in ("outstandingTransaction", "noClient")

    def summary(self) -> dict[str, Any]:
        """What the control API and phone page show; never the QR secret."""
        return {
            "orderRef": self.ref, "kind": self.kind, "status": self.status,
            "hintCode": self.hint_code, "sameDevice": self.same_device,
            "requiredPersonalNumber": mask(self.required_personal_number),
            "user": self.user.name if self.user else None,
            "visibleData": self.visible_b64, "returnUrl": self.return_url,
        }


def qr_code(token: str, secret: str, t: int) -> str:
    """BankID's animated QR payload for second `t` of an order."""
    code = hmac.new(secret.encode(), str(t).encode(), hashlib.sha256).hexdigest()
    return f"bankid.{token}.{t}.{code}"


class OrderBook:
    """All orders of one simulator, guarded by one lock: requests arrive on many threads."""

    def __init__(self, issuer: BankIDIssuer, settings: Settings) -> None:
        self.issuer = issuer
        self.settings = settings
        self.offset = 0.0
        self.orders: dict[str, Order] = {}
        self.scripts: dict[str, dict[str, Any]] = {}
        self.lock = threading.RLock()

    def now(self) -> float:
        """The simulator's clock: wall time plus whatever tests advanced it by."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward, so expiry can be tested without waiting."""
        with self.lock:
            self.offset += seconds

    def create(self, order: Order) -> Order:
        """Register a new order; a second one for the same person aborts both (alreadyInProgress)."""
        with self.lock:
            person = order.required_personal_number
            if person:
                self._refuse_if_in_progress(person)
            self.orders[order.ref] = order
            log.info("order %s created (%s, person %s)", order.ref, order.kind, mask(person))
            return order

    def _refuse_if_in_progress(self, person: str) -> None:
        for other in self.pending():
            involved = {other.required_personal_number, other.user and other.user.personal_number}
            if person in involved:
                self._fail(other, "cancelled")
                raise OrderError("alreadyInProgress", "Order already in progress for pno")

    def pending(self) -> list[Order]:
        """Orders still pending, after applying timeouts."""
        with self.lock:
            return [o for o in self.orders.values() if self.refresh(o).status == "pending"]

    def get(self, ref: str) -> Order:
        """An order the RP may still collect; cancelled and unknown ones are invalidParameters."""
        with self.lock:
            order = self.orders.get(ref) if isinstance(ref, str) else None
            if order is None:
                raise OrderError("invalidParameters", "No such order")
            return self.refresh(order)

    def cancel(self, ref: str) -> None:
        """The RP cancels: the order disappears, as on the real server."""
        with self.lock:
            order = self.get(ref)
            del self.orders[order.ref]
            log.info("order %s cancelled by RP", order.ref)

    def refresh(self, order: Order) -> Order:
        """Apply scripted outcomes and time-driven failures that are due."""
        if order.status != "pending":
            return order
        age = self.now() - order.created
        self._apply_script(order, age)
        if order.status != "pending":
            return order
        deadlines = [(self.settings.order_timeout, "expiredTransaction")]
        if not self._found_bankid(order):
            deadlines.append((self.settings.start_timeout, "startFailed"))
        passed = [deadline for deadline in deadlines if age >= deadline[0]]
        if passed:
            self._fail(order, min(passed)[1])  # whichever happened first, though seen only now
        return order

    @staticmethod
    def _found_bankid(order: Order) -> bool:
        return order.kind.startswith("phone/") or order.hint_code not in (
            "outstandingTransaction", "noClient", "started")

    def _fail(self, order: Order, hint_code: str) -> None:
        order.status, order.hint_code = "failed", hint_code
        log.info("order %s failed: %s", order.ref, hint_code)

    # -- the simulated phone app -------------------------------------------------------------

    def scan(self, qr: str, user: TestUser) -> Order:
        """The app reads a QR frame: it must be a current frame of a pending, unstarted order."""
        with self.lock:
            order = self._order_for_qr(qr)
            return self._open(order, user)

    def _order_for_qr(self, qr: str) -> Order:
        parts = qr.strip().split(".")
        if len(parts) != 4 or parts[0] != "bankid" or not parts[2].isdigit():
            raise ScanError("Not a BankID QR code")
        token, t = parts[1], int(parts[2])
        order = next((o for o in self.pending() if o.qr_start_token == token), None)
        if order is None or order.started:
            raise ScanError("The QR code belongs to no waiting order")
        if not hmac.compare_digest(qr.strip(), qr_code(token, order.qr_start_secret, t)):
            raise ScanError("The QR code's HMAC is wrong")
        current = int(time.monotonic() - order.created_real)
        if abs(current - t) > self.settings.qr_tolerance:
            raise ScanError(f"The QR code is stale (t={t}, now {current})")
        return order

    def autostart(self, token: str, user: TestUser) -> Order:
        """The app opened on the same device through `autostarttoken`."""
        with self.lock:
            order = next((o for o in self.pending() if o.auto_start_token == token), None)
            if order is None or order.started:
                raise ScanError("The start token belongs to no waiting order")
            order.same_device = True
            return self._open(order, user)

    def _open(self, order: Order, user: TestUser) -> Order:
        """The app has the order: with a matching BankID the user is asked to sign, else it searches."""
        required = order.required_personal_number
        order.user = user
        if required and required != user.personal_number:
            order.hint_code = "started"
            log.info("order %s: app holds no BankID for %s", order.ref, mask(required))
            return order
        self._cancel_other_orders_of(user, order)
        order.hint_code = "userSign"
        return order

    def _cancel_other_orders_of(self, user: TestUser, keep: Order) -> None:
        for other in self.pending():
            if other is not keep and other.user and other.user.personal_number == user.personal_number:
                self._fail(other, "cancelled")

    def approve(self, ref: str, user: TestUser | None = None) -> Order:
        """The user enters the security code: the order completes with real evidence.

        An order not yet opened in the app is opened first (by `user`, else by the required person).
        Only whoever opened it can approve it, and only with a BankID matching the requirement.
        """
        with self.lock:
            order = self._pending(ref)
            if order.user is None:
                self._open(order, user or user_by_number(order.required_personal_number))
            elif user and user.personal_number != order.user.personal_number:
                raise ScanError("Another BankID holder opened this order")
            if order.hint_code == "started":
                raise ScanError("This BankID does not match the order's personal number requirement")
            self._complete(order, order.user)
            return order

    def user_cancel(self, ref: str) -> Order:
        """The user presses Cancel in the app."""
        with self.lock:
            order = self._pending(ref)
            self._fail(order, "userCancel")
            return order

    def set_outcome(self, ref: str, outcome: str) -> Order:
        """Force an order's state: `complete`, `fail:<hint>` or `pending:<hint>`."""
        with self.lock:
            order = self._pending(ref)
            self._apply(order, outcome, None)
            return order

    def _pending(self, ref: str) -> Order:
        order = self.get(ref)
        if order.status != "pending":
            raise ScanError(f"The order is {order.status}")
        return order

    def _complete(self, order: Order, user: TestUser) -> None:
        data = SignedData(order.visible_b64, order.non_visible_b64,
                          "Signing" if order.kind.endswith("sign") else "Identification",
                          order.end_user_ip or "127.0.0.1")
        signature, ocsp = self.issuer.completion_evidence(user, data)
        order.user, order.status, order.hint_code = user, "complete", ""
        order.completion = {
            "user": {"personalNumber": user.personal_number, "name": user.name,
                     "givenName": user.given_name, "surname": user.surname},
            "device": {"ipAddress": order.end_user_ip or "127.0.0.1", "uhi": order.ref[:8]},
            "bankIdIssueDate": "2024-01-15",
            "signature": signature,
            "ocspResponse": ocsp,
        }
        if order.requirement.get("mrtd"):
            order.completion["stepUp"] = {"mrtd": True}
        log.info("order %s complete for %s", order.ref, mask(user.personal_number))

    # -- scripted outcomes ---------------------------------------------------------------------

    def script(self, key: str, outcome: str, delay: float = 0.0, user: TestUser | None = None) -> None:
        """Decide an order's fate ahead: by orderRef or personal number, once, after `delay` seconds."""
        _check_outcome(outcome)
        with self.lock:
            self.scripts[key] = {"outcome": outcome, "delay": delay, "user": user}

    def _apply_script(self, order: Order, age: float) -> None:
        key = order.ref if order.ref in self.scripts else order.required_personal_number
        script = self.scripts.get(key or "")
        if script is None or age < script["delay"]:
            return
        del self.scripts[key]
        self._apply(order, script["outcome"], script["user"])

    def _apply(self, order: Order, outcome: str, user: TestUser | None) -> None:
        _check_outcome(outcome)
        if outcome == "complete":
            self._complete(order, user or user_by_number(order.required_personal_number))
        elif outcome.startswith("fail:"):
            self._fail(order, outcome[5:])
        else:
            order.hint_code = outcome[8:]

    def reset(self) -> None:
        """Forget all orders, scripts and clock offsets (between tests)."""
        with self.lock:
            self.orders.clear()
            self.scripts.clear()
            self.offset = 0.0


def _check_outcome(outcome: str) -> None:
    kind, _, hint = outcome.partition(":")
    if outcome == "complete" or (kind in ("fail", "pending") and hint):
        return
    raise ValueError(f"Unknown outcome {outcome!r}: use complete, fail:<hint> or pending:<hint>")


def user_by_number(personal_number: str | None) -> TestUser:
    """The test user with that number; an unknown number becomes a user of its own."""
    if not personal_number:
        return TEST_USERS[0]
    known = {u.personal_number: u for u in TEST_USERS}
    return known.get(personal_number, TestUser(personal_number, "Test", "Person"))
