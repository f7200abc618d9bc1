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
from types import SimpleNamespace

import sqlalchemy as sa
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, undefer

from core.extensions import db
from core.i18n import _, _l, force_locale, ngettext
from core.models import Case, Party
from core.personal_numbers import is_valid as valid_personal_number
from core.signing import service as signing
from core.signing.methods import MethodRefused, SigningContext, methods_for
from plugins.stamp_signature.models import StampManifest, StampOpened

log = logging.getLogger(__name__)

NAME = "stamp_signature"
# Methods a stamp signature can use: proved once for every selected case.
STAMP_METHODS = ("bankid", "touch", "sms")
# Up to INLINE_CASES cases are signed in the request itself. More are signed by jobs of CHUNK cases
# each (`sign_chunk`): the request stays short whatever the number of cases, the work is spread
# over the workers, and a worker killed mid-way is resumed by the job's retry (each case commits
# on its own; a case already signed is passed over, so none is signed twice).
INLINE_CASES = 25
CHUNK = 50
# The page lists at most this many waiting cases at a time (the newest first; filters narrow it).
PAGE_SIZE = 50



class Settings(Schema):
    require_opened = fields.Boolean(load_default=False, metadata={
        "label": _l("Every document must be opened before it can be signed together"),
        "description": _l("The stamp page lets a party tick a case only once they opened each of its documents.")})
    digest_days = fields.Integer(load_default=7, validate=validate.Range(0, 90), metadata={
        "label": _l("Days between digest emails"),
        "description": _l("A party with several documents waiting gets one email listing them (\"N documents are "
                          "waiting for you\") at most this often, and only while those cases still send reminders. "
                          "0: never.")})


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


def _person(party: Party) -> tuple:
    """The person's unsigned signer parties in the party's organisation (the tenant scoping keeps
    every other organisation's rows out; the explicit tenant condition too). The case service
    stores emails in lower case, so the (tenant, email) index finds them."""
    return (Party.tenant_id == party.tenant_id, Party.email == (party.email or "").strip().lower(),
            Party.role == "signer", Party.status.not_in(("signed", "declined")))


def _candidates_query(party: Party, listed: bool = True):
    """The person's unsigned signer parties, newest first, with what `link_state` reads (the case
    and its parties, for the signing order: one query for all). `listed` also loads the cases'
    documents (what the stamp page shows); the signer page's panel only counts."""
    # The case comes from the query's own join (contains_eager: not joined a second time), its
    # collections in one query each, so the LIMIT applies to the parties themselves.
    options = [contains_eager(Party.case).selectinload(Case.parties)]
    if listed:
        options.append(contains_eager(Party.case).selectinload(Case.documents))
    return (sa.select(Party).join(Case, Case.id == Party.case_id).where(*_person(party))
            .options(*options)
            .order_by(Case.sent_at.desc(), Case.id.desc()))


def _newest(party: Party, listed: bool, limit: int, offset: int):
    """`limit` of the person's unsigned parties from `offset`, newest first, loaded as
    `_candidates_query` loads them. The order is found on narrow rows (party and case ids and the
    date sent: a top-N sort over every candidate) and only the chosen rows are read whole: sorting
    1,000 whole rows of a case and its party to keep 51 was most of the page's PostgreSQL time
    (7 of 7.5 ms at 1,000 waiting)."""
    chosen = _newest_ids(party, limit, offset)
    query = (sa.select(Party).join(Case, Case.id == Party.case_id).where(*_person(party), Party.id.in_(chosen))
             .order_by(Case.sent_at.desc(), Case.id.desc()).options(contains_eager(Party.case)))
    if listed:
        query = query.options(contains_eager(Party.case).selectinload(Case.documents))
    rows = db.session.scalars(query).unique().all()
    _signers_of_sequential(rows)
    return rows


def _newest_ids(party: Party, limit: int, offset: int):
    """The ids of `limit` of the person's unsigned parties from `offset`, newest first. PostgreSQL
    finds them by the (tenant, email) index on party and each case by its key (no other index
    needed); the sort is over narrow rows."""
    return (sa.select(Party.id).join(Case, Case.id == Party.case_id).where(*_person(party))
            .order_by(Case.sent_at.desc(), Case.id.desc()).limit(limit).offset(offset))


def _signers_of_sequential(rows: list[Party]) -> None:
    """Load the parties of the sequential cases among `rows`' (what `link_state` reads: whose turn
    it is) in one statement; a parallel case's parties are not read at all (the page never shows
    them), which is most cases."""
    from sqlalchemy.orm.attributes import set_committed_value

    waiting = {p.case_id: p.case for p in rows
               if p.case.signing_order == "sequential" and "parties" in sa.inspect(p.case).unloaded}
    if not waiting:
        return
    found: dict[int, list[Party]] = {case_id: [] for case_id in waiting}
    for other in db.session.scalars(sa.select(Party).where(Party.tenant_id == rows[0].tenant_id,
                                                           Party.case_id.in_(list(waiting)))
                                    .order_by(Party.case_id, Party.position)):
        found[other.case_id].append(other)
    for case_id, case in waiting.items():
        set_committed_value(case, "parties", found[case_id])


def candidates(party: Party, case_id: int | None = None) -> list[Party]:
    """Signer parties of the same person in the current organisation on pending cases, unsigned
    (the tenant scoping keeps every other organisation's rows out); with `case_id`, only in that
    case (opening one document reads one case, not all of them). The case service stores emails
    in lower case, so the (tenant, email) index finds them."""
    if not (party.email or "").strip():
        return []
    query = _candidates_query(party)
    if case_id is not None:
        query = query.where(Party.case_id == case_id)
    rows = db.session.scalars(query).unique().all()
    return [p for p in rows if same_person(party, p)]


def waiting(party: Party) -> list[signing.Link]:
    """The links of the same person's cases whose turn has come (open now), newest first."""
    links = [signing.link_state(p) for p in candidates(party)]
    return [link for link in links if link.state == "open"]


@dataclass
class Waiting:
    """A page of the person's waiting cases: `links` (newest first) and whether `more` wait."""

    links: list[signing.Link]
    more: bool


def waiting_page(party: Party, limit: int | None, keep=lambda link: True, skip: frozenset = frozenset(),
                 listed: bool = True) -> Waiting:
    """The first `limit` of `waiting(party)` that `keep` keeps (the page's filters) and whose case
    is not in `skip`, and whether there are more (`limit` None: all of them). Read in batches,
    newest first, so the first page of a person with 1,000 waiting cases reads about one batch,
    not all of them. `listed=False` (a count: the signer page's panel) leaves the cases'
    documents and senders unread."""
    if not (party.email or "").strip():
        return Waiting([], False)
    found: list[signing.Link] = []
    batch, offset = (limit + 1 if limit is not None else 1000), 0  # one more: whether there are more
    while limit is None or len(found) <= limit:
        rows = _newest(party, listed, batch, offset)
        for row in rows:
            if row.case_id in skip or not same_person(party, row):
                continue
            link = signing.link_state(row)
            if link.state == "open" and keep(link):
                found.append(link)
        if len(rows) < batch:
            break
        offset += batch
        batch = min(4 * batch, 1000)  # a filter passed over many: read on in larger batches
    if limit is None:
        return Waiting(found, False)
    return Waiting(found[:limit], len(found) > limit)


def _senders_query(party: Party):
    from core.models import Officer

    return (sa.select(Officer.id, Officer.name).distinct().join(Case, Case.owner_id == Officer.id)
            .join(Party, Party.case_id == Case.id).where(Officer.tenant_id == party.tenant_id, *_person(party)))


@dataclass
class PageFacts:
    rows: list[dict]
    opened: set[int]  # the documents of the rows the party opened from the stamp page
    senders: list[tuple[int, str]]  # who sent the person's unsigned cases, by name (the sender filter)


def page_rows(party: Party, links: list[signing.Link], ip: str, user_agent: str, language: str) -> PageFacts:
    """What the stamp page shows of each case: the documents digest it binds, whether the party
    must fill in fields first, its sender; which of the documents the party opened from the stamp
    page; and who sent the person's cases. One statement reads the cases where the party has
    fields, the opened documents and the senders (each officer's name once, not loaded with every
    case); only the cases with fields need the full signing context (most have none: their digest
    is the documents')."""
    from core.models import CaseField

    ids = [link.party.id for link in links]
    arms = []
    if (party.email or "").strip():
        person = _senders_query(party).subquery()
        arms.append(sa.select(sa.literal(2).label("kind"), person.c.id.label("id"), person.c.name.label("name")))
    if ids:
        no_name = sa.cast(sa.null(), sa.String)
        arms += [sa.select(sa.literal(0), CaseField.case_id, no_name).distinct()
                 .where(CaseField.tenant_id == party.tenant_id, CaseField.party_id.in_(ids)),
                 sa.select(sa.literal(1), StampOpened.document_id, no_name)
                 .where(StampOpened.tenant_id == party.tenant_id, StampOpened.party_id.in_(ids))]
    found = db.session.execute(sa.union_all(*arms)).all() if arms else []
    with_fields = {i for kind, i, _name in found if kind == 0}
    opened = {i for kind, i, _name in found if kind == 1}
    names = {i: name for kind, i, name in found if kind == 2}
    rows = []
    for link in links:
        case = link.case
        if case.id in with_fields:
            ctx = signing.signing_context(link, ip, user_agent, language)
            digest, missing = ctx.documents_digest, bool(ctx.field_errors)
        else:
            digest, missing = signing.documents_digest(list(case.documents)), False
        rows.append({"case": case, "party": link.party, "digest": digest, "sender": names.get(case.owner_id, ""),
                     "fields_missing": missing})
    return PageFacts(rows, opened, sorted(names.items(), key=lambda s: s[1]))


@dataclass
class Outcome:
    signed: list[Case] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (case id, title, reason)
    manifest_sha256: str | None = None
    queued: list[Case] = field(default_factory=list)  # being signed by jobs (`sign_chunk`)


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


def stamp_consent(party: Party, organisation: str, contexts: list[SigningContext], sha256: str, language: str,
                  documents: int | None = None) -> str:
    if documents is None:
        documents = sum(len(c.documents) for c in contexts)
    with force_locale(language):
        return ngettext(
            "I, %(name)s, sign %(num)d document from %(org)s in one stamp signature, listed in the manifest "
            "with SHA-256 %(sha256)s.",
            "I, %(name)s, sign %(num)d documents from %(org)s in one stamp signature, listed in the manifest "
            "with SHA-256 %(sha256)s.",
            documents, name=party.name, org=organisation, sha256=sha256)


def allowed_methods(links: list[signing.Link]) -> dict[int, list[str]]:
    """{party id: the names of the methods the party may sign with, in page order}: read once per
    case for everything the page derives from them."""
    return {link.party.id: [m.name for m in methods_for(link.party)] for link in links}


def common_methods(links: list[signing.Link], allowed: dict[int, list[str]] | None = None) -> list[str]:
    """The stamp methods every one of these cases allows its party, in page order (an SMS code
    only when every case has the same mobile number for the party)."""
    allowed = allowed if allowed is not None else allowed_methods(links)
    names = None
    for link in links:
        mine = set(allowed[link.party.id])
        names = mine if names is None else names & mine
    if names and "sms" in names and len({_phone(link.party) for link in links}) != 1:
        names.discard("sms")
    return [n for n in STAMP_METHODS if names and n in names]


def offered_methods(links: list[signing.Link], allowed: dict[int, list[str]] | None = None) -> list[str]:
    """The stamp methods the page offers: each that at least one listed case allows (the page then
    shows only those every ticked case allows), but an SMS code only when every listed case allows
    it with the same mobile number."""
    allowed = allowed if allowed is not None else allowed_methods(links)
    common = common_methods(links, allowed)
    some = set().union(*(allowed[link.party.id] for link in links)) if links else set()
    return [n for n in STAMP_METHODS if n in common or (n != "sms" and n in some and _method_ready(n))]


def row_methods(party: Party, allowed: list[str] | None = None) -> list[str]:
    names = allowed if allowed is not None else [m.name for m in methods_for(party)]
    return [n for n in names if n in STAMP_METHODS]


def _method_ready(name: str) -> bool:
    from core.signing.methods import registry

    method = registry().get(name)
    return method is not None and method.configured()


def prepare(party: Party, selected: dict[int, str], method_name: str, ip: str, user_agent: str, language: str,
            must_open: bool = False) -> tuple[Outcome, list[tuple[SigningContext, str]]]:
    """Check every selected case (id -> the documents digest the page showed) for the person of
    `party`: the refused ones with their reason, and the contexts of those that can be signed.
    With `must_open`, a case any of whose documents the party has not opened is refused."""
    outcome = Outcome()
    from core.fields import service as fields

    by_case = {p.case_id: p for p in candidates(party)}
    opened = opened_documents(list(by_case.values())) if must_open else set()
    states = fields.read_many([case_id for case_id in selected if case_id in by_case])  # one query, not one a case
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
        ctx = signing.signing_context(link, ip, user_agent, language, states[case_id])
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
    if method_name == "bankid":
        ready = _one_personal_number(party, ready, outcome)
    return outcome, ready


def personal_number(party: Party) -> str | None:
    """The personal number a case requires of its party (digits), or None."""
    digits = "".join(ch for ch in (party.personal_number or "") if ch.isdigit())
    return digits if valid_personal_number(digits) else None


def _one_personal_number(party: Party, ready: list[tuple[SigningContext, str]], outcome: Outcome
                         ) -> list[tuple[SigningContext, str]]:
    """One BankID order binds one personal number: the link's party's (else the first case's that
    names one). Cases naming another are refused; a case naming it comes first, so the order is
    bound to it."""
    wanted = personal_number(party) or next((n for n in (personal_number(c.party) for c, _s in ready) if n), None)
    kept = []
    for ctx, shown in ready:
        found = personal_number(ctx.party)
        if found and found != wanted:
            outcome.refused.append((ctx.case.id, ctx.case.title,
                                    _("This case is for another personal identity number than the others: sign it "
                                      "on its own page.")))
        else:
            kept.append((ctx, shown))
    kept.sort(key=lambda item: personal_number(item[0].party) is None)  # stable: the bound case first
    return kept


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


def bankid_context(party: Party, organisation: str, contexts: list[SigningContext], language: str,
                   return_url: str | None) -> tuple[SigningContext, bytes, str]:
    """The context a BankID order over these cases proves: the app lists the cases (shortened with
    "… and N more" by the method) and names the manifest's SHA-256, which is the order's
    `userNonVisibleData`."""
    stamp, data, sha256 = stamp_context(party, organisation, contexts, language)
    with force_locale(language):
        listing = [(ctx.case.title, ", ".join(d.filename for d in ctx.documents)[:300]) for ctx in contexts]
        note = _("The list of these documents with their SHA-256 (the manifest) has SHA-256 %(sha256)s.",
                 sha256=sha256)
    return (dataclasses.replace(stamp, listing=listing, listing_note=note, signed_data=sha256,
                                return_url=return_url), data, sha256)


def _bankid():
    from core.signing.methods import registry

    return registry()["bankid"]


def bankid_start(party: Party, selected: dict[int, str], form, ip: str, user_agent: str, language: str,
                 organisation: str, return_url: str | None, must_open: bool = False):
    """Start one BankID order over the manifest of the ticked cases that can be signed now. The
    manifest is stored with the party the order is for; returns (outcome, the method's answer or
    None when no case can be signed)."""
    from werkzeug.datastructures import MultiDict

    outcome, ready = prepare(party, selected, "bankid", ip, user_agent, language, must_open)
    if not ready:
        return outcome, None
    contexts = [c for c, _s in ready]
    ctx, data, sha256 = bankid_context(party, organisation, contexts, language, return_url)
    asked = MultiDict(form)
    asked["documents_digest"] = sha256
    result = _bankid().action(ctx, "start", asked)
    if result.ok:
        db.session.add(StampManifest(tenant_id=party.tenant_id, sha256=sha256, manifest=data.decode(),
                                     method="bankid", case_count=len(contexts), party_id=ctx.party.id))
    db.session.commit()
    return outcome, result


def pending_bankid(party: Party) -> StampManifest | None:
    """The manifest of the person's latest BankID order (started from the stamp page)."""
    ids = [p.id for p in candidates(party)]
    if not ids:
        return None
    return db.session.scalars(
        sa.select(StampManifest).where(StampManifest.method == "bankid", StampManifest.party_id.in_(ids))
        .order_by(StampManifest.id.desc()).limit(1)).first()


def order_context(party: Party, found: StampManifest, ip: str, user_agent: str, language: str,
                  return_url: str | None = None) -> SigningContext | None:
    """The context of the BankID order over `found`: its party's, bound to the manifest's hash."""
    mine = next((p for p in candidates(party) if p.id == found.party_id), None)
    if mine is None:
        return None
    ctx = signing.signing_context(signing.link_state(mine), ip, user_agent, language)
    return dataclasses.replace(ctx, documents_digest=found.sha256, return_url=return_url)


def bankid_step(party: Party, action: str, form, ip: str, user_agent: str, language: str):
    """Collect or cancel the person's BankID order (as the signer page's script does)."""
    from core.signing.methods import ActionResult

    found = pending_bankid(party)
    ctx = order_context(party, found, ip, user_agent, language) if found is not None else None
    if ctx is None:
        return ActionResult(ok=False, message=_("This BankID order is over. Start again."), data={"status": "gone"})
    result = _bankid().action(ctx, action, form)
    db.session.commit()
    return result


def bankid_resume(party: Party, ip: str, user_agent: str, language: str) -> tuple[dict | None, list[int]]:
    """A BankID order to resume when the page is opened again (back from the app on this
    device): its state for the page's script and the cases of its manifest (to tick them)."""
    found = pending_bankid(party)
    ctx = order_context(party, found, ip, user_agent, language) if found is not None else None
    if ctx is None:
        return None, []
    state = _bankid().template_context(ctx).get("state")
    return state, ([e["case"] for e in json.loads(found.manifest)] if state else [])


def _entry_digest(entry: dict) -> str:
    documents = [SimpleNamespace(id=d["id"], sha256=d["sha256"]) for d in entry["documents"]]
    return signing.documents_digest(documents, entry.get("field_values_sha256"))


def sign_bankid(party: Party, form, ip: str, user_agent: str, language: str, organisation: str,
                must_open: bool = False, selected: dict[int, str] | None = None) -> Outcome:
    """Sign every case of the manifest the person's completed BankID order signed. A case that
    can no longer be signed (revoked, changed, not their turn) or whose personal number is not
    the one who signed is refused alone; the others go through."""
    found = pending_bankid(party)
    stamp = order_context(party, found, ip, user_agent, language) if found is not None else None
    if stamp is None:
        raise signing.SignRefused(_("Sign in the BankID app first: choose one of the BankID buttons."))
    entries = json.loads(found.manifest)
    outcome, ready = prepare(party, {e["case"]: _entry_digest(e) for e in entries}, "bankid", ip, user_agent,
                             language, must_open)
    left_out = {case_id: shown for case_id, shown in (selected or {}).items()
                if case_id not in {e["case"] for e in entries}}
    if left_out:  # ticked, but refused when the order started (or ticked since): say why
        others, could = prepare(party, left_out, "bankid", ip, user_agent, language, must_open)
        outcome.refused.extend(others.refused)
        outcome.refused.extend((ctx.case.id, ctx.case.title,
                                _("This case was not in the BankID order you signed. Sign it again."))
                               for ctx, _s in could)
    try:
        result = _bankid().verify(stamp, form)
    except MethodRefused as refused:
        db.session.commit()
        raise signing.SignRefused(refused.message, field=refused.field) from None
    db.session.commit()
    signer = "".join(ch for ch in str(result.identity.get("personal_number") or "") if ch.isdigit())
    kept = []
    for ctx, shown in ready:
        required = personal_number(ctx.party)
        if required and required != signer:
            outcome.refused.append((ctx.case.id, ctx.case.title,
                                    _("The BankID used belongs to someone else. Sign with your own BankID.")))
        else:
            kept.append((ctx, shown))
    documents = sum(len(e["documents"]) for e in entries)
    consent = stamp_consent(party, organisation, [], found.sha256, language, documents=documents)
    outcome.manifest_sha256 = found.sha256
    if len(kept) > INLINE_CASES:
        sign_later(outcome, found, kept, "bankid", result, consent, len(entries), documents)  # commits
        return outcome
    _sign_each(outcome, kept, "bankid", result, consent, found.sha256, len(entries), documents)
    return outcome


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
    row = StampManifest(tenant_id=party.tenant_id, sha256=sha256, manifest=data.decode(),
                        method=method_name, case_count=len(contexts), party_id=stamp.party.id)
    db.session.add(row)
    outcome.manifest_sha256 = sha256
    if len(ready) > INLINE_CASES:
        sign_later(outcome, row, ready, method_name, result, consent, len(contexts), documents)  # commits
        return outcome
    db.session.commit()
    _sign_each(outcome, ready, method_name, result, consent, sha256, len(contexts), documents)
    return outcome


def _sign_each(outcome: Outcome, ready: list[tuple[SigningContext, str]], method_name: str, result, consent: str,
               sha256: str, cases: int, documents: int) -> None:
    """Each case its own signature from the one proof, naming the manifest; refusals per case."""
    for ctx, shown in ready:
        token = current_stamp.set({"manifest_sha256": sha256, "cases": cases,
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


def sign_later(outcome: Outcome, row: StampManifest, ready: list[tuple[SigningContext, str]], method_name: str,
               result, consent: str, cases: int, documents: int) -> None:
    """Hand the signing of every case to jobs of CHUNK cases. The method's proof goes with them,
    encrypted for the tenant on the manifest's row (jobs take plain values); each job reads it back
    by its handle (`proof_sha256`). It is a hand-over, not evidence (each signature keeps the
    method's evidence itself): `sigill files rotate` re-encrypts it while jobs wait, and it is
    released once every chunk job finished (`release_proof`)."""
    from core import encryption, jobs

    sha256 = row.sha256
    first = ready[0][0]
    tenant_id, party_id = first.party.tenant_id, first.party.id
    # Plain values for the result page: the commit below expires the loaded rows, and reading
    # 1,000 of them back one by one took longer than the rest of the request.
    queued = [SimpleNamespace(id=ctx.case.id, title=ctx.case.title) for ctx, _shown in ready]
    proof = json.dumps({
        "method": method_name, "evidence": result.evidence, "identity": result.identity, "summary": result.summary,
        "consent": consent, "manifest_sha256": sha256, "cases": cases, "documents": documents,
        "ip": first.ip, "user_agent": first.user_agent, "language": first.language,
    }, default=str).encode()
    row.proof = encryption.encrypt(proof, tenant_id, f"{NAME}:proof:{sha256}")
    row.proof_sha256 = proof_sha256 = hashlib.sha256(row.proof).hexdigest()  # unique: the nonce is random
    for start in range(0, len(ready), CHUNK):
        chunk = [f"{case.id}:{shown}" for case, (_ctx, shown) in zip(queued[start:start + CHUNK],
                                                                     ready[start:start + CHUNK], strict=True)]
        jobs.enqueue(sign_chunk, party_id, proof_sha256, sha256, ",".join(chunk), tenant_id=tenant_id)
    db.session.commit()
    outcome.queued = queued
    log.info("stamp signature %s: %d cases handed to %d jobs", sha256[:12], len(ready),
             -(-len(ready) // CHUNK))


def _read_proof(tenant_id: int, proof_sha256: str, manifest_sha256: str) -> dict | None:
    """The proof a chunk job carries the handle of. One handed over before proofs were kept on the
    manifest is read from the blob store. None: the proof was released (every chunk job of its
    stamp had finished; this is a job run again after that, e.g. an admin's retry)."""
    from core import encryption

    found = db.session.execute(sa.select(StampManifest.id, StampManifest.proof)
                               .where(StampManifest.proof_sha256 == proof_sha256)).first()
    if found is None:
        from core.storage import blobs

        blob = blobs().get(proof_sha256)
    elif found.proof is None:
        return None
    else:
        blob = found.proof
    return json.loads(encryption.decrypt(blob, tenant_id, f"{NAME}:proof:{manifest_sha256}"))


def sign_chunk(party_id: int, proof_sha256: str, manifest_sha256: str, chunk: str) -> None:
    """A job: sign each case of `chunk` ("case id:documents digest the page showed", comma
    separated) for the person of `party_id` with the stamp's proof. A case that cannot be signed
    any more gets a `stamp_not_signed` event with the reason (what the stamp page's progress shows).

    The chunk is one transaction: its cases are read together (parties, cases, documents and
    fields in a few queries) and written with one commit, not one per case. Run again after a
    crash, it starts over and passes over the cases already signed. If one of the parties signed
    on their own signer page meanwhile (the database's unique signature decides), the batch is
    rolled back and the chunk is signed case by case, each in its own transaction. The last
    chunk job of the stamp to finish releases its proof (with its "done")."""
    from core.signing.methods import MethodResult

    party = db.session.get(Party, party_id)
    if party is None:
        return
    proof = _read_proof(party.tenant_id, proof_sha256, manifest_sha256)
    if proof is None:  # run again after every chunk job finished: nothing to sign it with
        if _left(party, chunk, manifest_sha256):
            from core.jobs import GiveUp

            raise GiveUp("the stamp's proof was released: every chunk job of it had finished")  # handed back
        log.info("stamp signature %s: chunk run again after its proof was released: nothing left",
                 manifest_sha256[:12])
        return
    result = MethodResult(evidence=proof["evidence"], identity=proof["identity"], summary=proof["summary"])
    wanted = dict(item.split(":", 1) for item in chunk.split(","))
    try:
        _sign_cases(party, proof, result, manifest_sha256, wanted, batch=True)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.info("stamp signature %s: a party signed meanwhile; its chunk is signed case by case",
                 manifest_sha256[:12])
        _sign_cases(db.session.get(Party, party_id), proof, result, manifest_sha256, wanted, batch=False)
    release_proof(proof_sha256, finished=chunk)


def release_proof(proof_sha256: str, finished: str | None = None) -> bool:
    """Drop a stamp's proof once none of its chunk jobs can run again: none is pending (waiting,
    or waiting to be retried after a failed attempt) or running, other than the one finishing
    (`finished`: its chunk). Two jobs finishing at the same moment may each see the other still
    running; the hourly cleanup (`cleanup`) releases what they left. In the caller's transaction
    (a chunk job's: committed with its "done")."""
    if any(args[1] == proof_sha256 and args[3] != finished for args in open_chunks()):
        return False
    released = db.session.execute(sa.update(StampManifest).where(StampManifest.proof_sha256 == proof_sha256,
                                                                 StampManifest.proof.is_not(None))
                                  .values(proof=None).execution_options(synchronize_session=False)).rowcount
    if released:
        log.info("stamp signature: proof %s released, every chunk job of it finished", proof_sha256[:12])
    return bool(released)


def reencrypt_proofs() -> int:
    """`sigill files rotate`: every proof held on a manifest (for its chunk jobs) under
    the current key, tenant by tenant. The handle the jobs carry stays."""
    from core import encryption
    from tenants.scoping import tenant_context

    count = _adopt_blob_proofs()
    tenant_ids = db.session.scalars(sa.select(StampManifest.tenant_id).distinct()
                                    .where(StampManifest.proof.is_not(None))
                                    .execution_options(all_tenants=True)).all()
    for tenant_id in tenant_ids:
        with tenant_context(tenant_id):
            for row in db.session.scalars(sa.select(StampManifest).where(StampManifest.proof.is_not(None))
                                          .options(undefer(StampManifest.proof))):
                new = encryption.reencrypt(row.proof, tenant_id, f"{NAME}:proof:{row.sha256}")
                if new is not None:  # guarded: a proof changed meanwhile is left alone
                    count += db.session.execute(
                        sa.update(StampManifest).where(StampManifest.id == row.id, StampManifest.proof == row.proof)
                        .values(proof=new).execution_options(synchronize_session=False)).rowcount
            db.session.commit()
    return count


def _adopt_blob_proofs() -> int:
    """Proofs handed over as blobs (before proofs were kept on the manifest) whose chunk jobs still
    wait: re-encrypted under the current key onto their manifest's row, under the handle the jobs
    carry, so they rotate and are released like the others. The old blob stays in the store (it
    deletes nothing); once the old key is retired it no longer decrypts."""
    from core import encryption
    from core.models import Job
    from core.storage import BlobNotFound, blobs
    from tenants.scoping import tenant_context

    jobs = db.session.execute(sa.select(Job.tenant_id, Job.args).where(
        Job.func == f"{__name__}.sign_chunk", Job.state.in_(("pending", "running")))).all()
    waiting = {(tenant_id, args[1], args[2]) for tenant_id, args in jobs if len(args) == 4 and tenant_id}
    adopted = 0
    for tenant_id, handle, manifest_sha256 in sorted(waiting):
        with tenant_context(tenant_id):
            if db.session.scalar(sa.select(StampManifest.id).where(StampManifest.proof_sha256 == handle)):
                continue  # kept on its manifest already
            row = db.session.scalars(sa.select(StampManifest).where(
                StampManifest.sha256 == manifest_sha256, StampManifest.proof_sha256.is_(None))
                .order_by(StampManifest.id.desc()).limit(1)).first()
            try:
                blob = blobs().get(handle)
            except BlobNotFound:
                continue
            if row is None:
                continue
            context = f"{NAME}:proof:{manifest_sha256}"
            row.proof = encryption.encrypt(encryption.decrypt(blob, tenant_id, context), tenant_id, context)
            row.proof_sha256 = handle
            db.session.commit()
            adopted += 1
    return adopted


def _sign_cases(party: Party, proof: dict, result, manifest_sha256: str, wanted: dict[str, str],
                batch: bool) -> None:
    """Sign the cases of `wanted` (case id -> digest shown); `batch`: all in the caller's
    transaction (no commit here), else each case commits on its own."""
    from core.fields import service as fields

    ids = [int(case_id) for case_id in wanted]
    mine = {p.case_id: p for p in db.session.scalars(
        sa.select(Party).where(Party.tenant_id == party.tenant_id, Party.case_id.in_(ids), Party.role == "signer")
        .options(joinedload(Party.case).joinedload(Case.documents), joinedload(Party.case).selectinload(Case.parties),
                 joinedload(Party.signature))).unique() if same_person(party, p)}
    states = fields.read_many(list(mine)) if batch else {}
    for case_id in ids:
        other = mine.get(case_id)
        if other is None:
            continue
        link = signing.link_state(other)
        if link.state != "open":  # signed by an earlier run of this job, or revoked, expired ... since
            if link.state not in ("signed", "completed") and not _noted(link.case, manifest_sha256):
                with force_locale(proof["language"]):
                    reason = str(refusal_reason(link))
                _not_signed(link.case, other, manifest_sha256, reason, commit=not batch)
            continue
        ctx = signing.signing_context(link, proof["ip"], proof["user_agent"], proof["language"], states.get(case_id))
        token = current_stamp.set({"manifest_sha256": manifest_sha256, "cases": proof["cases"],
                                   "other_documents": proof["documents"] - len(ctx.documents)})
        try:
            signed = dataclasses.replace(ctx, consent_text=proof["consent"] + "\n\n" + ctx.consent_text)
            with force_locale(proof["language"]):
                signing.sign_verified(signed, proof["method"], result, wanted[str(case_id)], commit=not batch)
        except signing.SignRefused as refused:  # refused before anything was written
            if batch:
                _not_signed(link.case, other, manifest_sha256, str(refused.message), commit=False)
            else:
                db.session.rollback()
                _not_signed(db.session.get(Case, case_id), db.session.get(Party, other.id), manifest_sha256,
                            str(refused.message))
        finally:
            current_stamp.reset(token)


def chunk_gave_up(party_id: int, _proof_sha256: str, manifest_sha256: str, chunk: str) -> None:
    """A `sign_chunk` job gave up for good: its cases not signed go back to waiting for the party.
    Each gets a `stamp_not_signed` event saying so (the officer's timeline; the stamp page's
    progress then shows the reason instead of "Being signed…" and offers them again), and the
    party one email listing them with a link to the stamp page. In the caller's transaction."""
    from core.cases.service import issue_party_link
    from core.mail import send_mail
    from core.urls import external_url
    from tenants.models import Tenant

    party = db.session.get(Party, party_id)
    if party is None:
        return
    left = _left(party, chunk, manifest_sha256)
    if not left:
        return
    language = party.language or party.case.language or "sv"
    with force_locale(language):
        reason = str(_("Signing it together with the others failed (a technical fault), so it was not signed. "
                       "It is waiting for you: sign it again."))
    for other in left:
        _not_signed(other.case, other, manifest_sha256, reason, commit=False)
    log.warning("stamp signature %s: a job gave up; %d cases wait for party %s again", manifest_sha256[:12],
                len(left), party.id)
    if not party.email:
        return
    anchor = next((p for p in left if p.case.status == "pending"), None)
    if anchor is None:
        return
    token = issue_party_link(anchor, keep_earlier=True).rsplit("/", 1)[-1]
    titles = [p.case.title for p in left]
    send_mail(party.email, "stamp_not_signed", language, tenant=db.session.get(Tenant, party.tenant_id),
              party=party, count=len(titles), titles=titles[:10], more=max(0, len(titles) - 10),
              link=external_url(f"{NAME}.page", token=token))


def _left(party: Party, chunk: str, manifest_sha256: str) -> list[Party]:
    """The person's parties of the chunk's cases neither signed (nor declined) nor yet told they
    were not signed in this stamp."""
    ids = [int(item.split(":", 1)[0]) for item in chunk.split(",")]
    left = [p for p in db.session.scalars(
        sa.select(Party).where(Party.tenant_id == party.tenant_id, Party.case_id.in_(ids), Party.role == "signer",
                               Party.status.not_in(("signed", "declined")))
        .options(joinedload(Party.case))).unique() if same_person(party, p)]
    noted = set(not_signed([p.case_id for p in left], manifest_sha256))
    return [p for p in left if p.case_id not in noted]


def being_signed(manifest_sha256: str) -> set[int]:
    """The cases of a stamp signature whose job (`sign_chunk`) has not finished yet."""
    return {int(item.split(":", 1)[0]) for args in open_chunks() if args[2] == manifest_sha256
            for item in args[3].split(",")}


def open_chunks() -> list[list]:
    """The arguments (party, proof handle, manifest hash, cases) of this tenant's chunk jobs
    (`sign_chunk`) that can still run: pending (waiting, or waiting for a retry) or running."""
    from core.models import Job

    rows = db.session.scalars(sa.select(Job.args).where(Job.func == f"{__name__}.sign_chunk",
                                                        Job.state.in_(("pending", "running")))).all()
    return [args for args in rows if len(args) == 4]


def _noted(case: Case, manifest_sha256: str) -> bool:
    from core.models import Event

    found = db.session.scalars(sa.select(Event.data).where(Event.case_id == case.id,
                                                           Event.kind == "stamp_not_signed"))
    return any((data or {}).get("manifest_sha256") == manifest_sha256 for data in found)


def _not_signed(case: Case | None, party: Party | None, manifest_sha256: str, reason: str,
                commit: bool = True) -> None:
    from core.cases import events

    if case is None or party is None:
        return
    events.record(case, "stamp_not_signed", "party", actor_id=party.id, actor_label=party.name,
                  data={"manifest_sha256": manifest_sha256, "reason": reason})
    if commit:
        db.session.commit()


def progress(party: Party, case_ids: list[int], manifest_sha256: str | None = None) -> dict[int, str]:
    """{case id: `core.signing.service.outcome`} for the person's signed cases among `case_ids`
    (after a stamp signature, while they are sealed); other cases are left out. With the
    manifest's hash, its cases are taken (`case_ids` ignored) and those not signed yet read
    "signing" while its jobs run, or "not_signed" once a job found they could not be signed."""
    email = (party.email or "").strip().lower()
    found = manifest(manifest_sha256) if manifest_sha256 else None
    if found is not None:
        case_ids = [entry["case"] for entry in json.loads(found.manifest)]
    if not case_ids or not email:
        return {}
    query = sa.select(Party).where(Party.tenant_id == party.tenant_id, Party.email == email,
                                   Party.case_id.in_(case_ids[:1000]), Party.role == "signer")
    if found is None:
        query = query.where(Party.status == "signed")
    rows = [p for p in db.session.scalars(query.options(joinedload(Party.case))).unique() if same_person(party, p)]
    refused = not_signed([p.case_id for p in rows if p.status != "signed"], found.sha256) if found else {}
    states = {}
    for row in rows:
        if row.status == "signed":
            states[row.case_id] = signing.outcome(signing.link_state(row))
        elif row.status != "declined":
            states[row.case_id] = "not_signed" if row.case_id in refused else "signing"
    return states


def not_signed(case_ids: list[int], manifest_sha256: str) -> dict[int, str]:
    """{case id: reason} for the cases among `case_ids` a stamp job could not sign."""
    from core.models import Event

    if not case_ids:
        return {}
    rows = db.session.execute(sa.select(Event.case_id, Event.data).where(
        Event.case_id.in_(case_ids), Event.kind == "stamp_not_signed")).all()
    return {case_id: data.get("reason", "") for case_id, data in rows
            if (data or {}).get("manifest_sha256") == manifest_sha256}


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
