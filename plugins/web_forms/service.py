"""Web forms: turning a template's web automation on and off, and starting a case from a visitor.

A visitor's submission makes a case from the template through the core's `case_from_template`
(the visitor plays the form's role; every other role must have a fixed person, the organisation's
own signatory), owned by the form's owner, sends it (the other roles are invited as usual, in
order) and hands the visitor to the core's signer page for their party: filling in their fields
and signing are the core's own pages.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.case_templates.cases import Person, case_from_template
from core.case_templates.models import CaseTemplate
from core.case_templates.service import use_problems, version_of
from core.cases import events
from core.cases import service as cases
from core.cases.actors import Actor
from core.extensions import db
from core.i18n import _
from core.models import Officer, Party
from core.models.base import utcnow
from plugins.web_forms.models import ACTIVE, PAUSED, WebForm, WebFormChange, WebFormSubmission

log = logging.getLogger(__name__)

OFF = "off"
WAITING = "waiting"  # the submissions list's filter: waiting for the visitor to confirm their email


class FormError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


MAX_ORIGINS = 10
# An origin that may frame the form: https with a host name (and a port), or http on this
# computer only (a developer's test page). Nothing else reaches the header: no paths, wildcards,
# spaces, quotes or semicolons (which would add to the policy).
_ORIGIN = re.compile(r"(?:https://(?:localhost|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}[a-z0-9])"
                     r"|http://(?:localhost|127\.0\.0\.1|\[::1\]))(?::[1-9][0-9]{0,4})?")


def parse_origins(text: str) -> list[str]:
    """The origins the officer listed (one a line or space-separated), checked and normalised."""
    found: list[str] = []
    for raw in (text or "").split():
        origin = raw.strip().lower().rstrip("/")
        if not _ORIGIN.fullmatch(origin) or (":" in origin[8:] and int(origin.rsplit(":", 1)[1]) > 65535):
            raise FormError(_("%(origin)s is not a web address the form can be embedded on. Give each as "
                              "https://www.example.com (no path), one a line.", origin=raw[:100]))
        if origin not in found:
            found.append(origin)
    if len(found) > MAX_ORIGINS:
        raise FormError(_("Give at most %(n)d web addresses that may embed the form.", n=MAX_ORIGINS))
    return found


def frame_origins(form: WebForm) -> list[str]:
    return (form.frame_origins or "").split()


def new_slug() -> str:
    return secrets.token_urlsafe(16)  # 128 bits


def form_of(template: CaseTemplate) -> WebForm | None:
    return db.session.scalar(sa.select(WebForm).where(WebForm.template_id == template.id))


def forms() -> list[WebForm]:
    return list(db.session.scalars(sa.select(WebForm).where(WebForm.status != OFF).order_by(WebForm.id)))


def by_slug(slug: str) -> WebForm | None:
    """The form whose public link this is, in any organisation (asked with no tenant set)."""
    if not slug or len(slug) > 64:
        return None
    return db.session.scalar(sa.select(WebForm).where(WebForm.slug == slug)
                             .execution_options(all_tenants=True))


def by_slug_with_tenant(slug: str):
    """(form, template, organisation) of the public link `slug`, in one query, or None (no tenant set)."""
    from tenants.models import Tenant

    global _BY_SLUG
    if not slug or len(slug) > 64:
        return None
    if _BY_SLUG is None:  # built once: the public page's only query, on every visit
        _BY_SLUG = (sa.select(WebForm, CaseTemplate, Tenant).join(CaseTemplate, CaseTemplate.id == WebForm.template_id)
                    .join(Tenant, Tenant.id == WebForm.tenant_id).where(WebForm.slug == sa.bindparam("slug"))
                    .execution_options(all_tenants=True))
    row = db.session.execute(_BY_SLUG, {"slug": slug}).first()
    return tuple(row) if row is not None else None


_BY_SLUG = None


def public_row(slug: str):
    """Every column of the form, its template and organisation of the public link `slug` as one plain
    row (no ORM objects: a third of the cost), or None; asked with no tenant set. The public page's
    GET compares it with the row its kept page was made from (`views._form_tenant`)."""
    from sqlalchemy import LABEL_STYLE_TABLENAME_PLUS_COL

    from tenants.models import Tenant

    global _PUBLIC_ROW
    if not slug or len(slug) > 64:
        return None
    if _PUBLIC_ROW is None:
        _PUBLIC_ROW = (sa.select(*WebForm.__table__.c, *CaseTemplate.__table__.c, *Tenant.__table__.c)
                       .join(CaseTemplate, CaseTemplate.id == WebForm.template_id)
                       .join(Tenant, Tenant.id == WebForm.tenant_id).where(WebForm.slug == sa.bindparam("slug"))
                       .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL))
    # the session's connection, not session.execute: a Core statement needs no ORM (nor tenant) step
    return db.session.connection().execute(_PUBLIC_ROW, {"slug": slug}).first()


_PUBLIC_ROW = None


def content_of(template: CaseTemplate) -> dict:
    """The content of the template's current version, kept per app and worker: versions never
    change once written (an edit is a new version), so (template, number) names one content."""
    from flask import current_app

    cache = current_app.extensions.setdefault("web_form_contents", {})
    key = (template.id, template.version)
    content = cache.get(key)
    if content is None:
        if len(cache) > 1024:
            cache.clear()
        content = cache[key] = version_of(template).content
    return content


def visitor_roles(content: dict) -> list[dict]:
    """The roles a visitor may play: signers without a fixed person."""
    return [r for r in content.get("roles", []) if r.get("kind", "signer") == "signer" and not r.get("fixed")]


def role_problems(content: dict, role_key: str) -> list[str]:
    """Why the template cannot be a web form with the visitor as `role_key` (for the officer)."""
    problems = list(use_problems(content))
    roles = content.get("roles", [])
    role = next((r for r in roles if r["key"] == role_key), None)
    if role is None or role not in visitor_roles(content):
        problems.append(_("Choose a role that signs and has no fixed person for the visitor."))
        return problems
    others = [r for r in roles if r["key"] != role_key and not r.get("fixed")]
    if others:
        problems.append(_("Every other role needs a fixed person (set it on the template): %(roles)s.",
                          roles=", ".join(r["label"] for r in others)))
    signers = [r for r in roles if r.get("kind", "signer") == "signer"]
    if content.get("signing_order") == "sequential" and signers and signers[0]["key"] != role_key:
        problems.append(_("The template signs in order: the visitor's role must sign first."))
    return problems


def _changed(form: WebForm, officer: Officer, action: str) -> None:
    form.updated_at = utcnow()
    form.updated_by_id = officer.id
    db.session.add(WebFormChange(form=form, tenant_id=form.tenant_id, officer_id=officer.id,
                                 officer_name=officer.name[:200], action=action, at=form.updated_at))
    log.info("web form %s of template %s changed by officer %s: %s", form.id, form.template_id, officer.id,
             form.status)


def turn_on(template: CaseTemplate, officer: Officer, role_key: str, require_phone: bool, thank_you: str,
            daily_cap: int, closes_on=None, max_submissions: int | None = None, *, origins: str | None = None,
            require_personal_number: bool | None = None, require_confirmation: bool | None = None) -> WebForm:
    """Turn on (or change) the template's web automation; raises FormError with the reason.

    `origins`: the web addresses that may embed the form (text as the officer typed it); the
    keyword arguments left None keep what the form had.
    """
    checked_origins = parse_origins(origins) if origins is not None else None
    problems = role_problems(version_of(template).content, role_key)
    if template.status != "active":
        problems.insert(0, _("This template is archived. Use it again before making cases from it."))
    if problems:
        raise FormError(" ".join(problems))
    form = form_of(template)
    action = "changed" if form is not None and form.status != OFF else "on"
    if form is None:
        form = WebForm(template_id=template.id, tenant_id=template.tenant_id, owner_id=officer.id, slug=new_slug())
        db.session.add(form)
    if form.status == OFF:
        form.owner_id = officer.id
    form.status = ACTIVE
    form.role_key = role_key
    form.require_phone = bool(require_phone)
    form.thank_you = (thank_you or "").strip()[:2000]
    form.daily_cap = daily_cap
    form.closes_on = closes_on
    form.max_submissions = max_submissions
    if checked_origins is not None:
        form.frame_origins = " ".join(checked_origins)
    if require_personal_number is not None:
        form.require_personal_number = bool(require_personal_number)
    if require_confirmation is not None:
        form.require_confirmation = bool(require_confirmation)
    _changed(form, officer, action)
    db.session.flush()
    return form


def set_status(form: WebForm, officer: Officer, status: str) -> None:
    if status not in (ACTIVE, PAUSED, OFF):
        raise ValueError(status)
    if status == ACTIVE:
        problems = role_problems(version_of(form.template).content, form.role_key)
        if problems:
            raise FormError(" ".join(problems))
    form.status = status
    _changed(form, officer, status)


def rotate(form: WebForm, officer: Officer) -> None:
    """A new public link; the old one stops working at once."""
    form.slug = new_slug()
    _changed(form, officer, "rotated")


def changes(form: WebForm, limit: int = 20) -> list[WebFormChange]:
    return list(db.session.scalars(sa.select(WebFormChange).where(WebFormChange.form_id == form.id)
                                   .order_by(WebFormChange.id.desc()).limit(limit)))


def submissions(form: WebForm, limit: int | None = 200, status: str | None = None,
                q: str | None = None) -> list[WebFormSubmission]:
    """The newest submissions first; `status` the case's status (or `WAITING` for a confirmed email),
    `q` a part of the visitor's name or email."""
    from sqlalchemy.orm import selectinload

    from core.models import Case

    stmt = (sa.select(WebFormSubmission).where(WebFormSubmission.form_id == form.id)
            .options(selectinload(WebFormSubmission.case).selectinload(Case.documents))
            .order_by(WebFormSubmission.created_at.desc(), WebFormSubmission.id.desc()))
    if status == WAITING:
        stmt = stmt.where(WebFormSubmission.case_id.is_(None), WebFormSubmission.confirmed_at.is_(None),
                          WebFormSubmission.confirm_token_hash.is_not(None))
    elif status:
        stmt = stmt.join(Case, Case.id == WebFormSubmission.case_id).where(Case.status == status)
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(sa.func.lower(WebFormSubmission.name).like(pattern, escape="\\"),
                                 WebFormSubmission.email.like(pattern, escape="\\")))
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


# What the form's limits count (the daily cap, most submissions): submissions that started, or are
# starting, a case: those of a form without confirmation, and confirmed ones. One still waiting for
# the visitor to confirm their email counts only once confirmed (then on the day it was confirmed),
# and the limits are checked again at that moment (`views.confirm`): an unconfirmed one that expires
# never took a place, and a form cannot be filled up by addresses nobody confirms.
def _counted():
    return sa.or_(WebFormSubmission.confirm_token_hash.is_(None), WebFormSubmission.confirmed_at.is_not(None))


def today_count(form: WebForm) -> int:
    """Submissions counted against the daily cap in the last 24 hours (see `_counted`)."""
    since = utcnow() - timedelta(days=1)
    return db.session.scalar(
        sa.select(sa.func.count(WebFormSubmission.id))
        .where(WebFormSubmission.form_id == form.id,
               sa.or_(sa.and_(WebFormSubmission.confirm_token_hash.is_(None), WebFormSubmission.created_at >= since),
                      WebFormSubmission.confirmed_at >= since))) or 0


def total_count(form: WebForm) -> int:
    """Submissions counted against the form's most-submissions limit (see `_counted`)."""
    return db.session.scalar(sa.select(sa.func.count(WebFormSubmission.id))
                             .where(WebFormSubmission.form_id == form.id, _counted())) or 0


def closed_reason(form: WebForm) -> str | None:
    """Why the form takes no submissions by its own limits (closing day, most submissions), or None."""
    from core.timezones import zone_of

    if form.closes_on is not None and utcnow().astimezone(zone_of()).date() > form.closes_on:
        return _("This form closed on %(date)s and takes no more submissions.", date=form.closes_on.isoformat())
    if form.max_submissions is not None and total_count(form) >= form.max_submissions:
        return _("This form has taken all the submissions it takes.")
    return None


def cap_reached(form: WebForm) -> bool:
    return today_count(form) >= form.daily_cap


@dataclass
class Started:
    submission: WebFormSubmission
    party: Party
    new: bool


def find_submission(form: WebForm, key: str) -> WebFormSubmission | None:
    return db.session.scalar(sa.select(WebFormSubmission)
                             .where(WebFormSubmission.form_id == form.id, WebFormSubmission.idempotency_key == key))


def submit(form: WebForm, key: str, name: str, email: str, phone: str | None, language: str,
           personal_number: str | None = None) -> Started:
    """Start the case for a visitor (once per `key`: a repeated post finds the first one's).

    `personal_number` (12 digits, checked) goes to the visitor's party like one the office gives:
    BankID then signs only for that person."""
    found = find_submission(form, key)
    if found is not None and found.party_id is not None:
        return Started(found, db.session.get(Party, found.party_id), False)
    submission = WebFormSubmission(form_id=form.id, tenant_id=form.tenant_id, idempotency_key=key, name=name,
                                   email=email, phone=phone or None, personal_number=personal_number or None,
                                   language=language)
    form_id = form.id
    db.session.add(submission)
    try:
        # Takes the key first, before anything else is written in this transaction: a concurrent
        # post of the same page waits here until this one commits, then fails. (No savepoint:
        # SQLite's driver would commit at its release.)
        db.session.flush()
    except IntegrityError:
        # The other post committed its submission (with its case) first. Read it in a fresh
        # transaction: this one's snapshot may predate that commit (SQLite).
        db.session.rollback()
        form = db.session.get(WebForm, form_id)
        found = find_submission(form, key)
        if found is None or found.party_id is None:
            raise
        return Started(found, db.session.get(Party, found.party_id), False)
    party = _start(form, submission)
    return Started(submission, party, True)


def _start(form: WebForm, submission: WebFormSubmission) -> Party:
    """Make, announce and send the case of a submission; the visitor plays the form's role."""
    template = form.template
    name = submission.name
    actor = Actor.public(form.tenant_id, f"{template.name}: {name}", id=submission.id)
    person = Person(name=name, email=submission.email, phone=submission.phone,
                    personal_number=submission.personal_number, language=submission.language)
    owner = db.session.get(Officer, form.owner_id) if form.owner_id else None
    case = case_from_template(template, actor, {form.role_key: person}, owner=owner)
    party = next(p for p in case.parties if p.role_key == form.role_key)
    events.record_by(case, "web_form_submitted", actor,
                     data={"form_id": form.id, "template": template.name, "name": name, "email": submission.email})
    submission.case_id = case.id
    submission.party_id = party.id
    db.session.flush()
    _announce(submission, case)
    cases.send_case(case, actor)
    db.session.flush()
    return party


# --- waiting for the visitor's email to be confirmed -----------------------------------------------


def hold(form: WebForm, key: str, name: str, email: str, phone: str | None, language: str,
         personal_number: str | None = None, hours: int = 24) -> WebFormSubmission:
    """Keep a submission without a case and email the visitor a link to confirm their address.

    Only the link token's SHA-256 is kept; the link works for `hours`. Once per `key`: a repeated
    post of the same page finds the first one's row and sends nothing more."""
    from core.mail import send_mail
    from core.security import new_token
    from core.urls import external_url
    from tenants.models import Tenant

    found = find_submission(form, key)
    if found is not None:
        return found
    token, token_hash = new_token()
    submission = WebFormSubmission(form_id=form.id, tenant_id=form.tenant_id, idempotency_key=key, name=name,
                                   email=email, phone=phone or None, personal_number=personal_number or None,
                                   language=language, confirm_token_hash=token_hash,
                                   confirm_expires_at=utcnow() + timedelta(hours=hours))
    form_id = form.id
    db.session.add(submission)
    try:
        db.session.flush()
    except IntegrityError:  # the same page posted at the same moment: that one's row
        db.session.rollback()
        found = find_submission(db.session.get(WebForm, form_id), key)
        if found is None:
            raise
        return found
    tenant = db.session.get(Tenant, form.tenant_id)
    send_mail(email, "web_form_confirm", language=language, tenant=tenant, name=name, title=form.template.name,
              link=external_url("web_forms.confirm", token=token), hours=hours)
    log.info("web form %s: submission %s waits for its email address to be confirmed", form.id, submission.id)
    return submission


def by_confirm_token(token: str) -> WebFormSubmission | None:
    """The submission whose confirmation link this is, in any organisation (asked with no tenant set)."""
    from core.security import hash_token

    if not token or len(token) > 100:
        return None
    return db.session.scalar(sa.select(WebFormSubmission)
                             .where(WebFormSubmission.confirm_token_hash == hash_token(token))
                             .execution_options(all_tenants=True))


def link_expired(submission: WebFormSubmission) -> bool:
    return submission.confirm_expires_at is None or submission.confirm_expires_at <= utcnow()


def confirm(submission: WebFormSubmission) -> Party | None:
    """The visitor confirmed their address: start the case (once). Returns the visitor's party, or
    None when another request is starting it right now (a double click)."""
    if submission.party_id is not None:
        return db.session.get(Party, submission.party_id)
    submission_id = submission.id
    claimed = db.session.execute(
        sa.update(WebFormSubmission)
        .where(WebFormSubmission.id == submission_id, WebFormSubmission.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:  # the other request confirmed it: its case, once it committed
        db.session.rollback()
        again = db.session.get(WebFormSubmission, submission_id)
        return db.session.get(Party, again.party_id) if again is not None and again.party_id else None
    db.session.refresh(submission)
    log.info("web form %s: submission %s confirmed its email address", submission.form_id, submission.id)
    return _start(submission.form, submission)


def expire_unconfirmed(tenant) -> int:
    """Delete the submissions whose confirmation link expired unused, with everything they held
    (name, email, phone, personal number). The periodic job `web_forms_expire_unconfirmed`."""
    gone = db.session.execute(
        sa.delete(WebFormSubmission)
        .where(WebFormSubmission.case_id.is_(None), WebFormSubmission.confirmed_at.is_(None),
               WebFormSubmission.confirm_token_hash.is_not(None), WebFormSubmission.confirm_expires_at <= utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if gone:
        log.info("web forms of tenant %s: %s unconfirmed submissions expired and were deleted", tenant.id, gone)
    return gone or 0


def _announce(submission: WebFormSubmission, case) -> None:
    """The `web_form.submission.created` webhook, numbered by the case's `web_form_submitted` event."""
    from core.api.webhooks import fire
    from plugins.web_forms.api import CREATED, submission_json

    fire(CREATED, case, {"submission": submission_json(submission)})


def signer_path(party: Party) -> str:
    """A fresh link to the core's signer page for the visitor; the emailed invitation keeps working."""
    return "/s/" + cases.issue_party_link(party, keep_earlier=True).rsplit("/", 1)[-1]
