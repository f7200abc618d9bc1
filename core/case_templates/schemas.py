"""The content of a template version, as stored and as checked when it comes from outside.

```
{"title": "...", "message": "...", "allowed_methods": ["touch"], "signing_order": "parallel",
 "language": "sv", "expiry_days": 30, "reminder_interval_days": 3, "reminder_max": 3,
 "documents": [{"sha256", "filename", "size", "page_count", "pages": [[width, height], ...]}],
 "roles": [{"key", "label", "kind": "signer"|"recipient", "methods": [...] | null,
            "fixed": {"name", "email", "phone", "personal_number", "language"} | null}],
 "fields": [FieldSpec as a dict: "document" is an index into documents, "assignee" a role key]}
```
Roles are in signing order. Page sizes are the pages' visible sizes in points (see fields.geometry).
"""

from __future__ import annotations

import re

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

from core.i18n import _
from core.signing.methods import DEFAULT_METHODS
from core.text import one_line, valid_email

ROLE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ROLE_KINDS = ("signer", "recipient")
LANGUAGES = ("sv", "en")
ORDERS = ("parallel", "sequential")
MAX_DOCUMENTS = 20
MAX_ROLES = 30


def _one_address(value: str) -> None:
    if not valid_email(value.strip()):
        raise ValidationError(_("Give a valid email address, like name@example.com."))


class FixedPerson(Schema):
    """A role that always has the same person, e.g. the organisation's signatory."""

    class Meta:
        unknown = EXCLUDE

    name = fields.Str(required=True, validate=[validate.Length(min=1, max=200), one_line])
    email = fields.Str(required=True, validate=[validate.Length(min=3, max=254), _one_address])
    phone = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=30))
    personal_number = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=20))
    language = fields.Str(load_default="sv", validate=validate.OneOf(LANGUAGES))


class Role(Schema):
    class Meta:
        unknown = EXCLUDE

    key = fields.Str(required=True, validate=validate.Regexp(ROLE_KEY))
    label = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.Str(load_default="signer", validate=validate.OneOf(ROLE_KINDS))
    methods = fields.List(fields.Str(validate=validate.Length(max=20)), load_default=None, allow_none=True)
    fixed = fields.Nested(FixedPerson, load_default=None, allow_none=True)


class TemplateDocument(Schema):
    class Meta:
        unknown = EXCLUDE

    sha256 = fields.Str(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    filename = fields.Str(required=True, validate=validate.Length(min=1, max=255))
    size = fields.Int(required=True, validate=validate.Range(min=1))
    page_count = fields.Int(required=True, validate=validate.Range(min=1))
    pages = fields.List(fields.List(fields.Float(allow_nan=False), validate=validate.Length(equal=2)), required=True)

    @validates_schema
    def _pages(self, data: dict, **_kwargs) -> None:
        if len(data["pages"]) != data["page_count"]:
            raise ValidationError(_("The document's page sizes do not match its pages."), "pages")


class TemplateContent(Schema):
    class Meta:
        unknown = EXCLUDE

    title = fields.Str(load_default="", validate=validate.Length(max=300))
    message = fields.Str(load_default="", validate=validate.Length(max=5000))
    allowed_methods = fields.List(fields.Str(validate=validate.Length(max=20)),
                                  load_default=lambda: list(DEFAULT_METHODS))
    signing_order = fields.Str(load_default="parallel", validate=validate.OneOf(ORDERS))
    language = fields.Str(load_default="sv", validate=validate.OneOf(LANGUAGES))
    expiry_days = fields.Int(load_default=30, validate=validate.Range(min=1, max=366))
    reminder_interval_days = fields.Int(load_default=3, validate=validate.Range(min=0, max=30))
    reminder_max = fields.Int(load_default=3, validate=validate.Range(min=0, max=10))
    documents = fields.List(fields.Nested(TemplateDocument), load_default=list,
                            validate=validate.Length(max=MAX_DOCUMENTS))
    roles = fields.List(fields.Nested(Role), load_default=list, validate=validate.Length(max=MAX_ROLES))
    # "fields" is the name of marshmallow's own attribute: the field has another name inside.
    field_list = fields.List(fields.Dict(), load_default=list, data_key="fields")

    @validates_schema
    def _unique_roles(self, data: dict, **_kwargs) -> None:
        keys = [role["key"] for role in data.get("roles", [])]
        if len(set(keys)) != len(keys):
            raise ValidationError(_("Each role needs its own key."), "roles")

    @post_load
    def _fields(self, data: dict, **_kwargs) -> dict:
        """The fields are checked as field definitions against these documents and roles."""
        from core.fields.definitions import load_specs

        documents = {index: document["page_count"] for index, document in enumerate(data["documents"])}
        roles = {role["key"] for role in data["roles"] if role["kind"] == "signer"}  # recipients fill in nothing
        sizes = {index: document.get("pages") or [] for index, document in enumerate(data["documents"])}
        specs, problems = load_specs(data.pop("field_list"), documents, roles, sizes)
        if problems:
            raise ValidationError(problems.as_dict(), "fields")
        data["fields"] = [spec.as_dict() for spec in specs]
        return data


def load_content(raw: dict) -> dict:
    """Checked, normalised content; raises marshmallow's ValidationError."""
    return TemplateContent().load(raw)
