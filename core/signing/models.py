"""Tables the signing package owns."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import UTCDateTime, utcnow
from tenants.scoping import TenantScoped


class SmsChallenge(TenantScoped, db.Model):
    """One SMS one-time code sent to a party.

    Only `code_hash` is stored: HMAC(secret key, challenge id, party, document hashes, code), so a
    code is bound to this party and exactly these documents. Only the party's newest challenge is
    valid; it dies after `expires_at`, after a correct use, or after too many wrong attempts.
    """

    __tablename__ = "sms_challenge"
    __table_args__ = (sa.Index("ix_sms_challenge_party_created", "party_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("party.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(sa.String(32))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    documents_digest: Mapped[str] = mapped_column(sa.String(64))
    phone_masked: Mapped[str] = mapped_column(sa.String(24))
    gateway: Mapped[str] = mapped_column(sa.String(20))
    gateway_message_id: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PageImage(TenantScoped, db.Model):
    """A page of a document rendered for the signer page, kept as a blob (rendered once)."""

    __tablename__ = "page_image"
    __table_args__ = (sa.UniqueConstraint("document_id", "page", "width", name="uq_page_image_document_page_width"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("document.id", ondelete="CASCADE"))
    page: Mapped[int] = mapped_column()
    width: Mapped[int] = mapped_column()
    blob_sha256: Mapped[str] = mapped_column(sa.String(64))
    height: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RetiredLink(TenantScoped, db.Model):
    """A party's earlier link (only its hash), by `reason`:

    - "kept": still valid. A reminder or "send the link again" gave the party a newer link, and
      this one must keep working (only a hash is stored, so the same link cannot be sent twice);
      likewise an earlier result link when the result is emailed again (`issue_result_link`).
      A corrected address or the officer's "replace the link" deletes these rows.
    - "revoked", "declined", "expired": stopped working because the case was closed. The case
      service clears `Party.token_hash` when it closes a case; this row lets the signer's page still
      say why. A closed case's links can never act (`link_state`), whichever row found the party.
    """

    __tablename__ = "retired_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("party.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(20))
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _remember(party, token_hash: str | None, reason: str) -> None:
    if token_hash:
        db.session.add(RetiredLink(token_hash=token_hash, party_id=party.id, tenant_id=party.tenant_id, reason=reason))


def retire_link(party, reason: str) -> None:
    """Remember the party's current link before it is cleared (called by the case service)."""
    _remember(party, party.token_hash, reason)


KEPT = "kept"


def keep_link(party) -> None:
    """The party's current link stays valid beside the newer one about to be issued."""
    _remember(party, party.token_hash, KEPT)


def keep_result_link(party) -> None:
    """The party's current result link (`Party.result_token_hash`) stays valid beside a newer one."""
    _remember(party, party.result_token_hash, KEPT)


def drop_kept_links(party) -> None:
    """Every earlier link of the party stops working (its current one is replaced by the caller)."""
    if party.id is not None:
        db.session.execute(sa.delete(RetiredLink).where(RetiredLink.party_id == party.id, RetiredLink.reason == KEPT)
                           .execution_options(synchronize_session=False))
