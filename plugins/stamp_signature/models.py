"""The stamp signature's tables: the manifests parties signed, and which documents they opened."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import UTCDateTime, utcnow
from tenants.scoping import TenantScoped


class StampManifest(TenantScoped, db.Model):
    """One stamp signature: the JSON manifest of every case and document it signed (each with its
    SHA-256 and the party's field values), exactly as hashed: `sha256` is over `manifest`'s bytes."""

    __tablename__ = "stamp_manifest"
    __table_args__ = {"info": {"plugin": "stamp_signature"}}

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    manifest: Mapped[str] = mapped_column(sa.Text)
    method: Mapped[str] = mapped_column(sa.String(20))
    case_count: Mapped[int] = mapped_column()
    # The party the method proved for (the first case's): a BankID order started from the stamp page
    # is found again by it. A BankID manifest is stored when its order starts, so one whose order
    # never completed signed nothing (no signature names it).
    party_id: Mapped[int | None] = mapped_column(sa.ForeignKey("party.id", ondelete="SET NULL"), index=True)
    # The method's proof handed to the chunk jobs (`service.sign_chunk`) of a stamp too large to sign
    # in its request: encrypted for the tenant (context `stamp_signature:proof:<sha256>`), re-encrypted
    # by `sigill files rotate`, set to NULL once every chunk job finished. Not evidence: each case's
    # signature keeps the method's evidence, identity and consent itself. `proof_sha256` is the
    # SHA-256 of the first ciphertext, the handle the jobs carry (it stays when the key rotates).
    proof: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)  # read by the jobs only
    proof_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the hourly cleanup found a signature or a timeline event naming this manifest: kept for
    # good, not looked at again. An unnamed one older than a day (an order cancelled or never
    # completed) is deleted (`cleanup.delete_orphans`).
    kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StampOpened(TenantScoped, db.Model):
    """A party opened a document from the stamp page (first time only)."""

    __tablename__ = "stamp_opened"
    __table_args__ = (sa.UniqueConstraint("party_id", "document_id", name="uq_stamp_opened_party_document"),
                      {"info": {"plugin": "stamp_signature"}})

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("party.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("document.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StampDigest(TenantScoped, db.Model):
    """When a person (an email address in one organisation) was last sent the digest email
    ("N documents are waiting for you"): at most once per period."""

    __tablename__ = "stamp_digest"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "email", name="uq_stamp_digest_tenant_email"),
                      {"info": {"plugin": "stamp_signature"}})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    case_count: Mapped[int] = mapped_column()
