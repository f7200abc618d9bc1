"""A plugin's tenant settings on the admin page: a form made from its `settings_schema`.

The plugin declares a marshmallow Schema in `plugin_info()["settings_schema"]`; each field becomes
one input (Integer and Float: a number, Boolean: a checkbox, String: text, or a choice when a
`validate.OneOf` lists the values). Labels and hints come from the field's
`metadata={"label": ..., "description": ...}`. Refusals are worded here, in the admin's language,
from the field's validators, never marshmallow's English messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, validate

from core.i18n import _
from core.plugins import plugin_settings, settings_schema
from tenants.models import Tenant


class SettingsError(ValueError):
    """The form's values with a message per field name, in the admin's language."""

    def __init__(self, errors: dict[str, str], values: dict):
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.values = values


@dataclass(frozen=True)
class SettingField:
    name: str
    label: str
    hint: str
    kind: str  # "number", "checkbox", "text" or "select"
    value: object
    minimum: object = None
    maximum: object = None
    step: str | None = None
    choices: tuple = ()
    error: str | None = None


def _validator(field: fields.Field, kind: type):
    return next((v for v in field.validators if isinstance(v, kind)), None)


def _kind(field: fields.Field) -> str:
    if _validator(field, validate.OneOf) is not None:
        return "select"
    if isinstance(field, fields.Boolean):
        return "checkbox"
    if isinstance(field, fields.Number):
        return "number"
    return "text"


def _choices(one_of: validate.OneOf) -> tuple:
    labels = list(one_of.labels or ())
    return tuple((str(c), str(labels[i] if i < len(labels) else c)) for i, c in enumerate(one_of.choices))


def _label(name: str, field: fields.Field) -> str:
    return str(field.metadata.get("label") or name.replace("_", " ").capitalize())


def form_fields(tenant: Tenant, name: str, values: dict | None = None,
                errors: dict[str, str] | None = None) -> list[SettingField]:
    """The inputs of a plugin's settings form, holding the tenant's values (or those just sent)."""
    schema_class = settings_schema(name)
    if schema_class is None:
        return []
    current = values if values is not None else plugin_settings(tenant, name)
    out = []
    for key, field in schema_class().fields.items():
        if field.dump_only:
            continue
        kind = _kind(field)
        rng = _validator(field, validate.Range)
        one_of = _validator(field, validate.OneOf)
        out.append(SettingField(
            name=key, label=_label(key, field), hint=str(field.metadata.get("description") or ""), kind=kind,
            value=current.get(key, field.load_default if field.load_default is not fields.missing_ else ""),
            minimum=rng.min if rng else None, maximum=rng.max if rng else None,
            step="any" if isinstance(field, fields.Float) else None,
            choices=_choices(one_of) if one_of else (),
            error=(errors or {}).get(key),
        ))
    return out


def _message(key: str, field: fields.Field, value) -> str:
    label = _label(key, field)
    if value in (None, ""):
        return _("%(field)s: fill this in.", field=label)
    if isinstance(field, fields.Integer):
        try:
            int(str(value))
        except ValueError:
            return _("%(field)s: give a whole number.", field=label)
    elif isinstance(field, fields.Number):
        try:
            float(str(value).replace(",", "."))
        except ValueError:
            return _("%(field)s: give a number.", field=label)
    rng = _validator(field, validate.Range)
    if rng is not None and rng.min is not None and rng.max is not None:
        return _("%(field)s: give a value from %(min)s to %(max)s.", field=label, min=rng.min, max=rng.max)
    if rng is not None and rng.min is not None:
        return _("%(field)s: give at least %(min)s.", field=label, min=rng.min)
    if rng is not None and rng.max is not None:
        return _("%(field)s: give at most %(max)s.", field=label, max=rng.max)
    length = _validator(field, validate.Length)
    if length is not None and length.max is not None:
        return _("%(field)s: at most %(max)s characters.", field=label, max=length.max)
    if _validator(field, validate.OneOf) is not None:
        return _("%(field)s: choose one of the listed values.", field=label)
    return _("%(field)s: this value is not accepted.", field=label)


def _raw_values(schema: Schema, form) -> dict:
    raw = {}
    for key, field in schema.fields.items():
        if field.dump_only:
            continue
        if isinstance(field, fields.Boolean):
            raw[key] = form.get(key) in ("on", "true", "1", "y")
        else:
            value = (form.get(key) or "").strip()
            if isinstance(field, fields.Float):
                value = value.replace(",", ".")  # Swedish decimal comma
            if value == "" and field.load_default is not fields.missing_ and not field.required:
                continue
            raw[key] = value
    return raw


def save(tenant: Tenant, name: str, form) -> dict:
    """Validate the sent form with the plugin's schema and store it; `SettingsError` when refused."""
    schema_class = settings_schema(name)
    if schema_class is None:
        raise LookupError(name)
    schema = schema_class()
    raw = _raw_values(schema, form)
    try:
        loaded = schema.load(raw, unknown="exclude")
    except ValidationError as exc:
        bad = exc.messages if isinstance(exc.messages, dict) else {}
        errors = {key: _message(key, schema.fields[key], raw.get(key)) for key in bad if key in schema.fields}
        raise SettingsError(errors or {"": _("These settings are not accepted.")}, raw) from exc
    stored = schema.dump(loaded)
    tenant.plugin_settings = {**(tenant.plugin_settings or {}), name: stored}  # a new dict: JSON change seen
    return stored
