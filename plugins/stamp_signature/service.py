"""The stamp signature: one party's waiting cases in one organisation, signed with one signature.

A party reaches the stamp page from their own signing link. The cases listed are those of the
same person in the link's organisation (the same email; the same personal number where a case
requires BankID) whose turn has come. The party ticks cases and signs once: the method verifies
its proof once over a manifest (the JSON list of every selected case and document with its SHA-256
and the party's field values), and every case then gets its own signature from the core's
signing service (`core.signing.service.sign_verified`), whose evidence names the manifest's hash.
A case that cannot be signed (not the party's turn, revoked, changed since the page was loaded)
is refused alone, with the reason; the others go through.
"""

from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core.extensions import db
from core.i18n import _, _l, force_locale, ngettext
from core.models import Case, Party
from core.signing import service as signing
from core.signing.methods import MethodRefused, SigningContext, methods_for
from plugins.stamp_signature.models import StampManifest, StampOpened

log = logging.getLogger(__name__)

NAME = "stamp_signature"
# Methods a stamp signature can use: proved once for every selected case.
STAMP_METHODS = ("touch", "sms")



class Settings(Schema):
    require_opened = fields.Boolean(load_default=False, metadata={
        "label": _l("Every document must be opened before it can be signed together"),
        "description": _l("The stamp page lets a party tick a case only once they opened each of its documents.")})


def require_opened(tenant) -> bool:
    from core.plugins import plugin_settings

    return bool(plugin_settings(tenant, NAME).get("require_opened"))


# The manifest of the stamp signature being written, for `signature_evidence` (set per batch).
current_stamp: contextvars.ContextVar[dict | None] = contextvars.ContextVar("current_stamp", default=None)


def _requires_bankid(party: Party) -> bool:
    return party.effective_methods == ["bankid"]


def same_person(a: Party, b: Party) -> bool:
    """The same person in one organisation: the same email, and the same personal number where
    either case requires BankID (or where both parties have one). A party with no email address
    is nobody else."""
    email = (a.email or "").strip().casefold()
    if not email or email != (b.email or "").strip().casefold():
        return False  # no address (a party who signs in person) is nobody else's
    if _requires_bankid(a) or _requires_bankid(b):
        return bool(a.personal_number) and a.personal_number == b.personal_number
    if a.personal_number and b.personal_number:
        return a.personal_number == b.personal_number
    return True


def candidates(party: Party) -> list[Party]:
    """Signer parties of the same person in the current organisation on pending cases, unsigned
    (the tenant scoping keeps every other organisation's rows out). The case service stores emails
    in lower case, so the (tenant, email) index finds them."""
    if not (party.email or "").strip():
        return []
    rows = db.session.scalars(
        sa.select(Party).join(Case, Case.id == Party.case_id)
        .where(Party.tenant_id == party.tenant_id, Party.email == (party.email or "").strip().lower(),
               Party.role == "signer", Party.status.not_in(("signed", "declined")))
        .options(joinedload(Party.case).joinedload(Case.documents), joinedload(Party.case).joinedload(Case.owner),
                 joinedload(Party.case).selectinload(Case.parties))  # signing order: one query for all
        .order_by(Case.sent_at.desc(), Case.id.desc())
    ).unique().all()
    return [p for p in rows if same_person(party, p)]


def waiting(party: Party) -> list[signing.Link]:
    """The links of the same person's cases whose turn has come (open now), newest first."""
    links = [signing.link_state(p) for p in candidates(party)]
    return [link for link in links if link.state == "open"]


@dataclass
class Outcome:
    signed: list[Case] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (case id, title, reason)
    manifest_sha256: str | None = None


def refusal_reason(link: signing.Link) -> str:
    """Why a case cannot be signed now, in the party's language."""
    if link.state == "waiting":
        return _("It is not your turn yet: %(names)s must sign first.", names=", ".join(link.waiting_for))
    if link.state == "revoked":
        return _("The sender revoked this case.")
    if link.state == "expired":
        return _("This case has expired.")
    if link.state in ("declined", "other_declined"):
        return _("This case was declined.")
    if link.state in ("signed", "completed"):
        return _("You have already signed this case.")
    return _("This case can no longer be signed.")


def manifest_of(contexts: list[SigningContext]) -> tuple[bytes, str]:
    """The manifest's canonical JSON and its SHA-256."""
    entries = [{
        "case": ctx.case.id, "title": ctx.case.title,
        "documents": [{"id": d.id, "filename": d.filename, "sha256": d.sha256} for d in ctx.documents],
        "field_values": ctx.field_values, "field_values_sha256": ctx.field_values_sha256,
    } for ctx in contexts]
    data = json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    return data, hashlib.sha256(data).hexdigest()


def stamp_consent(party: Party, organisation: str, contexts: list[SigningContext], sha256: str, language: str) -> str:
    with force_locale(language):
        return ngettext(
            "I, %(name)s, sign %(num)d document from %(org)s in one stamp signature, listed in the manifest "
            "with SHA-256 %(sha256)s.",
            "I, %(name)s, sign %(num)d documents from %(org)s in one stamp signature, listed in the manifest "
            "with SHA-256 %(sha256)s.",
            sum(len(c.documents) for c in contexts), name=party.name, org=organisation, sha256=sha256)


def common_methods(links: list[signing.Link]) -> list[str]:
    """The stamp methods every one of these cases allows its party, in page order (an SMS code
    only when every case has the same mobile number for the party)."""
    names = None
    for link in links:
        allowed = {m.name for m in methods_for(link.party)}
        names = allowed if names is None else names & allowed
    if names and "sms" in names and len({_phone(link.party) for link in links}) != 1:
        names.discard("sms")
    return [n for n in STAMP_METHODS if names and n in names]


def prepare(party: Party, selected: dict[int, str], method_name: str, ip: str, user_agent: str, language: str,
            must_open: bool = False) -> tuple[Outcome, list[tuple[SigningContext, str]]]:
    """Check every selected case (id -> the documents digest the page showed) for the person of
    `party`: the refused ones with their reason, and the contexts of those that can be signed.
    With `must_open`, a case any of whose documents the party has not opened is refused."""
    outcome = Outcome()
    by_case = {p.case_id: p for p in candidates(party)}
    opened = opened_documents(list(by_case.values())) if must_open else set()
    ready: list[tuple[SigningContext, str]] = []
    for case_id, shown in selected.items():
        other = by_case.get(case_id)
        if other is None:
            case = db.session.get(Case, case_id)
            mine = next((p for p in (case.parties if case else []) if same_person(party, p)), None)
            if mine is None:
                outcome.refused.append((case_id, "", _("This case is not waiting for you.")))
            else:
                outcome.refused.append((case_id, case.title, refusal_reason(signing.link_state(mine))))
            continue
        link = signing.link_state(other)
        if link.state != "open":
            outcome.refused.append((case_id, link.case.title, refusal_reason(link)))
            continue
        if must_open and not all(d.id in opened for d in link.case.documents):
            outcome.refused.append((case_id, link.case.title,
                                    _("Open every document of this case before you sign it.")))
            continue
        ctx = signing.signing_context(link, ip, user_agent, language)
        if ctx.documents_digest != shown:
            outcome.refused.append((case_id, link.case.title,
                                    _("The documents have changed since you opened the page. Read them again "
                                      "before signing.")))
            continue
        if ctx.field_errors:
            outcome.refused.append((case_id, link.case.title,
                                    _("Fill in your fields in this case on its own signing page first.")))
            continue
        if method_name not in common_methods([link]) or (ready and not _same_phone(ready[0][0].party, other)):
            outcome.refused.append((case_id, link.case.title, _("This case does not allow the method you chose.")))
            continue
        ready.append((ctx, shown))
    return outcome, ready


def _same_phone(a: Party, b: Party) -> bool:
    return _phone(a) == _phone(b)


def _phone(party: Party) -> str:
    from core.sms import InvalidPhoneNumber, normalise_phone

    try:
        return normalise_phone(party.phone or "")
    except InvalidPhoneNumber:
        return ""


def stamp_context(party: Party, organisation: str, contexts: list[SigningContext], language: str
                  ) -> tuple[SigningContext, bytes, str]:
    """What the method proves once: the first case's context with the stamp consent and, as the
    digest a code or order binds, the manifest's SHA-256; and the manifest with its hash."""
    data, sha256 = manifest_of(contexts)
    consent = stamp_consent(party, organisation, contexts, sha256, language)
    with force_locale(language):
        subject = ngettext("%(num)d document", "%(num)d documents", sum(len(c.documents) for c in contexts))
    stamp = dataclasses.replace(contexts[0], consent_text=consent, documents_digest=sha256, subject=subject)
    return stamp, data, sha256


def send_code(party: Party, selected: dict[int, str], ip: str, user_agent: str, language: str, organisation: str,
              must_open: bool = False) -> tuple[Outcome, str, bool]:
    """Send one SMS code bound to the manifest of the cases that can be signed now."""
    outcome, ready = prepare(party, selected, "sms", ip, user_agent, language, must_open)
    if not ready:
        return outcome, "", False
    ctx, _data, _sha256 = stamp_context(party, organisation, [c for c, _s in ready], language)
    method = next(m for m in methods_for(ctx.party) if m.name == "sms")
    result = method.action(ctx, "send", {})
    db.session.commit()
    return outcome, result.message, result.ok


def sign_together(party: Party, selected: dict[int, str], method_name: str, form, ip: str, user_agent: str,
                  language: str, organisation: str, must_open: bool = False) -> Outcome:
    """Sign every selected case (id -> the documents digest the page showed) for the person of
    `party`. Refused cases are reported with their reason; the others each get a signature."""
    outcome, ready = prepare(party, selected, method_name, ip, user_agent, language, must_open)
    if not ready:
        return outcome
    contexts = [ctx for ctx, _shown in ready]
    stamp, data, sha256 = stamp_context(party, organisation, contexts, language)
    consent = stamp.consent_text
    method = next(m for m in methods_for(stamp.party) if m.name == method_name)
    try:
        result = method.verify(stamp, form)
    except MethodRefused as refused:
        db.session.commit()  # attempt counters and attempt events stay (as on the signer page)
        raise signing.SignRefused(refused.message, field=refused.field) from None
    documents = sum(len(c.documents) for c in contexts)
    db.session.add(StampManifest(tenant_id=party.tenant_id, sha256=sha256, manifest=data.decode(),
                                 method=method_name, case_count=len(contexts)))
    db.session.commit()
    outcome.manifest_sha256 = sha256
    for ctx, shown in ready:
        token = current_stamp.set({"manifest_sha256": sha256, "cases": len(contexts),
                                   "other_documents": documents - len(ctx.documents)})
        try:
            written = signing.sign_verified(dataclasses.replace(ctx, consent_text=consent + "\n\n" + ctx.consent_text),
                                            method_name, result, shown)
        except signing.SignRefused as refused:
            db.session.rollback()
            outcome.refused.append((ctx.case.id, ctx.case.title, refused.message))
            continue
        finally:
            current_stamp.reset(token)
        if written:
            outcome.signed.append(ctx.case)
        else:
            outcome.refused.append((ctx.case.id, ctx.case.title, _("You have already signed this case.")))
    log.info("stamp signature %s: %d signed, %d refused", sha256[:12], len(outcome.signed), len(outcome.refused))
    return outcome


def progress(party: Party, case_ids: list[int]) -> dict[int, str]:
    """{case id: `core.signing.service.outcome`} for the person's signed cases among `case_ids`
    (after a stamp signature, while they are sealed); other cases are left out."""
    if not case_ids or not (party.email or "").strip():
        return {}
    rows = db.session.scalars(
        sa.select(Party).where(Party.tenant_id == party.tenant_id, Party.email == (party.email or "").strip().lower(),
                               Party.case_id.in_(case_ids[:1000]), Party.status == "signed")
        .options(joinedload(Party.case))
    ).unique().all()
    return {p.case_id: signing.outcome(signing.link_state(p)) for p in rows if same_person(party, p)}


def record_opened(party: Party, document_id: int) -> None:
    exists = db.session.scalar(sa.select(StampOpened.id).where(StampOpened.party_id == party.id,
                                                               StampOpened.document_id == document_id))
    if exists is None:
        db.session.add(StampOpened(tenant_id=party.tenant_id, party_id=party.id, document_id=document_id))
        try:
            db.session.commit()
        except IntegrityError:  # opened twice at once (two tabs): the first row stands
            db.session.rollback()


def opened_documents(parties: list[Party]) -> set[int]:
    ids = [p.id for p in parties]
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(StampOpened.document_id).where(StampOpened.party_id.in_(ids))))


def stamp_of(party: Party | None) -> dict | None:
    """What a party's signature says of its stamp signature, or None (signed on their own)."""
    signature = party.signature if party is not None else None
    return ((signature.evidence or {}).get("plugins") or {}).get(NAME) if signature is not None else None


def manifest(sha256: str) -> StampManifest | None:
    return db.session.scalar(sa.select(StampManifest).where(StampManifest.sha256 == sha256))
