"""What the verification page can truthfully say about a file or a fingerprint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from core.extensions import db
from core.models import Case, Document, Tenant
from core.sealing import fingerprint as codes
from core.sealing.service import seal_setup
from core.sealing.validate import Report, find_fingerprint, validate_sealed
from tenants.scoping import tenant_context


@dataclass
class SignerLine:
    name: str
    method: str
    signed_at: datetime | None


@dataclass
class Summary:
    """What anyone may see about a sealed document: no contact details, no personal numbers."""

    organisation: str
    case_title: str
    document: str
    fingerprint: str
    sealed_at: datetime | None
    signers: list[SignerLine] = field(default_factory=list)


@dataclass
class Verdict:
    """`kind`: authentic, modified_after_sealing, extra_revisions, valid_not_ours, no_signature,
    invalid, encrypted, not_pdf, empty, too_large; `summary` when the file names one of ours."""

    kind: str
    summary: Summary | None = None
    report: Report | None = None


def _document_where(*criteria) -> Document | None:
    return db.session.scalars(
        sa.select(Document).where(*criteria, Document.sealed_sha256.is_not(None)).execution_options(all_tenants=True)
    ).first()


def summary_of(document: Document) -> Summary:
    with tenant_context(document.tenant_id):
        case = db.session.get(Case, document.case_id)
        tenant = db.session.get(Tenant, case.tenant_id)
        signers = [SignerLine(p.name, p.signature.method if p.signature else "", p.signed_at)
                   for p in case.parties if p.role == "signer"]
        return Summary(tenant.name, case.title, document.filename, document.fingerprint, case.completed_at, signers)


def by_fingerprint(code: str) -> tuple[str, Summary | None]:
    """("ok", summary) | ("typo", None) | ("malformed", None) | ("unknown", None)."""
    status = codes.check(code or "")
    if status != "ok":
        return status, None
    document = _document_where(Document.fingerprint == codes.normalise(code))
    return ("ok", summary_of(document)) if document is not None else ("unknown", None)


def verify_upload(data: bytes) -> Verdict:
    if not data:
        return Verdict("empty")
    if b"%PDF-" not in data[:1024]:
        return Verdict("not_pdf")
    sha256 = hashlib.sha256(data).hexdigest()
    document = _document_where(Document.sealed_sha256 == sha256)
    if document is not None:
        return Verdict("authentic", summary_of(document))
    return _examine(data)


def _examine(data: bytes) -> Verdict:
    """Not byte-identical to anything we sealed: find our fingerprint and check the signatures."""
    setup = seal_setup()
    report = validate_sealed(data, setup.trust_roots, seal_certs=[setup.certificate])
    if report.problem == "encrypted":
        return Verdict("encrypted", report=report)
    code = find_fingerprint(data)
    document = _document_where(Document.fingerprint == codes.normalise(code)) if code else None
    summary = summary_of(document) if document is not None else None
    kind = report.verdict
    if kind == "authentic" and summary is None:
        kind = "valid_not_ours"  # a seal that validates but names no document of ours
    return Verdict(kind, summary, report)


def matches(document_fingerprint: str, data: bytes) -> bool:
    """Is this upload the sealed document with this fingerprint, byte for byte?"""
    document = _document_where(Document.fingerprint == codes.normalise(document_fingerprint))
    return document is not None and hashlib.sha256(data).hexdigest() == document.sealed_sha256
