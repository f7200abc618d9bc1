"""Checking the event chains of stored cases (`sigill audit verify`)."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from core.cases import events
from core.extensions import db
from core.models import Case


def verify_cases(case_id: int | None = None, batch: int = 500) -> Iterator[tuple[Case, list[str]]]:
    """Check the event chains of one case or of every case (all tenants), a batch at a time so a
    large database is never held in memory."""
    after = 0
    while True:
        stmt = sa.select(Case).where(Case.id > after).order_by(Case.id).limit(batch)
        if case_id is not None:
            stmt = stmt.where(Case.id == case_id)
        cases = db.session.scalars(stmt.execution_options(all_tenants=True)).all()
        if not cases:
            return
        for case in cases:
            yield case, events.verify_chain(case)
        after = cases[-1].id
        db.session.expunge_all()
