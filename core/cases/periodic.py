"""The scheduler's work over every tenant's cases: automatic reminders and expiry.

Each task finds its candidates across tenants in one query, then handles them one at a time in
that case's tenant, claiming each with a guarded UPDATE and committing it on its own: two runs at
once (two schedulers, a slow run overlapping the next) never remind or expire anything twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from core.cases import followup, service
from core.extensions import db
from core.models import Case, Party
from core.models.base import utcnow
from tenants.scoping import tenant_context


def send_due_reminders(now: datetime | None = None) -> int:
    """Automatic reminders per each case's policy. Safe to run twice at once: each reminder is claimed."""
    now = now or utcnow()
    candidates = db.session.execute(
        sa.select(Party.id, Party.tenant_id, Party.reminders_sent, Party.invited_at, Party.last_reminded_at,
                  Case.reminder_interval_days, Case.reminder_max)
        .join(Case, Case.id == Party.case_id)
        .where(Case.status == "pending", Case.reminder_interval_days > 0, Party.role == "signer",
               Party.status.in_(("invited", "viewed")), Party.email != "", Party.reminders_sent < Case.reminder_max)
        .execution_options(all_tenants=True)
    ).all()
    db.session.rollback()
    sent = 0
    for row in candidates:
        since = row.last_reminded_at or row.invited_at
        if since is None or since > now - timedelta(days=row.reminder_interval_days):
            continue
        with tenant_context(row.tenant_id):
            sent += _automatic_reminder(row.id, row.reminders_sent, row.last_reminded_at, now)
    return sent


def _automatic_reminder(party_id: int, seen_count: int, seen_last: datetime | None, now: datetime) -> int:
    claimed = db.session.execute(
        sa.update(Party).where(Party.id == party_id, Party.reminders_sent == seen_count,
                               Party.last_reminded_at.is_(None) if seen_last is None
                               else Party.last_reminded_at == seen_last)
        .values(reminders_sent=seen_count + 1, last_reminded_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return 0
    party = db.session.get(Party, party_id)
    db.session.refresh(party)
    followup.send_reminder(party.case, party, actor=None)
    db.session.commit()
    return 1


def expire_due_cases(now: datetime | None = None) -> int:
    """Pending cases past their expiry become expired: links stop working, the owner is told."""
    now = now or utcnow()
    due = db.session.execute(
        sa.select(Case.id, Case.tenant_id).where(Case.status == "pending", Case.expires_at <= now)
        .execution_options(all_tenants=True)
    ).all()
    db.session.rollback()
    expired = 0
    for case_id, tenant_id in due:
        with tenant_context(tenant_id):
            if service.expire_case(case_id, now):
                db.session.commit()
                expired += 1
            else:
                db.session.rollback()
    return expired
