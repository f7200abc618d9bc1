"""Anchors: the chain heads of the cases under an RFC 3161 timestamp, kept and checkable offline.

Every ten minutes (a periodic task) the heads of the cases whose chain moved since the previous
anchor, and that anchor's root, become the leaves of a Merkle tree (RFC 6962 hashing: leaves and
nodes prefixed differently). Its root is sent to the timestamp server (`TSA_URL`); the token it
signs comes back and is kept with the leaves. Because each anchor starts from the previous root,
the anchors form a chain too, and together they cover the latest head of every case.

What this adds to the keyed chain: a stranger to the evidence keys (or someone who later gets
them) cannot rewrite what was anchored, because the TSA's signature fixes the root, and the root
fixes each anchored head and event count. A chain cut short after an anchor shows as "the anchor
saw N events". Checking needs no network: the token carries the TSA's certificates, and
`TSA_TRUST_ROOTS` names the root to trust.

What it cannot do: events after the latest anchor have only the keyed hashes; without a TSA
(`TSA_URL` unset) anchors are recorded without a timestamp and protect nothing against the
database's admin.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from asn1crypto import cms, pem, x509
from flask import current_app

from core.extensions import db
from core.models import Case, ChainAnchor, ChainAnchorLeaf
from core.models.base import utcnow

log = logging.getLogger(__name__)

GENESIS = "0" * 64
TSA_TIMEOUT_SECONDS = 10
# Cases whose last activity falls this long before the previous anchor are taken again: a
# transaction that was still open then is seen now.
OVERLAP = timedelta(minutes=5)


@dataclass(frozen=True)
class Head:
    case_id: int
    tenant_id: int
    event_count: int
    head: str


def leaf_hash(head: Head) -> bytes:
    return hashlib.sha256(b"\x00" + f"case:{head.case_id}:{head.tenant_id}:{head.event_count}:{head.head}"
                          .encode()).digest()


def previous_leaf(root: str) -> bytes:
    return hashlib.sha256(b"\x00" + f"anchor:{root}".encode()).digest()


def merkle_root(leaves: list[bytes]) -> str:
    """RFC 6962's tree hash: split at the largest power of two below the count."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()

    def tree(nodes: list[bytes]) -> bytes:
        if len(nodes) == 1:
            return nodes[0]
        split = 1 << ((len(nodes) - 1).bit_length() - 1)
        return hashlib.sha256(b"\x01" + tree(nodes[:split]) + tree(nodes[split:])).digest()

    return tree(leaves).hex()


def root_of(previous_root: str | None, heads: list[Head]) -> str:
    leaves = ([previous_leaf(previous_root)] if previous_root else []) + [leaf_hash(h) for h in heads]
    return merkle_root(leaves)


def anchor_heads() -> ChainAnchor | None:
    """The periodic task: anchor every head that moved since the previous anchor (all tenants)."""
    previous = db.session.scalars(sa.select(ChainAnchor).order_by(ChainAnchor.id.desc()).limit(1)).first()
    stmt = sa.select(Case.id, Case.tenant_id, Case.event_count, Case.event_head).order_by(Case.id)
    if previous is not None:
        stmt = stmt.where(Case.last_activity_at >= previous.created_at - OVERLAP)
    heads = [Head(case_id, tenant_id, count or 0, head or GENESIS)
             for case_id, tenant_id, count, head in db.session.execute(stmt.execution_options(all_tenants=True))]
    if previous is not None:
        anchored = _anchored_now({h.case_id for h in heads})
        heads = [h for h in heads if anchored.get(h.case_id) != (h.event_count, h.head)]
    if not heads:
        return None
    previous_root = previous.root if previous is not None else None
    anchor = ChainAnchor(previous_root=previous_root, root=root_of(previous_root, heads), leaf_count=len(heads),
                         created_at=utcnow(), tsa_url=current_app.config.get("TSA_URL"))
    if anchor.tsa_url:
        anchor.token = _timestamp(anchor.tsa_url, anchor.root)
        anchor.timestamped_at = utcnow()
    db.session.add(anchor)
    db.session.flush()
    db.session.execute(sa.insert(ChainAnchorLeaf), [
        {"anchor_id": anchor.id, "case_id": h.case_id, "tenant_id": h.tenant_id, "event_count": h.event_count,
         "head": h.head} for h in heads])
    db.session.commit()
    log.info("anchored %s chain head(s) under root %s%s", len(heads), anchor.root[:16],
             "" if anchor.token else " (no TSA_URL: not timestamped)")
    return anchor


def _anchored_now(case_ids: set[int]) -> dict[int, tuple[int, str]]:
    """The latest anchored (count, head) of each case."""
    latest = (sa.select(ChainAnchorLeaf.case_id, sa.func.max(ChainAnchorLeaf.anchor_id).label("anchor_id"))
              .where(ChainAnchorLeaf.case_id.in_(case_ids)).group_by(ChainAnchorLeaf.case_id).subquery())
    rows = db.session.execute(sa.select(ChainAnchorLeaf.case_id, ChainAnchorLeaf.event_count, ChainAnchorLeaf.head)
                              .join(latest, sa.and_(latest.c.case_id == ChainAnchorLeaf.case_id,
                                                    latest.c.anchor_id == ChainAnchorLeaf.anchor_id)))
    return {case_id: (count, head) for case_id, count, head in rows}


def _timestamp(tsa_url: str, root: str) -> bytes:
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    digest = hashlib.sha256(bytes.fromhex(root)).digest()
    stamper = RequestsHTTPTimeStamper(tsa_url, timeout=TSA_TIMEOUT_SECONDS)
    return asyncio.run(stamper.async_timestamp(digest, "sha256")).dump()


# --- checking ------------------------------------------------------------------------------------


def anchor_problems(anchor: ChainAnchor, previous: ChainAnchor | None) -> list[str]:
    """What is wrong with an anchor itself: leaves that do not give its root, a broken anchor
    chain, or a timestamp that does not cover the root or does not check out."""
    name = f"anchor {anchor.id} of {anchor.created_at:%Y-%m-%d %H:%M} UTC"
    leaves = db.session.scalars(sa.select(ChainAnchorLeaf).where(ChainAnchorLeaf.anchor_id == anchor.id)
                                .order_by(ChainAnchorLeaf.case_id)).all()
    heads = [Head(leaf.case_id, leaf.tenant_id, leaf.event_count, leaf.head) for leaf in leaves]
    problems = []
    if root_of(anchor.previous_root, heads) != anchor.root or len(heads) != anchor.leaf_count:
        problems.append(f"{name}: its stored heads do not give its root (edited)")
    if (previous.root if previous else None) != anchor.previous_root:
        problems.append(f"{name}: does not follow the anchor before it (anchors removed or edited)")
    if anchor.token is not None:
        problems += [f"{name}: {problem}" for problem in timestamp_problems(anchor.token, anchor.root)]
    return problems


def timestamp_problems(token: bytes, root: str) -> list[str]:
    """Check an RFC 3161 token over `root` offline, against TSA_TRUST_ROOTS when configured."""
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    try:
        signed_data = cms.ContentInfo.load(token)["content"]
        roots = tsa_trust_roots()
        context = ValidationContext(trust_roots=roots, allow_fetching=False) if roots else None
        status = asyncio.run(validate_tst_signed_data(
            signed_data, context, lambda algorithm: hashlib.new(algorithm, bytes.fromhex(root)).digest()))
    except Exception as exc:  # noqa: BLE001  an unreadable token is a finding
        return [f"its timestamp token cannot be read ({type(exc).__name__})"]
    if not status.get("intact") or not status.get("valid"):
        return ["its timestamp does not cover its root, or its signature is broken (edited)"]
    if roots and status.get("trust_problem_indic") is not None:
        return ["its timestamp is not signed by a trusted timestamp server (TSA_TRUST_ROOTS)"]
    return []


def tsa_trust_roots() -> list[x509.Certificate]:
    setting = current_app.config.get("TSA_TRUST_ROOTS") or ""
    roots = []
    for path in filter(None, (part.strip() for part in setting.replace(",", " ").split())):
        data = Path(path).read_bytes()
        blocks = [der for _type, _headers, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
        roots += [x509.Certificate.load(der) for der in blocks]
    return roots
