"""The case list: status tabs with counts, "my cases", search, newest activity first, keyset pages.

Built to stay fast with hundreds of thousands of cases per tenant (see bench/bench_case_list.py):
the list walks the (tenant, [status | owner], last_activity_at, id) indexes in order; a search by
email uses the party email index (prefix range), a fingerprint is an exact index lookup; only a
free-text search (title, party name, part of an address) has to scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import format_number
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.models import Case, Document, Party
from core.models.case import CASE_STATUSES

PAGE_SIZE = 25
COUNT_CAP = 10_000
_TOP = "\U0010ffff"


@dataclass
class CasePage:
    cases: list[Case]
    next_cursor: str | None


def encode_cursor(case: Case) -> str:
    return f"{case.last_activity_at.isoformat()}_{case.id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    moment, _sep, case_id = cursor.rpartition("_")
    try:
        return datetime.fromisoformat(moment), int(case_id)
    except ValueError:
        return None


def fingerprint_query(q: str) -> str | None:
    """The canonical fingerprint if `q` is shaped like one, else None."""
    from core.sealing.fingerprint import check, normalise

    return normalise(q) if check(q) != "malformed" else None


def _is_free_text(q: str) -> bool:
    """Neither an address nor a fingerprint: the search has to scan titles and names."""
    return "@" not in q and fingerprint_query(q.strip()) is None


def _search_condition(q: str):
    q = q.strip()
    fingerprint = fingerprint_query(q)
    if fingerprint is not None:
        return Case.id.in_(sa.select(Document.case_id).where(Document.fingerprint == fingerprint))
    lowered = q.lower()
    if "@" in lowered:
        # Addresses are stored lower-case: a prefix range walks the (tenant_id, email) index.
        return Case.id.in_(sa.select(Party.case_id).where(Party.email >= lowered, Party.email < lowered + _TOP))
    pattern = "%" + lowered.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    # One set of matching case ids (a UNION plans better than an OR over a subquery).
    return Case.id.in_(sa.union(
        sa.select(Case.id).where(Case.title.ilike(pattern, escape="\\")),
        sa.select(Party.case_id).where(
            sa.or_(Party.name.ilike(pattern, escape="\\"), Party.email.like(pattern, escape="\\"))),
    ))


def _filters(owner_id: int | None, q: str | None, template_id: int | None = None) -> list:
    conditions = []
    if owner_id is not None:
        conditions.append(Case.owner_id == owner_id)
    if template_id is not None:
        conditions.append(Case.template_id == template_id)
    if q and q.strip():
        conditions.append(_search_condition(q))
    return conditions


def list_cases(status: str | None = None, owner_id: int | None = None, q: str | None = None,
               cursor: str | None = None, limit: int = PAGE_SIZE, template_id: int | None = None) -> CasePage:
    """One page of the current tenant's cases, latest activity first (of one template, if given)."""
    stmt = sa.select(Case).where(*_filters(owner_id, q, template_id))
    if status in CASE_STATUSES:
        stmt = stmt.where(Case.status == status)
    after = decode_cursor(cursor)
    if after is not None:
        moment, case_id = after
        stmt = stmt.where(sa.tuple_(Case.last_activity_at, Case.id)
                          < sa.tuple_(sa.literal(moment, Case.last_activity_at.type), sa.literal(case_id)))
    stmt = (stmt.order_by(Case.last_activity_at.desc(), Case.id.desc()).limit(limit + 1)
            .options(selectinload(Case.parties), selectinload(Case.owner)))
    rows = list(db.session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    return CasePage(cases=rows, next_cursor=encode_cursor(rows[-1]) if more and rows else None)


def status_counts(owner_id: int | None = None, q: str | None = None, template_id: int | None = None) -> dict[str, int]:
    """How many cases each status tab holds (with the same "mine" and search filters).

    Exact up to COUNT_CAP per status; above that the count is COUNT_CAP + 1 and the tab shows
    "10,000+". Counting stops there, so the tabs cost the same for 20,000 or 2,000,000 cases.
    """
    conditions = _filters(owner_id, q, template_id)
    if q and q.strip() and _is_free_text(q):
        # A free-text search scans anyway: one pass that counts every status beats six.
        grouped = sa.select(Case.status, sa.func.count()).where(*conditions).group_by(Case.status)
        counts = dict.fromkeys(CASE_STATUSES, 0)
        counts.update({status: count for status, count in db.session.execute(grouped)})
        return counts

    def capped(status: str):
        matching = sa.select(Case.id).where(Case.status == status, *conditions).limit(COUNT_CAP + 1).subquery()
        return sa.select(sa.func.count()).select_from(matching).scalar_subquery()

    row = db.session.execute(sa.select(*(capped(status) for status in CASE_STATUSES))).one()
    return dict(zip(CASE_STATUSES, row, strict=True))


def tab_counts(counts: dict[str, int]) -> dict[str, str]:
    """What each tab shows: "1,234", or "10,000+" past the cap; "all" adds them up."""
    capped = any(n > COUNT_CAP for n in counts.values())
    total = sum(min(n, COUNT_CAP) for n in counts.values())
    shown = {status: f"{format_number(COUNT_CAP)}+" if n > COUNT_CAP else format_number(n)
             for status, n in counts.items()}
    shown["all"] = f"{format_number(total)}+" if capped else format_number(total)
    return shown
