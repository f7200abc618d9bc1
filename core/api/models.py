"""API keys, idempotency records, webhook endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import UTCDateTime, utcnow
from tenants.scoping import TenantScoped

WEBHOOK_EVENTS = ("case.sent", "party.viewed", "party.signed", "case.completed", "case.declined", "case.revoked",
                  "case.expired")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class ApiKey(TenantScoped, db.Model):
    """A per-tenant API key. Only the SHA-256 of the key is kept; the key is shown once."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(20))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by = relationship("Officer")

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(TenantScoped, db.Model):
    """The response to a request made with an `Idempotency-Key`, replayed when the same request comes again."""

    __tablename__ = "api_idempotency"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key", name="uq_api_idempotency_tenant_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255))
    route: Mapped[str] = mapped_column(sa.String(200))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    response_status: Mapped[int] = mapped_column()
    response_body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class WebhookEndpoint(TenantScoped, db.Model):
    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    secret: Mapped[str] = mapped_column(sa.String(100))
    events: Mapped[list] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    deliveries = relationship("WebhookDelivery", back_populates="endpoint", cascade="all, delete-orphan",
                              passive_deletes=True, order_by="WebhookDelivery.id.desc()", lazy="dynamic")


class WebhookDelivery(TenantScoped, db.Model):
    """One event for one endpoint: attempted until delivered, or failed after a day of retries."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(sa.String(40), unique=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(sa.String(40))
    # Per case: the case's event-chain position when the event happened, so receivers can order them.
    case_id: Mapped[int | None] = mapped_column()
    sequence: Mapped[int | None] = mapped_column()
    payload: Mapped[dict] = mapped_column(sa.JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    response_code: Mapped[int | None] = mapped_column()
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    # Start of the current retry window (creation, or the admin's "resend").
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    endpoint = relationship(WebhookEndpoint, back_populates="deliveries")
