"""Following up a sent case: reminders, new links, corrected contact details, hand-overs and notes.

None of these changes the case's state (that is `service`); each records an event. Functions work
in the caller's transaction and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from core.cases.actors import Actor
from core.cases.service import (
    CaseError,
    actor_event,
    invite_party,
    issue_party_link,
    mail_owner,
    mail_party,
    officer_of,
    party_label,
    require_status,
)
from core.extensions import db
from core.models import Case, Officer, Party
from core.models.base import utcnow

REMIND_GAP = timedelta(hours=1)
OPEN_PARTY_STATUSES = ("waiting", "invited", "viewed")


def _open_party(case: Case, party: Party) -> None:
    require_status(case, "pending")
    if party.case_id != case.id or party.status not in OPEN_PARTY_STATUSES:
        raise CaseError("party_done")


def remind_party(case: Case, party: Party, actor: Actor | Officer | None = None, now: datetime | None = None) -> None:
    """Send a reminder now (its link is new; the links the party already has keep working). At most
    once per hour per party."""
    _open_party(case, party)
    if party.role != "signer" or party.status == "waiting":
        raise CaseError("not_invited")
    if not party.email:
        raise CaseError("no_email")
    now = now or utcnow()
    if party.last_reminded_at is not None and party.last_reminded_at > now - REMIND_GAP:
        raise CaseError("reminded_recently")
    claimed = db.session.execute(
        sa.update(Party).where(Party.id == party.id, Party.reminders_sent == party.reminders_sent)
        .values(reminders_sent=Party.reminders_sent + 1, last_reminded_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise CaseError("reminded_recently")
    db.session.refresh(party, attribute_names=["reminders_sent", "last_reminded_at"])
    send_reminder(case, party, actor)


def send_reminder(case: Case, party: Party, actor: Actor | Officer | None) -> None:
    """Mail the reminder the caller has claimed (the party's `reminders_sent` already counts it).
    Links the party already has keep working."""
    link = issue_party_link(party, keep_earlier=True)
    mail_party(case, party, "reminder", link=link)
    actor_event(case, "reminded", actor, **party_label(party), reminder=party.reminders_sent)


def resend_link(case: Case, party: Party, actor: Actor | Officer, replace: bool = False) -> None:
    """Send the party their link again; earlier links keep working unless `replace` (the officer's
    "replace the link", e.g. when a link reached someone else)."""
    _open_party(case, party)
    if party.status == "waiting":
        raise CaseError("not_invited")
    if not party.email:
        raise CaseError("no_email")
    invite_party(case, party, actor=actor, kind="link_replaced" if replace else "link_resent")


def correct_party(case: Case, party: Party, actor: Actor | Officer, email: str | None = None,
                  phone: str | None = None) -> None:
    """Correct an unsigned party's email or phone. A corrected email retires every link sent to the
    old address and sends a new one; a corrected phone leaves the links as they are."""
    _open_party(case, party)
    changes = {}
    if email is not None and email.strip().lower() != party.email:
        changes["email"] = {"old": party.email, "new": email.strip().lower()}
        party.email = email.strip().lower()
    if phone is not None and (phone or None) != party.phone:
        changes["phone"] = {"old": party.phone, "new": phone or None}
        party.phone = phone or None
    if not changes:
        return
    actor_event(case, "party_corrected", actor, **party_label(party), changes=changes)
    if "email" in changes and party.status in ("invited", "viewed"):
        # the old address may not be theirs: links sent there stop working, a new one goes to the new address
        invite_party(case, party, actor=actor, kind="link_replaced")


def reassign_case(case: Case, actor: Actor | Officer, new_owner: Officer) -> None:
    actor = Actor.of(actor)
    if new_owner.tenant_id != case.tenant_id or not new_owner.active:
        raise CaseError("unknown_officer")
    if new_owner.id == case.owner_id:
        return
    old = officer_of(case)
    case.owner_id = new_owner.id
    actor_event(case, "reassigned", actor, old_owner=old.name if old else None, new_owner=new_owner.name,
                new_owner_id=new_owner.id)
    if actor.officer is None or new_owner.id != actor.officer.id:
        mail_owner(case, new_owner, "case_reassigned", by=actor)


def add_note(case: Case, actor: Actor | Officer, text: str) -> None:
    text = (text or "").strip()
    if not text:
        raise CaseError("empty_note")
    actor_event(case, "note", actor, text=text[:5000])
