"""Signing cases: documents, parties, signatures and the hash-chained event log."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import PG_TRGM, UTCDateTime, trigram_index, utcnow
from tenants.scoping import TenantScoped

CASE_STATUSES = ("draft", "pending", "completed", "declined", "revoked", "expired")
PARTY_STATUSES = ("waiting", "invited", "viewed", "signed", "declined")
PARTY_ROLES = ("signer", "recipient")
SIGNING_ORDERS = ("parallel", "sequential")


class Case(TenantScoped, db.Model):
    __tablename__ = "case"
    __table_args__ = (
        sa.Index("ix_case_tenant_status_activity", "tenant_id", "status", "last_activity_at"),
        sa.Index("ix_case_tenant_activity", "tenant_id", "last_activity_at"),
        sa.Index("ix_case_tenant_owner_activity", "tenant_id", "owner_id", "last_activity_at"),
        # "My cases" tab counts: GROUP BY status from the index alone.
        sa.Index("ix_case_tenant_owner_status", "tenant_id", "owner_id", "status"),
        # Free-text search (core/cases/listing.py): title ILIKE '%text%'.
        trigram_index("ix_case_title_trgm", "title"),
        # The case list filtered by template.
        sa.Index("ix_case_tenant_template_activity", "tenant_id", "template_id", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    signing_order: Mapped[str] = mapped_column(sa.String(20), default="parallel")
    allowed_methods: Mapped[list] = mapped_column(sa.JSON, default=list)
    language: Mapped[str] = mapped_column(sa.String(5), default="sv")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminder_interval_days: Mapped[int | None] = mapped_column()
    reminder_max: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(sa.Text)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Sealing: None -> "queued" -> "sealed"; failures are events on the timeline.
    seal_state: Mapped[str | None] = mapped_column(sa.String(20))
    event_head: Mapped[str | None] = mapped_column(sa.String(64))
    event_count: Mapped[int] = mapped_column(default=0)
    # Made from a template: which one and which of its versions (later edits never change the case).
    template_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_template.id", ondelete="SET NULL"))
    template_version: Mapped[int | None] = mapped_column()

    owner = relationship("Officer")
    documents = relationship(
        "Document", back_populates="case", order_by="Document.position", cascade="all, delete-orphan"
    )
    parties = relationship("Party", back_populates="case", order_by="Party.position", cascade="all, delete-orphan")
    events = relationship("Event", back_populates="case", order_by="Event.seq", cascade="all, delete-orphan")

    @property
    def signers(self) -> list[Party]:
        return [p for p in self.parties if p.role == "signer"]


class Document(TenantScoped, db.Model):
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size: Mapped[int] = mapped_column()
    page_count: Mapped[int] = mapped_column()
    sealed_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    fingerprint: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    # The receipt alone (the same pages as appended to the sealed file), once sealed.
    receipt_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    # Page previews rendered on demand: {"<page>": "<sha256 of the PNG blob>"}.
    previews: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case = relationship(Case, back_populates="documents")


class Party(TenantScoped, db.Model):
    __tablename__ = "party"
    __table_args__ = (
        sa.Index("ix_party_tenant_email", "tenant_id", "email"),
        sa.Index("ix_party_tenant_name", "tenant_id", "name"),
        trigram_index("ix_party_name_trgm", "name"),
        trigram_index("ix_party_email_trgm", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    personal_number: Mapped[str | None] = mapped_column(sa.String(12))
    role: Mapped[str] = mapped_column(sa.String(20), default="signer")
    language: Mapped[str] = mapped_column(sa.String(5), default="sv")
    methods: Mapped[list | None] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(20), default="waiting")
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # The link in the completion email (recipients never had another); lives for the retention period.
    result_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The template role this party plays (a case made from a template), e.g. "customer".
    role_key: Mapped[str | None] = mapped_column(sa.String(40))

    case = relationship(Case, back_populates="parties")
    signature = relationship("Signature", back_populates="party", uselist=False)

    @property
    def effective_methods(self) -> list[str]:
        return list(self.methods) if self.methods else list(self.case.allowed_methods or [])


class Signature(TenantScoped, db.Model):
    """One party's signature. Unique per party: the database enforces "exactly once"."""

    __tablename__ = "signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("party.id", ondelete="CASCADE"), unique=True)
    method: Mapped[str] = mapped_column(sa.String(20))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(500))
    consent_text: Mapped[str] = mapped_column(sa.Text)
    document_hashes: Mapped[dict] = mapped_column(sa.JSON)
    identity: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    evidence: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # SHA-256 of the party's field values as signed (core.fields.values.values_sha256); None: no fields.
    field_values_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    party = relationship(Party, back_populates="signature")


class Event(TenantScoped, db.Model):
    """Append-only, hash-chained log of everything that happens to a case."""

    __tablename__ = "event"
    __table_args__ = (sa.UniqueConstraint("case_id", "seq", name="uq_event_case_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(sa.String(50))
    actor_type: Mapped[str] = mapped_column(sa.String(20))  # officer, party, system
    actor_id: Mapped[int | None] = mapped_column()
    actor_label: Mapped[str] = mapped_column(sa.String(300), default="")
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    # The evidence key the hash is an HMAC under (core/cases/events.py); NULL: plain SHA-256 (older events).
    key_id: Mapped[str | None] = mapped_column(sa.String(16))

    case = relationship(Case, back_populates="events")


sa.event.listen(db.metadata, "before_create", PG_TRGM)
