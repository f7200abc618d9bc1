"""The ID check of a party: what is required of them, the last result, and the photos (encrypted)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import UTCDateTime, utcnow
from tenants.scoping import TenantScoped

NAME = "id_check"

# What is required of the party.
NONE, IN_PERSON, REMOTE = "none", "in_person", "remote"
MODES = (NONE, IN_PERSON, REMOTE)
# Where the check stands.
REQUIRED, FAILED, AWAITING_APPROVAL, PASSED = "required", "failed", "awaiting_approval", "passed"


class IdCheck(TenantScoped, db.Model):
    """One row per party: the requirement (`mode`), the latest check's verdict and its photos.

    The photos are ciphertext under the tenant's key (`core.encryption`, context
    `id_check:<id>:<side>`); they are set to None by the retention job (`images_deleted_at`).
    `result` holds only what the evidence may hold (`Verdict.as_evidence()`): never the MRZ or
    the full document number.
    """

    __tablename__ = "id_check"
    __table_args__ = {"info": {"plugin": NAME}}

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("party.id", ondelete="CASCADE"), unique=True)
    mode: Mapped[str] = mapped_column(sa.String(20), default=NONE)
    status: Mapped[str] = mapped_column(sa.String(20), default=REQUIRED)
    how: Mapped[str | None] = mapped_column(sa.String(20))  # photo (MRZ read by OCR) or typed
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column()  # the event that let the party sign (passed or approved)
    front_image: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    back_image: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    image_type: Mapped[str | None] = mapped_column(sa.String(40))
    images_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def required(self) -> bool:
        return self.mode in (IN_PERSON, REMOTE)

    @property
    def has_images(self) -> bool:
        return self.front_image is not None or self.back_image is not None


class IdCheckTemplateRole(TenantScoped, db.Model):
    """What a template asks of the party playing one of its roles (cases made from it inherit it)."""

    __tablename__ = "id_check_template_role"
    __table_args__ = (sa.UniqueConstraint("template_id", "role_key"), {"info": {"plugin": NAME}})

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("case_template.id", ondelete="CASCADE"), index=True)
    role_key: Mapped[str] = mapped_column(sa.String(40))
    mode: Mapped[str] = mapped_column(sa.String(20), default=NONE)
