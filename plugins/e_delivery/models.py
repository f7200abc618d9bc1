"""Files delivered after signing."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import UTCDateTime, utcnow
from tenants.scoping import TenantScoped


class DeliveryFile(TenantScoped, db.Model):
    """A file attached to a case, released to its parties only once the case is sealed.

    The blob store holds only ciphertext (AES-256-GCM under a per-file key); the key is stored
    here wrapped by the service's key-encryption key, so a copied storage folder leaks nothing.
    """

    __tablename__ = "delivery_file"
    __table_args__ = {"info": {"plugin": "e_delivery"}}

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    content_type: Mapped[str] = mapped_column(sa.String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))  # of the plaintext: what the receipt lists
    blob_sha256: Mapped[str] = mapped_column(sa.String(64))  # of the ciphertext in the blob store
    wrapped_key: Mapped[str] = mapped_column(sa.String(200))
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
