"""The case data export: the office's case list as CSV or Excel, streamed, with plugin columns.

One row per case the list's filters select (status, mine, search, template), oldest first: the
case's own columns, then, for a list filtered by a template, the typed values of its fields
(`core.fields.export`), then what the tenant's plugins add through `export_columns`. Cases are
read in batches of `BATCH`; nothing holds the whole export in memory (the Excel file is written
row by row to a spooled temporary file, `core.xlsx`).

Cells that a spreadsheet would run as a formula (text starting with = + - @ or a tab/CR) are
written as text: in CSV behind an apostrophe, in Excel as a string cell.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.case_templates import service as templates
from core.cases import listing
from core.extensions import db
from core.fields import export as field_export
from core.i18n import _
from core.models import Case
from core.models.case import CASE_STATUSES
from core.plugins import current_hooks

BATCH = 500
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    header: list[str]
    rows: Iterator[list[Any]]


def _base_header() -> list[str]:
    return [_("Case"), _("Title"), _("Status"), _("Handled by"), _("Created (UTC)"), _("Sent (UTC)"),
            _("Signed (UTC)"), _("Parties")]


def _base_row(case: Case, statuses: dict[str, str]) -> list[Any]:
    ordered = sorted(case.parties, key=lambda p: p.position or 0)
    parties = "; ".join(f"{p.name} <{p.email}>" if p.email else p.name for p in ordered)
    return [case.id, case.title, statuses.get(case.status, case.status), case.owner.name if case.owner else "",
            case.created_at, case.sent_at, case.completed_at, parties]


def _ids(status: str | None, owner_id: int | None, q: str | None, template_id: int | None) -> Iterator[list[int]]:
    stmt = sa.select(Case.id).where(*listing._filters(owner_id, q, template_id)).order_by(Case.id)
    if status in CASE_STATUSES:
        stmt = stmt.where(Case.status == status)
    chunk: list[int] = []
    for case_id in db.session.scalars(stmt.execution_options(yield_per=BATCH)):
        chunk.append(case_id)
        if len(chunk) == BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _plugin_columns(cases: list[Case]) -> list[tuple[str, dict[int, Any]]]:
    found = []
    for provided in current_hooks().export_columns(cases=cases):
        for label, values in provided or []:
            found.append((str(label), dict(values or {})))
    return found


def case_export(status: str | None = None, owner_id: int | None = None, q: str | None = None,
                template=None) -> Export:
    """The export of the current tenant's cases the filters select (`template`: a CaseTemplate)."""
    from core.cases.views import status_labels

    statuses = {s: label for s, label in status_labels().items()}
    template_id = template.id if template is not None else None
    field_columns = field_export.columns(templates.version_of(template).content) if template is not None else []
    batches = _ids(status, owner_id, q, template_id)
    first_ids = next(batches, [])
    first_cases = _load(first_ids)
    first_plugins = _plugin_columns(first_cases)  # the header: every plugin answers for any batch
    labels = [label for label, _values in first_plugins]
    header = _base_header() + [c.label for c in field_columns] + labels

    def batch_rows(cases: list[Case], plugin_columns) -> Iterator[list[Any]]:
        by_label = dict(plugin_columns)
        values = dict(field_export.by_case([c.id for c in cases])) \
            if field_columns else {}
        for case in cases:
            own = values.get(case.id, {})
            yield (_base_row(case, statuses) + [own.get(c.name) for c in field_columns]
                   + [by_label.get(label, {}).get(case.id) for label in labels])

    def rows() -> Iterator[list[Any]]:
        if first_cases:
            yield from batch_rows(first_cases, first_plugins)
        for ids in batches:
            cases = _load(ids)
            yield from batch_rows(cases, _plugin_columns(cases))
            db.session.expunge_all()  # a batch at a time, not the whole export, in the session

    return Export(header, rows())


def _load(ids: list[int]) -> list[Case]:
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Case).where(Case.id.in_(ids)).order_by(Case.id)
                                   .options(selectinload(Case.parties), selectinload(Case.owner))))


# --- writing -------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date | Decimal | int | float):
        return str(value) if not isinstance(value, date) else value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_chunks(export: Export, delimiter: str = ",") -> Iterator[str]:
    """UTF-8 CSV (with a BOM, so spreadsheets read å, ä, ö), a few hundred rows per chunk;
    `delimiter=";"` for spreadsheets set up for Swedish, where the comma is the decimal sign."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    out.write("\ufeff")
    writer.writerow([_text(h) for h in export.header])
    for n, row in enumerate(export.rows, 1):
        writer.writerow([_text(v) for v in row])
        if n % 200 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def xlsx_file(export: Export, sheet: str | None = None) -> tempfile.SpooledTemporaryFile:
    """An Excel workbook written row by row (`core.xlsx`, streamed into the zip), rewound for reading:
    one sheet (named `sheet`, default "Cases"), the header row frozen and an autofilter over the rows.
    Text is never a formula; datetimes are UTC, as headed."""
    from core import xlsx

    spooled = tempfile.SpooledTemporaryFile(max_size=16 * 2**20)  # noqa: SIM115  (returned, closed by the response)
    xlsx.write(spooled, sheet or _("Cases"), [str(h) for h in export.header], export.rows)
    spooled.seek(0)
    return spooled
