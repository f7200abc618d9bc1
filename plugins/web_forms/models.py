"""The web forms' tables: a template's public form (its link, who the visitor is) and its submissions."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import UTCDateTime, utcnow
from tenants.scoping import TenantScoped

NAME = "web_forms"

ACTIVE, PAUSED = "active", "paused"


class WebForm(TenantScoped, db.Model):
    """Web automation of one template: a public link /f/<slug> where a visitor plays `role_key`.

    `slug` is random (128 bits, URL-safe), unguessable like a signing link; it is kept in the
    clear because the office shows it to publish. Rotating replaces it: the old link stops.
    Cases made through the form are owned by `owner_id`.
    """

    __tablename__ = "web_form"
    __table_args__ = {"info": {"plugin": NAME}}

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("case_template.id", ondelete="CASCADE"), unique=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=ACTIVE)
    role_key: Mapped[str] = mapped_column(sa.String(80))
    require_phone: Mapped[bool] = mapped_column(default=False)
    thank_you: Mapped[str] = mapped_column(sa.Text, default="")
    daily_cap: Mapped[int] = mapped_column(default=200)
    # Optional limits: the last day it takes submissions (in the organisation's time zone), and
    # how many submissions it takes in all.
    closes_on: Mapped[date | None] = mapped_column(sa.Date())
    max_submissions: Mapped[int | None] = mapped_column()
    # The origins that may frame the form (CSP frame-ancestors), one "scheme://host[:port]" each,
    # space-separated; empty: no page may frame it.
    frame_origins: Mapped[str] = mapped_column(sa.Text, default="")
    # The visitor must also give their personal identity number (checked, kept as 12 digits).
    require_personal_number: Mapped[bool] = mapped_column(default=False)
    # The visitor must confirm their email address (a link in an email) before the case starts.
    require_confirmation: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))

    template = relationship("CaseTemplate")
    owner = relationship("Officer", foreign_keys=[owner_id])
    updated_by = relationship("Officer", foreign_keys=[updated_by_id])


class WebFormSubmission(TenantScoped, db.Model):
    """One visitor's submission: who they said they are and the case it started.

    `idempotency_key` comes from the form page (one per page load): a second post of the same
    page (a double click, a resent request) finds this row instead of starting a second case.
    A form that requires a confirmed email keeps the row without a case until the visitor opens
    the emailed link (`waiting`).
    """

    __tablename__ = "web_form_submission"
    __table_args__ = (sa.UniqueConstraint("form_id", "idempotency_key", name="uq_web_form_submission_key"),
                      sa.Index("ix_web_form_submission_form_created", "form_id", "created_at"),
                      {"info": {"plugin": NAME}})

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("web_form.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id", ondelete="SET NULL"))
    party_id: Mapped[int | None] = mapped_column(sa.ForeignKey("party.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    personal_number: Mapped[str | None] = mapped_column(sa.String(12))
    language: Mapped[str] = mapped_column(sa.String(5), default="sv")
    # Waiting for the visitor to confirm their email: only the SHA-256 of the emailed link's token
    # is kept; past `confirm_expires_at` an unconfirmed submission is deleted with its data.
    confirm_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    confirm_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case = relationship("Case")
    form = relationship(WebForm)

    @property
    def waiting(self) -> bool:
        """Waiting for the visitor to confirm their email address (no case yet)."""
        return self.case_id is None and self.confirmed_at is None and self.confirm_token_hash is not None


class WebFormChange(TenantScoped, db.Model):
    """Who changed a form and how: turned on, settings changed, paused, resumed, new link, off."""

    __tablename__ = "web_form_change"
    __table_args__ = {"info": {"plugin": NAME}}

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("web_form.id", ondelete="CASCADE"), index=True)
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("officer.id", ondelete="SET NULL"))
    officer_name: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    form = relationship(WebForm)
