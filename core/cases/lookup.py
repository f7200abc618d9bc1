"""A case, party or document named in a URL: one lookup for the office, the API and plugins.

The tenant scoping (`tenants.scoping`) makes another organisation's case simply not found; an id
too large for the database's integer columns names nothing (instead of a database error on
PostgreSQL). What is not found raises a `NotFound` whose description says what was missing: the
office shows its 404 page, the API answers `{"error": {"code": "not_found", "message": ...}}`.
"""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from core.extensions import db
from core.i18n import _
from core.models import Case, Document, Party

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL: a larger id in a URL names nothing


class CaseNotFound(NotFound):
    @property
    def description(self) -> str:  # translated when shown
        return _("There is no case with this id.")

    @description.setter
    def description(self, _value) -> None:
        pass


class PartyNotFound(NotFound):
    @property
    def description(self) -> str:
        return _("The case has no party with this id.")

    @description.setter
    def description(self, _value) -> None:
        pass


class DocumentNotFound(NotFound):
    @property
    def description(self) -> str:
        return _("The case has no document with this id.")

    @description.setter
    def description(self, _value) -> None:
        pass


def find_case(case_id: int) -> Case | None:
    """The current organisation's case with this id, or None."""
    if not 0 < case_id <= MAX_ID:
        return None
    return db.session.scalar(sa.select(Case).where(Case.id == case_id))


def case_or_404(case_id: int) -> Case:
    case = find_case(case_id)
    if case is None:
        raise CaseNotFound()
    return case


def party_or_404(case: Case, party_id: int) -> Party:
    party = next((p for p in case.parties if p.id == party_id), None)
    if party is None:
        raise PartyNotFound()
    return party


def document_or_404(case: Case, document_id: int) -> Document:
    document = next((d for d in case.documents if d.id == document_id), None)
    if document is None:
        raise DocumentNotFound()
    return document
