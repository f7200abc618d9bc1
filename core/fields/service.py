"""A case's fields and values: placing them, filling them in, freezing them at signing, reading them.

Functions work in the caller's transaction and never commit. Who may do what is the caller's to
check (the office for placing fields on drafts, the signer's page for filling in); this module
keeps the values consistent: every value is checked by the schema generated from the field
definitions, saves name the revision they started from, and a party's values are frozen with
their signature.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core import timezones
from core.extensions import db
from core.fields import values as field_values
from core.fields.definitions import AUTOMATIC_TYPES, HASHED_TYPES, FieldSpec, option_areas
from core.fields.drawing import Mark, Strokes
from core.fields.geometry import page_boxes
from core.fields.models import CaseField, FieldValue
from core.i18n import _, force_locale
from core.models import Case, Document, Party
from core.models.base import utcnow
from core.signing import methods as signing_methods
from core.storage import blobs
from tenants.models import Tenant

log = logging.getLogger(__name__)

DEFAULT_TIME_ZONE = timezones.DEFAULT_TIME_ZONE


# --- placing fields ------------------------------------------------------------------------------


# Built once (SQLAlchemy caches their compiled form): the signer page reads a case's fields on
# every request, and building the statement costs more than running it.
_FIELDS = (sa.select(CaseField).where(CaseField.case_id == sa.bindparam("case_id"))
           .order_by(CaseField.position, CaseField.id))
_FIELDS_WITH_VALUES = (sa.select(CaseField, FieldValue).outerjoin(FieldValue, FieldValue.field_id == CaseField.id)
                       .where(CaseField.case_id == sa.bindparam("case_id"))
                       .order_by(CaseField.position, CaseField.id))


# Inside `read_once(case)`: the case's fields and stored values as read the first time.
_read_once: contextvars.ContextVar[dict | None] = contextvars.ContextVar("fields_read_once", default=None)


@contextlib.contextmanager
def read_once(case: Case):
    """Within the block, `fields_of(case)` and `stored_values(case)` query once and then answer
    from what they read: for work that only reads a case's fields, several times over (the
    sealing job draws the marks, names the replaced form fields and prints the receipt's values:
    five queries a case, two with this). Nothing in the block may change the case's fields."""
    token = _read_once.set({"case_id": case.id})
    try:
        yield
    finally:
        _read_once.reset(token)


def _remembered(case: Case, key: str, read):
    memo = _read_once.get()
    if memo is None or memo["case_id"] != case.id:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def fields_of(case: Case) -> list[CaseField]:
    return list(_remembered(case, "fields", lambda: list(db.session.scalars(_FIELDS, {"case_id": case.id}))))


@dataclass(frozen=True)
class CaseFields:
    """A case's fields in order and their stored values by field id, read together in one query
    (`read`): a request that needs both, for several purposes (the signer page: what the party
    signs and what the page shows), reads them once and passes this on."""

    rows: tuple[CaseField, ...]
    stored: dict[int, FieldValue]

    def of(self, party: Party) -> list[CaseField]:
        return [f for f in self.rows if f.party_id == party.id]


def read(case: Case) -> CaseFields:
    """The case's fields and their stored values, in one query."""
    rows, stored = [], {}
    for row, value in db.session.execute(_FIELDS_WITH_VALUES, {"case_id": case.id}):
        rows.append(row)
        if value is not None:
            stored[row.id] = value
    return CaseFields(tuple(rows), stored)


def read_many(case_ids: list[int]) -> dict[int, CaseFields]:
    """`read` for several cases in one query (a batch that signs many cases: no query per case).
    Every id gets an entry, empty for a case without fields."""
    rows: dict[int, list[CaseField]] = {case_id: [] for case_id in case_ids}
    stored: dict[int, dict[int, FieldValue]] = {case_id: {} for case_id in case_ids}
    if case_ids:
        query = (sa.select(CaseField, FieldValue).outerjoin(FieldValue, FieldValue.field_id == CaseField.id)
                 .where(CaseField.case_id.in_(case_ids)).order_by(CaseField.case_id, CaseField.position, CaseField.id))
        for row, value in db.session.execute(query):
            rows[row.case_id].append(row)
            if value is not None:
                stored[row.case_id][row.id] = value
    return {case_id: CaseFields(tuple(rows[case_id]), stored[case_id]) for case_id in case_ids}


def page_sizes(document: Document) -> list[tuple[float, float]]:
    """Each page's visible size as viewed, in points."""
    return [box.viewed_size for box in page_boxes(blobs().get(document.sha256))]


def replace_fields(case: Case, specs: list[FieldSpec], sizes: dict[int, list[tuple[float, float]]]) -> None:
    """Make the case's fields exactly `specs` (document = document id, assignee = party id or
    None); `sizes` gives each document's page sizes. Values of fields that stay are kept."""
    existing = {f.name: f for f in fields_of(case)}
    for position, spec in enumerate(specs):
        row = existing.pop(spec.name, None)
        if row is None:
            row = CaseField(case_id=case.id, tenant_id=case.tenant_id, name=spec.name)
            db.session.add(row)
        _write(row, spec, position, sizes[spec.document][spec.page - 1])
    for row in existing.values():
        db.session.delete(row)
    db.session.flush()


def _write(row: CaseField, spec: FieldSpec, position: int, size: tuple[float, float]) -> None:
    row.document_id = spec.document
    row.party_id = int(spec.assignee) if spec.assignee else None
    row.position = position
    row.type, row.label, row.page = spec.type, spec.label, spec.page
    row.x, row.y, row.w, row.h = spec.x, spec.y, spec.w, spec.h
    row.page_width, row.page_height = size
    row.required, row.read_only, row.default = spec.required, spec.read_only, spec.default
    row.options, row.option_areas = list(spec.options), [list(a) for a in spec.option_areas]
    row.rules = {rule: getattr(spec, rule) for rule in CaseField.RULES if getattr(spec, rule) is not None}
    row.acroform = spec.acroform


def unassigned(case: Case) -> list[CaseField]:
    """Fields nobody fills in (their party was removed): the case cannot be sent like that."""
    return [f for f in fields_of(case) if f.party_id is None]


def prefill(case: Case, raw: dict[str, Any]) -> dict[str, list[str]]:
    """Set prefilled values (the office's or the API's) as the fields' defaults; errors by name."""
    rows = {f.name: f for f in fields_of(case)}
    errors = {name: [_("The template has no field with this name.")] for name in raw if name not in rows}
    for name, value in raw.items():
        if name not in rows:
            continue
        canonical, problem = field_values.check_value(rows[name].spec, value, rows[name].box_points)
        if problem:
            errors[name] = [problem]
        else:
            rows[name].default = canonical
    return errors


# --- filling in ----------------------------------------------------------------------------------


@dataclass
class Saved:
    """The answer to a save: canonical values and revisions of what was saved, errors by name,
    and for conflicts the value another tab or device saved meanwhile."""

    values: dict[str, Any] = field(default_factory=dict)
    revisions: dict[str, int] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Every saved value of the party's fields as now stored ({"value", "revision"}): a page learns
    # of fields another tab or device changed, even those it did not send.
    current: dict[str, dict[str, Any]] = field(default_factory=dict)


def party_fields(case: Case, party: Party) -> list[CaseField]:
    return [f for f in fields_of(case) if f.party_id == party.id]


def fillable(rows: list[CaseField]) -> list[CaseField]:
    return [f for f in rows if f.type not in AUTOMATIC_TYPES and not f.read_only]


def stored_values(case: Case) -> dict[int, FieldValue]:
    return dict(_remembered(case, "stored", lambda: {
        v.field_id: v for v in db.session.scalars(sa.select(FieldValue).where(FieldValue.case_id == case.id))}))


def current_values(rows: list[CaseField], stored: dict[int, FieldValue]) -> dict[str, Any]:
    """Each field's value: what was saved, else its default."""
    return {f.name: stored[f.id].value if f.id in stored else f.default for f in rows}


def save_values(case: Case, party: Party, raw: dict[str, Any], revisions: dict[str, int]) -> Saved:
    """Save some of the party's values (as they type). `revisions` names, per field, the revision
    the party's page had (0: none yet); a field saved elsewhere since is a conflict, not overwritten."""
    rows = fillable(party_fields(case, party))
    boxes = {f.name: f.box_points for f in rows}
    values, errors = field_values.load_values([f.spec for f in rows], raw, partial=True, boxes=boxes)
    saved = Saved(errors=errors)
    stored = stored_values(case)
    by_name = {f.name: f for f in rows}
    for name, value in values.items():
        row = by_name[name]
        revision = _save_one(case, party, row, stored.get(row.id), value, revisions.get(name, 0))
        if revision is None:
            current = db.session.scalar(sa.select(FieldValue).where(FieldValue.field_id == row.id))
            saved.conflicts[name] = {"value": current.value if current else None,
                                     "revision": current.revision if current else 0}
        else:
            saved.values[name], saved.revisions[name] = value, revision
    db.session.flush()
    now_stored = {v.field_id: v for v in db.session.scalars(
        sa.select(FieldValue).where(FieldValue.case_id == case.id).execution_options(populate_existing=True))}
    saved.current = {row.name: {"value": now_stored[row.id].value, "revision": now_stored[row.id].revision}
                     for row in rows if row.id in now_stored}
    return saved


def _save_one(case: Case, party: Party, row: CaseField, stored: FieldValue | None, value: Any,
              base: int) -> int | None:
    """The new revision, or None when the base revision is not the stored one (a conflict)."""
    now = utcnow()
    if stored is None:
        if base:
            return None
        try:
            with db.session.begin_nested():
                db.session.add(FieldValue(case_id=case.id, tenant_id=case.tenant_id, field_id=row.id,
                                          party_id=party.id, value=value, revision=1, updated_at=now))
        except IntegrityError:  # the other tab saved this field's first value a moment ago
            return None
        return 1
    if stored.value == value and stored.revision == base:
        return base
    changed = db.session.execute(
        sa.update(FieldValue).where(FieldValue.id == stored.id, FieldValue.revision == base,
                                    FieldValue.signed_at.is_(None))
        .values(value=value, revision=base + 1, updated_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.expire(stored)
        return None
    return base + 1


# --- signing -------------------------------------------------------------------------------------


@dataclass
class SignedValues:
    """What a party's signature binds: their hashed values, canonical, and their SHA-256
    (None when the party has no fields); `errors` while something is missing or wrong."""

    values: dict[str, Any]
    sha256: str | None
    errors: dict[str, list[str]]


def signing_values(case: Case, party: Party, state: CaseFields | None = None) -> SignedValues:
    """The party's values as they would be signed now, checked in full (required fields too).
    `state`: the case's fields as already read in this request (else they are read)."""
    state = read(case) if state is None else state
    rows = state.of(party)
    if not rows:
        return SignedValues({}, None, {})
    stored = state.stored
    current = current_values(rows, stored)
    current.update({f.name: party.name for f in rows if f.type == "name"})
    inputs = fillable(rows)
    boxes = {f.name: f.box_points for f in inputs}
    _checked, errors = field_values.load_values([f.spec for f in inputs], {f.name: current[f.name] for f in inputs},
                                                boxes=boxes)
    hashed = {f.name: current[f.name] for f in rows if f.type in HASHED_TYPES}
    return SignedValues(hashed, field_values.values_sha256(hashed), errors)


def freeze_values(case: Case, party: Party, signed: dict[str, Any], signed_at: datetime) -> None:
    """Store the values the party signed (`SignedValues.values`), and the automatic ones (the
    signing date), as final: saves from another tab or device can no longer change them."""
    rows = party_fields(case, party)
    stored = stored_values(case)
    date_signed = local_date(case, signed_at)
    for row in rows:
        if row.type == "signature":
            continue
        value = date_signed if row.type == "date_signed" else signed.get(row.name)
        existing = stored.get(row.id)
        if existing is None:
            db.session.add(FieldValue(case_id=case.id, tenant_id=case.tenant_id, field_id=row.id, party_id=party.id,
                                      value=value, revision=1, updated_at=signed_at, signed_at=signed_at))
        else:
            existing.value, existing.signed_at = value, signed_at
    db.session.flush()


def local_date(case: Case, moment: datetime) -> str:
    """The date of `moment` where the organisation is (its time zone setting, else Sweden)."""
    return timezones.format_date(moment, _zone(case))


def _zone(case: Case) -> str:
    """The organisation's time zone setting (core.timezones reads it; an unknown name is the default)."""
    tenant = db.session.get(Tenant, case.tenant_id)
    return (tenant.setting("time_zone") if tenant is not None else None) or DEFAULT_TIME_ZONE


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldData:
    """One field of a case with its typed value, as the case page, the API and exports read it."""

    name: str
    label: str
    type: str
    party_id: int | None
    value: Any  # Decimal, date, bool, str or None
    text: str  # as printed on the document
    signed: bool


def case_data(case: Case, language: str = "sv") -> list[FieldData]:
    """Every field of the case with its value (saved or signed, else its default)."""
    rows = fields_of(case)
    stored = stored_values(case)
    data = []
    for row in rows:
        value = stored[row.id].value if row.id in stored else row.default
        data.append(FieldData(row.name, row.label or row.name, row.type, row.party_id,
                              field_values.typed(row.type, value), field_values.display_text(row.type, value, language),
                              row.id in stored and stored[row.id].signed_at is not None))
    return data


# --- sealing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureLook:
    """How a party's signature shows in their signature fields: drawn strokes, a drawn image, or
    printed lines."""

    image: bytes | None = None
    lines: tuple[str, ...] = ()
    strokes: Strokes | None = None


def marks_for(case: Case, document: Document, looks: dict[int, SignatureLook], language: str) -> dict[int, list[Mark]]:
    """The drawing of every signed value on the document's pages: {page number: marks}."""
    stored = stored_values(case)
    marks: dict[int, list[Mark]] = {}
    for row in fields_of(case):
        if row.document_id != document.id:
            continue
        mark = _mark(row, stored.get(row.id), looks.get(row.party_id), language)
        if mark is not None:
            marks.setdefault(row.page, []).append(mark)
    return marks


def _mark(row: CaseField, stored: FieldValue | None, look: SignatureLook | None, language: str) -> Mark | None:
    box = (row.x, row.y, row.w, row.h)
    if row.type == "signature":
        if look is None:
            return None
        if look.strokes is not None:
            return Mark(box, "strokes", strokes=look.strokes)
        return Mark(box, "image", image=look.image) if look.image else Mark(box, "block", lines=look.lines)
    if stored is None or stored.signed_at is None:
        return None
    value = stored.value
    if row.type == "checkbox":
        return Mark(box, "check") if value is True else None
    if row.type == "radio":
        if value not in row.options:
            return None
        ox, oy, ow, oh = option_areas(row.spec)[list(row.options).index(value)]
        return Mark((row.x + ox * row.w, row.y + oy * row.h, ow * row.w, oh * row.h), "dot")
    text = field_values.display_text(row.type, value, language)
    if not text:
        return None
    return Mark(box, "paragraph" if row.type == "textarea" else "text", text=text)


def replaced_acroform_names(case: Case, document: Document) -> set[str]:
    return {f.acroform for f in fields_of(case) if f.document_id == document.id and f.acroform}


# --- the signer's page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldView:
    """A field as the signer page shows it (plain values only: the page is cached by its content)."""

    name: str
    type: str
    label: str
    required: bool
    editable: bool
    value: Any
    revision: int
    document_id: int
    page: int
    box: tuple[float, float, float, float]
    options: tuple[str, ...] = ()
    option_areas: tuple[tuple[float, float, float, float], ...] = ()
    owner: str = ""  # another party's name, for their signed values
    text: str = ""  # the value as printed, for other parties' values
    rules: tuple[tuple[str, Any], ...] = ()


def signer_views(case: Case, party: Party, language: str,
                 state: CaseFields | None = None) -> tuple[tuple[FieldView, ...], tuple[FieldView, ...]]:
    """The party's own fields with their current values, and the values other parties signed.
    `state`: the case's fields as already read in this request (else they are read)."""
    state = read(case) if state is None else state
    rows, stored = state.rows, state.stored
    if not rows:
        return (), ()
    names: dict[int, str] = {}
    if any(saved.signed_at is not None and saved.party_id != party.id for saved in stored.values()):
        names = {p.id: p.name for p in case.parties}
    own, others = [], []
    for row in rows:
        saved = stored.get(row.id)
        if row.party_id == party.id:
            value = party.name if row.type == "name" else (saved.value if saved else row.default)
            editable = row.type not in AUTOMATIC_TYPES and not row.read_only and not (saved and saved.signed_at)
            own.append(_view(row, value, saved.revision if saved else 0, editable))
        elif saved is not None and saved.signed_at is not None:
            others.append(_view(row, saved.value, saved.revision, False, owner=names.get(row.party_id, ""),
                                text=field_values.display_text(row.type, saved.value, language)))
    return tuple(own), tuple(others)


def _view(row: CaseField, value: Any, revision: int, editable: bool, owner: str = "", text: str = "") -> FieldView:
    return FieldView(
        name=row.name, type=row.type, label=row.label or row.name, required=row.required, editable=editable,
        value=value, revision=revision, document_id=row.document_id, page=row.page, box=(row.x, row.y, row.w, row.h),
        options=tuple(row.options or ()), option_areas=tuple(tuple(a) for a in option_areas(row.spec))
        if row.type == "radio" else (), owner=owner, text=text,
        rules=tuple(sorted((k, v) for k, v in (row.rules or {}).items() if v is not None)))


def signature_looks(case: Case, language: str) -> dict[int, SignatureLook]:
    """How each signed party's signature shows in their signature fields: the method's image (a
    drawn signature), else a printed block (name, method, time; the name the method verified, such
    as BankID's, before the one the officer typed)."""
    looks = {}
    installed = signing_methods.installed()
    with force_locale(language):
        for party in case.parties:
            signature = party.signature
            if signature is None:
                continue
            method = installed.get(signature.method)
            strokes = method.signature_strokes(signature) if method is not None else None
            if strokes is not None:
                looks[party.id] = SignatureLook(strokes=strokes)
                continue
            image = method.signature_image(signature) if method is not None else None
            if image:
                looks[party.id] = SignatureLook(image=image)
                continue
            name = method.identity(party, signature).get("name") if method is not None else None
            title = method.display_title if method is not None else signature.method
            looks[party.id] = SignatureLook(lines=(_("Signed electronically"), name or party.name,
                                                   f"{title} · {local_time(case, signature.signed_at)}"))
    return looks


def local_time(case: Case, moment: datetime) -> str:
    return timezones.format_time(moment, _zone(case))


def signed_field_values(party: Party, language: str) -> tuple[tuple[str, str], ...]:
    """The values the party signed, as (label, value as printed), for the receipt."""
    case = party.case
    stored = stored_values(case)
    return tuple((row.label or row.name, field_values.display_text(row.type, stored[row.id].value, language))
                 for row in party_fields(case, party)
                 if row.type in HASHED_TYPES and row.id in stored and stored[row.id].signed_at is not None)
