"""A web form's submissions as CSV or Excel, through the core's case export writers.

One row per submission, oldest first: submitted at, the visitor, the case's status and signers,
the template's fields as typed columns (`core.fields.export`: dates as dates, numbers as numbers,
checkboxes as TRUE/FALSE), then the case's number and link. Read in batches; never all at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.case_templates.service import version_of
from core.cases.export import Export
from core.extensions import db
from core.fields import export as field_export
from core.i18n import _
from core.models import Case, Document
from core.security import mask_personal_number
from core.urls import external_url
from plugins.web_forms.models import WebForm, WebFormSubmission

BATCH = 500


def submissions_export(form: WebForm) -> Export:
    from core.cases.views import status_labels

    statuses = status_labels()
    columns = field_export.columns(version_of(form.template).content)
    header = ([_("Submitted (UTC)"), _("Visitor"), _("Email"), _("Phone"), _("Personal identity number"),
               _("Status"), _("Signed by")]
              + [c.label for c in columns] + [_("Fingerprint"), _("Case"), _("Case link")])

    def batches() -> Iterator[list[WebFormSubmission]]:
        last = 0
        while True:
            rows = list(db.session.scalars(
                sa.select(WebFormSubmission).where(WebFormSubmission.form_id == form.id, WebFormSubmission.id > last)
                .order_by(WebFormSubmission.id).limit(BATCH)))
            if not rows:
                return
            yield rows
            last = rows[-1].id

    def rows() -> Iterator[list[Any]]:
        for batch in batches():
            case_ids = [s.case_id for s in batch if s.case_id]
            cases = {c.id: c for c in db.session.scalars(
                sa.select(Case).where(Case.id.in_(case_ids)).options(selectinload(Case.parties)))} if case_ids else {}
            values = dict(field_export.rows(sa.select(Case.id).where(Case.id.in_(case_ids)))) if case_ids else {}
            prints: dict[int, list[str]] = {}
            if case_ids:  # the sealed documents' fingerprints (set when the case is sealed)
                for case_id, code in db.session.execute(
                        sa.select(Document.case_id, Document.fingerprint)
                        .where(Document.case_id.in_(case_ids), Document.fingerprint.is_not(None))
                        .order_by(Document.case_id, Document.position, Document.id)):
                    prints.setdefault(case_id, []).append(code)
            for submission in batch:
                case = cases.get(submission.case_id)
                own = values.get(submission.case_id, {})
                signed = "; ".join(p.name for p in sorted(case.parties, key=lambda p: p.position or 0)
                                   if p.status == "signed") if case else ""
                yield ([submission.created_at, submission.name, submission.email, submission.phone or "",
                        mask_personal_number(submission.personal_number), _status(submission, case, statuses), signed]
                       + [own.get(c.name) for c in columns]
                       + ["; ".join(prints.get(submission.case_id, [])),
                          case.id if case else None,
                          external_url("cases.detail", case_id=case.id) if case else ""])
            for row in [*batch, *cases.values()]:
                if row in db.session:
                    db.session.expunge(row)  # a batch at a time in the session (with its parties), not all

    return Export(header, rows())


def _status(submission: WebFormSubmission, case, statuses: dict) -> str:
    if case is not None:
        return statuses.get(case.status, case.status)
    if submission.waiting:
        return _("Waiting for email confirmation")
    return ""
