"""The example plugin's own table: visits of its public notice page (forgotten after a day)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import UTCDateTime, utcnow
from tenants.scoping import TenantScoped


class NoticeVisit(TenantScoped, db.Model):
    __tablename__ = "example_notice_visit"
    __table_args__ = {"info": {"plugin": "example"}}  # whose table: Alembic leaves it to the plugin

    id: Mapped[int] = mapped_column(primary_key=True)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    language: Mapped[str] = mapped_column(sa.String(5), default="")
