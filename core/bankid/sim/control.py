"""The control face of the simulator: a JSON API for tests and the phone-app page for people.

Served on a separate plain-HTTP port bound to loopback. Everything here is what the real BankID
app or the person holding the phone would do, plus knobs real BankID does not have: scripted
outcomes, injected errors and a movable clock.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from core.bankid.sim.orders import TEST_USERS, OrderBook, OrderError, ScanError, user_by_number
from core.bankid.sim.rp_api import HTTP_STATUS, Answer
from core.bankid.sim.signing import TestUser
from core.personal_numbers import is_valid as is_well_formed

PHONE_PAGE = Path(__file__).with_name("templates") / "phone.html"


@dataclass
class Fault:
    """An injected misbehaviour of the RP API: an error answer and/or a delay before answering."""

    endpoint: str = "*"
    error: str | None = None
    sleep: float = 0.0
    count: int = 1


@dataclass
class Faults:
    """Faults waiting to hit the next matching RP requests, used up one request at a time."""

    items: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> None:
        with self.lock:
            self.items.append(fault)

    def take(self, endpoint: str) -> Fault | None:
        """The first fault for this endpoint, counted down (and dropped when used up)."""
        with self.lock:
            for fault in self.items:
                if fault.endpoint in ("*", endpoint):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.items.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


def user_from(request: dict[str, Any]) -> TestUser | None:
    """The phone's BankID holder named in a control request, if any."""
    person = request.get("personalNumber")
    if not person:
        return None
    if not is_well_formed(str(person)):
        raise ScanError("personalNumber must be 12 digits with a correct check digit")
    known = user_by_number(str(person))
    if not request.get("givenName"):
        return known
    return TestUser(str(person), str(request["givenName"]), str(request.get("surname", "")))


class Page(NamedTuple):
    """A GET answer: status, content type, body, and where to go next for redirects."""

    status: int
    content_type: str
    body: bytes
    location: str | None = None


def handle_get(book: OrderBook, path: str) -> Page:
    """GET requests: the phone page, the order list, and the same-device start link."""
    url = urlsplit(path)
    if url.path in ("/sim", "/sim/"):
        return Page(200, "text/html; charset=utf-8", PHONE_PAGE.read_bytes())
    if url.path == "/sim/orders":
        return Page(200, "application/json", _json({"orders": _orders(book), "users": _users()}))
    if url.path == "/sim/autostart":
        return _autostart(book, parse_qs(url.query))
    return Page(404, "application/json", _json({"error": "No such control endpoint"}))


def _autostart(book: OrderBook, query: dict[str, list[str]]) -> Page:
    token = (query.get("autostarttoken") or [""])[0]
    wanted = {k: v[0] for k, v in query.items() if k in ("personalNumber", "givenName", "surname")}
    try:
        order = book.autostart(token, user_from(wanted) or TEST_USERS[0])
    except ScanError as exc:
        return Page(400, "application/json", _json({"error": str(exc)}))
    return Page(303, "text/plain", b"", f"/sim/?order={order.ref}")


def handle_post(book: OrderBook, faults: Faults, path: str, request: dict[str, Any]) -> Answer:
    """POST requests of the control API; each answers JSON."""
    parts = urlsplit(path).path.strip("/").split("/")
    try:
        if parts[:2] == ["sim", "orders"] and len(parts) == 4:
            return 200, ORDER_ACTIONS[parts[3]](book, parts[2], request)
        action = COMMANDS.get("/".join(parts[1:])) if parts[0] == "sim" else None
        if action is None:
            return 404, {"error": "No such control endpoint"}
        return 200, action(book, faults, request)
    except KeyError:
        return 404, {"error": "No such order action"}
    except (ScanError, OrderError, ValueError) as exc:
        return 400, {"error": str(exc)}


def _orders(book: OrderBook) -> list[dict[str, Any]]:
    with book.lock:
        return [book.refresh(o).summary() for o in book.orders.values()]


def _users() -> list[dict[str, str]]:
    return [{"personalNumber": u.personal_number, "name": u.name} for u in TEST_USERS]


def _scan(book: OrderBook, faults: Faults, request: dict[str, Any]) -> dict[str, Any]:
    return book.scan(str(request.get("qr", "")), user_from(request) or TEST_USERS[0]).summary()


def _script(book: OrderBook, faults: Faults, request: dict[str, Any]) -> dict[str, Any]:
    key = request.get("orderRef") or request.get("personalNumber")
    if not key:
        raise ValueError("Give orderRef or personalNumber")
    book.script(str(key), str(request.get("outcome", "")), float(request.get("delay", 0)),
                user_from(request))
    return {}


def _fault(book: OrderBook, faults: Faults, request: dict[str, Any]) -> dict[str, Any]:
    error = request.get("error")
    if error is not None and error not in HTTP_STATUS:
        raise ValueError(f"Unknown errorCode {error!r}")
    faults.add(Fault(str(request.get("endpoint", "*")), error, float(request.get("sleep", 0)),
                     int(request.get("count", 1))))
    return {}


def _time(book: OrderBook, faults: Faults, request: dict[str, Any]) -> dict[str, Any]:
    book.advance(float(request.get("advance", 0)))
    return {"now": book.now()}


def _reset(book: OrderBook, faults: Faults, request: dict[str, Any]) -> dict[str, Any]:
    book.reset()
    faults.clear()
    return {}


def _approve(book: OrderBook, ref: str, request: dict[str, Any]) -> dict[str, Any]:
    return book.approve(ref, user_from(request)).summary()


COMMANDS = {"scan": _scan, "script": _script, "faults": _fault, "time": _time, "reset": _reset}
ORDER_ACTIONS = {
    "approve": _approve,
    "cancel": lambda book, ref, request: book.user_cancel(ref).summary(),
    "outcome": lambda book, ref, request: book.set_outcome(ref, str(request.get("outcome"))).summary(),
}


def apply_fault(fault: Fault | None) -> Answer | None:
    """Sleep as injected, then the injected error answer if there is one."""
    if fault is None:
        return None
    if fault.sleep:
        time.sleep(fault.sleep)
    if fault.error:
        return HTTP_STATUS[fault.error], {"errorCode": fault.error, "details": "Injected by simulator"}
    return None


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()
