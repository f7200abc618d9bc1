"""Platform tables that are not owned by one tenant's officers: job outbox, mail, rate limits."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import UTCDateTime, utcnow

JOB_STATES = ("pending", "running", "done", "failed")


class Job(db.Model):
    """The job outbox: written in the same transaction as the work that asks for it.

    Dispatched to RQ (or the embedded thread pool) only after commit; a sweeper re-dispatches
    rows that were never picked up or whose worker died, so no job is lost.
    """

    __tablename__ = "job"
    __table_args__ = (sa.Index("ix_job_state_run_after", "state", "run_after"),)
    # Queues that must not wait on each other: sealing, mail, webhooks, and default for the rest.

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    # The case the job works for: a job that gives up says so on that case's timeline.
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    func: Mapped[str] = mapped_column(sa.String(200))
    queue: Mapped[str] = mapped_column(sa.String(20), default="default")
    args: Mapped[list] = mapped_column(sa.JSON, default=list)
    state: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Renewed while the job runs; a running job whose heartbeat is older than the lease lost its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The worker process that claimed it ("host:pid"), so its supervisor can release it at once.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(100))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutgoingMail(db.Model):
    """A rendered email waiting for (or done with) delivery."""

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    to_addr: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    mime: Mapped[str] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RateLimitHit(db.Model):
    """Fixed-window counters for rate limits when no Redis is configured."""

    __tablename__ = "rate_limit_hit"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    window: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class ChainAnchor(db.Model):
    """A Merkle root over case chain heads, timestamped by an RFC 3161 server (core/cases/anchoring.py).

    Each anchor's first leaf is the previous anchor's root, so the anchors form a chain of their own.
    """

    __tablename__ = "chain_anchor"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    previous_root: Mapped[str | None] = mapped_column(sa.String(64))
    root: Mapped[str] = mapped_column(sa.String(64))
    leaf_count: Mapped[int] = mapped_column()
    tsa_url: Mapped[str | None] = mapped_column(sa.String(500))
    # The DER TimeStampToken over SHA-256(root), as the TSA returned it (its certificates included).
    token: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    timestamped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChainAnchorLeaf(db.Model):
    """One case's chain head as an anchor saw it. No foreign key: a deleted case must stay visible here."""

    __tablename__ = "chain_anchor_leaf"

    anchor_id: Mapped[int] = mapped_column(sa.ForeignKey("chain_anchor.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[int] = mapped_column(primary_key=True, index=True)
    tenant_id: Mapped[int] = mapped_column()
    event_count: Mapped[int] = mapped_column()
    head: Mapped[str] = mapped_column(sa.String(64))


class ChainLegacyCover(db.Model):
    """Covers a chain's events written before evidence keys (plain SHA-256) with a keyed MAC, made
    once at the upgrade: a downgrade of later events to plain hashes is then found."""

    __tablename__ = "chain_legacy_cover"

    case_id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column()
    event_count: Mapped[int] = mapped_column()
    head: Mapped[str] = mapped_column(sa.String(64))
    key_id: Mapped[str] = mapped_column(sa.String(16))
    mac: Mapped[str] = mapped_column(sa.String(64))
