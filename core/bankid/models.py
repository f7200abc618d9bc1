"""BankID orders started from the signer page, kept server side."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import UTCDateTime, utcnow
from tenants.scoping import TenantScoped

ORDER_STATUSES = ("pending", "complete", "failed", "cancelled")


class BankIDOrder(TenantScoped, db.Model):
    """One BankID sign order for a party.

    `qr_start_secret` never leaves the server: the page asks for every QR frame. The texts sent to
    BankID are kept so the completion can be checked against exactly them. A `complete` order holds
    verified completion data until the signing transaction uses it (`used_at`), once.
    """

    __tablename__ = "bankid_order"
    __table_args__ = (sa.Index("ix_bankid_order_party_started", "party_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("party.id", ondelete="CASCADE"))
    order_ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    auto_start_token: Mapped[str] = mapped_column(sa.String(64))
    qr_start_token: Mapped[str] = mapped_column(sa.String(64))
    qr_start_secret: Mapped[str] = mapped_column(sa.String(64))
    # When BankID's answer arrived: the QR code's time counter starts here.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    same_device: Mapped[bool] = mapped_column(default=False)
    personal_number_required: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(sa.String(5), default="sv")
    documents_digest: Mapped[str] = mapped_column(sa.String(64))
    user_visible_data: Mapped[str] = mapped_column(sa.Text)
    user_non_visible_data: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    hint_code: Mapped[str | None] = mapped_column(sa.String(40))
    error_code: Mapped[str | None] = mapped_column(sa.String(40))
    # Verified completion data (signature, OCSP response, user, device); None until complete.
    completion: Mapped[dict | None] = mapped_column(sa.JSON)
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    collect_errors: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
