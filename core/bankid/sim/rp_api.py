"""The relying-party face of the simulator: BankID RP API v6.0 requests in, JSON answers out.

Pure functions over an `OrderBook`, so the HTTP layer only moves bytes. Validation answers
`invalidParameters` where BankID documents it; the size limits are the ones integrators use.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from typing import Any

from core.bankid.sim.orders import Order, OrderBook, OrderError
from core.personal_numbers import is_valid as is_well_formed

PREFIX = "/rp/v6.0/"
VISIBLE_LIMIT = 40_000
NON_VISIBLE_LIMIT = 200_000
HTTP_STATUS = {
    "invalidParameters": 400, "alreadyInProgress": 400, "unauthorized": 401, "notFound": 404,
    "methodNotAllowed": 405, "requestTimeout": 408, "unsupportedMediaType": 415,
    "internalError": 500, "maintenance": 503,
}
REQUIREMENT_CHECKS = {
    "pinCode": lambda v: isinstance(v, bool),
    "mrtd": lambda v: isinstance(v, bool),
    "cardReader": lambda v: v in ("class1", "class2"),
    "certificatePolicies": lambda v: isinstance(v, list) and all(isinstance(p, str) for p in v),
    "personalNumber": lambda v: isinstance(v, str) and is_well_formed(v),
}

Answer = tuple[int, dict[str, Any]]


def error(code: str, details: str) -> Answer:
    """BankID's error body with the HTTP status it comes with."""
    return HTTP_STATUS.get(code, 400), {"errorCode": code, "details": details}


def handle(book: OrderBook, method: str, path: str, content_type: str, body: bytes) -> Answer:
    """Answer one request to the RP API the way BankID's server would."""
    endpoint = path[len(PREFIX):] if path.startswith(PREFIX) else None
    if endpoint not in ENDPOINTS:
        return error("notFound", "No such endpoint")
    if method != "POST":
        return error("methodNotAllowed", "Only POST is allowed")
    if content_type.split(";")[0].strip().lower() != "application/json":
        return error("unsupportedMediaType", "Content-Type must be application/json")
    try:
        request = json.loads(body or b"null")
        if not isinstance(request, dict):
            raise ValueError("not an object")
        return 200, ENDPOINTS[endpoint](book, request)
    except ValueError as exc:
        return error("invalidParameters", f"Invalid JSON body: {exc}")
    except OrderError as exc:
        return error(exc.error_code, exc.details)


def _invalid(details: str) -> OrderError:
    return OrderError("invalidParameters", details)


def _user_data(request: dict[str, Any], key: str, limit: int, required: bool) -> str | None:
    value = request.get(key)
    if value is None:
        if required:
            raise _invalid(f"Missing {key}")
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise _invalid(f"Invalid {key}")
    try:
        base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid(f"Invalid {key}: not base64 of UTF-8 text") from None
    return value


def _requirement(request: dict[str, Any]) -> dict[str, Any]:
    requirement = request.get("requirement", {})
    if not isinstance(requirement, dict):
        raise _invalid("Invalid requirement")
    for key, value in requirement.items():
        check = REQUIREMENT_CHECKS.get(key)
        if check is None or not check(value):
            raise _invalid(f"Invalid requirement.{key}")
    return requirement


def _end_user_ip(request: dict[str, Any]) -> str:
    value = request.get("endUserIp")
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise _invalid("Invalid endUserIp") from None
    return value


def _common(request: dict[str, Any], sign: bool) -> dict[str, Any]:
    fmt = request.get("userVisibleDataFormat")
    if fmt is not None and fmt != "simpleMarkdownV1":
        raise _invalid("Invalid userVisibleDataFormat")
    return_url = request.get("returnUrl")
    if return_url is not None and not (
        isinstance(return_url, str) and return_url.startswith(("https://", "http://"))
    ):
        raise _invalid("Invalid returnUrl")
    return {
        "visible_b64": _user_data(request, "userVisibleData", VISIBLE_LIMIT, sign),
        "non_visible_b64": _user_data(request, "userNonVisibleData", NON_VISIBLE_LIMIT, False),
        "requirement": _requirement(request),
        "return_url": return_url,
    }


def _start(book: OrderBook, request: dict[str, Any], kind: str) -> dict[str, Any]:
    order = book.create(Order(kind=kind, end_user_ip=_end_user_ip(request), created=book.now(),
                              **_common(request, sign=kind == "sign")))
    return {"orderRef": order.ref, "autoStartToken": order.auto_start_token,
            "qrStartToken": order.qr_start_token, "qrStartSecret": order.qr_start_secret}


def _phone_start(book: OrderBook, request: dict[str, Any], kind: str) -> dict[str, Any]:
    person = request.get("personalNumber")
    if not isinstance(person, str) or not is_well_formed(person):
        raise _invalid("Invalid personalNumber")
    if request.get("callInitiator") not in ("user", "RP"):
        raise _invalid("Invalid callInitiator")
    order = book.create(Order(kind=kind, end_user_ip=None, created=book.now(),
                              phone_personal_number=person,
                              **_common(request, sign=kind == "phone/sign")))
    return {"orderRef": order.ref}


def _order_ref(request: dict[str, Any]) -> str:
    ref = request.get("orderRef")
    if not isinstance(ref, str) or not ref:
        raise _invalid("Missing orderRef")
    return ref


def _collect(book: OrderBook, request: dict[str, Any]) -> dict[str, Any]:
    order = book.get(_order_ref(request))
    answer: dict[str, Any] = {"orderRef": order.ref, "status": order.status}
    if order.status == "complete":
        answer["completionData"] = order.completion
    else:
        answer["hintCode"] = order.hint_code
    return answer


def _cancel(book: OrderBook, request: dict[str, Any]) -> dict[str, Any]:
    book.cancel(_order_ref(request))
    return {}


ENDPOINTS = {
    "auth": lambda book, request: _start(book, request, "auth"),
    "sign": lambda book, request: _start(book, request, "sign"),
    "phone/auth": lambda book, request: _phone_start(book, request, "phone/auth"),
    "phone/sign": lambda book, request: _phone_start(book, request, "phone/sign"),
    "collect": _collect,
    "cancel": _cancel,
}
