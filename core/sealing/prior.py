"""Signatures a PDF already carries when it is uploaded, and whether it may be sealed.

Decision: sealing adds one revision after the original (an incremental update: the
original's bytes stay a prefix, see stamp and pipeline), so an earlier signature keeps
verifying for the version it signed; validators (pdfsig, pyHanko, Acrobat) then also say
that the file was changed after it, which is true: the seal's revision adds the footer and
the receipt. The officer is told so at upload.

A certified PDF (a DocMDP signature, or a signature field lock with a permission level)
forbids such changes: level 1 forbids every change, levels 2 and 3 allow only filling in
forms, signing and annotating, not new page content or pages. Sealing it would break the
certification (or, at level 1, fail), so it is refused at upload with that reason.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PriorSignature:
    signer: str  # the certificate's common name, or its whole subject
    signed_at: datetime | None  # as the signer reported it
    certification: int | None  # DocMDP permission level (1, 2, 3) if it certifies the document


@dataclass(frozen=True)
class PriorSignatures:
    signatures: tuple[PriorSignature, ...] = ()

    @property
    def signers(self) -> list[str]:
        return list(dict.fromkeys(s.signer for s in self.signatures))

    @property
    def certification(self) -> PriorSignature | None:
        """The signature that certifies the document (restricting changes), if any."""
        return next((s for s in self.signatures if s.certification is not None), None)


class CertifiedPdfError(ValueError):
    """Sealing was asked of a certified PDF (refused at upload since issue 12; one uploaded
    before that can still reach the sealing job): another attempt would fail the same way."""

    def __init__(self, signer: str, level: int):
        super().__init__(signer, level)  # args: what pickling (out of the bounded child) keeps
        self.signer, self.level = signer, level

    def __str__(self) -> str:
        return f"certified by {self.signer} (DocMDP level {self.level}): sealing would break it"


def refuse_certified(reader) -> None:
    """Raise CertifiedPdfError if a signature in `reader` (pyHanko's, already open for
    stamping) certifies the document; cheap when there is no signature."""
    for sig in reader.embedded_signatures:
        if sig.docmdp_level is not None:
            raise CertifiedPdfError(_name(sig), int(sig.docmdp_level.value))


class UnreadableSignature(ValueError):
    """The PDF has a signature pyHanko cannot read: it could not be sealed either."""


def prior_signatures(data: bytes) -> PriorSignatures:
    """The signatures in `data`, a PDF that passed the upload checks (core.pdfcheck).

    A signature dictionary is never in an object stream (its /Contents must be found by
    byte offset), so a file without "/ByteRange" has none and is not parsed further. A
    file with one is read by pyHanko in a bounded child, like the upload check.
    """
    if b"/ByteRange" not in data:
        return PriorSignatures()
    from core.bounded import BoundExceeded, run_bounded
    from core.pdfcheck import CHECK_CPU_SECONDS, CHECK_MEMORY_MB, CHECK_WALL_SECONDS

    try:
        return run_bounded(_read, data, memory_mb=CHECK_MEMORY_MB, cpu_seconds=CHECK_CPU_SECONDS,
                           wall_seconds=CHECK_WALL_SECONDS)
    except BoundExceeded as exceeded:
        raise UnreadableSignature(str(exceeded)) from None


def _read(data: bytes) -> PriorSignatures:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        found = []
        for sig in reader.embedded_signatures:
            level = sig.docmdp_level
            found.append(PriorSignature(_name(sig), sig.self_reported_timestamp,
                                        int(level.value) if level is not None else None))
    except Exception as error:  # noqa: BLE001 - whatever pyHanko cannot read, it cannot seal either
        log.info("an uploaded PDF's signature cannot be read: %s", error)
        raise UnreadableSignature(str(error)) from None
    return PriorSignatures(tuple(found))


def _name(sig) -> str:
    subject = sig.signer_cert.subject.native
    return str(subject.get("common_name") or sig.signer_cert.subject.human_friendly)
