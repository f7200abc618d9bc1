"""Templates and their versions."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import UTCDateTime, trigram_index, utcnow
from tenants.scoping import TenantScoped

TEMPLATE_STATUSES = ("active", "archived")


class CaseTemplate(TenantScoped, db.Model):
    """A template of a tenant; every officer of the tenant sees and uses it."""

    __tablename__ = "case_template"
    __table_args__ = (
        sa.Index("ix_case_template_tenant_status_name", "tenant_id", "status", "name"),
        trigram_index("ix_case_template_name_trgm", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="active")
    version: Mapped[int] = mapped_column(default=1)  # the newest version's number
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    created_by = relationship("Officer", foreign_keys=[created_by_id])
    updated_by = relationship("Officer", foreign_keys=[updated_by_id])


class TemplateVersion(TenantScoped, db.Model):
    """One version of a template's content (JSON, see schemas.TemplateContent); never changed."""

    __tablename__ = "template_version"
    __table_args__ = (sa.UniqueConstraint("template_id", "number", name="uq_template_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("case_template.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    content: Mapped[dict] = mapped_column(sa.JSON)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    template = relationship(CaseTemplate)
    created_by = relationship("Officer")
