"""A case's fields and the values its parties fill in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.fields.definitions import FieldSpec
from core.models.base import UTCDateTime, utcnow
from tenants.scoping import TenantScoped


class CaseField(TenantScoped, db.Model):
    """One field of a case: copied from its template or placed by an officer on a draft.

    The columns are a `FieldSpec` (`spec`), with the document and the party as real references;
    `page_width` and `page_height` are the page's visible size in points, so a value can be
    checked to fit its box without opening the PDF.
    """

    __tablename__ = "case_field"
    __table_args__ = (sa.UniqueConstraint("case_id", "name", name="uq_case_field_case_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("document.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int | None] = mapped_column(sa.ForeignKey("party.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(100))
    type: Mapped[str] = mapped_column(sa.String(20))
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    page: Mapped[int] = mapped_column()
    x: Mapped[float] = mapped_column(sa.Float)
    y: Mapped[float] = mapped_column(sa.Float)
    w: Mapped[float] = mapped_column(sa.Float)
    h: Mapped[float] = mapped_column(sa.Float)
    page_width: Mapped[float] = mapped_column(sa.Float)
    page_height: Mapped[float] = mapped_column(sa.Float)
    required: Mapped[bool] = mapped_column(default=False)
    read_only: Mapped[bool] = mapped_column(default=False)
    default: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    options: Mapped[list] = mapped_column(sa.JSON, default=list)
    option_areas: Mapped[list] = mapped_column(sa.JSON, default=list)
    rules: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # pattern, min, max, min_length, max_length
    acroform: Mapped[str | None] = mapped_column(sa.String(500))

    party = relationship("Party")

    RULES = ("pattern", "min", "max", "min_length", "max_length")

    @property
    def spec(self) -> FieldSpec:
        return FieldSpec(
            name=self.name, type=self.type, document=self.document_id, page=self.page, x=self.x, y=self.y,
            w=self.w, h=self.h, assignee=str(self.party_id) if self.party_id is not None else None,
            label=self.label or "", required=self.required, read_only=self.read_only, default=self.default,
            options=tuple(self.options or ()), option_areas=tuple(tuple(a) for a in self.option_areas or ()),
            acroform=self.acroform, **{rule: (self.rules or {}).get(rule) for rule in self.RULES},
        )

    @property
    def box_points(self) -> tuple[float, float]:
        """The field's width and height in points."""
        return self.w * self.page_width, self.h * self.page_height


class FieldValue(TenantScoped, db.Model):
    """A party's value of one field: saved as they type, frozen when they sign.

    `revision` counts saves: a save names the revision it started from, so two tabs or devices
    filling in the same field cannot overwrite each other unnoticed.
    """

    __tablename__ = "field_value"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[int] = mapped_column(sa.ForeignKey("case_field.id", ondelete="CASCADE"), unique=True)
    party_id: Mapped[int | None] = mapped_column(sa.ForeignKey("party.id", ondelete="CASCADE"))
    value: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    revision: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    field = relationship(CaseField)
