"""The kiosk's tables: paired tablets (by a hashed device token) and one-time pairing codes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import UTCDateTime, utcnow
from tenants.scoping import TenantScoped

NAME = "kiosk"

# What a tablet shows.
IDLE, PUSHED, OPENED, SIGNING, SIGNED, DECLINED = "idle", "pushed", "opened", "signing", "signed", "declined"


class KioskDevice(TenantScoped, db.Model):
    """A paired tablet. Its cookie holds a random token; only the token's SHA-256 is stored.

    `party_id` is what the tablet may show now (pushed by `pushed_by`); `push_token_hash` the
    hash of the push's own link, valid only with this tablet's cookie and only while pushed.
    """

    __tablename__ = "kiosk_device"
    __table_args__ = {"info": {"plugin": NAME}}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    paired_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(sa.String(20), default=IDLE)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id", ondelete="SET NULL"))
    party_id: Mapped[int | None] = mapped_column(sa.ForeignKey("party.id", ondelete="SET NULL"))
    pushed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    push_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Bumped by every push and every return to idle; part of the push link, so each push has its own.
    version: Mapped[int] = mapped_column(default=0)


class KioskPairing(TenantScoped, db.Model):
    """A pairing code an officer showed: single use, short-lived, stored hashed."""

    __tablename__ = "kiosk_pairing"
    __table_args__ = {"info": {"plugin": NAME}}

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("kiosk_device.id", ondelete="SET NULL"))
