"""The PAdES seal: one signature by the service's seal certificate over the whole file."""

import asyncio
import io
import re
import time
from collections.abc import Callable, Iterable
from typing import Literal

from asn1crypto import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import DEFAULT_MD, fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]
LEVELS: tuple[Level, ...] = ("B-B", "B-T", "B-LT", "B-LTA")
FIELD_NAME = "Sigill seal"
# Room for the CMS, reserved up front: it skips pyHanko's size-estimating dry run (a whole
# extra signature and TSA call). Kept tight, because every reader of the sealed file
# parses the zero padding too (pyHanko: ~2 ms per KB): the first seal reserves an
# estimate from the certificates, later ones the size that seal used plus slack. A CMS
# that does not fit is retried with four times the room.
CMS_OVERHEAD = 3072  # signed attributes, signature value, algorithm identifiers
TIMESTAMP_ALLOWANCE = 8192  # a token with the TSA's chain of two or three certificates
CMS_SLACK = 1024  # timestamp tokens and ECDSA signatures vary by a few bytes
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+\d+\s*\]")
_used_cms_bytes: dict[tuple, int] = {}
TAIL_SEARCH_BYTES = 256 * 1024  # the seal revision (DSS included) is far smaller
TSA_TIMEOUT_SECONDS = 10
TIMESTAMPER_LIFETIME_SECONDS = 3600
_timestampers: dict[str, tuple[RequestsHTTPTimeStamper, float]] = {}

# The DSS goes into the signature's own revision, so B-LT is one revision and validators
# without incremental-update analysis (pdfsig) see the seal cover the whole document.
SAME_REVISION_DSS = DSSContentSettings(
    placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE, include_vri=False
)


class SealingError(Exception):
    """The seal cannot be applied as configured."""


def seal_pdf(
    pdf: bytes | Callable[[], IncrementalPdfFileWriter],
    signer: signers.Signer,
    level: Level = "B-B",
    tsa_url: str | None = None,
    validation_context: ValidationContext | None = None,
) -> bytes:
    """Return the PDF with a PAdES seal at `level` appended as an incremental update.

    `pdf` is the file's bytes, or a function returning a new incremental writer whose
    pending changes then go into the seal's revision (saving a write and a parse of the
    file in between). It is called again if the seal has to be retried: a writer cannot
    be used for a second signing attempt.

    B-T and above need `tsa_url`; B-LT and B-LTA also need a `validation_context` that
    trusts the seal's and the TSA's roots and may fetch OCSP/CRL answers to embed.
    """
    _check_settings(level, tsa_url, validation_context)
    long_term = level in ("B-LT", "B-LTA")
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        embed_validation_info=long_term,
        use_pades_lta=level == "B-LTA",
        validation_context=validation_context if long_term else None,
        dss_settings=SAME_REVISION_DSS,
    )
    timestamper = _timestamper(tsa_url) if tsa_url and level != "B-B" else None
    key = _cms_key(signer, tsa_url, level)
    reserved = bytes_reserved(signer, timestamped=timestamper is not None)
    if key in _used_cms_bytes:
        reserved = 2 * (_used_cms_bytes[key] + CMS_SLACK)
    try:
        sealed = _sign(pdf, meta, signer, timestamper, reserved)
    except SigningError as error:
        if "larger than expected" not in str(error):
            raise
        sealed = _sign(pdf, meta, signer, timestamper, 4 * reserved)
    _used_cms_bytes[key] = _cms_size(sealed)
    return sealed


def _cms_key(signer: signers.Signer, tsa_url: str | None, level: Level) -> tuple:
    return (signer.signing_cert.sha256, tsa_url, level)


def warm_for_child(level: Level, tsa_url: str | None) -> None:
    """Before sealing in a forked child (core.bounded): fill, in this process, what the seal
    caches across seals, so that the child inherits it. Left to a child forked per document, the
    cache died with it: every B-T/B-LT/B-LTA seal asked the TSA for a throw-away timestamp (to
    learn its certificates) on top of its real one. The reused sealing child keeps its own
    caches between documents; this still spares a fresh one (first use, after a recycle) the ask."""
    if tsa_url and level != "B-B":
        timestamper = _timestamper(tsa_url)
        if DEFAULT_MD not in getattr(timestamper, "_dummy_response_cache", {}):
            asyncio.run(timestamper.async_dummy_response(DEFAULT_MD))


def remember_cms_size(sealed: bytes, signer: signers.Signer, level: Level, tsa_url: str | None) -> None:
    """After a seal made in a forked child: keep the room its CMS took, as `seal_pdf` does
    when it runs here, so that the next seal reserves a tight /Contents (see CMS_SLACK)."""
    _used_cms_bytes[_cms_key(signer, tsa_url, level)] = _cms_size(sealed)


def bytes_reserved(signer: signers.Signer, timestamped: bool) -> int:
    """Hex digits to reserve for the CMS: the certificates it embeds plus allowances."""
    certificates = [signer.signing_cert, *signer.cert_registry]
    size = sum(len(c.dump()) for c in certificates) + CMS_OVERHEAD
    if timestamped:
        size += TIMESTAMP_ALLOWANCE
    return 2 * size


def _cms_size(sealed: bytes) -> int:
    """Bytes of CMS in our seal: its /Contents hex without the zero padding.

    The seal is in the last revision (B-LTA: the one before the document timestamp, so
    look at the last two signatures, which both sit near the end of the file).
    """
    tail = sealed[-TAIL_SEARCH_BYTES:]
    sizes = [0]
    for match in list(_BYTE_RANGE.finditer(tail))[-2:]:
        start, length, end = (int(v) for v in match.groups())
        contents = sealed[start + length + 1 : end - 1]  # between "<" and ">"
        sizes.append(len(contents.rstrip(b"0")) // 2 + 1)
    return max(sizes)


def _sign(pdf, meta, signer, timestamper, bytes_reserved: int) -> bytes:
    is_bytes = isinstance(pdf, bytes)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False) if is_bytes else pdf()
    out = signers.sign_pdf(
        writer, meta, signer=signer, timestamper=timestamper, bytes_reserved=bytes_reserved
    )
    return out.getvalue()


def sealing_context(trust_roots: Iterable[x509.Certificate]) -> ValidationContext:
    """The validation context for B-LT/B-LTA: trusts `trust_roots`, fetches OCSP and CRLs.

    Make one per seal, so revocation answers are fresh. It fetches with `requests`:
    pyHanko's default aiohttp fetchers build a TLS context from certifi's bundle for
    every session, ~30 ms each and two per seal, even for plain-http responders.
    """
    return ValidationContext(
        trust_roots=list(trust_roots),
        allow_fetching=True,
        fetcher_backend=RequestsFetcherBackend(per_request_timeout=TSA_TIMEOUT_SECONDS),
    )


def _timestamper(tsa_url: str) -> RequestsHTTPTimeStamper:
    """A timestamper per TSA URL, renewed hourly.

    pyHanko asks the TSA for a throw-away timestamp to learn its certificates (for the
    revocation info of B-LT) and caches it in the timestamper: reusing the instance saves
    one TSA round trip per seal. Renewing it hourly picks up a TSA's new certificate.
    """
    now = time.monotonic()
    cached = _timestampers.get(tsa_url)
    if cached is None or now - cached[1] > TIMESTAMPER_LIFETIME_SECONDS:
        cached = (RequestsHTTPTimeStamper(tsa_url, timeout=TSA_TIMEOUT_SECONDS), now)
        _timestampers[tsa_url] = cached
    return cached[0]


def _check_settings(level: str, tsa_url: str | None, context: ValidationContext | None) -> None:
    if level not in LEVELS:
        raise SealingError(f"Unknown seal level {level!r}; use one of {', '.join(LEVELS)}")
    if level != "B-B" and not tsa_url:
        raise SealingError(f"Seal level {level} needs a timestamp server: set TSA_URL")
    if level in ("B-LT", "B-LTA") and context is None:
        raise SealingError(
            f"Seal level {level} needs a validation context to embed revocation info"
        )
