"""The life of a signing case: draft, send, sign, close. Every state change records an event and fires its hook.

This is the state machine; around it are `followup` (reminders, new links, corrections, hand-overs,
notes), `previews` (page images for the office), `periodic` (the scheduler's work over every
tenant) and `audit` (checking event chains). The signer's side calls `party_viewed`,
`party_signed` and `party_declined`; the office, the API and jobs call the rest. Functions work in
the caller's transaction and never commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from core import jobs
from core.cases import events
from core.cases.actors import Actor, ActorNotAllowed
from core.cases.documents import PdfLimits, PdfProblem, check_pdf, problem_message
from core.extensions import db
from core.fields import service as fields
from core.i18n import _l
from core.mail import send_mail
from core.models import Case, Document, Officer, Party
from core.models.base import utcnow
from core.plugins import hooks_for
from core.security import new_token
from core.signing.methods import DEFAULT_METHODS
from core.signing.models import retire_link
from core.storage import blobs
from core.text import clean_filename, valid_email
from core.urls import external_url
from tenants.models import Tenant

log = logging.getLogger(__name__)

SEAL_JOB = "core.sealing.jobs.seal_case"


class CaseError(ValueError):
    """An action that is not possible now; `message` is for the officer (translated by the caller)."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code
        self.message = message or code


class DocumentRejected(CaseError):
    """An uploaded file is not an acceptable PDF. `message` names the file and the reason."""

    def __init__(self, filename: str, reason_code: str, message: str):
        super().__init__(reason_code)
        self.message = message
        self.filename = filename
        self.reason_code = reason_code


# --- helpers -------------------------------------------------------------------------------------


def tenant_of(case: Case) -> Tenant:
    return db.session.get(Tenant, case.tenant_id)


def _hooks(case: Case):
    return hooks_for(tenant_of(case))


def officer_label(officer: Officer) -> str:
    return Actor.for_officer(officer).label


def actor_event(case: Case, kind: str, actor: Actor | Officer | None, **data) -> None:
    """Record an event done by `actor` (an Officer stands for itself, None for the service)."""
    events.record_by(case, kind, Actor.of(actor), data=data)


def _party_event(case: Case, kind: str, party: Party, **data) -> None:
    events.record_by(case, kind, Actor.for_party(party), data=data)


def system_event(case: Case, kind: str, **data) -> None:
    actor_event(case, kind, None, **data)


def require_status(case: Case, *statuses: str) -> None:
    if case.status not in statuses:
        raise CaseError(f"not_{'_or_'.join(statuses)}", f"case is {case.status}")


def _require_draft(case: Case) -> None:
    """Edits of a draft take the case's row lock first, as sending does: an edit racing a send
    either lands before it or is refused, never changes a case that has just been sent."""
    if sa.inspect(case).persistent:
        _lock(case)
    require_status(case, "draft")


def _lock(case: Case) -> None:
    """Serialise state changes of one case (PostgreSQL row lock; SQLite serialises writers itself)."""
    db.session.flush()
    # The lock and the fresh state in one statement (a signature takes it: one fewer per case).
    status, seal_state = db.session.execute(
        sa.select(Case.status, Case.seal_state).where(Case.id == case.id).with_for_update(key_share=True)).one()
    set_committed_value(case, "status", status)
    set_committed_value(case, "seal_state", seal_state)


def party_label(party: Party) -> dict:
    return {"party_id": party.id, "name": party.name, "email": party.email}


# --- creating ------------------------------------------------------------------------------------


def create_case(actor: Actor | Officer, title: str, message: str = "", allowed_methods: list[str] | None = None,
                signing_order: str = "parallel", language: str = "sv", expires_at: datetime | None = None,
                reminder_interval_days: int | None = None, reminder_max: int | None = None,
                owner: Officer | None = None, template: tuple[int, int] | None = None) -> Case:
    """A new draft in the actor's organisation, owned by `owner` (default: the acting officer; a case
    a plugin creates may have no owner: then no owner mails). Missing expiry and reminder policy
    come from the tenant's settings. `template`: (template id, version number) it was made from."""
    actor = Actor.of(actor)
    owner = owner if owner is not None else actor.officer
    if actor.tenant_id is None:
        raise ActorNotAllowed("a case is created for an organisation: the actor needs a tenant_id")
    if owner is not None and owner.tenant_id != actor.tenant_id:
        raise CaseError("unknown_officer")
    tenant = db.session.get(Tenant, actor.tenant_id)
    if expires_at is None:
        expires_at = utcnow() + timedelta(days=int(tenant.setting("expiry_days")))
    if reminder_interval_days is None:
        reminder_interval_days = tenant.setting("reminder_interval_days")
    if reminder_max is None:
        reminder_max = tenant.setting("reminder_max")
    case = Case(title=title.strip(), message=message or "", allowed_methods=list(allowed_methods or DEFAULT_METHODS),
                signing_order=signing_order, language=language, expires_at=expires_at,
                reminder_interval_days=reminder_interval_days or None, reminder_max=reminder_max or 0,
                owner_id=owner.id if owner is not None else None, tenant_id=actor.tenant_id, status="draft",
                last_activity_at=utcnow(), template_id=template[0] if template else None,
                template_version=template[1] if template else None)
    db.session.add(case)
    db.session.flush()
    actor_event(case, "created", actor, title=case.title)
    _hooks(case).case_created(case=case, actor=actor)
    return case


def update_case(case: Case, actor: Actor | Officer, **fields) -> None:
    """Change the settings of a draft (title, message, methods, order, language, expiry, reminders)."""
    _require_draft(case)
    allowed = {"title", "message", "allowed_methods", "signing_order", "language", "expires_at",
               "reminder_interval_days", "reminder_max"}
    changed = []
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(f"cannot update {name}")
        if getattr(case, name) != value:
            setattr(case, name, value)
            changed.append(name)
    if changed:
        actor_event(case, "updated", actor, fields=sorted(changed))


def upload_limit_mb(tenant: Tenant) -> int:
    return int(tenant.setting("max_upload_mb") or 25)


def check_upload(tenant: Tenant, filename: str, data: bytes) -> int:
    """Check a file against the tenant's rules, once, bounded (core.pdfcheck); returns its page
    count or raises `DocumentRejected`. Every upload of a document goes through here."""
    try:
        page_count = check_pdf(data, PdfLimits.for_tenant(tenant)).page_count
    except PdfProblem as problem:
        log.info("upload %r rejected: %s (%s)", filename, problem.code, problem.detail)
        raise DocumentRejected(filename, problem.code, problem_message(problem, filename)) from None
    _check_signatures(filename, data)
    return page_count


def _check_signatures(filename: str, data: bytes) -> None:
    """Refuse a PDF whose author's certification forbids the changes sealing makes (see
    core.sealing.prior); a PDF that is merely signed is accepted, with `signed_notice`."""
    from core.sealing.prior import UnreadableSignature, prior_signatures

    try:
        certification = prior_signatures(data).certification
    except UnreadableSignature:
        raise DocumentRejected(filename, "corrupt", problem_message(PdfProblem("corrupt"), filename)) from None
    if certification is None:
        return
    log.info("upload %r rejected: certified, DocMDP level %s", filename, certification.certification)
    if certification.certification == 1:
        message = _l("%(file)s is certified by %(signer)s, who allowed no changes to it. Sealing would add a footer "
                     "and a receipt after that signature. Ask for a copy that is not certified and upload that.",
                     file=filename, signer=certification.signer)
    else:
        message = _l("%(file)s is certified by %(signer)s, who allowed only filling in forms, signing and comments. "
                     "Sealing would add a footer and a receipt after that signature and break the certification. "
                     "Ask for a copy that is not certified and upload that.",
                     file=filename, signer=certification.signer)
    raise DocumentRejected(filename, "certified", message)


_signers_by_blob: dict[str, list[str]] = {}


def signed_by(data: bytes, sha256: str | None = None) -> list[str]:
    """Who has already signed this (accepted) PDF: the names for the officer's notice.

    With `sha256` (the blob's), the answer is remembered: the upload form asks again on
    every render, for files it carries along as blobs.
    """
    from core.sealing.prior import UnreadableSignature, prior_signatures

    if sha256 is not None and sha256 in _signers_by_blob:
        return _signers_by_blob[sha256]
    try:
        names = prior_signatures(data).signers
    except UnreadableSignature:
        names = []
    if sha256 is not None:
        if len(_signers_by_blob) > 1000:
            _signers_by_blob.clear()
        _signers_by_blob[sha256] = names
    return names


def signed_by_blob(sha256: str) -> list[str]:
    if sha256 not in _signers_by_blob:
        signed_by(blobs().get(sha256), sha256)
    return _signers_by_blob[sha256]


def signed_notice(names: list[str]):
    """What the officer is told about a PDF that is already signed (lazy: translated when shown)."""
    return _l("This PDF is already signed by %(names)s. Sealing adds a revision after that signature: it stays "
              "valid for the version that was signed, and signature checkers will show that the file was changed "
              "after it (the footer and the receipt).", names=", ".join(names))


def add_document(case: Case, filename: str, data: bytes, actor: Actor | Officer | None = None,
                 checked_pages: int | None = None) -> Document:
    """Validate the PDF, store it as a blob and attach it to the draft.

    A file is checked once, when it is uploaded: `checked_pages` is the page count `check_upload`
    gave for this very file earlier (the office form's kept file, a template's document), and then
    it is not checked again."""
    _require_draft(case)
    filename = clean_filename(filename)
    page_count = checked_pages if checked_pages else check_upload(tenant_of(case), filename, data)
    sha256 = blobs().put(data)
    position = max((d.position for d in case.documents), default=-1) + 1
    document = Document(case=case, tenant_id=case.tenant_id, position=position, filename=filename, sha256=sha256,
                        size=len(data), page_count=page_count)
    db.session.add(document)
    db.session.flush()
    data_ = {"document_id": document.id, "filename": filename, "sha256": sha256, "pages": page_count}
    signers = signed_by(data, sha256)
    if signers:
        data_["signed_by"] = signers
    actor_event(case, "document_added", actor, **data_)
    return document


def remove_document(case: Case, document: Document, actor: Actor | Officer) -> None:
    _require_draft(case)
    actor_event(case, "document_removed", actor, document_id=document.id, filename=document.filename)
    case.documents.remove(document)
    db.session.flush()


def add_party(case: Case, name: str, email: str, phone: str | None = None, personal_number: str | None = None,
              role: str = "signer", language: str = "sv", methods: list[str] | None = None,
              actor: Actor | Officer | None = None, role_key: str | None = None) -> Party:
    """Add a party to a draft (input already validated and normalised by the form)."""
    _require_draft(case)
    position = max((p.position for p in case.parties), default=-1) + 1
    party = Party(case=case, tenant_id=case.tenant_id, position=position, name=name.strip(),
                  email=email.strip().lower(), phone=phone or None, personal_number=personal_number or None,
                  role=role, language=language, methods=list(methods) if methods else None, status="waiting",
                  role_key=role_key)
    db.session.add(party)
    db.session.flush()
    actor_event(case, "party_added", actor, **party_label(party), role=role)
    return party


def replace_parties(case: Case, actor: Actor | Officer, rows: list[dict]) -> None:
    """Make the draft's parties exactly `rows` (in order), keeping rows that did not change."""
    _require_draft(case)
    existing = {p.id: p for p in case.parties}
    keep = set()
    for position, row in enumerate(rows):
        party = existing.get(row.get("id"))
        if party is None:
            party = add_party(case, actor=actor, **{k: v for k, v in row.items() if k != "id"})
        else:
            changed = [k for k, v in row.items() if k != "id" and getattr(party, k) != v]
            for key in changed:
                setattr(party, key, row[key])
            if changed:
                actor_event(case, "party_updated", actor, **party_label(party), fields=sorted(changed))
        party.position = position
        keep.add(party.id)
    for party in list(case.parties):
        if party.id not in keep:
            actor_event(case, "party_removed", actor, **party_label(party))
            case.parties.remove(party)
    db.session.flush()


def delete_draft(case: Case, actor: Actor | Officer) -> None:
    actor = Actor.of(actor)
    actor.check(case)
    _require_draft(case)
    log.info("draft case %s deleted by %s %s", case.id, actor.kind, actor.id)
    db.session.delete(case)
    db.session.flush()


# --- sending -------------------------------------------------------------------------------------


def ready_problems(case: Case) -> list[str]:
    """Why a draft cannot be sent yet (codes): no documents, no signers, no methods, fields nobody fills in."""
    problems = []
    if not case.documents:
        problems.append("no_documents")
    if not case.signers:
        problems.append("no_signers")
    if not case.allowed_methods and any(not p.methods for p in case.signers):
        problems.append("no_methods")
    if fields.unassigned(case):
        problems.append("fields_unassigned")
    return problems


def send_case(case: Case, actor: Actor | Officer) -> None:
    """Send a draft for signing: signers get their links (sequential: only the first one)."""
    _lock(case)
    require_status(case, "draft")
    problems = ready_problems(case)
    if problems:
        raise CaseError(problems[0])
    now = utcnow()
    case.status = "pending"
    case.sent_at = now
    actor = Actor.of(actor)
    actor_event(case, "sent", actor, signing_order=case.signing_order,
                documents=[{"filename": d.filename, "sha256": d.sha256} for d in case.documents])
    for party in _parties_to_invite(case):
        invite_party(case, party, actor=actor)
    _hooks(case).case_sent(case=case, actor=actor)


def _parties_to_invite(case: Case) -> list[Party]:
    waiting = [p for p in case.signers if p.status == "waiting"]
    if case.signing_order == "sequential":
        unfinished = [p for p in case.signers if p.status in ("invited", "viewed")]
        return [] if unfinished else waiting[:1]
    return waiting


def issue_party_link(party: Party, keep_earlier: bool = False) -> str:
    """A new personal link for the party. Only the token's hash is kept, so a link cannot be sent
    twice: every email carries a link of its own.

    `keep_earlier` (reminders, "send the link again"): links the party already has keep working
    (their hashes stay as `RetiredLink` rows with reason "kept"). Otherwise (a corrected address,
    the officer's "replace the link") every earlier link stops working.
    """
    from core.signing.models import drop_kept_links, keep_link

    if keep_earlier:
        keep_link(party)
    else:
        drop_kept_links(party)
    token, token_hash = new_token()
    party.token_hash = token_hash
    return external_url("signing.open", token=token)


def issue_result_link(party: Party, keep_earlier: bool = True) -> str:
    """A new result link token for the party of a completed case (the completion email's kind: it
    opens the party's page with the sealed documents and receipts). Only its hash is kept, so every
    email carries a link of its own; with `keep_earlier` the party's current result link keeps
    working beside it (a `RetiredLink` row with reason "kept", as `issue_party_link` keeps signing
    links), so a second email does not break the first one's link."""
    from core.signing.models import keep_result_link

    if keep_earlier:
        keep_result_link(party)
    token, party.result_token_hash = new_token()
    return token


def case_url(case: Case) -> str:
    return external_url("cases.detail", case_id=case.id)


def officer_of(case: Case) -> Officer | None:
    return db.session.get(Officer, case.owner_id) if case.owner_id else None


def mail_party(case: Case, party: Party, template: str, **context) -> None:
    """Email a party. An address that is not one plain address (saved before addresses were checked
    at input) gets no mail: the timeline says so, and the officer can correct the address. A party
    with no address (who signs in person) gets none either; `invite_party` says so once."""
    if not party.email:
        log.info("no %s email to party %s of case %s: no address (signs in person)", template, party.id, case.id)
        return
    if not valid_email(party.email):
        system_event(case, "mail_not_sent", name=party.name, email=party.email)
        log.warning("no %s email to party %s of case %s: not one valid address", template, party.id, case.id)
        return
    send_mail(party.email, template, party.language or case.language, tenant=tenant_of(case), case=case,
              party=party, sender=officer_of(case), **context)


def invite_party(case: Case, party: Party, actor: Actor | Officer | None = None, kind: str = "invited") -> None:
    """Email the party a link: the invitation ("invited"), the link again with earlier ones still
    working ("link_resent"), or a link that replaces every earlier one ("link_replaced")."""
    link = issue_party_link(party, keep_earlier=(kind == "link_resent"))
    now = utcnow()
    if party.status == "waiting":
        party.status = "invited"
    party.invited_at = party.invited_at or now
    again = {"link_resent": "kept", "link_replaced": "replaced"}.get(kind)
    mail_party(case, party, "sign_request", link=link, again=again)
    data = party_label(party)
    if again:
        data["earlier_links"] = again
    actor_event(case, kind if party.email else "in_person", actor, **data)


# --- the signer's side ---------------------------------------------------------------------------


def party_viewed(case: Case, party: Party) -> None:
    """The party opened their link; only the first time counts."""
    if party.viewed_at is not None:
        return
    party.viewed_at = utcnow()
    if party.status == "invited":
        party.status = "viewed"
    _party_event(case, "viewed", party)
    _hooks(case).party_viewed(case=case, party=party)


def party_signed(case: Case, party: Party) -> None:
    """Called by the signer's side after it wrote the party's `Signature` and its "party_signed" event.

    Marks the party signed, fires the hook, invites the next signer of a sequential case, and
    when every signer has signed queues the sealing job exactly once.
    """
    _lock(case)
    signature = party.signature
    party.status = "signed"
    party.signed_at = party.signed_at or (signature.signed_at if signature is not None else utcnow())
    _hooks(case).party_signed(case=case, party=party, signature=signature)
    db.session.flush()
    if _unsigned_signers(case):
        if case.status == "pending":
            for nxt in _parties_to_invite(case):
                invite_party(case, nxt)
        return
    queue_sealing(case)


def _unsigned_signers(case: Case) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Party)
        .where(Party.case_id == case.id, Party.role == "signer", Party.status != "signed")
    )


def queue_sealing(case: Case) -> bool:
    """Mark the case for sealing and enqueue the job, exactly once even under concurrent calls."""
    claimed = db.session.execute(
        sa.update(Case).where(Case.id == case.id, Case.status == "pending", Case.seal_state.is_(None))
        .values(seal_state="queued").execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    set_committed_value(case, "seal_state", "queued")
    system_event(case, "seal_queued")
    jobs.enqueue(SEAL_JOB, case.id, tenant_id=case.tenant_id, case_id=case.id, queue="sealing")
    return True


def party_declined(case: Case, party: Party, reason: str) -> None:
    """The party declined: the case is closed as declined, every link stops working, the owner is told."""
    _lock(case)
    now = utcnow()
    party.status = "declined"
    party.declined_at = now
    party.decline_reason = (reason or "").strip()[:2000]
    _party_event(case, "declined", party, reason=party.decline_reason)
    if case.status == "pending":
        _close(case, "declined", party.decline_reason, now)
        owner = officer_of(case)
        if owner is not None:
            mail_owner(case, owner, "case_declined", party=party)
    _hooks(case).case_declined(case=case, party=party)


def _close(case: Case, status: str, reason: str | None, now: datetime) -> None:
    case.status = status
    case.closed_at = now
    case.close_reason = reason
    for party in case.parties:
        retire_link(party, status)  # the signer's page can still say why the link stopped working
        party.token_hash = None


def mail_owner(case: Case, owner: Officer, template: str, **context) -> None:
    tenant = tenant_of(case)
    language = owner.language or tenant.setting("default_language") or "sv"
    send_mail(owner.email, template, language, tenant=tenant, case=case, owner=owner, case_url=case_url(case),
              **context)


def revoke_case(case: Case, actor: Actor | Officer, reason: str) -> None:
    """Withdraw a pending case: links stop working at once; invited parties are told why."""
    actor = Actor.of(actor)
    actor.check(case)
    _lock(case)
    require_status(case, "pending")
    reason = (reason or "").strip()[:2000]
    told = [p for p in case.parties if p.status in ("invited", "viewed", "signed")]
    _close(case, "revoked", reason, utcnow())
    actor_event(case, "revoked", actor, reason=reason)
    for party in told:
        mail_party(case, party, "case_revoked", reason=reason)
    _hooks(case).case_revoked(case=case, officer=actor.officer, actor=actor)


def expire_case(case_id: int, now: datetime) -> bool:
    """A pending case past its expiry becomes expired: links stop working, the owner is told.
    False when the case was no longer pending (closed meanwhile, or expired by a parallel run)."""
    claimed = db.session.execute(
        sa.update(Case).where(Case.id == case_id, Case.status == "pending")
        .values(status="expired", closed_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    case = db.session.get(Case, case_id)
    db.session.refresh(case)
    _close(case, "expired", None, now)
    system_event(case, "expired", expires_at=case.expires_at.isoformat() if case.expires_at else None)
    owner = officer_of(case)
    if owner is not None:
        mail_owner(case, owner, "case_expired")
    _hooks(case).case_expired(case=case)
    return True
