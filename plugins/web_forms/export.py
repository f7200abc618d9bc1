"""A web form's submissions as CSV or Excel, through the core's case export writers.

One row per submission, oldest first: submitted at, the visitor, the case's status and signers,
the template's fields as typed columns (`core.fields.export`: dates as dates, numbers as numbers,
checkboxes as TRUE/FALSE), then the case's number and link. Never all in memory at once.

On PostgreSQL the rows come from one query (`_statement`: each submission with its case's status,
signers, fingerprints and field values as correlated subqueries, in submission order), read through
a server-side cursor by a producer thread on its own connection, a few thousand rows a fetch, and
handed to the writer through a small bounded queue: the database works out the next rows on its
own core while this process writes the previous ones, and memory stays flat. Elsewhere (SQLite:
development, tests) the rows are read in keyset batches of plain rows in the request's session.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
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

BATCH = 2000  # the batched reader's submissions per batch
FETCH = 4000  # the streamed reader's rows per server-side fetch (and per hand-over to the writer)
AHEAD = 4  # fetches the producer may be ahead of the writer: memory stays a few fetches' worth


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

    def row_of(created_at, name, email, phone, personal_number, case_id, held, status, signed, prints,
               values: dict) -> list[Any]:
        if status:
            status = statuses.get(status, status)
        elif held:
            status = waiting  # as WebFormSubmission.waiting says
        return ([created_at, name, email, phone or "", mask_personal_number(personal_number), status or "",
                 signed or ""]
                + [values.get(n) for n in names]
                + [prints or "", case_id, f"{link_prefix}{case_id}{link_suffix}" if case_id else ""])

    if db.session.get_bind().dialect.name == "postgresql":
        rows = _streamed(db.engine, form.id, form.tenant_id, bool(names), row_of)
    else:
        rows = _batched(form.id, bool(names), row_of)
    return Export(header, rows)


# --- PostgreSQL: one query, read by a producer thread ------------------------------------------------


def _statement(form_id: int, tenant_id: int, with_values: bool) -> sa.Select:
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    s = WebFormSubmission
    signed = (sa.select(sa.func.string_agg(Party.name, aggregate_order_by(sa.literal_column("'; '"), Party.position,
                                                                          Party.id)))
              .where(Party.case_id == s.case_id, Party.tenant_id == tenant_id, Party.status == "signed")
              .scalar_subquery())
    prints = (sa.select(sa.func.string_agg(Document.fingerprint, aggregate_order_by(sa.literal_column("'; '"),
                                                                                    Document.position, Document.id)))
              .where(Document.case_id == s.case_id, Document.tenant_id == tenant_id, Document.fingerprint.is_not(None))
              .scalar_subquery())
    values = field_export.of_case(s.case_id, tenant_id) if with_values else sa.null()
    held = sa.and_(s.case_id.is_(None), s.confirmed_at.is_(None), s.confirm_token_hash.is_not(None))
    return (sa.select(s.created_at, s.name, s.email, s.phone, s.personal_number, s.case_id, held, Case.status,
                      signed, prints, values)
            .select_from(s)
            .outerjoin(Case, (Case.id == s.case_id) & (Case.tenant_id == tenant_id))
            .where(s.form_id == form_id, s.tenant_id == tenant_id)
            .order_by(s.id))


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


_DONE = object()


def _streamed(engine: sa.Engine, form_id: int, tenant_id: int, with_values: bool,
              row_of: Callable[..., list[Any]]) -> Iterator[list[Any]]:
    """The export's rows; a producer thread reads and shapes them (its own connection, a server-side
    cursor) while the caller writes. Abandoning the iterator (a client gone mid-download) stops the
    thread and gives its connection back."""
    statement = _statement(form_id, tenant_id, with_values)
    handed: queue.Queue = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()
    typed = field_export.typed

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            with engine.connect() as conn:
                # a plan run once over 100,000 rows would otherwise be JIT-compiled: ~1.5 s for nothing
                conn.exec_driver_sql("SET LOCAL jit = off")
                result = conn.execution_options(stream_results=True, max_row_buffer=FETCH).execute(statement)
                for part in result.partitions(FETCH):
                    shaped = [row_of(created_at, name, email, phone, number, case_id, held, status, signed,
                                     prints, typed(values))
                              for (created_at, name, email, phone, number, case_id, held, status, signed, prints,
                                   values) in part]
                    if not put(shaped):
                        return
                conn.rollback()
            put(_DONE)
        except BaseException as error:  # noqa: BLE001  handed to the reader, who raises it
            put(_Failed(error))

    thread = threading.Thread(target=produce, name=f"web-form-export-{form_id}", daemon=True)

    def rows() -> Iterator[list[Any]]:
        thread.start()
        try:
            while True:
                item = handed.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield from item
        finally:
            stop.set()
            thread.join()

    return rows()


# --- elsewhere: keyset batches in the request's session ---------------------------------------------


def _batched(form_id: int, with_values: bool, row_of: Callable[..., list[Any]]) -> Iterator[list[Any]]:
    s = WebFormSubmission

    def batches() -> Iterator[list[sa.Row]]:
        last = 0
        while True:
            rows = db.session.execute(
                sa.select(s.id, s.created_at, s.name, s.email, s.phone, s.personal_number, s.case_id, s.confirmed_at,
                          s.confirm_token_hash)
                .where(s.form_id == form_id, s.id > last)
                .order_by(s.id).limit(BATCH)).all()
            if not rows:
                return
            yield rows
            last = rows[-1].id

    # Plain rows, a batch at a time: no ORM objects per submission, case or party.
    for batch in batches():
        # the batch's cases as a subquery (its first and last submission), not a list of ids:
        # 2,000 bound parameters per query cost more to render than the query takes to run
        in_batch = (sa.select(s.case_id)
                    .where(s.form_id == form_id, s.id >= batch[0].id, s.id <= batch[-1].id, s.case_id.is_not(None))
                    .scalar_subquery())
        status_of: dict[int, str] = {}
        signed: dict[int, list[str]] = {}
        prints: dict[int, list[str]] = {}
        values: dict[int, dict] = {}
        if any(row.case_id for row in batch):
            status_of = dict(db.session.execute(sa.select(Case.id, Case.status).where(Case.id.in_(in_batch))).all())
            for case_id, name in db.session.execute(
                    sa.select(Party.case_id, Party.name)
                    .where(Party.case_id.in_(in_batch), Party.status == "signed")
                    .order_by(Party.case_id, Party.position, Party.id)):
                signed.setdefault(case_id, []).append(name)
            for case_id, code in db.session.execute(  # the sealed documents' fingerprints
                    sa.select(Document.case_id, Document.fingerprint)
                    .where(Document.case_id.in_(in_batch), Document.fingerprint.is_not(None))
                    .order_by(Document.case_id, Document.position, Document.id)):
                prints.setdefault(case_id, []).append(code)
            if with_values:
                values = dict(field_export.by_case(in_batch))
        for (_id, created_at, name, email, phone, personal_number, case_id, confirmed_at, token_hash) in batch:
            held = case_id is None and confirmed_at is None and token_hash is not None
            yield row_of(created_at, name, email, phone, personal_number, case_id, held, status_of.get(case_id),
                         "; ".join(signed.get(case_id, ())), "; ".join(prints.get(case_id, ())),
                         values.get(case_id, {}))
