"""Sealing a completed case: from the case's rows to sealed PDFs, receipts and emails.

The library modules beside this one (fingerprint, stamp, receipt, seal, validate) work on bytes
and plain data; this module feeds them from the database and the app's configuration.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa
from asn1crypto import x509 as asn1_x509
from flask import Flask, current_app
from pyhanko_certvalidator import ValidationContext

from core.extensions import db
from core.fields.service import signed_field_values
from core.i18n import force_locale
from core.models import Case, Event, Party, Tenant
from core.models.base import utcnow
from core.plugins import hooks_for
from core.sealing import pki
from core.sealing.fingerprint import make_fingerprint
from core.sealing.receipt import ReceiptData, ReceiptDocument, ReceiptParty, ReceiptSeal, ReceiptSection
from core.sealing.seal import sealing_context
from core.signing import methods as signing_methods
from core.timezones import DEFAULT_TIME_ZONE
from core.urls import external_url

log = logging.getLogger(__name__)


@dataclass
class SealSetup:
    """How this service seals, read once per process from the configuration."""

    signer: object
    certificate: asn1_x509.Certificate
    trust_roots: list[asn1_x509.Certificate]
    level: str
    tsa_url: str | None
    development: bool

    @property
    def subject(self) -> str:
        return self.certificate.subject.human_friendly

    @cached_property
    def key(self) -> str:
        """Names this setup's content (key, certificates, level, TSA): another setup, such as a
        rotated key, has another. The sealing job's reused child keeps the setup under it."""
        digest = hashlib.sha256()
        for part in (self.signer.signing_key.dump(), self.certificate.dump(),
                     *(c.dump() for c in self.signer.cert_registry), *(c.dump() for c in self.trust_roots),
                     self.level.encode(), (self.tsa_url or "").encode()):
            digest.update(len(part).to_bytes(8, "big") + part)
        return digest.hexdigest()

    def validation_context(self) -> ValidationContext | None:
        """A fresh one per seal (it caches OCSP/CRL answers), with the library's fast fetchers."""
        if self.level not in ("B-LT", "B-LTA"):
            return None
        return sealing_context(self.trust_roots)


def seal_setup(app: Flask | None = None) -> SealSetup:
    app = app or current_app._get_current_object()
    setup = app.extensions.get("sigill_seal")
    if setup is None:
        setup = app.extensions["sigill_seal"] = _load_setup(app.config)
    return setup


def _load_setup(config: dict) -> SealSetup:
    if config.get("SEAL_P12"):
        password = (config.get("SEAL_P12_PASSWORD") or "").encode() or None
        signer = pki.load_seal_signer(config["SEAL_P12"], password)
        roots = _roots_of(signer)
        development = False
    else:
        p12, password = pki.ensure_dev_seal(config["SEAL_DIR"])
        signer = pki.load_seal_signer(p12, password)
        roots = [pki.dev_root(config["SEAL_DIR"])]
        development = True
    return SealSetup(signer, signer.signing_cert, roots, _level(config, development), config.get("TSA_URL"),
                     development)


def _roots_of(signer) -> list[asn1_x509.Certificate]:
    """Self-signed certificates shipped in the PKCS#12 (the seal's root), else the seal itself."""
    chain = list(signer.cert_registry)
    roots = [c for c in chain if c.self_signed]
    return roots or [signer.signing_cert]


def _level(config: dict, development: bool) -> str:
    """B-LT/B-LTA need a TSA and revocation info; without a TSA the seal is B-B. A development
    seal has no OCSP or CRL to embed, so it stops at B-T."""
    wanted = (config.get("SEAL_LEVEL") or "B-LT").upper()
    if not config.get("TSA_URL"):
        return "B-B"
    if development and wanted in ("B-LT", "B-LTA"):
        return "B-T"
    return wanted


def is_development_seal() -> bool:
    return not current_app.config.get("SEAL_P12")


# --- receipt data --------------------------------------------------------------------------------


def evidence_head(case: Case) -> str:
    """The chain head when sealing was queued: fixed, so a retried job derives the same codes."""
    queued = db.session.scalars(
        sa.select(Event).where(Event.case_id == case.id, Event.kind == "seal_queued").order_by(Event.seq.desc())
    ).first()
    return queued.hash if queued is not None else (case.event_head or "0" * 64)


def fingerprint_of(document, head: str, documents: list | None = None) -> str:
    """The document's code; `documents` (the case's, in order) tells copies of one file apart."""
    earlier = documents[:documents.index(document)] if documents else []
    return make_fingerprint(document.sha256, head, copy=1 + sum(d.sha256 == document.sha256 for d in earlier))


def verify_url(fingerprint: str) -> str:
    return external_url("verify.fingerprint", code=fingerprint)


def receipt_data(case: Case, document, fingerprint: str, head: str, setup: SealSetup, language: str) -> ReceiptData:
    tenant = db.session.get(Tenant, case.tenant_id)
    extra = []
    for sections in hooks_for(tenant).receipt_sections(case=case, language=language):
        extra.extend(ReceiptSection(heading, tuple(lines)) for heading, lines in sections or [])
    return ReceiptData(
        organisation=tenant.name,
        case_title=case.title,
        case_id=str(case.id),
        documents=tuple(ReceiptDocument(d.filename, d.sha256, d.page_count) for d in case.documents),
        parties=tuple(_receipt_party(p, language) for p in case.parties),
        evidence_head=head,
        fingerprint=fingerprint,
        verify_url=verify_url(fingerprint),
        seal=ReceiptSeal(setup.subject, setup.level, setup.tsa_url, sealed_at=utcnow(),
                         subject_fields=subject_fields(setup.certificate)),
        extra_sections=tuple(extra),
        time_zone=tenant.setting("time_zone") or DEFAULT_TIME_ZONE,
    )


def subject_fields(certificate) -> tuple[tuple[str, str], ...]:
    """A certificate's subject as (attribute, value) pairs, in the certificate's order."""
    pairs = []
    for key, value in certificate.subject.native.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((str(key), str(item)))
    return tuple(pairs)


def _receipt_party(party: Party, language: str) -> ReceiptParty:
    """The party as the receipt prints them; what the method proved is the method's to say."""
    signature = party.signature
    method = signing_methods.installed().get(signature.method) if signature is not None else None
    identity, title, lines = {}, signature.method if signature is not None else "", ()
    if method is not None:
        with force_locale(language):
            identity = method.identity(party, signature)
            title = method.display_title
            lines = tuple((str(label), str(text)) for label, text in method.evidence_lines(signature))
    return ReceiptParty(
        name=party.name,
        role=party.role,
        method=signature.method if signature is not None else "",
        method_title=title,
        evidence=lines,
        email=party.email,
        phone=identity.get("phone"),
        verified_name=identity.get("name"),
        personal_number=identity.get("personal_number"),
        invited_at=party.invited_at,
        viewed_at=party.viewed_at,
        signed_at=party.signed_at,
        field_values=signed_field_values(party, language),
        field_values_sha256=signature.field_values_sha256 if signature is not None else None,
        **_drawn_signature(method, signature),
    )


def _drawn_signature(method, signature) -> dict:
    """The receipt's drawn signature: its strokes as lines, else the method's picture."""
    if method is None or signature is None:
        return {}
    strokes = method.signature_strokes(signature)
    if strokes is not None:
        return {"signature_strokes": strokes}
    return {"signature_image": method.signature_image(signature)}


def within_retention(case: Case) -> bool:
    """Signed documents reach the parties by their links for the organisation's retention period."""
    tenant = db.session.get(Tenant, case.tenant_id)
    days = int(tenant.setting("retention_days"))
    return case.completed_at is None or case.completed_at + timedelta(days=days) > utcnow()


def development_warning_file(app: Flask) -> Path:
    return Path(app.config["SEAL_DIR"]) / pki.DEV_P12
