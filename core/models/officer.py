"""Officers: the logged-in users of a tenant."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import UTCDateTime, utcnow
from tenants.scoping import TenantScoped

ROLES = ("admin", "officer")


class Officer(TenantScoped, UserMixin, db.Model):
    __tablename__ = "officer"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20), default="officer")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    language: Mapped[str | None] = mapped_column(sa.String(5))
    active: Mapped[bool] = mapped_column(default=True)
    # Changing this logs out every session of the officer (password change, deactivation); each
    # session is also a row of its own (OfficerSession), so logging out ends exactly that one.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    tenant = relationship("Tenant", lazy="joined")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active and self.password_hash is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class OfficerToken(TenantScoped, db.Model):
    """A one-time, time-limited link token (password reset, invitation). Stored hashed."""

    __tablename__ = "officer_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("officer.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    officer = relationship(Officer)


class OfficerSession(TenantScoped, db.Model):
    """One logged-in browser of an officer. The session cookie carries a random token whose hash is
    stored here; logging out marks the row ended, so a copy of the cookie stops working too."""

    __tablename__ = "officer_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("officer.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The keyed hash of the address the officer logged in from: an address known to the account may
    # still log in while strangers' wrong passwords hold the account back (core/auth/service.py).
    ip_hash: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Renewed at most every few minutes while the session is used; idle longer than the session
    # lifetime and the session is over.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
