"""What a field is: its type, place, who fills it in and how its value is checked.

`FieldSpec` is the one shape of a field definition everywhere: in a template version's JSON, in
the field editor, in the API and (as columns) in `CaseField`. `FieldSpecSchema` checks one that
comes from outside (editor, API, a template's stored JSON) and says what is wrong in the
reader's language: a box outside its page, a radio group without options, a pattern that could
make the server hang.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from core.i18n import _, _l

# Typed by the signer.
INPUT_TYPES = ("text", "textarea", "number", "date", "email", "phone", "personal_number", "checkbox", "radio",
               "select", "initials")
# Filled in by the service when the party signs.
AUTOMATIC_TYPES = ("signature", "name", "date_signed")
FIELD_TYPES = INPUT_TYPES + AUTOMATIC_TYPES
CHOICE_TYPES = ("radio", "select")
# Values bound into what the party signs (see values.values_sha256): everything but the signature
# itself and the signing date, which the signature records on its own.
HASHED_TYPES = INPUT_TYPES + ("name",)

MIN_SIZE = 0.005  # a box narrower or lower than 0.5 % of the page cannot be seen or clicked
EDGE_TOLERANCE = 0.001  # rounding in the browser
MAX_FIELDS = 500
MAX_OPTIONS = 50
MAX_PATTERN = 200
NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


def type_labels() -> dict[str, Any]:
    """The types as an officer reads them (lazy: translated when shown)."""
    return {
        "text": _l("Text"), "textarea": _l("Multi-line text"), "number": _l("Number"), "date": _l("Date"),
        "email": _l("Email"), "phone": _l("Phone number"), "personal_number": _l("Personal identity number"),
        "checkbox": _l("Checkbox"), "radio": _l("Radio buttons"), "select": _l("Drop-down list"),
        "signature": _l("Signature"), "initials": _l("Initials"), "name": _l("Name (filled in at signing)"),
        "date_signed": _l("Date signed (filled in at signing)"),
    }


@dataclass(frozen=True)
class FieldSpec:
    """One field. `assignee` is a role key in a template and a party id (as text) in a case;
    `document` is the document's index in a template and its id in a case."""

    name: str
    type: str
    document: int
    page: int
    x: float
    y: float
    w: float
    h: float
    assignee: str | None = None
    label: str = ""
    required: bool = False
    read_only: bool = False
    default: Any = None
    options: tuple[str, ...] = ()
    # Radio groups: where each option's button is, relative to the field's box (x, y, w, h);
    # empty means the options are stacked in the box.
    option_areas: tuple[tuple[float, float, float, float], ...] = ()
    pattern: str | None = None
    min: str | None = None
    max: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    acroform: str | None = None  # the PDF's own field this one replaces (removed when sealing)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.x, self.y, self.w, self.h

    @property
    def display_label(self) -> str:
        return self.label or self.name

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["options"] = list(self.options)
        data["option_areas"] = [list(area) for area in self.option_areas]
        return data

    def moved(self, **changes) -> FieldSpec:
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldSpec:
        """From data already checked by `FieldSpecSchema` (or stored after such a check)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["options"] = tuple(known.get("options") or ())
        known["option_areas"] = tuple(tuple(a) for a in known.get("option_areas") or ())
        return cls(**known)


def option_areas(spec: FieldSpec) -> list[tuple[float, float, float, float]]:
    """Each option's area relative to the field's box: the stored ones, else stacked rows."""
    if spec.option_areas and len(spec.option_areas) == len(spec.options):
        return [tuple(a) for a in spec.option_areas]
    count = max(1, len(spec.options))
    return [(0.0, i / count, 1.0, 1 / count) for i in range(count)]


# --- checking definitions that come from outside ------------------------------------------------


class _Box(fields.List):
    def __init__(self, **kwargs):
        super().__init__(fields.Float(allow_nan=False), validate=validate.Length(equal=4), **kwargs)


class FieldSpecSchema(Schema):
    """A field definition from the editor, the API or a stored template."""

    class Meta:
        unknown = RAISE

    name = fields.Str(required=True, validate=validate.Regexp(NAME))
    type = fields.Str(required=True, validate=validate.OneOf(FIELD_TYPES))
    document = fields.Int(required=True, strict=True, validate=validate.Range(min=0))
    page = fields.Int(required=True, strict=True, validate=validate.Range(min=1))
    x = fields.Float(required=True, allow_nan=False)
    y = fields.Float(required=True, allow_nan=False)
    w = fields.Float(required=True, allow_nan=False)
    h = fields.Float(required=True, allow_nan=False)
    assignee = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=100))
    label = fields.Str(load_default="", validate=validate.Length(max=200))
    required = fields.Bool(load_default=False)
    read_only = fields.Bool(load_default=False)
    default = fields.Raw(load_default=None, allow_none=True)
    options = fields.List(fields.Str(validate=validate.Length(min=1, max=200)), load_default=list,
                          validate=validate.Length(max=MAX_OPTIONS))
    option_areas = fields.List(_Box(), load_default=list, validate=validate.Length(max=MAX_OPTIONS))
    pattern = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=MAX_PATTERN))
    min = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=40))
    max = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=40))
    min_length = fields.Int(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=0, max=5000))
    max_length = fields.Int(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=5000))
    acroform = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=500))

    @validates_schema
    def _check(self, data: dict, **_kwargs) -> None:
        errors = {}
        for check in (_box_errors, _choice_errors, _pattern_errors, _range_errors):
            errors.update(check(data))
        if errors:
            raise ValidationError(errors)

    @post_load
    def _make(self, data: dict, **_kwargs) -> FieldSpec:
        data["label"] = data["label"].strip()
        if data["type"] not in CHOICE_TYPES:
            data["options"], data["option_areas"] = [], []
        return FieldSpec.from_dict(data)


def _box_errors(data: dict) -> dict:
    x, y, w, h = data["x"], data["y"], data["w"], data["h"]
    if w < MIN_SIZE or h < MIN_SIZE:
        return {"w": [_("The field is too small to see. Make it larger.")]}
    low, high = -EDGE_TOLERANCE, 1 + EDGE_TOLERANCE
    if not (low <= x and low <= y and x + w <= high and y + h <= high):
        return {"x": [_("The field lies partly outside page %(page)s. Move it onto the page.", page=data["page"])]}
    return {}


def _choice_errors(data: dict) -> dict:
    if data["type"] not in CHOICE_TYPES:
        return {}
    options = data["options"]
    if not options:
        return {"options": [_("Give at least one option to choose from.")]}
    if len(set(options)) != len(options):
        return {"options": [_("Each option must be different.")]}
    areas = data["option_areas"]
    if areas and len(areas) != len(options):
        return {"option_areas": [_("Give one place for each option.")]}
    if any(min(a) < 0 or a[0] + a[2] > 1.001 or a[1] + a[3] > 1.001 for a in areas):
        return {"option_areas": [_("An option's place lies outside its field.")]}
    return {}


def _pattern_errors(data: dict) -> dict:
    pattern = data.get("pattern")
    if not pattern:
        return {}
    problem = pattern_problem(pattern)
    return {"pattern": [problem]} if problem else {}


def _range_errors(data: dict) -> dict:
    kind = data["type"]
    errors = {}
    for key in ("min", "max"):
        value = data.get(key)
        if value in (None, ""):
            data[key] = None
            continue
        try:
            data[key] = normalised_bound(kind, value)
        except ValueError:
            errors[key] = [_("Give a number for a number field and a date (YYYY-MM-DD) for a date field.")]
    if not errors and data.get("min") is not None and data.get("max") is not None:
        low, high = ((Decimal(data["min"]), Decimal(data["max"])) if kind == "number"
                     else (data["min"], data["max"]))  # ISO dates sort as text
        if low > high:  # no value could ever be accepted
            errors["min"] = [_("The smallest value is larger than the largest.")]
    low, high = data.get("min_length"), data.get("max_length")
    if low is not None and high is not None and low > high:
        errors["min_length"] = [_("The shortest length is longer than the longest.")]
    return errors


def normalised_bound(kind: str, value: str) -> str:
    """A min/max as stored: a plain decimal for numbers, an ISO date for dates."""
    from datetime import date

    if kind == "number":
        try:
            number = Decimal(value.replace(",", ".").replace(" ", ""))
        except InvalidOperation as exc:
            raise ValueError(value) from exc
        if not number.is_finite():
            raise ValueError(value)
        return format(number, "f")
    if kind == "date":
        return date.fromisoformat(value).isoformat()
    raise ValueError(value)


# --- patterns ------------------------------------------------------------------------------------


def pattern_problem(pattern: str) -> str | None:
    """Why a pattern cannot be used, or None.

    Python's `re` has no time limit, and a value typed by a signer is matched against a pattern
    written by an officer: nested repetition like `(a+)+` can take years on 30 characters. Such
    patterns, alternatives inside a repetition and backreferences are refused when the field is
    defined. Character classes inside a repetition, like [a-z0-9]+, are fine.
    """
    try:
        parsed = re._parser.parse(pattern)  # the stdlib's own parser; a public API does not exist
    except (re.error, RecursionError, OverflowError):
        return _("The pattern is not a valid regular expression.")
    if _nested_repeat(parsed, inside=False):
        return _("The pattern could make checking very slow: it repeats a repetition like (a+)+, has "
                 "alternatives inside a repetition like (a|b)+, or refers back to a group. Simplify it.")
    return None


_REPEATS = {re._constants.MAX_REPEAT, re._constants.MIN_REPEAT, getattr(re._constants, "POSSESSIVE_REPEAT", None)}
_BACKREFS = {re._constants.GROUPREF, re._constants.GROUPREF_EXISTS}


def _children(op, arg) -> list:
    if op in _REPEATS:
        return arg[2]
    if op is re._constants.SUBPATTERN:
        return arg[-1]
    if op is re._constants.BRANCH:
        return [item for branch in arg[1] for item in branch]
    if op in (re._constants.ASSERT, re._constants.ASSERT_NOT):
        return arg[1]
    if op is re._constants.ATOMIC_GROUP:
        return arg
    return []


def _nested_repeat(items, inside: bool) -> bool:
    for op, arg in items:
        if op in _BACKREFS:
            return True
        repeats = op in _REPEATS and arg[1] > 1
        # Alternatives inside a repetition, like (a|aa)+, backtrack as badly as nested repetition.
        if (inside and (repeats or op is re._constants.BRANCH)) or _nested_repeat(_children(op, arg),
                                                                                  inside or repeats):
            return True
    return False


# --- a whole list --------------------------------------------------------------------------------


@dataclass
class SpecProblems:
    """Errors in a list of definitions: by position, plus errors of the list as a whole."""

    by_field: dict[int, dict] = field(default_factory=dict)
    overall: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.overall)

    def as_dict(self) -> dict:
        data: dict[str, Any] = {str(k): v for k, v in self.by_field.items()}
        if self.overall:
            data["_schema"] = self.overall
        return data


def load_specs(raw: Any, documents: dict[int, int], assignees: set[str] | None,
               sizes: dict[int, list] | None = None) -> tuple[list[FieldSpec], SpecProblems]:
    """Check a list of definitions against the documents ({key: page count}) and the assignees
    (role keys or party ids; None skips that check). With `sizes` ({key: [(width, height) in
    points] per page}) a default value must also fit its box, as a typed value must.
    Returns the good ones and the problems."""
    problems = SpecProblems()
    if not isinstance(raw, list):
        problems.overall.append(_("Send the fields as a list."))
        return [], problems
    if len(raw) > MAX_FIELDS:
        problems.overall.append(_("A document can have at most %(num)s fields.", num=MAX_FIELDS))
        return [], problems
    specs, names = [], set()
    schema = FieldSpecSchema()
    for index, item in enumerate(raw):
        try:
            spec = schema.load(item if isinstance(item, dict) else {})
        except ValidationError as error:
            problems.by_field[index] = error.messages
            continue
        errors = _placement_errors(spec, documents, assignees, names)
        if not errors:
            spec, errors = with_canonical_default(spec, _box_points(spec, sizes))
        if errors:
            problems.by_field[index] = errors
            continue
        names.add(spec.name)
        specs.append(spec)
    return specs, problems


def _box_points(spec: FieldSpec, sizes: dict[int, list] | None) -> tuple[float, float] | None:
    pages = (sizes or {}).get(spec.document)
    if not pages or spec.page > len(pages):
        return None
    width, height = pages[spec.page - 1]
    return spec.w * width, spec.h * height


def with_canonical_default(spec: FieldSpec, box: tuple[float, float] | None = None) -> tuple[FieldSpec, dict]:
    """The default value is checked like a value the party would type (fitting `box`, the
    field's size in points, when known), and kept canonical."""
    from core.fields.values import check_value

    value, problem = check_value(spec, spec.default, box)
    if problem:
        return spec, {"default": [problem]}
    return spec.moved(default=value), {}


def _placement_errors(spec: FieldSpec, documents: dict[int, int], assignees: set[str] | None,
                      names: set[str]) -> dict:
    if spec.name in names:
        return {"name": [_("Another field already has the name %(name)s.", name=spec.name)]}
    if spec.document not in documents:
        return {"document": [_("There is no such document.")]}
    if spec.page > documents[spec.document]:
        return {"page": [_("The document has no page %(page)s.", page=spec.page)]}
    if assignees is not None and spec.assignee is not None and spec.assignee not in assignees:
        return {"assignee": [_("Choose who fills in this field.")]}
    return {}
