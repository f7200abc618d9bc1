"""The stamp signature's hourly cleanup (periodic job `stamp_signature_cleanup`, per tenant with the
plugin on): proofs held for chunk jobs that have all finished are released (two jobs finishing at
the same moment may each have seen the other still running, so neither released it), and orphan
manifests are deleted.

An orphan manifest: a BankID order started from the stamp page stores its manifest when the order
starts (`stamp_manifest.party_id` finds it again), so an order cancelled or never completed leaves
one that signed nothing; so does a stamp whose every case was refused when it was signed. One
older than ORPHAN_AFTER that no signature's evidence and no timeline event (`stamp_signed`,
`stamp_not_signed`) of its cases names, and whose proof is not held for chunk jobs, is deleted. One
that is named is marked kept (`kept_at`) and never looked at again, so each manifest is checked
once; a manifest is evidence the moment a signature names it, and is never deleted after that.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.models.base import utcnow
from plugins.stamp_signature import service
from plugins.stamp_signature.models import StampManifest

log = logging.getLogger(__name__)

JOB = "stamp_signature_cleanup"
# A BankID order lasts minutes; a manifest no signature names after a day signed nothing.
ORPHAN_AFTER = timedelta(days=1)
# Manifests looked at per run (the oldest first): the rest wait for the next hour.
BATCH = 500
IN_LIST = 500


def cleanup(tenant) -> int:
    """Run in the tenant's context and transaction (`core.jobs.run_periodic`); returns what it did."""
    return release_left_proofs() + delete_orphans()


def release_left_proofs() -> int:
    """Release every proof of this tenant none of whose chunk jobs is pending or running."""
    held = db.session.scalars(sa.select(StampManifest.proof_sha256).where(StampManifest.proof.is_not(None))).all()
    if not held:
        return 0
    waiting = {args[1] for args in service.open_chunks()}
    done = [handle for handle in held if handle not in waiting]
    if done:
        db.session.execute(sa.update(StampManifest).where(StampManifest.proof_sha256.in_(done))
                           .values(proof=None).execution_options(synchronize_session=False))
        log.info("stamp signature: %d proofs released whose chunk jobs had all finished", len(done))
    return len(done)


def _named(sha256: str, case_ids: list[int]) -> bool:
    """Whether a signature or a timeline event of these cases (this tenant's) names the manifest."""
    from core.models import Event, Signature

    path = ("plugins", service.NAME, "manifest_sha256")
    for start in range(0, len(case_ids), IN_LIST):
        ids = case_ids[start:start + IN_LIST]
        signed = sa.select(Signature.id).where(Signature.case_id.in_(ids),
                                               Signature.evidence[path].as_string() == sha256).limit(1)
        if db.session.scalar(signed) is not None:
            return True
        noted = sa.select(Event.id).where(Event.case_id.in_(ids), Event.kind.in_(("stamp_signed", "stamp_not_signed")),
                                          Event.data["manifest_sha256"].as_string() == sha256).limit(1)
        if db.session.scalar(noted) is not None:
            return True
    return False


def delete_orphans(now=None) -> int:
    """Delete this tenant's orphan manifests older than ORPHAN_AFTER; mark the named ones kept."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(StampManifest.id, StampManifest.sha256, StampManifest.manifest)
        .where(StampManifest.created_at < now - ORPHAN_AFTER, StampManifest.kept_at.is_(None),
               StampManifest.proof.is_(None))
        .order_by(StampManifest.id).limit(BATCH)).all()
    kept, orphans = [], []
    for row in rows:
        case_ids = sorted({entry["case"] for entry in json.loads(row.manifest)})
        (kept if _named(row.sha256, case_ids) else orphans).append(row.id)
    if kept:
        db.session.execute(sa.update(StampManifest).where(StampManifest.id.in_(kept)).values(kept_at=now)
                           .execution_options(synchronize_session=False))
    if orphans:
        db.session.execute(sa.delete(StampManifest).where(StampManifest.id.in_(orphans))
                           .execution_options(synchronize_session=False))
        log.info("stamp signature: %d orphan manifests deleted (no signature names them)", len(orphans))
    return len(orphans)
