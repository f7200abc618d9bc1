"""`sigill audit verify`: a case's chain checked three ways.

1. The chain itself (`events.verify_chain`): every hash, link and position, under the evidence keys.
2. The anchors (`core.cases.anchoring`): every head an anchor saw must still be in the chain at the
   count it saw, and each anchor must give its root and carry a timestamp over it that checks out.
3. The sealed documents: a sealed case printed the chain head of its `seal_queued` event on every
   receipt, under the service's seal. The sealed file must still be the one recorded, its seal
   intact, and the printed head the chain's.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator

import sqlalchemy as sa

from core.cases import events
from core.cases.anchoring import GENESIS, anchor_problems
from core.extensions import db
from core.models import Case, ChainAnchor, ChainAnchorLeaf, Event
from core.storage import BlobNotFound, blobs

_HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


def verify_cases(case_id: int | None = None, batch: int = 500) -> Iterator[tuple[Case, list[str]]]:
    """Check the event chains of one case or of every case (all tenants), a batch at a time so a
    large database is never held in memory."""
    after = 0
    while True:
        stmt = sa.select(Case).where(Case.id > after).order_by(Case.id).limit(batch)
        if case_id is not None:
            stmt = stmt.where(Case.id == case_id)
        cases = db.session.scalars(stmt.execution_options(all_tenants=True)).all()
        if not cases:
            return
        for case in cases:
            yield case, events.verify_chain(case)
        after = cases[-1].id
        db.session.expunge_all()


def audit_cases(case_id: int | None = None) -> Iterator[tuple[Case, list[str]]]:
    """`verify_cases` with the anchors and sealed documents checked too."""
    anchors: dict[int, list[str]] = {}
    for case, problems in verify_cases(case_id):
        yield case, problems + anchored_problems(case, anchors) + sealed_problems(case)


def anchored_problems(case: Case, checked: dict[int, list[str]] | None = None) -> list[str]:
    """The case's chain against every anchor that saw it (and those anchors themselves)."""
    checked = {} if checked is None else checked
    hashes = dict(db.session.execute(sa.select(Event.seq, Event.hash).where(Event.case_id == case.id)
                                     .execution_options(all_tenants=True)).all())
    rows = db.session.execute(sa.select(ChainAnchorLeaf, ChainAnchor).join(ChainAnchor)
                              .where(ChainAnchorLeaf.case_id == case.id).order_by(ChainAnchor.id)).all()
    problems = []
    for leaf, anchor in rows:
        when = f"the anchor of {anchor.created_at:%Y-%m-%d %H:%M} UTC"
        if leaf.tenant_id != case.tenant_id:
            problems.append(f"{when} saw this case in another organisation (moved)")
        if leaf.event_count > len(hashes):
            problems.append(f"{when} saw {leaf.event_count} events; only {len(hashes)} are stored (removed)")
        elif hashes.get(leaf.event_count, GENESIS) != leaf.head:
            problems.append(f"event #{leaf.event_count} is not the one {when} saw (the chain was rewritten)")
        if anchor.id not in checked:
            previous = db.session.get(ChainAnchor, anchor.id - 1) if anchor.previous_root else None
            checked[anchor.id] = anchor_problems(anchor, previous)
        problems += checked[anchor.id]
    return problems


def missing_cases() -> list[str]:
    """Cases an anchor saw that are no longer stored at all."""
    gone = db.session.execute(sa.select(ChainAnchorLeaf.case_id, sa.func.max(ChainAnchor.created_at))
                              .join(ChainAnchor).outerjoin(Case, Case.id == ChainAnchorLeaf.case_id)
                              .where(Case.id.is_(None)).group_by(ChainAnchorLeaf.case_id)
                              .execution_options(all_tenants=True)).all()
    return [f"case {case_id} was anchored on {moment:%Y-%m-%d %H:%M} UTC but is gone (deleted)"
            for case_id, moment in gone]


def sealed_problems(case: Case) -> list[str]:
    if case.seal_state != "sealed":
        return []
    queued = db.session.scalars(sa.select(Event).where(Event.case_id == case.id, Event.kind == "seal_queued")
                                .order_by(Event.seq.desc()).execution_options(all_tenants=True)).first()
    documents = db.session.execute(sa.text(
        "SELECT filename, sealed_sha256 FROM document WHERE case_id = :case AND sealed_sha256 IS NOT NULL"),
        {"case": case.id}).all()
    problems = []
    for filename, sealed_sha256 in documents:
        try:
            data = blobs().get(sealed_sha256)
        except BlobNotFound:
            problems.append(f"the sealed file of {filename} is missing from storage")
            continue
        problem = _sealed_file_problem(data, sealed_sha256, queued.hash if queued else None)
        if problem:
            problems.append(f"sealed {filename}: {problem}")
    return problems


def _sealed_file_problem(data: bytes, sealed_sha256: str, chain_head: str | None) -> str | None:
    from core.sealing.service import seal_setup
    from core.sealing.validate import validate_sealed

    if hashlib.sha256(data).hexdigest() != sealed_sha256:
        return "the stored file is not the one recorded at sealing"
    setup = seal_setup()
    report = validate_sealed(data, setup.trust_roots, seal_certs=[setup.certificate])
    if not any(s.ours and s.intact and s.valid for s in report.signatures):
        return "its seal is broken or not ours"
    printed = printed_chain_head(data)
    if printed is None:
        return "no chain head found on its receipt"
    if printed != chain_head:
        return (f"its receipt prints chain head {printed[:16]}…, but the chain's head at sealing is "
                f"{(chain_head or 'missing')[:16]}… (the chain was rewritten)")
    return None


def printed_chain_head(sealed_pdf: bytes) -> str | None:
    """The event-chain head printed on the receipt of a sealed document: the receipt lists the
    documents' hashes first and the chain head after them, so it is the last hash on its page."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(sealed_pdf))
    for page in reversed(reader.pages[-4:]):
        found = _HEX64.findall((page.extract_text() or "").lower())
        if found:
            return found[-1]
    return None
