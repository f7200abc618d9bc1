"""The sealing job: one idempotent run after the last signature.

Every document gets its parties' values and signatures drawn on its pages, is stamped, given its
receipt and sealed first; only then, in one transaction, are the sealed files recorded and the
case marked completed. A crash or kill at any step
leaves the case as it was ("queued"), and the retried job starts again from the originals.
Blobs are content-addressed, so work done before a crash is simply found again.

Each document is sealed in a bounded child process (core.bounded; `SEAL_MEMORY_MB`,
`SEAL_CPU_SECONDS`, `SEAL_WALL_SECONDS`, per document): a PDF that still makes the PDF libraries
loop or grow fails alone, says so on the case's timeline, and is not retried (`jobs.GiveUp`);
another attempt would only do the same. An admin's "Try sealing again" runs it once more, inside
the same bounds. The child is this job thread's reused one (`bounded.run_reused`: no fork per
document; after a document over a bound the next gets a fresh child), or with
`SEAL_REUSE_CHILD=false` one forked per document.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from core.bounded import BoundExceeded, Kept, run_bounded, run_reused
from core.cases import events
from core.cases.service import mail_party
from core.extensions import db
from core.fields import service as fields
from core.i18n import force_locale
from core.jobs import GiveUp
from core.mail import batched, send_mail
from core.models import Case, Officer, Tenant
from core.models.base import utcnow
from core.plugins import hooks_for
from core.sealing import service
from core.sealing.pipeline import FieldLayer, SealedResult, seal_document
from core.sealing.prior import CertifiedPdfError
from core.sealing.seal import remember_cms_size, warm_for_child
from core.security import new_token
from core.storage import blobs
from core.urls import external_url

log = logging.getLogger(__name__)


def seal_case(case_id: int) -> None:
    case = db.session.get(Case, case_id)
    if case is None or case.seal_state == "sealed":
        return
    if case.status != "pending" or case.seal_state != "queued":
        log.info("case %s not sealed: status %s, seal state %s", case_id, case.status, case.seal_state)
        return
    # Held for the whole job: the session's identity map keeps only what is referenced, so each
    # `db.session.get(Tenant, ...)` of the receipt, the hooks and the mails read it again otherwise.
    tenant = db.session.get(Tenant, case.tenant_id)
    try:
        with fields.read_once(case):
            results = _seal_documents(case)
    except DocumentOverBound as over:
        _record_failure(case_id, over, document=over.filename, bound=over.kind)
        raise GiveUp(str(over)) from None
    except DocumentCertified as certified:
        _record_failure(case_id, certified.error, document=certified.filename, certified_by=certified.error.signer)
        raise GiveUp(str(certified.error)) from None
    except Exception as exc:
        _record_failure(case_id, exc)
        raise
    if not _claim_completion(case):
        db.session.rollback()
        return
    for document, fingerprint, sealed_sha256, receipt_sha256 in results:
        document.fingerprint = fingerprint
        document.sealed_sha256 = sealed_sha256
        document.receipt_sha256 = receipt_sha256
    events.record(case, "completed", "system", actor_label="Sigill", data={"documents": [
        {"filename": d.filename, "sealed_sha256": sealed, "fingerprint": fp} for d, fp, sealed, _r in results
    ], "seal_level": service.seal_setup().level})
    hooks_for(tenant).case_completed(case=case)
    _send_completion_mails(case, tenant)
    log.info("case %s sealed (%s documents)", case.id, len(results))


class DocumentOverBound(RuntimeError):
    """Sealing one document went over its memory or time bound (or its child died)."""

    def __init__(self, filename: str, exceeded: BoundExceeded):
        super().__init__(f"{filename}: {exceeded}")
        self.filename = filename
        self.kind = exceeded.kind


class DocumentCertified(RuntimeError):
    """A document's author certified it against the changes sealing makes (core.sealing.prior)."""

    def __init__(self, filename: str, error: CertifiedPdfError):
        super().__init__(f"{filename}: {error}")
        self.filename, self.error = filename, error


def _bounded_seal(filename: str, setup: service.SealSetup, *args) -> SealedResult:
    """`seal_document` for one document in a bounded child: this thread's reused sealing child
    (`SEAL_REUSE_CHILD`, the default; the setup is sent to a child once, under its key), else a
    child forked for this document alone."""
    config = current_app.config
    bounds = {"memory_mb": config["SEAL_MEMORY_MB"], "cpu_seconds": config["SEAL_CPU_SECONDS"],
              "wall_seconds": config["SEAL_WALL_SECONDS"]}
    try:
        if config["SEAL_REUSE_CHILD"]:
            return run_reused(_seal_in_child, seal_document, Kept(setup.key, setup), *args, **bounds,
                              max_tasks=config["SEAL_CHILD_MAX_TASKS"],
                              max_growth_mb=config["SEAL_CHILD_MAX_GROWTH_MB"])
        return run_bounded(_seal_in_child, seal_document, setup, *args, **bounds)
    except BoundExceeded as exceeded:
        raise DocumentOverBound(filename, exceeded) from None
    except CertifiedPdfError as error:
        raise DocumentCertified(filename, error) from None


def _seal_in_child(seal, setup: service.SealSetup, original_pdf: bytes, fingerprint: str, verify_url: str,
                   receipt, language: str, layer: FieldLayer) -> SealedResult:
    """In the bounded child: `seal` (`seal_document`, passed by name so that the child runs the
    parent's) with the setup's signer, and a validation context made here for this seal alone (it
    caches OCSP/CRL answers: they are never reused for another seal)."""
    return seal(original_pdf, fingerprint, verify_url, receipt, language, setup.signer, setup.level, setup.tsa_url,
                setup.validation_context(), layer)


def _seal_documents(case: Case) -> list[tuple]:
    setup = service.seal_setup()
    head = service.evidence_head(case)
    language = case.language if case.language in ("sv", "en") else "sv"
    results = []
    looks = fields.signature_looks(case, language)
    documents = list(case.documents)
    warm_for_child(setup.level, setup.tsa_url)
    for document in documents:
        fingerprint = service.fingerprint_of(document, head, documents)
        receipt = service.receipt_data(case, document, fingerprint, head, setup, language)
        layer = FieldLayer(fields.marks_for(case, document, looks, language),
                           frozenset(fields.replaced_acroform_names(case, document)))
        sealed = _bounded_seal(document.filename, setup, blobs().get(document.sha256), fingerprint,
                               receipt.verify_url, receipt, language, layer)
        remember_cms_size(sealed.pdf, setup.signer, setup.level, setup.tsa_url)
        results.append((document, fingerprint, blobs().put(sealed.pdf), blobs().put(sealed.receipt)))
    return results


def _claim_completion(case: Case) -> bool:
    """Exactly once, even if two workers got here: only one UPDATE finds the case still queued."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Case).where(Case.id == case.id, Case.status == "pending", Case.seal_state == "queued")
        .values(status="completed", seal_state="sealed", completed_at=now, last_activity_at=now)
        .returning(Case.event_count, Case.event_head)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed:  # what the UPDATE wrote, without a refresh (it would cascade to every loaded document and party)
        # The chain's head as the UPDATE found it, under its row lock: the "completed" event follows it.
        events.note_head(case, *claimed)
        for name, value in (("status", "completed"), ("seal_state", "sealed"), ("completed_at", now),
                            ("last_activity_at", now)):
            set_committed_value(case, name, value)
    return bool(claimed)


def _record_failure(case_id: int, exc: Exception, **more) -> None:
    """The attempt's work is rolled back; the failure itself goes on the case's timeline
    (`document` and `bound` when a document went over its bound: it is not tried again)."""
    db.session.rollback()
    case = db.session.get(Case, case_id)
    events.record(case, "seal_failed", "system", actor_label="Sigill",
                  data={"error": f"{type(exc).__name__}: {exc}"[:500], **more})
    db.session.commit()
    log.warning("sealing case %s failed: %s", case_id, type(exc).__name__)


def _send_completion_mails(case: Case, tenant: Tenant) -> None:
    """Every party and the owner get the sealed documents' links: one delivery job for them all."""
    with batched():
        _completion_mails(case, tenant)


def _completion_mails(case: Case, tenant: Tenant) -> None:
    hooks = hooks_for(tenant)
    # Read once and held: each party's mail names the owner as its sender (`mail_party`).
    owner = db.session.get(Officer, case.owner_id) if case.owner_id else None
    for party in case.parties:
        token, party.result_token_hash = new_token()
        party.link_token = token  # transient: lets plugins build links for this email
        links = [(d.filename, external_url("signing.download_sealed", token=token, document_id=d.id),
                  external_url("sealing.party_receipt", token=token, document_id=d.id)) for d in case.documents]
        with force_locale(party.language or case.language):
            extra = [item for items in hooks.completion_items(case=case, party=party) for item in items or []]
        mail_party(case, party, "case_completed", documents=links, extra=extra,
                   page_url=external_url("signing.open", token=token))
    if owner is not None:
        send_mail(owner.email, "case_completed_owner", owner.language or tenant.setting("default_language"),
                  tenant=tenant, case=case, owner=owner, case_url=external_url("cases.detail", case_id=case.id))
