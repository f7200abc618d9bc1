"""The digest email: "N documents are waiting for you: review and sign together".

A periodic job (per tenant with the plugin on) mails each person (an email address in the tenant)
who has two or more cases waiting for them (their turn has come, the same person by
`service.same_person`) one email listing them, with a link to the stamp page. It does not spam:

- at most once per `digest_days` (the tenant's setting, default 7; 0 turns it off) per person,
  claimed in `stamp_digest`, so two schedulers never send it twice;
- only cases that still send reminders count (automatic reminders on and not all sent): an officer
  who turned reminders off, or whose reminders are used up, gets no digest sent in their name;
- not within a day of an invitation or reminder to that person for one of those cases.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.models import Case, Party
from core.models.base import utcnow
from plugins.stamp_signature import service
from plugins.stamp_signature.models import StampDigest

log = logging.getLogger(__name__)

JOB = "stamp_signature_digest"
# No digest within this long of another email to the person about one of its cases.
QUIET = timedelta(hours=24)


def send_digests(tenant, now: datetime | None = None) -> int:
    """Send the digests due in this tenant (the tenant's context is set); returns how many."""
    from core.plugins import plugin_settings

    days = int(plugin_settings(tenant, service.NAME).get("digest_days") or 0)
    if days <= 0:
        return 0
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Party.id, Party.email, Party.invited_at, Party.last_reminded_at).join(Case, Case.id == Party.case_id)
        .where(Party.tenant_id == tenant.id, Case.status == "pending", Party.role == "signer",
               Party.status.in_(("invited", "viewed")), Party.email != "", Case.reminder_interval_days > 0,
               Party.reminders_sent < Case.reminder_max)
    ).all()
    by_email: dict[str, list] = defaultdict(list)
    for row in rows:
        by_email[(row.email or "").strip().lower()].append(row)
    sent_before = {d.email: d for d in db.session.scalars(sa.select(StampDigest))}
    sent = 0
    for email, parties in by_email.items():
        if len(parties) < 2 or not email:
            continue
        if any((p.last_reminded_at or p.invited_at or now) > now - QUIET for p in parties):
            continue  # they heard from us about one of these cases today
        earlier = sent_before.get(email)
        if earlier is not None and earlier.sent_at > now - timedelta(days=days):
            continue
        sent += _send(tenant, email, {p.id for p in parties}, earlier, now)
    return sent


def _send(tenant, email: str, eligible: set[int], earlier: StampDigest | None, now: datetime) -> int:
    from core.cases.service import issue_party_link
    from core.mail import send_mail
    from core.urls import external_url

    anchor = db.session.scalars(sa.select(Party).where(Party.id.in_(eligible))
                                .order_by(Party.invited_at.desc(), Party.id.desc())).first()
    links = [link for link in service.waiting(anchor) if link.party.id in eligible]
    if len(links) < 2:
        return 0
    if not _claim(tenant, email, earlier, now, len(links)):
        return 0
    token = issue_party_link(anchor, keep_earlier=True).rsplit("/", 1)[-1]
    language = anchor.language or anchor.case.language or "sv"
    send_mail(email, "stamp_digest", language, tenant=tenant, party=anchor, count=len(links),
              titles=[link.case.title for link in links[:10]], more=max(0, len(links) - 10),
              link=external_url(f"{service.NAME}.page", token=token))
    db.session.commit()
    log.info("stamp digest to party %s: %d cases", anchor.id, len(links))
    return 1


def _claim(tenant, email: str, earlier: StampDigest | None, now: datetime, count: int) -> bool:
    """Only one run sends a person's digest: a guarded UPDATE, or the unique row's INSERT."""
    if earlier is not None:
        claimed = db.session.execute(
            sa.update(StampDigest).where(StampDigest.id == earlier.id, StampDigest.sent_at == earlier.sent_at)
            .values(sent_at=now, case_count=count).execution_options(synchronize_session=False)).rowcount
        return claimed == 1
    try:
        with db.session.begin_nested():
            db.session.add(StampDigest(tenant_id=tenant.id, email=email, sent_at=now, case_count=count))
    except IntegrityError:
        return False
    return True
