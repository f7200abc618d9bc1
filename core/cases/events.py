"""The event log of a case: append-only and hash-chained, keyed by a secret outside the database.

Each event stores the hash of the previous event (`prev_hash`) and of its own canonical content
(`hash`); the case keeps the head of the chain (`event_head`, `event_count`). Editing, removing or
reordering a stored event breaks the chain, and `verify_chain` says where.

The hash is an HMAC-SHA256 under an evidence key from the environment (`EVIDENCE_KEYS`; the event
names its key in `key_id`), over content that binds the case and its tenant. Someone who can write
the database but does not hold the key cannot recompute a chain after changing it, nor move an
event to another case or organisation. Keys rotate by putting a new one first: old events keep
verifying with the old keys, which stay configured (verify only). Events written before keys
existed (`key_id` NULL) keep their plain SHA-256 and verify as before; the first keyed event after
them binds their head, and the anchors (`core.cases.anchoring`) timestamp every head, so old
chains are covered too. What keys alone cannot show is a chain cut short at its end: the anchors
and the chain head printed in sealed documents do (`core.cases.audit`).

Appending is safe under concurrency: the case row is locked (`SELECT ... FOR NO KEY UPDATE` on
PostgreSQL) and advanced with a conditional UPDATE (compare-and-swap on `event_count`); the unique
(case_id, seq) constraint is the last line of defence (SQLite serialises writers itself).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app, has_request_context
from sqlalchemy.orm.attributes import set_committed_value

from core.cases.actors import KINDS as ACTOR_TYPES
from core.cases.actors import Actor
from core.extensions import db
from core.models import Case, ChainLegacyCover, Event
from core.models.base import utcnow

GENESIS = "0" * 64
_ATTEMPTS = 5
# session.info: {case id: (event count, head)} this transaction appended last; cleared when it ends.
_HEADS_KEY = "sigill_chain_heads"


class UnknownEvidenceKey(KeyError):
    """An event names an evidence key that is not configured: it cannot be checked here."""


def evidence_keys() -> dict[str, bytes]:
    """The configured evidence keys, the one that signs new events first.

    `EVIDENCE_KEYS="2026b:<secret>,2026a:<older secret>"`; without it one key is derived from
    SECRET_KEY (id "sk"), which is outside the database too but rotates with it.
    """
    app = current_app._get_current_object()
    keys = app.extensions.get("sigill_evidence_keys")
    if keys is None:
        keys = app.extensions["sigill_evidence_keys"] = parse_keys(app.config.get("EVIDENCE_KEYS"),
                                                                   app.config["SECRET_KEY"])
    return keys


def parse_keys(setting: str | None, secret_key: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for item in (setting or "").replace("\n", ",").split(","):
        if not item.strip():
            continue
        key_id, _, secret = item.strip().partition(":")
        if not key_id or len(secret) < 16 or len(key_id) > 16:
            raise ValueError("EVIDENCE_KEYS: give id:secret pairs, ids up to 16 characters, secrets of 16+ characters")
        keys[key_id] = secret.encode()
    if not keys:
        keys["sk"] = hmac.new(secret_key.encode(), b"sigill evidence chain", hashlib.sha256).digest()
    return keys


class ChainConflict(RuntimeError):
    """Another transaction kept appending to the same case; the caller's transaction should be retried."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(case_id: int, seq: int, kind: str, actor_type: str, actor_id: int | None, actor_label: str,
              data: dict, ip: str | None, user_agent: str | None, created_at: datetime, prev_hash: str,
              tenant_id: int | None = None, key_id: str | None = None) -> bytes:
    """The exact bytes an event's hash covers (keyed events also bind the tenant and the key's id)."""
    content = {
        "case_id": case_id, "seq": seq, "kind": kind, "actor_type": actor_type, "actor_id": actor_id,
        "actor_label": actor_label, "data": data, "ip": ip, "user_agent": user_agent,
        "created_at": _iso(created_at), "prev_hash": prev_hash,
    }
    if key_id is not None:
        content.update(v=2, tenant_id=tenant_id, key_id=key_id)
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: Event, seq: int | None = None) -> str:
    """The hash an event should carry (optionally as if it were stored at another `seq`)."""
    body = canonical(event.case_id, event.seq if seq is None else seq, event.kind, event.actor_type, event.actor_id,
                     event.actor_label or "", event.data or {}, event.ip, event.user_agent, event.created_at,
                     event.prev_hash, event.tenant_id, event.key_id)
    if event.key_id is None:  # written before evidence keys: plain SHA-256
        return hashlib.sha256(body).hexdigest()
    key = evidence_keys().get(event.key_id)
    if key is None:
        raise UnknownEvidenceKey(event.key_id)
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _request_origin() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    from core.security import client_ip, user_agent

    return client_ip(), user_agent() or None


def record(case: Case, kind: str, actor_type: str, actor_id: int | None = None, actor_label: str = "",
           data: dict | None = None, ip: str | None = None, user_agent: str | None = None) -> Event:
    """Append one event to the case's chain (in the caller's transaction).

    Inside a request, `ip` and `user_agent` default to the client's.
    """
    if actor_type not in ACTOR_TYPES:
        raise ValueError(f"unknown actor type {actor_type!r}")
    if ip is None and user_agent is None:
        ip, user_agent = _request_origin()
    data = json.loads(json.dumps(data or {}, default=str))  # what the JSON column will give back
    db.session.flush()
    # The head this transaction itself appended last to the case (its row stays locked until the
    # commit): the next event of the same transaction (a signature records two or three) starts
    # from it without reading the row again. The guarded UPDATE below still checks it, and reads
    # the row when it was not the head after all (a savepoint rolled back).
    heads = db.session.info.setdefault(_HEADS_KEY, {})
    known = heads.pop(case.id, None)
    for _ in range(_ATTEMPTS + (known is not None)):
        guard = None
        if known is not None:
            (count, prev), known = known, None
            guard = Case.event_head == prev  # the count alone could match another transaction's append
        else:
            count, head = db.session.execute(
                sa.select(Case.event_count, Case.event_head).where(Case.id == case.id)
                .with_for_update(key_share=True)  # FOR NO KEY UPDATE: no deadlock with rows referencing the case
            ).one()
            count, prev = count or 0, head or GENESIS
        now = utcnow()
        event = Event(case_id=case.id, tenant_id=case.tenant_id, seq=count + 1, kind=kind, actor_type=actor_type,
                      actor_id=actor_id, actor_label=actor_label or "", data=data, ip=ip, user_agent=user_agent,
                      created_at=now, prev_hash=prev, key_id=next(iter(evidence_keys())))
        event.hash = event_hash(event)
        advanced = db.session.execute(
            sa.update(Case)
            .where(Case.id == case.id, Case.event_count == count, *([guard] if guard is not None else []))
            .values(event_count=count + 1, event_head=event.hash, last_activity_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if advanced != 1:
            continue
        for name, value in (("event_count", count + 1), ("event_head", event.hash), ("last_activity_at", now)):
            set_committed_value(case, name, value)
        db.session.add(event)
        db.session.flush()
        heads[case.id] = (count + 1, event.hash)
        return event
    raise ChainConflict(f"could not append to the event chain of case {case.id}")


def record_by(case: Case, kind: str, actor: Actor, data: dict | None = None, ip: str | None = None,
              user_agent: str | None = None) -> Event:
    """Append an event done by `actor` (see `record`); the actor must belong to the case's tenant."""
    actor.check(case)
    return record(case, kind, **actor.event_fields(), data=data, ip=ip, user_agent=user_agent)


def verify_chain(case: Case) -> list[str]:
    """Every problem in the case's chain: edited, removed, reordered, moved or downgraded events.
    Empty when intact."""
    stored = db.session.scalars(
        sa.select(Event).where(Event.case_id == case.id).order_by(Event.seq, Event.id)
        .execution_options(all_tenants=True)
    ).all()
    problems: list[str] = []
    expected_prev = GENESIS
    for position, event in enumerate(stored, start=1):
        if event.seq != position:
            problems.append(f"event #{position} is missing (removed); the next stored event is #{event.seq}")
        if event.tenant_id != case.tenant_id:
            problems.append(f"event #{event.seq} ({event.kind}) is stored under another organisation (moved)")
        try:
            intact = event.hash == event_hash(event)
        except UnknownEvidenceKey:
            problems.append(f"event #{event.seq} was hashed with evidence key {event.key_id!r}, which is not "
                            f"configured (EVIDENCE_KEYS): it cannot be checked")
            intact = True
        if not intact:
            problems.append(_content_problem(event, len(stored) + 1))
        if event.prev_hash != expected_prev:
            problems.append(f"event #{event.seq} ({event.kind}) does not follow the event before it "
                            f"(an event was removed or reordered)")
        expected_prev = event.hash
    problems += _legacy_problems(case, stored)
    count = case.event_count or 0
    if count > len(stored):
        problems.append(f"the case has recorded {count} events but only {len(stored)} are stored (removed)")
    if (case.event_head or (GENESIS if not stored else None)) != (stored[-1].hash if stored else GENESIS):
        problems.append("the last stored event is not the head of the chain (removed or edited)")
    return problems


def _content_problem(event: Event, limit: int) -> str:
    for seq in range(1, limit + 1):
        if seq != event.seq and event.hash == event_hash(event, seq=seq):
            return f"event #{seq} ({event.kind}) is stored as #{event.seq} (reordered)"
    return (f"event #{event.seq} ({event.kind}) was edited: its content does not match its hash "
            f"(a hash recomputed without the evidence key does not match either)")


# --- events from before evidence keys -------------------------------------------------------------


def legacy_mac(key: bytes, case_id: int, tenant_id: int, count: int, head: str) -> str:
    """The keyed cover of a chain's plain-hashed first `count` events (made by migration 9e4f1a7c2d55)."""
    return hmac.new(key, f"legacy:{case_id}:{tenant_id}:{count}:{head}".encode(), hashlib.sha256).hexdigest()


def _legacy_problems(case: Case, stored: list[Event]) -> list[str]:
    unkeyed = [e for e in stored if e.key_id is None]
    if not unkeyed:
        return []
    first_keyed = next((e.seq for e in stored if e.key_id is not None), None)
    if first_keyed is not None and unkeyed[-1].seq > first_keyed:
        return [f"event #{unkeyed[-1].seq} has a plain hash although event #{first_keyed} before it is keyed "
                f"(downgraded to be rewritten)"]
    cover = db.session.get(ChainLegacyCover, case.id)
    last = unkeyed[-1]
    key = evidence_keys().get(cover.key_id) if cover is not None else None
    if (cover is None or key is None or (cover.event_count, cover.head, cover.tenant_id) != (last.seq, last.hash,
                                                                                            case.tenant_id)
            or not hmac.compare_digest(cover.mac, legacy_mac(key, case.id, case.tenant_id, last.seq, last.hash))):
        return [f"events #1–#{last.seq} have plain hashes that the upgrade did not cover (written or rewritten "
                f"without the evidence key)"]
    return []


def note_head(case: Case, count: int | None, head: str | None) -> None:
    """The chain's head as a statement of this transaction that locked the case's row just read it
    (e.g. an UPDATE ... RETURNING): the next `record` on the case starts from it (still guarded)."""
    db.session.info.setdefault(_HEADS_KEY, {})[case.id] = (count or 0, head or GENESIS)


def _forget_heads(session, *_args) -> None:
    session.info.pop(_HEADS_KEY, None)


def init_app(_app) -> None:
    """The heads a transaction appended are forgotten when it commits or rolls back."""
    for name in ("after_commit", "after_soft_rollback"):
        if not sa.event.contains(db.session, name, _forget_heads):
            sa.event.listen(db.session, name, _forget_heads)
