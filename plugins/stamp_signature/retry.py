"""What did not go through in a person's last stamp signature, and trying it again from the stamp page.

Listed with the reason: the cases of their latest stamp signature (its manifest, the last
RECENT days) that are still not signed by them (not their turn yet, revoked, changed since the
page was loaded, refused by a check), and the cases they signed in a stamp signature whose sealing
failed for good. A case that can be signed now is ticked again on the page (`?retry=<ids>`); a
failed seal is restarted (`jobs.retry_now`, as the office's "Try sealing again"), at most
RETRY_LIMIT per party, recorded on the case's timeline as `seal_retried` by the party.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from core.extensions import db
from core.i18n import _
from core.models import Case, Party
from core.models.base import utcnow
from core.signing import service as signing
from plugins.stamp_signature import service
from plugins.stamp_signature.models import StampManifest

RECENT = timedelta(days=14)
RETRY_LIMIT = "10/600"  # seal restarts per party per 10 minutes
SEAL_JOB = "core.sealing.jobs.seal_case"


@dataclass
class Failed:
    case: Case
    party: Party  # the person's party in the case
    reason: str
    kind: str  # "unsigned": not signed by the person; "seal": signed, its sealing failed for good
    retry: bool  # unsigned and open now (it can be ticked again), or a seal that can be restarted


def _person_query(party: Party):
    return sa.select(Party).where(Party.tenant_id == party.tenant_id,
                                  Party.email == (party.email or "").strip().lower(), Party.role == "signer")


def person_parties(party: Party, *where) -> list[Party]:
    """Every signer party of the same person in this organisation, signed or not (narrowed by
    `where`)."""
    if not (party.email or "").strip():
        return []
    rows = db.session.scalars(_person_query(party).where(*where).options(joinedload(Party.case))).unique().all()
    return [p for p in rows if service.same_person(party, p)]


def _manifest_parties(party: Party) -> list[Party]:
    """The person's parties in the cases of their recent stamp signatures (none read when there
    is none: the page of a person with 1,000 waiting cases does not load them all for this)."""
    if not (party.email or "").strip():
        return []
    mine = _person_query(party).with_only_columns(Party.id).scalar_subquery()
    recent = db.session.scalars(
        sa.select(StampManifest.manifest).where(StampManifest.party_id.in_(mine),
                                                StampManifest.created_at > utcnow() - RECENT)
        .order_by(StampManifest.id.desc()).limit(5)).all()
    case_ids = {entry["case"] for manifest in recent for entry in json.loads(manifest)}
    return person_parties(party, Party.case_id.in_(case_ids)) if case_ids else []


def _stuck_parties(party: Party) -> list[Party]:
    """The person's signed parties whose case waits for a seal."""
    stuck = sa.select(Case.id).where(Case.status == "pending", Case.seal_state == "queued").scalar_subquery()
    return person_parties(party, Party.status == "signed", Party.case_id.in_(stuck))


def failures(party: Party) -> list[Failed]:
    """What the page lists under "Not signed or not sealed". What it starts from (the person's
    recent manifests, and their signed parties whose case waits for a seal) is read in one
    statement; the parties behind them only when there are any."""
    if not (party.email or "").strip():
        return []
    mine = _person_query(party).with_only_columns(Party.id).scalar_subquery()
    recent = (sa.select(StampManifest.manifest).where(StampManifest.tenant_id == party.tenant_id,
                                                      StampManifest.party_id.in_(mine),
                                                      StampManifest.created_at > utcnow() - RECENT)
              .order_by(StampManifest.id.desc()).limit(5).subquery())
    stuck = sa.select(Case.id).where(Case.tenant_id == party.tenant_id, Case.status == "pending",
                                     Case.seal_state == "queued").scalar_subquery()
    found = db.session.execute(sa.union_all(
        sa.select(recent.c.manifest.label("manifest"), sa.cast(sa.null(), sa.Integer).label("party_id")),
        _person_query(party).with_only_columns(sa.cast(sa.null(), sa.Text), Party.id)
        .where(Party.status == "signed", Party.case_id.in_(stuck)))).all()
    case_ids = {entry["case"] for manifest, _id in found if manifest is not None for entry in json.loads(manifest)}
    stuck_ids = [party_id for manifest, party_id in found if manifest is None]
    unsigned = person_parties(party, Party.case_id.in_(case_ids)) if case_ids else []
    signed = person_parties(party, Party.id.in_(stuck_ids)) if stuck_ids else []
    return _unsigned(unsigned) + _seal_failures(signed)


def _latest_manifest(parties: list[Party]) -> tuple[StampManifest | None, dict[int, Party]]:
    by_case = {p.case_id: p for p in parties}
    ids = [p.id for p in parties]
    if not ids:
        return None, by_case
    recent = db.session.scalars(
        sa.select(StampManifest).where(StampManifest.party_id.in_(ids), StampManifest.created_at > utcnow() - RECENT)
        .order_by(StampManifest.id.desc()).limit(5)).all()
    for found in recent:  # a BankID order that never completed signed nothing: the one before counts
        for entry in json.loads(found.manifest):
            mine = by_case.get(entry["case"])
            stamp = service.stamp_of(mine) if mine is not None and mine.status == "signed" else None
            if stamp and stamp.get("manifest_sha256") == found.sha256:
                return found, by_case
    return None, by_case


def _unsigned(parties: list[Party]) -> list[Failed]:
    found, by_case = _latest_manifest(parties)
    if found is None:
        return []
    failed = []
    being_signed = service.being_signed(found.sha256)  # its jobs have not come to these yet
    for entry in json.loads(found.manifest):
        mine = by_case.get(entry["case"])
        if mine is None or mine.status == "signed" or entry["case"] in being_signed:
            continue
        link = signing.link_state(mine)
        if link.state != "open":
            failed.append(Failed(link.case, mine, service.refusal_reason(link), "unsigned",
                                 retry=link.state == "waiting"))
            continue
        ctx = signing.signing_context(link, "", "", mine.language or "en")
        if ctx.documents_digest != service._entry_digest(entry):
            reason = _("The documents have changed since you opened the page. Read them again before signing.")
        else:
            reason = _("It was not signed with the others. You can sign it now.")
        failed.append(Failed(link.case, mine, reason, "unsigned", retry=True))
    return failed


def _seal_failures(parties: list[Party]) -> list[Failed]:
    stuck = {p.case_id: p for p in parties if p.status == "signed" and p.case.status == "pending"
             and p.case.seal_state == "queued"}
    if not stuck:
        return []
    from core.models import Job

    jobs = db.session.scalars(sa.select(Job).where(Job.func == SEAL_JOB, Job.state == "failed",
                                                   Job.tenant_id == next(iter(stuck.values())).tenant_id)).all()
    failed_cases = {job.args[0] for job in jobs if job.args and job.args[0] in stuck}
    return [Failed(stuck[case_id].case, stuck[case_id], _("Sealing the signed documents failed."), "seal", retry=True)
            for case_id in sorted(failed_cases) if service.stamp_of(stuck[case_id])]


def retry_seal(party: Party, case_id: int) -> bool:
    """Restart the failed sealing of a case the person signed in a stamp signature. False when
    there is none to restart (sealed meanwhile, another person's case, another organisation's)."""
    from core import jobs
    from core.cases import events
    from core.sealing.views import failed_seal_job

    mine = next((f for f in _seal_failures(_stuck_parties(party)) if f.case.id == case_id), None)
    if mine is None:
        return False
    job = failed_seal_job(mine.case)
    if job is None:
        return False
    jobs.retry_now(job.id)
    events.record(mine.case, "seal_retried", "party", actor_id=mine.party.id, actor_label=mine.party.name)
    db.session.commit()
    return True
