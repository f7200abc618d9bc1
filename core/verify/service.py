"""What the verification pages can truthfully say about a file or a fingerprint.

`verify_upload` is the one place that decides what is true of an uploaded file; the upload page
and the fingerprint page's compare both show its verdict. A file is authentic only when it is,
byte for byte, a document we sealed. A file that merely contains one of our sealed documents
(the sealed bytes are a prefix of it) says what follows them: bytes that are no PDF update, a
later update without a signature, only validation data, or a later signature (whose). A copy
saved again by another program no longer carries an intact seal; when the fingerprint printed on
its pages names one of our documents and the text of every page is the same, it says so, and
that only the original proves anything.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader

from core.bounded import bounded_call
from core.extensions import db
from core.models import Case, Document, Tenant
from core.plugins import hooks_for_tenant_id
from core.sealing import fingerprint as codes
from core.sealing.service import seal_setup
from core.sealing.validate import VERIFY_BOUNDS, Report, SignatureReport, find_fingerprint, validate_sealed
from core.signing import methods as signing_methods
from core.storage import BlobNotFound, blobs
from core.text import header_text
from core.timezones import DEFAULT_TIME_ZONE
from tenants.scoping import tenant_context

log = logging.getLogger(__name__)

EOF_MARKER = re.compile(rb"%%EOF")  # where a revision of a PDF ends, before its end of line
# A signature's byte range: its last two numbers say where the revision it signs ends.
BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*\d{1,12}\s+\d{1,12}\s+(\d{1,12})\s+(\d{1,12})\s*\]")
MARKERS_EACH_END = 500
NAME_LIMIT = 200
LOOKUP_BATCH = 500  # hashes per query: SQLite takes at most 999 parameters in older builds
WHITESPACE = re.compile(r"\s+")
WRITER_STAMPS = {"/ModDate", "/Producer"}
CONTAINS_SEALED = ("appended_bytes", "validation_data_added", "updated_after_seal", "signed_after_seal")


@dataclass
class SignerLine:
    name: str
    method: str
    signed_at: datetime | None
    # What the signing method says of its evidence, (label, text) in the page's language.
    evidence: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Summary:
    """What anyone may see about a sealed document: no contact details, no personal numbers."""

    organisation: str
    case_title: str
    document: str
    fingerprint: str
    sealed_at: datetime | None
    signers: list[SignerLine] = field(default_factory=list)
    time_zone: str = DEFAULT_TIME_ZONE  # the organisation's, for the times shown


@dataclass
class LaterSignature:
    """A signature added to the file after our seal (or found in a file that is not ours)."""

    subject: str  # who its certificate names, as the certificate says it
    matches: bool  # the signature is intact and mathematically valid for what it signs
    vouched: bool  # its certificate chains to a root we trust


@dataclass
class Verdict:
    """What is true of an uploaded file.

    `kind`:
    - authentic: byte for byte a document we sealed;
    - appended_bytes: one of our sealed documents, exactly, followed by bytes that are no PDF
      update (`extra_bytes` of them);
    - validation_data_added: our sealed document, exactly, followed by updates that only add
      timestamps or validation data;
    - updated_after_seal: our sealed document, exactly, followed by unsigned changes;
    - signed_after_seal: our sealed document, exactly, followed by changes with a signature
      (`signatures` says whose);
    - resaved_copy: saved again by another program: our seal is broken or gone, but the text of
      every page is the text of the sealed document;
    - modified_after_sealing: carries our seal, but what it covers was changed;
    - sealed_not_on_record: our seal, intact, over bytes we have no record of (and more after the
      revision it signs unless `seal_covers_file`);
    - receipt: byte for byte the receipt we made for a sealed document (unsigned on its own);
    - unknown_signer: signed, intact, with a certificate nobody we trust vouches for;
    - valid_not_ours: signed, intact, with a certificate a trusted authority issued, not by us;
    - signature_broken: signed, not by us, and the signature does not match the file;
    - no_signature: a readable PDF without signatures;
    - damaged: starts like a PDF but its structure is broken (`signed`: with a signature in it);
    - encrypted, not_pdf, empty.
    `summary` when the file is, contains or names one of our documents. `earlier`: for an
    authentic file, the signatures the document already carried when it was uploaded (the
    seal's revision comes after them: see core.sealing.prior).
    """

    kind: str
    summary: Summary | None = None
    report: Report | None = None
    extra_bytes: int = 0
    signatures: list[LaterSignature] = field(default_factory=list)
    signed: bool = False  # for a damaged file: it holds something that looks like a signature
    seal_covers_file: bool = True
    earlier: list[LaterSignature] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.kind == "authentic"

    @property
    def contains(self) -> bool:
        """The file holds one of our sealed documents, byte for byte, followed by more."""
        return self.kind in CONTAINS_SEALED

    @property
    def proven(self) -> bool:
        """The bytes prove which of our documents this is: identical, or containing it."""
        return self.identical or self.contains

    def is_document(self, fingerprint: str) -> bool:
        """Is this file, byte for byte, the sealed document with this fingerprint?"""
        return self.identical and self.summary is not None and self.summary.fingerprint == fingerprint


def _document_where(*criteria) -> Document | None:
    return db.session.scalars(
        sa.select(Document).where(*criteria, Document.sealed_sha256.is_not(None)).execution_options(all_tenants=True)
    ).first()


def summary_of(document: Document) -> Summary:
    with tenant_context(document.tenant_id):
        case = db.session.get(Case, document.case_id)
        tenant = db.session.get(Tenant, case.tenant_id)
        signers = [_signer_line(p) for p in case.parties if p.role == "signer"]
        return Summary(tenant.name, case.title, document.filename, document.fingerprint, case.completed_at, signers,
                       time_zone=tenant.setting("time_zone") or DEFAULT_TIME_ZONE)


def _signer_line(party) -> SignerLine:
    signature = party.signature
    if signature is None:
        return SignerLine(party.name, "", party.signed_at)
    method = signing_methods.installed().get(signature.method)
    lines = [(str(label), str(text)) for label, text in method.evidence_lines(signature)] if method else []
    for added in hooks_for_tenant_id(signature.tenant_id).signature_lines(signature=signature):
        lines.extend((str(label), str(text)) for label, text in added or [])
    return SignerLine(party.name, signature.method, party.signed_at, lines)


def by_fingerprint(code: str) -> tuple[str, Summary | None]:
    """("ok", summary) | ("typo", None) | ("malformed", None) | ("unknown", None)."""
    status = codes.check(code or "")
    if status != "ok":
        return status, None
    document = _document_where(Document.fingerprint == codes.normalise(code))
    return ("ok", summary_of(document)) if document is not None else ("unknown", None)


def verify_upload(data: bytes) -> Verdict:
    """The verdict on an uploaded file, for the upload page and the fingerprint page alike."""
    if not data:
        return Verdict("empty")
    if b"%PDF-" not in data[:1024]:
        return Verdict("not_pdf")
    document, length = _sealed_prefix(data)
    if document is not None and length == len(data):
        return Verdict("authentic", summary_of(document), earlier=_earlier_signatures(data, document))
    if document is None:
        receipt_of = _document_where(Document.receipt_sha256 == hashlib.sha256(data).hexdigest())
        if receipt_of is not None:
            return Verdict("receipt", summary_of(receipt_of))
    setup = seal_setup()
    report = validate_sealed(data, setup.trust_roots, seal_certs=[setup.certificate])
    if report.problem == "encrypted":
        return Verdict("encrypted", report=report)
    if document is not None:
        return _after_seal(data, length, document, report)
    return _examine(data, report)


def _earlier_signatures(sealed: bytes, document: Document) -> list[LaterSignature]:
    """The signatures before our seal in a file we sealed (its original was already signed).

    The original's bytes are the start of the sealed file (an incremental update, see
    core.sealing.pipeline); only when they hold a signature is the file validated again.
    """
    if b"/ByteRange" not in sealed[: document.size]:
        return []
    setup = seal_setup()
    report = validate_sealed(sealed, setup.trust_roots, seal_certs=[setup.certificate])
    return [_later(s) for s in report.signatures if not s.ours]


def _sealed_prefix(data: bytes) -> tuple[Document | None, int]:
    """The longest start of `data` that is, byte for byte, a document we sealed, and its length.

    The SHA-256 of the file up to each place where a revision may end is looked up, hashing the
    file once (see `_revision_ends`).
    """
    digest, done, by_hash = hashlib.sha256(), 0, {}
    for end in _revision_ends(data):
        digest.update(data[done:end])
        done = end
        by_hash[digest.hexdigest()] = end
    hashes = list(by_hash)
    found = [document for at in range(0, len(hashes), LOOKUP_BATCH) for document in db.session.scalars(
        sa.select(Document).where(Document.sealed_sha256.in_(hashes[at:at + LOOKUP_BATCH]))
        .execution_options(all_tenants=True)
    )]
    if not found:
        return None, 0
    document = max(found, key=lambda d: by_hash[d.sealed_sha256])
    return document, by_hash[document.sealed_sha256]


def _revision_ends(data: bytes) -> list[int]:
    """Where a revision of this PDF may end, in order: after each "%%EOF" (with or without its end
    of line), where a signature's byte range ends, and at the end of the file.

    A hostile file may hold millions of markers: only the first and last `MARKERS_EACH_END` are
    taken, and byte ranges (which point at the end of the revision they sign, wherever it is)
    find a sealed document among the markers in between.
    """
    first = [m.start() for m in itertools.islice(EOF_MARKER.finditer(data), MARKERS_EACH_END)]
    last, at = [], len(data)
    while len(last) < MARKERS_EACH_END and (at := data.rfind(b"%%EOF", 0, at)) >= 0:
        last.append(at)
    ends = {len(data)}
    for marker in {*first, *last}:
        after = marker + 5
        ends.update((after, after + 1) if data[after:after + 1] in (b"\r", b"\n") else (after,))
        if data[after:after + 2] == b"\r\n":
            ends.add(after + 2)
    for match in itertools.islice(BYTE_RANGE.finditer(data), MARKERS_EACH_END):
        ends.add(int(match.group(1)) + int(match.group(2)))
    return sorted(end for end in ends if 0 < end <= len(data))


def _after_seal(data: bytes, length: int, document: Document, report: Report) -> Verdict:
    """`data` starts with the sealed `document`, exactly: say what follows it."""
    summary = summary_of(document)
    extra = len(data) - length
    sealed_revisions = _revisions(data[:length])
    if report.problem or report.revisions <= sealed_revisions:
        return Verdict("appended_bytes", summary, report, extra_bytes=extra)
    later = [_later(s) for s in report.signatures if s.revision >= sealed_revisions]
    if later:
        return Verdict("signed_after_seal", summary, report, extra_bytes=extra, signatures=later)
    seal = next((s for s in report.signatures if s.ours and s.revision < sealed_revisions), None)
    if seal is not None and seal.modification_level == "LTA_UPDATES" and _same_info(data[:length], data):
        return Verdict("validation_data_added", summary, report, extra_bytes=extra)
    return Verdict("updated_after_seal", summary, report, extra_bytes=extra)


@bounded_call("VERIFY", VERIFY_BOUNDS, lambda _exceeded, *_args: False)
def _same_info(sealed: bytes, data: bytes) -> bool:
    """The document information (title, author ...) is the same: pyHanko's change analysis leaves
    it out, but a PDF reader shows it. Any tool that writes an update stamps its own /ModDate and
    /Producer; those say nothing about the document. In a bounded child: the update is anyone's."""
    try:
        before, after = (dict(PdfReader(io.BytesIO(pdf)).metadata or {}) for pdf in (sealed, data))
    except Exception:  # noqa: BLE001 - unreadable information is not the same information
        return False
    return all(before.get(key) == after.get(key) for key in (set(before) | set(after)) - WRITER_STAMPS)


def _later(signature: SignatureReport) -> LaterSignature:
    """What the page says of a signature. Anyone can put anything in a certificate's name: it is
    shown as one line of visible characters (no text direction overrides), and not at any length."""
    name = header_text(signature.signer_name)
    name = name if len(name) <= NAME_LIMIT else name[:NAME_LIMIT - 1] + "…"
    return LaterSignature(name, signature.intact and signature.valid, signature.trusted)


def _revisions(pdf: bytes) -> int:
    try:
        return PdfFileReader(io.BytesIO(pdf), strict=False).xrefs.total_revisions
    except Exception:  # noqa: BLE001 - we sealed it, so it reads; if not, nothing follows it
        log.warning("a sealed document could not be read again")
        return 0


def _examine(data: bytes, report: Report) -> Verdict:
    """No document of ours is a prefix of the file: what its signatures and pages say."""
    code = find_fingerprint(data)
    document = _document_where(Document.fingerprint == codes.normalise(code)) if code else None
    summary = summary_of(document) if document is not None else None
    if report.problem:
        # A signature's byte range must point into the file as written, so its dictionary is
        # never compressed: a damaged file without "/ByteRange" in its bytes has no signature.
        return Verdict("damaged", summary, report, signed=b"/ByteRange" in data)
    ours = [s for s in report.signatures if s.ours]
    others = [s for s in report.signatures if not s.ours]
    rewritten = not any(s.intact or s.in_place for s in ours)  # no seal, or one that points nowhere
    if document is not None and rewritten and _same_text(data, document):
        return Verdict("resaved_copy", summary, report, signatures=[_later(s) for s in others])
    if ours:
        if any(not s.intact for s in ours):
            return Verdict("modified_after_sealing", summary, report)
        whole = any(s.intact and s.covers_whole_document for s in ours)
        return Verdict("sealed_not_on_record", summary, report, seal_covers_file=whole)
    if not others:
        return Verdict("no_signature", summary, report)
    signatures = [_later(s) for s in others]
    if not all(s.matches for s in signatures):
        return Verdict("signature_broken", summary, report, signatures=signatures)
    if all(s.vouched for s in signatures):
        return Verdict("valid_not_ours", summary, report, signatures=signatures)
    return Verdict("unknown_signer", summary, report, signatures=signatures)


def _same_text(data: bytes, document: Document) -> bool:
    try:
        sealed = blobs().get(document.sealed_sha256)
    except BlobNotFound:
        return False
    return _same_page_texts(data, sealed)


@bounded_call("VERIFY", VERIFY_BOUNDS, lambda _exceeded, *_args: False)
def _same_page_texts(data: bytes, sealed: bytes) -> bool:
    """Every page of the upload has the text of the same page of the sealed document. Pages are
    compared one by one and the comparison stops at the first difference; in a bounded child, as
    the upload is anyone's file."""
    try:
        mine, theirs = PdfReader(io.BytesIO(data)).pages, PdfReader(io.BytesIO(sealed)).pages
        if len(mine) != len(theirs):
            return False
        return all(_text(a) == _text(b) for a, b in zip(mine, theirs, strict=True))
    except Exception as error:  # noqa: BLE001 - an unreadable file has no text to compare
        log.info("page text not compared: %s", error)
        return False


def _text(page) -> str:
    return WHITESPACE.sub(" ", page.extract_text() or "").strip()
