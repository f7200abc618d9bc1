"""Typed field values of many cases at once, streamed: what exports read (web_forms' Excel and CSV).

`columns(content)` gives a template version's fields as columns, in the template's order;
`rows(cases)` (or `by_case(case ids or a subquery)`) walks the values of the selected cases with
one query, a row per case (its fields as one JSON object built in SQL), without holding them all
in memory: `{field name: Decimal | date | bool | str | None}` per case, the
value the party signed or saved, else the prefilled one. Signature fields have no value column.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from core.extensions import db
from core.fields.definitions import FIELD_TYPES
from core.fields.models import CaseField, FieldValue

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
    return by_case(cases.scalar_subquery())


def by_case(case_ids: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """(case id, typed values by field name) for the cases `case_ids` names (a list of ids or a
    subquery), in case id order. One row per case comes back from the database: its fields as a
    JSON object {name: [type, value or default]} built in SQL (PostgreSQL `json_object_agg`,
    SQLite `json_group_object`), read as text and decoded by one `json.loads` per case, then typed
    by a converter per field type; no SQLAlchemy row or JSON processing per field."""
    chosen = FieldValue.id.is_not(None)
    if db.session.get_bind().dialect.name == "postgresql":
        stored = sa.case((chosen, FieldValue.value), else_=CaseField.default)
        pair = sa.func.json_build_array(CaseField.type, stored)
        aggregate = sa.func.json_object_agg(CaseField.name, pair)
    else:  # SQLite keeps JSON as text: json() makes it a value again (NULL stays null)
        stored = sa.func.json(sa.case((chosen, sa.cast(FieldValue.value, sa.Text)),
                                      else_=sa.cast(CaseField.default, sa.Text)))
        pair = sa.func.json_array(CaseField.type, stored)
        aggregate = sa.func.json_group_object(CaseField.name, pair)
    stmt = (sa.select(CaseField.case_id, sa.cast(aggregate, sa.Text))
            # the values' own case ids too: PostgreSQL otherwise scans every value for a batch
            .outerjoin(FieldValue, (FieldValue.field_id == CaseField.id) & FieldValue.case_id.in_(case_ids))
            .where(CaseField.case_id.in_(case_ids), CaseField.type != "signature")
            .group_by(CaseField.case_id)
            .order_by(CaseField.case_id)
            .execution_options(yield_per=BATCH))
    for case_id, fields in db.session.execute(stmt):
        yield case_id, typed(fields)


def of_case(case_id: Any, tenant_id: int) -> sa.ScalarSelect:
    """PostgreSQL: one case's fields as the JSON text `typed` reads, a scalar subquery correlated to
    `case_id` (a column of the enclosing query), for a query that reads a row per case in one pass;
    only `tenant_id`'s rows (the query may run outside the session's tenant scoping).
    Its values are found by their own case id (one index scan and a small hash join per case, not an
    index probe per field: about 30 % less database CPU for 100,000 cases of 20 fields)."""
    stored = sa.case((FieldValue.id.is_not(None), FieldValue.value), else_=CaseField.default)
    aggregate = sa.func.json_object_agg(CaseField.name, sa.func.json_build_array(CaseField.type, stored))
    return (sa.select(sa.cast(aggregate, sa.Text))
            .select_from(CaseField)
            .outerjoin(FieldValue, (FieldValue.field_id == CaseField.id) & (FieldValue.case_id == case_id))
            .where(CaseField.case_id == case_id, CaseField.tenant_id == tenant_id, CaseField.type != "signature")
            .scalar_subquery())


def typed(fields: str | None) -> dict[str, Any]:
    """The JSON text {name: [type, value]} of `by_case`/`of_case` as typed values by field name."""
    if fields is None:
        return {}
    convert = _CONVERT.get
    return {name: (convert(kind, _same))(value) for name, (kind, value) in json.loads(fields).items()}


def _same(value: Any) -> Any:
    return value


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _checkbox(value: Any) -> bool:
    return value is True


# typed() per field type, a function chosen once per value from its type (see values.typed).
_CONVERT = {"number": _number, "date": _date, "date_signed": _date, "checkbox": _checkbox}
