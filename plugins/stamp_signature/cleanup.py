"""The stamp signature's hourly cleanup (periodic job `stamp_signature_cleanup`, per tenant with the
plugin on): proofs held for chunk jobs that have all finished are released (two jobs finishing at
the same moment may each have seen the other still running, so neither released it).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from core.extensions import db
from plugins.stamp_signature import service
from plugins.stamp_signature.models import StampManifest

log = logging.getLogger(__name__)

JOB = "stamp_signature_cleanup"


def cleanup(tenant) -> int:
    """Run in the tenant's context and transaction (`core.jobs.run_periodic`); returns what it did."""
    return release_left_proofs()


def release_left_proofs() -> int:
    """Release every proof of this tenant none of whose chunk jobs is pending or running."""
    from core.models import Job

    held = db.session.scalars(sa.select(StampManifest.proof_sha256).where(StampManifest.proof.is_not(None))).all()
    if not held:
        return 0
    rows = db.session.scalars(sa.select(Job.args).where(Job.func == f"{service.__name__}.sign_chunk",
                                                        Job.state.in_(("pending", "running")))).all()
    waiting = {args[1] for args in rows if len(args) == 4}
    done = [handle for handle in held if handle not in waiting]
    if done:
        db.session.execute(sa.update(StampManifest).where(StampManifest.proof_sha256.in_(done))
                           .values(proof=None).execution_options(synchronize_session=False))
        log.info("stamp signature: %d proofs released whose chunk jobs had all finished", len(done))
    return len(done)
