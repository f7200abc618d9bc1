"""Typed field values of many cases at once, streamed: what exports read (web_forms' Excel and CSV).

`columns(content)` gives a template version's fields as columns, in the template's order;
`rows(cases)` walks the values of the selected cases with one query, a case at a time, without
holding them all in memory: `{field name: Decimal | date | bool | str | None}` per case, the
value the party signed or saved, else the prefilled one. Signature fields have no value column.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.extensions import db
from core.fields.definitions import FIELD_TYPES
from core.fields.models import CaseField, FieldValue
from core.fields.values import typed

BATCH = 5000


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    type: str  # one of definitions.FIELD_TYPES


def columns(content: dict) -> list[Column]:
    """The value columns of a template version's content (see case_templates.schemas)."""
    return [Column(f["name"], f.get("label") or f["name"], f["type"]) for f in content.get("fields", [])
            if f["type"] in FIELD_TYPES and f["type"] != "signature"]


def rows(cases: sa.Select) -> Iterator[tuple[int, dict[str, Any]]]:
    """(case id, typed values by field name) for each case id `cases` selects, in case id order."""
    stmt = (sa.select(CaseField.case_id, CaseField.name, CaseField.type, CaseField.default, FieldValue.value,
                      FieldValue.id)
            .outerjoin(FieldValue, FieldValue.field_id == CaseField.id)
            .where(CaseField.case_id.in_(cases.scalar_subquery()), CaseField.type != "signature")
            .order_by(CaseField.case_id, CaseField.position, CaseField.id)
            .execution_options(yield_per=BATCH))
    current, values = None, {}
    for case_id, name, kind, default, value, value_id in db.session.execute(stmt):
        if case_id != current:
            if current is not None:
                yield current, values
            current, values = case_id, {}
        values[name] = typed(kind, value if value_id is not None else default)
    if current is not None:
        yield current, values
