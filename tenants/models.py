"""The tenant (organisation) and its per-tenant plugin state."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import UTCDateTime, utcnow

DEFAULT_SETTINGS = {
    "max_upload_mb": 25,
    "reminder_interval_days": 3,
    "reminder_max": 3,
    "expiry_days": 30,
    "retention_days": 3650,
    "default_language": "sv",
    "time_zone": "Europe/Stockholm",  # what people read (core.timezones); evidence keeps UTC
    # What an uploaded PDF may hold (core.pdfcheck): pages, MB its streams unpack to, nesting levels, objects.
    "max_pages": 2000,
    "max_unpacked_mb": 512,
    "max_nesting": 64,
    "max_objects": 250_000,
}


class Tenant(db.Model):
    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(63), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    sender_name: Mapped[str | None] = mapped_column(sa.String(200))
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    enabled_plugins: Mapped[list] = mapped_column(sa.JSON, default=list)
    plugin_settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def setting(self, key: str):
        return (self.settings or {}).get(key, DEFAULT_SETTINGS.get(key))

    def has_plugin(self, name: str) -> bool:
        return name in (self.enabled_plugins or [])

    @property
    def mail_sender_name(self) -> str:
        return self.sender_name or self.name
