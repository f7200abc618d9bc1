"""Validation of uploaded PDFs: what is true about their signatures, in one verdict.

Verdicts, for the public verification page:
- authentic: our seal, intact, and nothing after it but long-term-validation updates
  (DSS, document timestamps);
- modified_after_sealing: our seal is there but the bytes it covers were changed;
- appended_bytes: our seal is intact, but bytes that are no PDF revision follow it;
- extra_revisions: our seal is intact but revisions were appended after it;
- valid_not_ours: intact, valid signatures, none of them ours;
- no_signature: a readable PDF without signatures;
- invalid: not a readable PDF, or signatures that are broken and not ours.
"""

import asyncio
import dataclasses
import hashlib
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from asn1crypto import parser as asn1_parser
from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import ades, validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec, ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager
from pypdf import PdfReader

from core.bounded import bounded_call
from core.sealing.fingerprint import normalise

log = logging.getLogger(__name__)

# Verifying reads files anyone may upload: in a bounded child (core/bounded.py, VERIFY_MEMORY_MB ...).
VERIFY_BOUNDS = (768, 30, 45)


def _over_bound_report(exceeded, pdf_bytes: bytes, *_args, **_kwargs) -> "Report":
    """A file that needs more memory or time than verifying may is told as one we cannot read."""
    return Report("invalid", hashlib.sha256(pdf_bytes).hexdigest(), problem=f"not a readable PDF: {exceeded}")

Verdict = Literal[
    "authentic",
    "modified_after_sealing",
    "appended_bytes",
    "extra_revisions",
    "valid_not_ours",
    "no_signature",
    "invalid",
]
FINGERPRINT_PATTERN = re.compile(
    r"Fingeravtryck:\s*([0-9A-Za-z]{4}(?:-[0-9A-Za-z]{4}){3}-[0-9A-Za-z*~$=])"
)
HEX_STRING = re.compile(rb"<[0-9A-Fa-f]*>")
# What may follow our seal without being "extra revisions": DSS and document timestamps.
ALLOWED_AFTER_SEAL = (ModificationLevel.NONE.name, ModificationLevel.LTA_UPDATES.name)


@dataclass(frozen=True)
class SignatureReport:
    field_name: str
    revision: int  # the file's revision (0 = the first) that this signature signs
    # Its byte range still leaves out exactly a hex string: bytes may have been changed in
    # place, but the file was not saved again by a program that moved everything.
    in_place: bool
    intact: bool
    valid: bool
    trusted: bool
    ours: bool
    signer_subject: str
    signer_name: str  # who the certificate names, in words: "common name (organisation)"
    covers_whole_document: bool
    later_revisions: bool
    modification_level: str | None
    signing_time: datetime | None
    timestamp: datetime | None
    timestamp_valid: bool | None
    # AdES indication of the check "valid when sealed" from embedded data ("OK", ...),
    # None without a signature timestamp (B-B).
    long_term: str | None


@dataclass(frozen=True)
class Report:
    verdict: Verdict
    sha256: str
    signatures: list[SignatureReport] = field(default_factory=list)
    document_timestamps: int = 0
    problem: str | None = None
    revisions: int = 0


@bounded_call("VERIFY", VERIFY_BOUNDS, _over_bound_report)
def validate_sealed(
    pdf_bytes: bytes,
    trust_roots: Iterable[x509.Certificate],
    allow_fetching: bool = False,
    seal_certs: Iterable[x509.Certificate] = (),
) -> Report:
    """Validate every signature in `pdf_bytes` and say what is true about the file.

    A signature is "ours" when its certificate is one of `seal_certs`, or, when none are
    given, when it chains to `trust_roots`.
    """
    sha256 = hashlib.sha256(pdf_bytes).hexdigest()
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        if reader.encrypted:
            return Report("invalid", sha256, problem="encrypted")
        signatures = reader.embedded_regular_signatures
        timestamps = reader.embedded_timestamp_signatures
        revisions = reader.xrefs.total_revisions
    except Exception as error:  # noqa: BLE001 - any unreadable upload is an answer, not a 500
        return Report("invalid", sha256, problem=f"not a readable PDF: {error}")
    if not signatures:
        return Report("no_signature", sha256, document_timestamps=len(timestamps), revisions=revisions)
    roots = list(trust_roots)
    ours = {cert.sha256 for cert in seal_certs}
    reports = [_check(sig, roots, allow_fetching, ours) for sig in signatures]
    return Report(_verdict(reports), sha256, reports, len(timestamps), revisions=revisions)


def _check(
    sig: EmbeddedPdfSignature, roots: list, allow_fetching: bool, ours: set[bytes]
) -> SignatureReport:
    try:
        status = validate_pdf_signature(
            sig, ValidationContext(trust_roots=roots, allow_fetching=allow_fetching)
        )
    except Exception as error:  # noqa: BLE001 - a broken signature is a finding, not a crash
        log.info("signature %s could not be validated: %s", sig.field_name, error)
        return _broken(sig, ours, roots)
    cert = status.signing_cert
    timestamp = status.timestamp_validity
    return SignatureReport(
        field_name=sig.field_name,
        revision=sig.signed_revision,
        in_place=_gap_is_hex(sig),
        intact=status.intact and _padding_untouched(sig),
        valid=status.valid,
        trusted=status.trusted,
        ours=_is_ours(sig, ours, roots, status.trusted),
        signer_subject=cert.subject.human_friendly,
        signer_name=_named(cert),
        covers_whole_document=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        later_revisions=sig.signed_revision < sig.reader.xrefs.total_revisions - 1,
        modification_level=_name(status.modification_level),
        signing_time=status.signer_reported_dt,
        timestamp=timestamp.timestamp if timestamp else None,
        timestamp_valid=(timestamp.valid and timestamp.intact) if timestamp else None,
        long_term=_long_term(sig, status, roots, allow_fetching),
    )


def _gap(sig: EmbeddedPdfSignature) -> bytes:
    start, length, end = (int(v) for v in list(sig.byte_range)[:3])
    stream = sig.reader.stream
    stream.seek(start + length)
    return stream.read(end - start - length)


def _gap_is_hex(sig: EmbeddedPdfSignature) -> bool:
    try:
        return bool(HEX_STRING.fullmatch(_gap(sig)))
    except Exception:  # noqa: BLE001 - a byte range that points nowhere
        return False


def _padding_untouched(sig: EmbeddedPdfSignature) -> bool:
    """The gap for /Contents holds exactly the CMS in hex and then zeros.

    That gap is outside the signed ranges, and CMS parsers ignore what follows the CMS
    and PDF parsers ignore whitespace in hex strings: a change there would leave the
    signature valid while the file (and its SHA-256) changed.
    """
    if not HEX_STRING.fullmatch(_gap(sig)):
        return False
    contents = sig.pkcs7_content
    _, _, _, header, body, _ = asn1_parser.parse(contents)
    return not contents[len(header) + len(body) :].strip(b"\x00")


def _is_ours(sig: EmbeddedPdfSignature, ours: set[bytes], roots: list, trusted: bool) -> bool:
    """Ours by certificate, even when the signature itself no longer verifies."""
    if ours:
        return sig.signer_cert.sha256 in ours
    return trusted or _chains_to(sig, roots)


def _chains_to(sig: EmbeddedPdfSignature, roots: list) -> bool:
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    validator = CertificateValidator(
        sig.signer_cert, intermediate_certs=sig.other_embedded_certs, validation_context=context
    )
    try:
        asyncio.run(validator.async_validate_path())
    except Exception:  # noqa: BLE001 - any failure means: not provably ours
        return False
    return True


def _broken(sig: EmbeddedPdfSignature, ours: set[bytes], roots: list) -> SignatureReport:
    try:
        mine = _is_ours(sig, ours, roots, trusted=False)
    except Exception:  # noqa: BLE001 - no readable certificate at all
        mine = False
    return SignatureReport(
        field_name=sig.field_name, revision=_revision(sig), in_place=_gap_is_hex(sig), intact=False,
        valid=False, trusted=False, ours=mine, signer_subject=_subject(sig), signer_name=_named_by(sig),
        covers_whole_document=False, later_revisions=False,
        modification_level=None, signing_time=None, timestamp=None,
        timestamp_valid=None, long_term=None,
    )


def _revision(sig: EmbeddedPdfSignature) -> int:
    try:
        return sig.signed_revision
    except Exception:  # noqa: BLE001 - a byte range that ends nowhere signs no revision
        return -1


def _subject(sig: EmbeddedPdfSignature) -> str:
    try:
        return sig.signer_cert.subject.human_friendly
    except Exception:  # noqa: BLE001 - no readable certificate at all
        return ""


def _named(cert: x509.Certificate) -> str:
    """What a certificate says its holder is called, as a person would write it."""
    names = {key: ", ".join(v) if isinstance(v, list) else v for key, v in cert.subject.native.items()}
    name = names.get("common_name") or names.get("organization_name") or cert.subject.human_friendly
    organisation = names.get("organization_name")
    return f"{name} ({organisation})" if organisation and organisation != name else name


def _named_by(sig: EmbeddedPdfSignature) -> str:
    try:
        return _named(sig.signer_cert)
    except Exception:  # noqa: BLE001 - no readable certificate at all
        return ""


def _verdict(reports: list[SignatureReport]) -> Verdict:
    mine = [r for r in reports if r.ours]
    if any(not r.intact for r in mine):
        return "modified_after_sealing"
    for report in mine:
        if report.valid and report.modification_level in ALLOWED_AFTER_SEAL:
            if not (report.covers_whole_document or report.later_revisions):
                return "appended_bytes"  # the seal's revision ends before the file does
            return "authentic"
    if any(r.valid for r in mine):
        return "extra_revisions"
    if reports and all(r.intact and r.valid for r in reports):
        return "valid_not_ours"
    return "invalid"


def _name(level: ModificationLevel | None) -> str | None:
    return level.name if level is not None else None


def _long_term(
    sig: EmbeddedPdfSignature, status: PdfSignatureStatus, roots: list, allow_fetching: bool
) -> str | None:
    """Was the seal valid when it was made? Checked from the file alone, unless fetching.

    Evaluated as of the seal's signature timestamp, with the revocation info embedded in
    the DSS, so the answer stays the same for years, after that info has expired. B-LTA
    (document timestamps after the seal) goes through ETSI EN 319 102-1 § 5.6.3
    (ades_lta_validation); B-LT through § 5.5, validation with time: pyHanko 0.38's LTA
    process always answers NO_POE for B-LT, as only a document timestamp gives the proof
    of existence it requires.
    """
    if status.timestamp_validity is None:
        return None
    sealed_at = status.timestamp_validity.timestamp
    timing = ValidationTimingInfo(
        validation_time=sealed_at, best_signature_time=sealed_at, point_in_time_validation=True
    )
    spec = _spec(roots, allow_fetching)
    try:
        if _has_document_timestamp_after(sig):
            result = asyncio.run(ades.ades_lta_validation(sig, spec, timing_info=timing))
        else:
            result = asyncio.run(_with_time(sig, spec.signature_validation_spec, timing))
    except Exception as error:  # noqa: BLE001 - a failed check is a finding, not a crash
        log.info("long-term validation of %s failed: %s", sig.field_name, error)
        return "FAILED"
    return result.ades_subindic.name


async def _with_time(
    sig: EmbeddedPdfSignature, spec: SignatureValidationSpec, timing: ValidationTimingInfo
):
    knowledge = ades._dss_to_local_knowledge(reader=sig.reader)
    return await ades.ades_with_time_validation(
        sig.signed_data,
        dataclasses.replace(spec, local_knowledge=knowledge),
        timing_info=timing,
        raw_digest=sig.compute_digest(),
        extra_status_kwargs=sig.summarise_integrity_info(),
        status_cls=PdfSignatureStatus,
    )


def _has_document_timestamp_after(sig: EmbeddedPdfSignature) -> bool:
    return any(
        ts.signed_revision > sig.signed_revision
        for ts in sig.reader.embedded_timestamp_signatures
    )


def _spec(roots: list, allow_fetching: bool) -> PdfSignatureValidationSpec:
    fetching = (
        RevinfoOnlineFetchingRule.NO_HISTORICAL_FETCH
        if allow_fetching
        else RevinfoOnlineFetchingRule.LOCAL_ONLY
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=roots),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=fetching),
        )
    )


@bounded_call("VERIFY", VERIFY_BOUNDS, lambda _exceeded, *_args: None)
def find_fingerprint(pdf_bytes: bytes) -> str | None:
    """The fingerprint printed in the footer, by text extraction of the first/last page."""
    try:
        pages = PdfReader(io.BytesIO(pdf_bytes)).pages
        candidates = [pages[0], pages[-1]] if len(pages) else []
        for page in candidates:
            match = FINGERPRINT_PATTERN.search(page.extract_text() or "")
            if match:
                return normalise(match.group(1))
    except Exception as error:  # noqa: BLE001 - an unreadable upload just has no fingerprint
        log.info("no fingerprint extracted: %s", error)
    return None
