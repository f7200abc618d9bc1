"""The signer's side: what a link shows, the consent text, and the signing transaction.

Views call `open_link` to resolve a token, then `signing_context`, `sign`, `run_action` or
`decline`. Signing writes exactly one `Signature` per party: the database's unique constraint on
`signature.party_id` decides races (double clicks, two tabs, two devices); the loser is told the
party has signed, never shown an error.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from core.cases import events
from core.cases import service as cases
from core.extensions import db
from core.fields import service as fields
from core.i18n import _, force_locale, ngettext
from core.models import Case, Document, Officer, Party, Signature
from core.models.base import utcnow
from core.plugins import hooks_for_tenant_id
from core.security import hash_token
from core.signing import steps
from core.signing.methods import (
    ActionResult,
    MethodRefused,
    MethodResult,
    SigningContext,
    SigningMethod,
    methods_for,
)
from core.signing.models import RetiredLink
from tenants.models import Tenant

log = logging.getLogger(__name__)

# What a link leads to. "open" means the party can act (sign, or read as a recipient).
LINK_STATES = ("unknown", "open", "waiting", "signed", "declined", "other_declined", "revoked", "expired",
               "completed")


@dataclass
class Link:
    state: str
    party: Party | None = None
    case: Case | None = None
    tenant: Tenant | None = None
    # Sequential cases: the names of the signers this party waits for.
    waiting_for: list[str] = field(default_factory=list)


def find_party(token: str) -> Party | None:
    """The party of a live link, or of a link retired when its case was closed (the page then
    says why; `link_state` never lets a closed case's link act).

    One query loads the party with its case, the case's documents and owner and the party's
    signature: the signer page is the busiest page and must stay cheap (the statements are built
    once; SQLAlchemy caches their compiled form).
    """
    if not token or len(token) > 200:
        return None
    token_hash = hash_token(token)
    # A plugin's public route resolves its link twice in one request (its tenant for the plugin
    # guard, then the view's `with_link`): the second time the party found is taken again, if its
    # link is still this one.
    found = _found()
    if found is not None and found[0] == token_hash and found[1] in db.session and \
            token_hash in (found[1].token_hash, found[1].result_token_hash):
        return found[1]
    # The completion email's link (result_token_hash) opens the same page once the case is done.
    party = _load_party(_PARTY_BY_TOKEN, token_hash)
    if party is not None:
        _remember_found((token_hash, party))
        return party
    party_id = _plugin_link(token)
    if party_id is not None:
        return _load_party(_PARTY_BY_ID, party_id)
    retired = db.session.execute(_RETIRED_PARTY, {"token_hash": token_hash}).scalar_one_or_none()
    return None if retired is None else _load_party(_PARTY_BY_ID, retired)


_FOUND = "sigill.found_party"  # the party this request's link resolved to, in its WSGI environ: gone
# with the request, even where an outer app context outlives it (as in tests)


def _found():
    from flask import has_request_context, request

    return request.environ.get(_FOUND) if has_request_context() else None


def _remember_found(value) -> None:
    from flask import has_request_context, request

    if has_request_context():
        request.environ[_FOUND] = value


def _plugin_link(token: str) -> int | None:
    """A link a plugin issued for a party (`resolve_signing_link`, e.g. a kiosk tablet's), or None."""
    from flask import current_app, has_app_context

    if not has_app_context() or "sigill_pm" not in current_app.extensions:
        return None
    hook = current_app.extensions["sigill_pm"].hook.resolve_signing_link
    if not hook.get_hookimpls():
        return None
    return hook(token=token)


def _party_query(condition):
    # all_tenants: the link itself says whose it is; everything loaded hangs off this party. The
    # tenant comes along into the identity map, so `link_state` gets it without another query.
    return (
        sa.select(Party, Tenant).join(Tenant, Tenant.id == Party.tenant_id).where(condition)
        .options(joinedload(Party.case).joinedload(Case.documents), joinedload(Party.case).joinedload(Case.owner),
                 joinedload(Party.signature))
        .execution_options(all_tenants=True)
    )


_PARTY_BY_TOKEN = _party_query(sa.or_(Party.token_hash == sa.bindparam("key"),
                                      Party.result_token_hash == sa.bindparam("key")))
_PARTY_BY_ID = _party_query(Party.id == sa.bindparam("key"))
_RETIRED_PARTY = (sa.select(RetiredLink.party_id).where(RetiredLink.token_hash == sa.bindparam("token_hash"))
                  .execution_options(all_tenants=True))


def _load_party(statement, key) -> Party | None:
    row = db.session.execute(statement, {"key": key}).unique().first()
    return row[0] if row else None


def link_state(party: Party, now: datetime | None = None) -> Link:
    """What the party's link shows now (the tenant must already be the party's)."""
    case = party.case
    tenant = db.session.get(Tenant, case.tenant_id)
    link = Link("open", party, case, tenant)
    now = now or utcnow()
    if party.status == "signed":
        link.state = "signed"
    elif party.status == "declined":
        link.state = "declined"
    elif case.status == "revoked":
        link.state = "revoked"
    elif case.status == "expired" or (case.status == "pending" and case.expires_at and case.expires_at <= now):
        link.state = "expired"
    elif case.status == "declined":
        link.state = "other_declined"
    elif case.status == "completed":
        link.state = "completed"
    elif case.status != "pending":
        link.state = "unknown"
    elif party.role == "signer" and case.signing_order == "sequential":
        link.waiting_for = [p.name for p in case.signers if p.position < party.position and p.status != "signed"]
        if link.waiting_for:
            link.state = "waiting"
    return link


# What a party who has finished is told about the case (the page after signing, and its poll).
OUTCOMES = ("others", "sealing", "sealing_failed", "sealed", "revoked", "expired", "declined")


def outcome(link: Link, now: datetime | None = None) -> str:
    """What is true of the case for a party who has signed (or a recipient of a completed case).

    "others": other signers have not signed yet; "sealing": every signer has signed and the
    documents are being sealed now; "sealing_failed": the sealing job gave up (an admin can retry);
    "sealed": the signed documents are ready; "revoked", "expired", "declined": the case was
    closed before every party signed, so nothing will be sealed.
    """
    case = link.case
    now = now or utcnow()
    if case.status == "completed":
        return "sealed"
    if case.status in ("revoked", "expired", "declined"):
        return case.status
    if case.seal_state == "queued":
        from core.sealing.views import failed_seal_job

        return "sealing_failed" if failed_seal_job(case) is not None else "sealing"
    if case.expires_at and case.expires_at <= now:
        return "expired"  # the scheduler has not closed it yet; nobody can sign any more
    return "others"


def still_to_sign(case: Case) -> list[str]:
    """The names of the signers who have not signed yet, in signing order."""
    return [p.name for p in case.signers if p.status != "signed"]


def record_first_view(party: Party) -> None:
    """The first view of a link is an event; later views write nothing (cheap under load)."""
    if party.viewed_at is not None:
        return
    claimed = db.session.execute(
        sa.update(Party).where(Party.id == party.id, Party.viewed_at.is_(None))
        .values(viewed_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return
    # The loaded party still has viewed_at unset, so the case service records the event and fires
    # `party_viewed` (and moves an invited party to "viewed").
    cases.party_viewed(party.case, party)
    db.session.commit()


# --- what is signed -----------------------------------------------------------------------------


def document_hashes(documents: list[Document]) -> dict[str, dict[str, str]]:
    return {str(d.id): {"filename": d.filename, "sha256": d.sha256} for d in documents}


def documents_digest(documents: list[Document], field_values_sha256: str | None = None) -> str:
    """What a signature, a code or an order binds: the documents in order and, when the party has
    fields, the SHA-256 of their values."""
    joined = "\n".join(f"{d.id}:{d.sha256}" for d in documents)
    if field_values_sha256 is not None:
        joined += f"\nfields:{field_values_sha256}"
    return hashlib.sha256(joined.encode()).hexdigest()


def consent_text(case: Case, party: Party, organisation: str, language: str,
                 values: fields.SignedValues | None = None) -> str:
    """The text the signer confirms, naming every document and its SHA-256, and the SHA-256 of the
    party's field values (kept in the evidence)."""
    with force_locale(language):
        lines = [_('I, %(name)s, have read the documents below in the case "%(title)s" from %(org)s and sign them '
                   "electronically. I agree to their content.", name=party.name, title=case.title, org=organisation)]
        for document in case.documents:
            lines.append(_("%(file)s, SHA-256 %(sha256)s", file=document.filename, sha256=document.sha256))
        if values is not None and values.sha256 is not None:
            lines.append(ngettext("My entry in %(num)d field, SHA-256 %(sha256)s",
                                  "My entries in %(num)d fields, SHA-256 %(sha256)s", len(values.values),
                                  sha256=values.sha256))
    return "\n".join(lines)


def signing_context(link: Link, ip: str, user_agent: str, language: str,
                    state: fields.CaseFields | None = None) -> SigningContext:
    """`state`: the case's fields if already read (`fields.read_many` for a batch of cases)."""
    case, party = link.case, link.party
    documents = list(case.documents)
    state = fields.read(case) if state is None else state  # once: what is signed, and what the page shows
    values = fields.signing_values(case, party, state)
    return SigningContext(
        case=case, party=party, documents=documents, document_hashes=document_hashes(documents),
        documents_digest=documents_digest(documents, values.sha256),
        consent_text=consent_text(case, party, link.tenant.name, language, values),
        ip=ip, user_agent=user_agent, language=language, field_values=values.values,
        field_values_sha256=values.sha256, field_errors=values.errors, fields=state,
    )


def sender_of(case: Case) -> Officer | None:
    return case.owner


# --- signing ------------------------------------------------------------------------------------


class SignRefused(Exception):
    """The signature was not written; `message` tells the signer why (in their language), and
    `field_errors` (by field name) what is wrong with their fields, if anything."""

    def __init__(self, message: str, field_errors: dict[str, list[str]] | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}
        self.field = field  # the id of the input the message is about, if one


def fields_refusal(ctx: SigningContext) -> SignRefused | None:
    """Why the party's fields cannot be signed yet (a required one empty, a value not valid)."""
    if not ctx.field_errors:
        return None
    return SignRefused(_("Fill in the fields marked below before you sign."), ctx.field_errors)


def _method(ctx: SigningContext, name: str) -> SigningMethod:
    for method in methods_for(ctx.party):
        if method.name == name:
            return method
    raise SignRefused(_("Choose one of the signing methods shown on the page."))


def run_action(ctx: SigningContext, method_name: str, action: str, form: MultiDict) -> ActionResult:
    """A method's extra step (e.g. send a code); commits what it wrote (challenges, events)."""
    method = _method(ctx, method_name)
    refused = steps.refusal(ctx.case, ctx.party, method.name)
    if refused:
        raise SignRefused(refused)
    try:
        result = method.action(ctx, action, form)
    except MethodRefused as refused:
        result = ActionResult(ok=False, message=refused.message)
    db.session.commit()
    return result


def sign(ctx: SigningContext, method_name: str, form: MultiDict) -> bool:
    """Sign for the party. True when this call wrote the signature, False when the party had
    already signed (a parallel request won). Raises `SignRefused` with a message for the signer."""
    case, party = ctx.case, ctx.party
    method = _method(ctx, method_name)
    pending = steps.open_steps(case, party)
    if pending:
        raise SignRefused(_("Before you sign: %(step)s.", step=pending[0].label))
    if form.get("consent") != "yes":
        raise SignRefused(_("Confirm that you have read the documents and agree to sign them."), field="consent")
    refusal = fields_refusal(ctx)
    if refusal is not None:
        raise refusal
    if form.get("documents_digest") != ctx.documents_digest:
        if ctx.field_values_sha256 is not None:
            raise SignRefused(_("Your entries or the documents have changed since the page was loaded (in another "
                                "window?). Check them below and sign again."))
        raise SignRefused(_("The documents have changed since you opened the page. Read them again before signing."))
    blocked = steps.refusal(case, party, method.name, steps=[])
    if blocked:
        raise SignRefused(blocked)
    try:
        result = method.verify(ctx, form)
    except MethodRefused as refused:
        db.session.commit()  # attempt counters and attempt events stay
        if _already_signed(party):
            return False
        raise SignRefused(refused.message, field=refused.field) from None
    return _write_signature(ctx, method, result)


def sign_verified(ctx: SigningContext, method_name: str, result: MethodResult, documents_digest: str,
                  commit: bool = True) -> bool:
    """Sign for the party with a proof a method already verified for several cases at once (a
    plugin's stamp signature: one drawn signature over a manifest of cases).

    The caller verified `result` with the method over what the party confirmed (naming this
    case's documents and their SHA-256) and passes this case's `documents_digest` as the party saw
    it; `ctx.consent_text` is the text the party confirmed. Everything else is checked here as in
    `sign`: the party's steps, fields, `before_party_signs`, and that the documents are unchanged.
    True when this call wrote the signature, False when the party had already signed; raises
    `SignRefused` with a message for the signer (before anything is written). Commits; with
    `commit=False` (a batch of cases in one transaction) it leaves the commit to the caller, and a
    parallel signature of the same party raises `IntegrityError` (the caller rolls back).
    """
    case, party = ctx.case, ctx.party
    method = _method(ctx, method_name)
    pending = steps.open_steps(case, party)
    if pending:
        raise SignRefused(_("Before you sign: %(step)s.", step=pending[0].label))
    refusal = fields_refusal(ctx)
    if refusal is not None:
        raise refusal
    if documents_digest != ctx.documents_digest:
        raise SignRefused(_("The documents have changed since you opened the page. Read them again before signing."))
    blocked = steps.refusal(case, party, method.name, steps=[])
    if blocked:
        raise SignRefused(blocked)
    return _write_signature(ctx, method, result, commit=commit)


def _write_signature(ctx: SigningContext, method: SigningMethod, result: MethodResult, commit: bool = True) -> bool:
    case, party = ctx.case, ctx.party
    added = plugin_evidence(case, party, method.name)
    evidence = {**result.evidence, "plugins": added} if added else result.evidence
    # `party=` too: the loaded party's `signature` is then this one (the `party_signed` hook reads it).
    signature = Signature(
        case_id=case.id, tenant_id=case.tenant_id, party_id=party.id, party=party, method=method.name,
        signed_at=utcnow(),
        ip=ctx.ip[:45], user_agent=ctx.user_agent[:500], consent_text=ctx.consent_text,
        document_hashes=ctx.document_hashes, identity=result.identity, evidence=evidence,
        field_values_sha256=ctx.field_values_sha256,
    )
    db.session.add(signature)
    try:
        db.session.flush()
    except IntegrityError:
        if not commit:
            raise  # the caller's batch is rolled back as a whole
        db.session.rollback()
        log.info("party %s already signed (parallel request)", party.id)
        return False
    if ctx.field_values_sha256 is not None:
        fields.freeze_values(case, party, ctx.field_values, signature.signed_at)
    events.record(case, "party_signed", "party", actor_id=party.id, actor_label=party.name, data={
        "signature": signature.id, "method": method.name, "documents": ctx.document_hashes,
        "consent_sha256": hashlib.sha256(ctx.consent_text.encode()).hexdigest(), "evidence": result.summary,
        "field_values_sha256": ctx.field_values_sha256, **({"plugins": added} if added else {}),
    }, ip=ctx.ip, user_agent=ctx.user_agent)
    cases.party_signed(case, party)
    if commit:
        db.session.commit()
    log.info("party %s of case %s signed by %s", party.id, case.id, method.name)
    return True


def plugin_evidence(case: Case, party: Party, method: str) -> dict:
    """What the tenant's plugins add to a signature's evidence (`signature_evidence`), merged."""
    added: dict = {}
    for part in hooks_for_tenant_id(case.tenant_id).signature_evidence(
            case=case, party=party, method=method):
        added.update(part or {})
    return added


def signature_recorded(party_id: int) -> bool:
    """Asked on a fresh connection (e.g. after the connection broke during a commit)."""
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(Signature)
                            .where(Signature.party_id == party_id)).scalar() > 0


def _already_signed(party: Party) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Signature)
                             .where(Signature.party_id == party.id)) > 0


def decline(link: Link, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise SignRefused(_("Tell the sender why you decline, so they can act on it."))
    cases.party_declined(link.case, link.party, reason)
    db.session.commit()
