"""A web form's submissions as CSV or Excel, through the core's case export writers.

One row per submission, oldest first: submitted at, the visitor, the case's status and signers,
the template's fields as typed columns (`core.fields.export`: dates as dates, numbers as numbers,
checkboxes as TRUE/FALSE), then the case's number and link. Read in batches of plain rows (no ORM
objects per row); never all at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from core.case_templates.service import version_of
from core.cases.export import Export
from core.extensions import db
from core.fields import export as field_export
from core.i18n import _
from core.models import Case, Document, Party
from core.security import mask_personal_number
from core.urls import external_url
from plugins.web_forms.models import WebForm, WebFormSubmission

BATCH = 2000


def submissions_export(form: WebForm) -> Export:
    from core.cases.views import status_labels

    statuses = status_labels()
    columns = field_export.columns(version_of(form.template).content)
    names = [c.name for c in columns]
    header = ([_("Submitted (UTC)"), _("Visitor"), _("Email"), _("Phone"), _("Personal identity number"),
               _("Status"), _("Signed by")]
              + [c.label for c in columns] + [_("Fingerprint"), _("Case"), _("Case link")])
    waiting = _("Waiting for email confirmation")
    # A case's link around its number: a URL per row without url_for per row.
    link_prefix, link_suffix = external_url("cases.detail", case_id=987654321).split("987654321", 1)

    def batches() -> Iterator[list[sa.Row]]:
        last = 0
        while True:
            rows = db.session.execute(
                sa.select(WebFormSubmission.id, WebFormSubmission.created_at, WebFormSubmission.name,
                          WebFormSubmission.email, WebFormSubmission.phone, WebFormSubmission.personal_number,
                          WebFormSubmission.case_id, WebFormSubmission.confirmed_at,
                          WebFormSubmission.confirm_token_hash)
                .where(WebFormSubmission.form_id == form.id, WebFormSubmission.id > last)
                .order_by(WebFormSubmission.id).limit(BATCH)).all()
            if not rows:
                return
            yield rows
            last = rows[-1].id

    def rows() -> Iterator[list[Any]]:
        # Plain rows, a batch at a time: no ORM objects per submission, case or party.
        for batch in batches():
            case_ids = [s.case_id for s in batch if s.case_id]
            # the batch's cases as a subquery (its first and last submission), not a list of ids:
            # 2,000 bound parameters per query cost more to render than the query takes to run
            in_batch = (sa.select(WebFormSubmission.case_id)
                        .where(WebFormSubmission.form_id == form.id, WebFormSubmission.id >= batch[0].id,
                               WebFormSubmission.id <= batch[-1].id, WebFormSubmission.case_id.is_not(None))
                        .scalar_subquery())
            status_of: dict[int, str] = {}
            signed: dict[int, list[str]] = {}
            prints: dict[int, list[str]] = {}
            values: dict[int, dict] = {}
            if case_ids:
                status_of = dict(db.session.execute(
                    sa.select(Case.id, Case.status).where(Case.id.in_(in_batch))).tuples().all())
                for case_id, name in db.session.execute(
                        sa.select(Party.case_id, Party.name)
                        .where(Party.case_id.in_(in_batch), Party.status == "signed")
                        .order_by(Party.case_id, Party.position, Party.id)).tuples():
                    signed.setdefault(case_id, []).append(name)
                for case_id, code in db.session.execute(  # the sealed documents' fingerprints
                        sa.select(Document.case_id, Document.fingerprint)
                        .where(Document.case_id.in_(in_batch), Document.fingerprint.is_not(None))
                        .order_by(Document.case_id, Document.position, Document.id)).tuples():
                    prints.setdefault(case_id, []).append(code)
                if names:
                    values = dict(field_export.by_case(in_batch))
            for (_submission_id, created_at, name, email, phone, personal_number, case_id, confirmed_at,
                 confirm_token_hash) in batch:
                status = status_of.get(case_id)
                if status:
                    status = statuses.get(status, status)
                elif case_id is None and confirmed_at is None and confirm_token_hash is not None:
                    status = waiting  # as WebFormSubmission.waiting says
                own = values.get(case_id, {})
                yield ([created_at, name, email, phone or "", mask_personal_number(personal_number), status or "",
                        "; ".join(signed.get(case_id, ()))]
                       + [own.get(n) for n in names]
                       + ["; ".join(prints.get(case_id, ())), case_id,
                          f"{link_prefix}{case_id}{link_suffix}" if case_id else ""])

    return Export(header, rows())

