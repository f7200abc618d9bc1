"""API keys, idempotency records and webhooks: the logic behind the API and its admin pages.

Functions work in the caller's transaction and never commit, except the delivery job
(`deliver_webhook`), which commits what happened to the delivery.

Settings: `WEBHOOK_ALLOWED_NETWORKS` (CIDRs that webhooks may reach although not public, e.g. an
on-premises receiver; none by default) and `WEBHOOK_CA_BUNDLE` (a CA file to verify receivers'
certificates with instead of the public roots).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import requests
import sqlalchemy as sa
from flask import current_app

from core import jobs
from core.api import transport
from core.api.models import WEBHOOK_EVENTS, ApiKey, IdempotencyRecord, WebhookDelivery, WebhookEndpoint
from core.api.transport import WebhookUrlError
from core.cases.lookup import MAX_ID  # noqa: F401  (one definition; the API checks its ids with it)
from core.extensions import db
from core.models import Job, Officer
from core.models.base import utcnow
from core.security import hash_token
from tenants.models import Tenant
from tenants.scoping import tenant_context

log = logging.getLogger(__name__)

KEY_PREFIX = "sgl_"
DELIVER_JOB = "core.api.service.deliver_webhook"
# Waits after each failed attempt; the last one repeats until the day is over.
RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1),
                timedelta(hours=2), timedelta(hours=4), timedelta(hours=8))
RETRY_WINDOW = timedelta(hours=24)
DELIVERY_TIMEOUT = 10
IDEMPOTENCY_TTL = timedelta(hours=24)
DELIVERY_LOG_KEPT = timedelta(days=30)
FAIR_SHARE_WAIT = 2  # seconds a delivery steps aside while its tenant has its share in flight


# --- API keys ------------------------------------------------------------------------------------


def create_api_key(tenant: Tenant, name: str, created_by: Officer | None) -> tuple[ApiKey, str]:
    """A new key for the tenant; returns the row and the key itself (shown once, never stored)."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)  # 256 random bits
    key = ApiKey(tenant_id=tenant.id, name=name.strip()[:100], prefix=secret[:12], key_hash=hash_token(secret),
                 created_by_id=created_by.id if created_by is not None else None)
    db.session.add(key)
    db.session.flush()
    log.info("API key %s (%s) created for tenant %s", key.id, key.prefix, tenant.id)
    return key, secret


def find_api_key(secret: str) -> ApiKey | None:
    """The active key with this secret, in any tenant (the caller then sets the tenant context)."""
    if not secret or len(secret) > 200:
        return None
    return db.session.execute(
        sa.select(ApiKey).where(ApiKey.key_hash == hash_token(secret), ApiKey.revoked_at.is_(None))
        .execution_options(all_tenants=True)
    ).scalar_one_or_none()


def touch_api_key(key: ApiKey) -> None:
    """Note the key's use, at most once a minute (no write on every request)."""
    now = utcnow()
    if key.last_used_at is None or key.last_used_at < now - timedelta(minutes=1):
        db.session.execute(sa.update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now)
                           .execution_options(all_tenants=True))
        db.session.commit()


def revoke_api_key(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        log.info("API key %s revoked", key.id)


def api_keys() -> list[ApiKey]:
    return list(db.session.scalars(sa.select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())))


def default_owner(key: ApiKey) -> Officer | None:
    """Cases created with a key belong to the officer who made the key, while they are active."""
    if key.created_by_id is None:
        return None
    officer = db.session.get(Officer, key.created_by_id)
    return officer if officer is not None and officer.active else None


# --- idempotency ---------------------------------------------------------------------------------


def request_fingerprint(method: str, route: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b"\x1f" + route.encode() + b"\x1f" + body).hexdigest()


@dataclass
class Replay:
    status: int
    body: str
    same_request: bool


def find_idempotent(key: str, request_hash: str) -> Replay | None:
    record = db.session.scalar(sa.select(IdempotencyRecord).where(
        IdempotencyRecord.key == key, IdempotencyRecord.created_at > utcnow() - IDEMPOTENCY_TTL))
    if record is None:
        return None
    return Replay(record.response_status, record.response_body, record.request_hash == request_hash)


def remember_idempotent(key: str, route: str, request_hash: str, status: int, body: str) -> None:
    db.session.execute(sa.delete(IdempotencyRecord).where(
        IdempotencyRecord.key == key, IdempotencyRecord.created_at <= utcnow() - IDEMPOTENCY_TTL))
    db.session.add(IdempotencyRecord(key=key, route=route, request_hash=request_hash, response_status=status,
                                     response_body=body))
    db.session.flush()


def forget_old_records(now: datetime | None = None) -> int:
    """Periodic: drop idempotency records past their day and finished deliveries older than a month."""
    now = now or utcnow()
    removed = db.session.execute(sa.delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at <= now - IDEMPOTENCY_TTL).execution_options(all_tenants=True)).rowcount
    removed += db.session.execute(sa.delete(WebhookDelivery).where(
        WebhookDelivery.created_at <= now - DELIVERY_LOG_KEPT, WebhookDelivery.status != "pending")
        .execution_options(all_tenants=True)).rowcount
    db.session.commit()
    return removed


# --- webhook endpoints ---------------------------------------------------------------------------


def _allowed_networks() -> tuple[transport.Network, ...]:
    return transport.allowed_networks(current_app.config.get("WEBHOOK_ALLOWED_NETWORKS"))


def check_webhook_url(url: str) -> str:
    """Only http(s) URLs whose host resolves to public addresses (or to a network the operator allowed)."""
    return transport.resolve(url, _allowed_networks()).url


def plugin_webhook_events(hooks=None) -> dict:
    """`{name: label}` of the webhook events plugins fire: those the current organisation has on
    (`hooks`: its hooks, default the request's), in the plugins' order."""
    from core.plugins import current_hooks

    found: dict = {}
    for declared in (hooks if hooks is not None else current_hooks()).webhook_events():
        for name, label in (declared or {}).items():
            if name not in WEBHOOK_EVENTS:
                found.setdefault(name, label)
    return found


def add_endpoint(url: str, events: list[str]) -> WebhookEndpoint:
    url = check_webhook_url(url)
    offered = [*WEBHOOK_EVENTS, *plugin_webhook_events()]
    chosen = [event for event in offered if event in set(events)]
    if not chosen:
        raise WebhookUrlError("no_events")
    endpoint = WebhookEndpoint(url=url, events=chosen, secret="whsec_" + secrets.token_urlsafe(32), active=True)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


# --- firing events -------------------------------------------------------------------------------


def queue_event(tenant_id: int, event: str, data: dict | Callable[[], dict], case_id: int | None = None,
                sequence: int | None = None) -> list[WebhookDelivery]:
    """One delivery (and its job) per active endpoint of the tenant that subscribes to `event`.

    `data` may be a function: it is called once, only when some endpoint subscribes (serialising a
    case costs queries that a tenant without webhooks should not pay on every signature).
    Called from lifecycle hooks inside the caller's transaction: nothing is sent unless it commits.
    """
    made = []
    with tenant_context(tenant_id):
        for endpoint in db.session.scalars(sa.select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))):
            if event not in (endpoint.events or []):
                continue
            if callable(data):
                data = data()
            uid = str(uuid.uuid4())
            payload = {"id": uid, "event": event, "created_at": utcnow().isoformat(), "sequence": sequence,
                       "data": data}
            delivery = WebhookDelivery(uid=uid, endpoint_id=endpoint.id, tenant_id=tenant_id, event=event,
                                       case_id=case_id, sequence=sequence,
                                       payload=json.loads(json.dumps(payload, default=str)), status="pending",
                                       next_attempt_at=utcnow())
            db.session.add(delivery)
            db.session.flush()
            _enqueue_delivery(delivery)
            made.append(delivery)
    return made


def payload_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def next_attempt(delivery: WebhookDelivery, now: datetime) -> datetime | None:
    """When to try again after a failed attempt, or None once the day of retries is over."""
    delay = RETRY_DELAYS[min(delivery.attempts, len(RETRY_DELAYS)) - 1]
    moment = now + delay
    return moment if moment <= delivery.window_started_at + RETRY_WINDOW else None


def _enqueue_delivery(delivery: WebhookDelivery, delay: timedelta | None = None) -> None:
    jobs.enqueue(DELIVER_JOB, delivery.id, tenant_id=delivery.tenant_id, delay=delay, queue="webhooks")


def _tenant_busy(tenant_id: int) -> bool:
    """True when the tenant already has its share of deliveries in flight (besides this one): its
    slow receiver then waits its turn instead of taking every worker from the other tenants."""
    running = db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
        Job.func == DELIVER_JOB, Job.tenant_id == tenant_id, Job.state == "running"))
    return running > int(current_app.config["WEBHOOK_TENANT_CONCURRENCY"])


def deliver_webhook(delivery_id: int) -> None:
    """The job: POST the delivery once; on failure schedule the next attempt (or give up after a day).

    The attempt is counted (committed) before the POST, so a worker that dies mid-delivery still
    leaves a true count."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "pending":
        return
    endpoint = delivery.endpoint
    now = utcnow()
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + timedelta(seconds=1):
        return  # an early run of a rescheduled delivery; its own job comes later
    if _tenant_busy(delivery.tenant_id):
        raise jobs.Deferred(FAIR_SHARE_WAIT)
    delivery.attempts += 1
    db.session.commit()
    error, code = _post(endpoint, delivery)
    delivery.response_code = code
    if error is None:
        delivery.status = "delivered"
        delivery.delivered_at = utcnow()
        delivery.next_attempt_at = None
        delivery.last_error = None
    else:
        delivery.last_error = error[:500]
        later = next_attempt(delivery, utcnow()) if endpoint.active else None
        delivery.next_attempt_at = later
        if later is None:
            delivery.status = "failed"
            log.warning("webhook delivery %s to endpoint %s failed for good: %s", delivery.id, endpoint.id, error)
            if delivery.case_id is not None:
                from core.cases.job_failures import report

                report(delivery.tenant_id, delivery.case_id, "webhooks", delivery.attempts, error)
        else:
            _enqueue_delivery(delivery, delay=later - utcnow())
    db.session.commit()


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> tuple[str | None, int | None]:
    """Send once, to the addresses checked just now; returns (error or None, HTTP status or None)."""
    body = payload_body(delivery)
    headers = {"Content-Type": "application/json", "User-Agent": "Sigill-Webhooks/1",
               "Sigill-Signature": signature_header(endpoint.secret, body), "Sigill-Event": delivery.event,
               "Sigill-Delivery": delivery.uid}
    try:
        target = transport.resolve(endpoint.url, _allowed_networks())
        response = transport.post(target, body, headers, DELIVERY_TIMEOUT,
                                  verify=current_app.config.get("WEBHOOK_CA_BUNDLE") or True)
    except WebhookUrlError as exc:
        log.warning("webhook delivery %s to endpoint %s refused: %s", delivery.id, endpoint.id, exc.detail)
        return f"Refused, nothing sent: {exc.detail}.", None
    except requests.RequestException as exc:
        # requests names the URL; a receiver's URL may carry a secret in its query or user info.
        return f"{type(exc).__name__}: {exc}".replace(endpoint.url, _without_secrets(endpoint.url)), None
    if 200 <= response.status_code < 300:
        return None, response.status_code
    return f"HTTP {response.status_code}", response.status_code


def resend(delivery: WebhookDelivery) -> None:
    """The admin's "resend": a fresh day of attempts for the same delivery, starting now."""
    now = utcnow()
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.window_started_at = now
    delivery.next_attempt_at = now
    delivery.last_error = None
    _enqueue_delivery(delivery)


def _without_secrets(url: str) -> str:
    """`url` without user info and query, for logs and the delivery list."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))
