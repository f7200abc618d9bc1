"""The event log of a case: append-only and hash-chained.

Each event stores the SHA-256 of the previous event (`prev_hash`) and of its own canonical
content (`hash`); the case keeps the head of the chain (`event_head`, `event_count`). Editing,
removing or reordering a stored event breaks the chain, and `verify_chain` says where.

Appending is safe under concurrency: the case row is locked (`SELECT ... FOR NO KEY UPDATE` on
PostgreSQL) and advanced with a conditional UPDATE (compare-and-swap on `event_count`); the unique
(case_id, seq) constraint is the last line of defence (SQLite serialises writers itself).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import has_request_context
from sqlalchemy.orm.attributes import set_committed_value

from core.extensions import db
from core.models import Case, Event
from core.models.base import utcnow

GENESIS = "0" * 64
ACTOR_TYPES = ("officer", "party", "system")
_ATTEMPTS = 5


class ChainConflict(RuntimeError):
    """Another transaction kept appending to the same case; the caller's transaction should be retried."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(case_id: int, seq: int, kind: str, actor_type: str, actor_id: int | None, actor_label: str,
              data: dict, ip: str | None, user_agent: str | None, created_at: datetime, prev_hash: str) -> bytes:
    """The exact bytes an event's hash covers."""
    content = {
        "case_id": case_id, "seq": seq, "kind": kind, "actor_type": actor_type, "actor_id": actor_id,
        "actor_label": actor_label, "data": data, "ip": ip, "user_agent": user_agent,
        "created_at": _iso(created_at), "prev_hash": prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: Event, seq: int | None = None) -> str:
    """The hash an event should carry (optionally as if it were stored at another `seq`)."""
    body = canonical(event.case_id, event.seq if seq is None else seq, event.kind, event.actor_type, event.actor_id,
                     event.actor_label or "", event.data or {}, event.ip, event.user_agent, event.created_at,
                     event.prev_hash)
    return hashlib.sha256(body).hexdigest()


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
    for _ in range(_ATTEMPTS):
        count, head = db.session.execute(
            sa.select(Case.event_count, Case.event_head).where(Case.id == case.id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE: no deadlock with rows referencing the case
        ).one()
        count, prev = count or 0, head or GENESIS
        now = utcnow()
        event = Event(case_id=case.id, tenant_id=case.tenant_id, seq=count + 1, kind=kind, actor_type=actor_type,
                      actor_id=actor_id, actor_label=actor_label or "", data=data, ip=ip, user_agent=user_agent,
                      created_at=now, prev_hash=prev)
        event.hash = event_hash(event)
        advanced = db.session.execute(
            sa.update(Case)
            .where(Case.id == case.id, Case.event_count == count)
            .values(event_count=count + 1, event_head=event.hash, last_activity_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if advanced != 1:
            continue
        for name, value in (("event_count", count + 1), ("event_head", event.hash), ("last_activity_at", now)):
            set_committed_value(case, name, value)
        db.session.add(event)
        db.session.flush()
        return event
    raise ChainConflict(f"could not append to the event chain of case {case.id}")


def verify_chain(case: Case) -> list[str]:
    """Every problem in the case's chain: edited, removed or reordered events. Empty when intact."""
    stored = db.session.scalars(
        sa.select(Event).where(Event.case_id == case.id).order_by(Event.seq, Event.id)
        .execution_options(all_tenants=True)
    ).all()
    problems: list[str] = []
    expected_prev = GENESIS
    for position, event in enumerate(stored, start=1):
        if event.seq != position:
            problems.append(f"event #{position} is missing (removed); the next stored event is #{event.seq}")
        if event.hash != event_hash(event):
            problems.append(_content_problem(event, len(stored) + 1))
        if event.prev_hash != expected_prev:
            problems.append(f"event #{event.seq} ({event.kind}) does not follow the event before it "
                            f"(an event was removed or reordered)")
        expected_prev = event.hash
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
    return f"event #{event.seq} ({event.kind}) was edited: its content does not match its hash"
