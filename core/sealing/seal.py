"""The PAdES seal: one signature by the service's seal certificate over the whole file."""

import io
from typing import Literal

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference
from pyhanko_certvalidator import ValidationContext

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]
LEVELS: tuple[Level, ...] = ("B-B", "B-T", "B-LT", "B-LTA")
FIELD_NAME = "Sigill seal"
# Room for the CMS: certificates, a timestamp token and its certificates. Reserving it
# skips pyHanko's size-estimating dry run, which costs a whole extra signature and TSA call.
BYTES_RESERVED = 16384
TSA_TIMEOUT_SECONDS = 10

# The DSS goes into the signature's own revision, so B-LT is one revision and validators
# without incremental-update analysis (pdfsig) see the seal cover the whole document.
SAME_REVISION_DSS = DSSContentSettings(
    placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE, include_vri=False
)


class SealingError(Exception):
    """The seal cannot be applied as configured."""


def seal_pdf(
    pdf_bytes: bytes,
    signer: signers.Signer,
    level: Level = "B-B",
    tsa_url: str | None = None,
    validation_context: ValidationContext | None = None,
) -> bytes:
    """Return `pdf_bytes` with a PAdES seal at `level` appended as an incremental update.

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
    timestamper = (
        timestamps.HTTPTimeStamper(tsa_url, timeout=TSA_TIMEOUT_SECONDS) if tsa_url else None
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    out = signers.sign_pdf(
        writer,
        meta,
        signer=signer,
        timestamper=timestamper if level != "B-B" else None,
        bytes_reserved=BYTES_RESERVED,
    )
    return out.getvalue()


def _check_settings(level: str, tsa_url: str | None, context: ValidationContext | None) -> None:
    if level not in LEVELS:
        raise SealingError(f"Unknown seal level {level!r}; use one of {', '.join(LEVELS)}")
    if level != "B-B" and not tsa_url:
        raise SealingError(f"Seal level {level} needs a timestamp server: set TSA_URL")
    if level in ("B-LT", "B-LTA") and context is None:
        raise SealingError(
            f"Seal level {level} needs a validation context to embed revocation info"
        )
