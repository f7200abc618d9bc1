"""Sealed documents and receipts: for officers in the office, for parties by their link."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_login import current_user, login_required

from core import jobs
from core.cases import events
from core.cases.actors import Actor
from core.cases.service import SEAL_JOB
from core.downloads import attachment
from core.extensions import db
from core.i18n import _
from core.models import Case, Document, Job
from core.sealing.service import within_retention
from core.signing.views import with_link
from core.storage import blobs

bp = Blueprint("sealing", __name__)


def _pdf(data: bytes, filename: str) -> Response:
    return attachment(data, filename)


def _sealed_document(case: Case, document_id: int | None) -> Document:
    documents = [d for d in case.documents if d.sealed_sha256]
    chosen = next((d for d in documents if document_id in (None, d.id)), None)
    if chosen is None:
        abort(404)
    return chosen


def _office_case(case_id: int) -> Case:
    case = db.session.scalars(sa.select(Case).where(Case.id == case_id)).first()
    if case is None:
        abort(404)
    return case


def _stem(document: Document) -> str:
    return document.filename.rsplit(".", 1)[0]


@bp.get("/cases/<int:case_id>/sealed/<int:document_id>")
@login_required
def sealed_document(case_id: int, document_id: int):
    document = _sealed_document(_office_case(case_id), document_id)
    return _pdf(blobs().get(document.sealed_sha256), f"{_stem(document)}-signed.pdf")


@bp.get("/cases/<int:case_id>/receipt", defaults={"document_id": None})
@bp.get("/cases/<int:case_id>/receipt/<int:document_id>")
@login_required
def receipt(case_id: int, document_id: int | None):
    document = _sealed_document(_office_case(case_id), document_id)
    return _pdf(blobs().get(document.receipt_sha256), f"{_stem(document)}-receipt.pdf")


@bp.get("/s/<token>/receipt/<int:document_id>")
@with_link("signed", "completed")
def party_receipt(token: str, link, document_id: int):
    if not within_retention(link.case):
        abort(410)
    document = _sealed_document(link.case, document_id)
    return _pdf(blobs().get(document.receipt_sha256), f"{_stem(document)}-receipt.pdf")


@bp.app_template_global()
def development_seal() -> bool:
    """Shown as a warning on the admin page: documents are sealed with a development certificate."""
    from core.sealing.service import is_development_seal

    return is_development_seal()


@bp.app_template_global()
def failed_seal_job(case: Case) -> Job | None:
    """The sealing job of this case if it failed for good (shown to admins with a retry button)."""
    candidates = db.session.scalars(
        sa.select(Job).where(Job.func == SEAL_JOB, Job.tenant_id == case.tenant_id, Job.state == "failed")
    ).all()
    return next((job for job in candidates if job.args == [case.id]), None)


@bp.post("/cases/<int:case_id>/seal/retry")
@login_required
def retry(case_id: int):
    case = _office_case(case_id)
    if not current_user.is_admin:
        abort(403)
    job = failed_seal_job(case)
    if job is None:
        flash(_("The sealing is not stuck: nothing to retry."), "info")
        return redirect(url_for("cases.detail", case_id=case.id))
    jobs.retry_now(job.id)
    events.record_by(case, "seal_retried", Actor.for_officer(current_user))
    db.session.commit()
    flash(_("Sealing is being tried again."), "success")
    return redirect(url_for("cases.detail", case_id=case.id))
