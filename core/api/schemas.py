"""Marshmallow schemas of the API: what comes in (validated, normalised) and what goes out.

The OpenAPI document (`core.api.openapi`) is generated from these classes.
"""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from core.api.service import MAX_ID
from core.i18n import _
from core.models.base import utcnow
from core.models.case import CASE_STATUSES, PARTY_ROLES, PARTY_STATUSES, SIGNING_ORDERS
from core.personal_numbers import normalise_personal_number
from core.phones import normalise_phone
from core.security import mask_personal_number
from core.signing import methods as signing_methods
from core.text import one_line, valid_email

LANGUAGES = ("sv", "en")
MAX_PAGE = 100


class MethodName(validate.Validator):
    """A signing method the key's organisation may offer, read from the method registry when a
    request is checked. `choices` (what the OpenAPI document lists as the enum) are the methods
    this service has installed and configured."""

    @property
    def choices(self) -> list[str]:
        return [name for name, method in signing_methods.installed().items() if method.configured()]

    def __call__(self, value: str) -> str:
        if value not in signing_methods.offered():
            raise ValidationError(_("Signing method not available in this service: %(methods)s", methods=value))
        return value


def method_list(**kwargs) -> fields.List:
    return fields.List(fields.Str(validate=MethodName()), **kwargs)


def check_expiry(value) -> None:
    if value is None:
        return
    if value <= utcnow():
        raise ValidationError(_("The last day for signing must be in the future."))
    if value > utcnow() + timedelta(days=366):
        raise ValidationError(_("The last day for signing can be at most a year ahead."))


# --- input ---------------------------------------------------------------------------------------


class DocumentIn(Schema):
    class Meta:
        unknown = RAISE

    filename = fields.Str(required=True, validate=validate.Length(min=1, max=255),
                          metadata={"description": "Shown to the parties, e.g. lease.pdf."})
    content_base64 = fields.Str(required=True, metadata={"description": "The PDF file, base64-encoded."})

    @post_load
    def decode(self, data: dict, **_kwargs) -> dict:
        try:
            data["content"] = base64.b64decode(data.pop("content_base64"), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(_("This is not valid base64."), "content_base64") from None
        return data


class PersonIn(Schema):
    """Who a party is: also the person for a template's role."""

    class Meta:
        unknown = RAISE

    name = fields.Str(required=True, validate=[validate.Length(min=1, max=200), one_line])
    email = fields.Str(required=True, validate=validate.Length(max=254),
                       metadata={"format": "email", "description": "Where the party's personal link is sent."})
    phone = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=30),
                       metadata={"description": "Mobile number; needed when the party may sign with an SMS code."})
    personal_number = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=20),
                                 metadata={"description": "Swedish personal identity number, YYYYMMDDNNNN."})
    language = fields.Str(load_default="sv", validate=validate.OneOf(LANGUAGES))

    @validates("email")
    def _email(self, value: str, **_kwargs) -> None:
        if not valid_email(value.strip()):
            raise ValidationError(_("Give a valid email address, like name@example.com."))

    @post_load
    def normalise(self, data: dict, **_kwargs) -> dict:
        errors = {}
        if "name" in data and not data["name"].strip():
            errors["name"] = [_("Give the party's name.")]
        if "email" in data:
            data["email"] = data["email"].strip().lower()
        if data.get("phone"):
            try:
                data["phone"] = normalise_phone(data["phone"])
            except ValueError:
                errors["phone"] = [_("This is not a valid phone number. Give it like +46 70 123 45 67.")]
        if data.get("personal_number"):
            try:
                data["personal_number"] = normalise_personal_number(data["personal_number"])
            except ValueError:
                errors["personal_number"] = [_("Give a personal identity number with 12 digits, YYYYMMDDNNNN, "
                                               "with a correct check digit.")]
        if errors:
            raise ValidationError(errors)
        return data


class PartyIn(PersonIn):
    role = fields.Str(load_default="signer", validate=validate.OneOf(PARTY_ROLES))
    methods = method_list(load_default=None, allow_none=True,
                          metadata={"description": "Methods this party may use; default: the case's methods."})


def method_needs_errors(parties: list[dict], case_methods: list[str] | None) -> dict:
    """Field errors, by position, for signers who lack a detail a method they may use needs (an SMS
    code needs a mobile number ...: `SigningMethod.party_needs`)."""
    errors = {}
    for index, party in enumerate(parties):
        methods = party.get("methods") or case_methods or []
        missing = signing_methods.missing_for(methods, party.get("role", "signer"), party)
        if missing:
            errors[index] = {detail: [message] for detail, message in missing.items()}
    return errors


class CaseSettingsIn(Schema):
    """A case's settings: what a new case has, and what a change to a draft may change besides parties."""

    class Meta:
        unknown = RAISE

    title = fields.Str(required=True, validate=[validate.Length(min=1, max=300), one_line])
    message = fields.Str(load_default="", validate=validate.Length(max=5000),
                         metadata={"description": "A message to the parties, in their invitation."})
    methods = method_list(load_default=lambda: list(signing_methods.DEFAULT_METHODS), validate=validate.Length(min=1),
                          metadata={"description": "Signing methods offered."})
    signing_order = fields.Str(load_default="parallel", validate=validate.OneOf(SIGNING_ORDERS))
    language = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(LANGUAGES),
                          metadata={"description": "Language of the case; default: the organisation's."})
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                      metadata={"description": "Last moment for signing; default from the "
                                                               "organisation's settings."})
    reminder_interval_days = fields.Int(load_default=None, allow_none=True, validate=validate.Range(0, 30))
    reminder_max = fields.Int(load_default=None, allow_none=True, validate=validate.Range(0, 10))
    owner_email = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=254),
                             metadata={"description": "The case officer who owns the case; default: the officer "
                                                      "who created the API key."})

    @validates("title")
    def _title(self, value: str, **_kwargs) -> None:
        if not value.strip():
            raise ValidationError(_("Give the case a title."))

    @validates("expires_at")
    def _expiry(self, value, **_kwargs) -> None:
        check_expiry(value)

    @post_load
    def _strip_title(self, data: dict, **_kwargs) -> dict:
        if "title" in data:
            data["title"] = data["title"].strip()
        return data


class CaseIn(CaseSettingsIn):
    """A new case: settings, parties in signing order and (in JSON) documents as base64."""

    parties = fields.List(fields.Nested(PartyIn), load_default=list, validate=validate.Length(max=50))
    documents = fields.List(fields.Nested(DocumentIn), load_default=list, validate=validate.Length(max=20))

    @validates_schema
    def _method_needs(self, data: dict, **_kwargs) -> None:
        errors = method_needs_errors(data.get("parties") or [], data.get("methods"))
        if errors:
            raise ValidationError({"parties": errors})


class _Changes(Schema):
    """Always loaded partially: only the fields given change, nothing takes a default."""

    def __init__(self, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)


class PartyChangeIn(_Changes, PartyIn):
    """A party in a change of a draft: with `id`, the draft's party of that id (only the fields given
    change); without, a new party, which needs at least `name` and `email`."""

    id = fields.Int(validate=validate.Range(min=1),
                    metadata={"description": "A party of this draft; leave it out for a new party."})

    @validates_schema
    def _new_party_complete(self, data: dict, **_kwargs) -> None:
        if "id" not in data:
            missing = {name: [_("A new party needs a name and an email address.")]
                       for name in ("name", "email") if name not in data}
            if missing:
                raise ValidationError(missing)


class CaseChangeIn(_Changes, CaseSettingsIn):
    """A change to a draft: the settings given, and, if given, its parties (the whole list, in signing order)."""

    parties = fields.List(fields.Nested(PartyChangeIn), validate=validate.Length(max=50),
                          metadata={"description": "All parties after the change, in signing order: a party of "
                                                   "the draft left out is removed."})

    @validates_schema
    def _no_nulls(self, data: dict, **_kwargs) -> None:
        nulls = {name: [_("Give a value, or leave the field out to keep it as it is.")]
                 for name, value in data.items() if value is None}
        if nulls:
            raise ValidationError(nulls)


class CaseMultipartIn(Schema):
    """The multipart form of a new case: the case as JSON in `data`, the PDFs as `documents` file parts."""

    data = fields.Str(required=True, metadata={"description": "The case as JSON (like the JSON body, without "
                                                              "`documents`)."})
    documents = fields.List(fields.Raw(metadata={"type": "string", "format": "binary"}),
                            metadata={"description": "PDF files, one part each."})


class RevokeIn(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.Str(load_default="", validate=validate.Length(max=2000),
                        metadata={"description": "Told to the parties who were invited."})


class TemplateCaseIn(Schema):
    """A case from a template: the person for each role, prefilled field values, and what to change."""

    class Meta:
        unknown = RAISE

    version = fields.Int(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=MAX_ID),
                         metadata={"description": "The template version to use; default: the newest."})
    title = fields.Str(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=300), one_line],
                       metadata={"description": "Default: the template's case title, else its name."})
    message = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=5000),
                         metadata={"description": "Default: the template's message."})
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                      metadata={"description": "Default: the template's days to sign from now."})
    owner_email = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=254),
                             metadata={"description": "The case officer who owns the case; default: the officer "
                                                      "who created the API key."})
    parties = fields.Dict(keys=fields.Str(validate=validate.Length(min=1, max=40)), values=fields.Nested(PersonIn),
                          load_default=dict, metadata={"description": "The person for each role, by the role's "
                                                                      "`key`; a role with a fixed person needs none."})
    values = fields.Dict(keys=fields.Str(validate=validate.Length(min=1, max=100)), values=fields.Raw(allow_none=True),
                         load_default=dict, data_key="fields",
                         metadata={"description": "Prefilled field values by field `name`: text, numbers, dates "
                                                  "as YYYY-MM-DD, true/false for checkboxes."})
    send = fields.Bool(load_default=False, metadata={"description": "Send the case for signing at once."})

    @validates("expires_at")
    def _expiry(self, value, **_kwargs) -> None:
        check_expiry(value)


class TemplateListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.Str(load_default="", validate=validate.Length(max=200),
                   metadata={"description": "Search in names and descriptions."})
    archived = fields.Bool(load_default=False, metadata={"description": "List archived templates instead."})
    limit = fields.Int(load_default=50, validate=validate.Range(1, MAX_PAGE))


class CaseListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    template_id = fields.Int(validate=validate.Range(min=1, max=MAX_ID),
                             metadata={"description": "Only cases made from this template."})
    status = fields.Str(validate=validate.OneOf(CASE_STATUSES))
    owner_email = fields.Str(validate=validate.Length(max=254),
                             metadata={"description": "Only cases owned by this case officer."})
    q = fields.Str(validate=validate.Length(max=200),
                   metadata={"description": "Search: title, party name or email, or a document's fingerprint."})
    cursor = fields.Str(validate=validate.Length(max=200),
                        metadata={"description": "`next_cursor` of the previous page."})
    limit = fields.Int(load_default=25, validate=validate.Range(1, MAX_PAGE))


# --- output --------------------------------------------------------------------------------------


class OfficerOut(Schema):
    id = fields.Int()
    name = fields.Str()
    email = fields.Str()


class DocumentOut(Schema):
    id = fields.Int()
    filename = fields.Str()
    sha256 = fields.Str(metadata={"description": "SHA-256 of the original file."})
    size = fields.Int()
    page_count = fields.Int()
    sealed = fields.Function(lambda d: d.sealed_sha256 is not None, metadata={"type": "boolean"})
    sealed_sha256 = fields.Str(allow_none=True)
    fingerprint = fields.Str(allow_none=True)


class PartyOut(Schema):
    id = fields.Int()
    name = fields.Str()
    email = fields.Str()
    phone = fields.Str(allow_none=True)
    personal_number = fields.Function(lambda p: mask_personal_number(p.personal_number) or None,
                                      metadata={"type": "string", "nullable": True,
                                                "description": "Masked: YYYYMMDD-XXXX."})
    role = fields.Str(validate=validate.OneOf(PARTY_ROLES))
    language = fields.Str()
    methods = fields.Function(lambda p: p.effective_methods, metadata={"type": "array", "items": {"type": "string"}})
    status = fields.Str(validate=validate.OneOf(PARTY_STATUSES))
    invited_at = fields.AwareDateTime(allow_none=True)
    viewed_at = fields.AwareDateTime(allow_none=True)
    signed_at = fields.AwareDateTime(allow_none=True)
    declined_at = fields.AwareDateTime(allow_none=True)
    decline_reason = fields.Str(allow_none=True)
    reminders_sent = fields.Int()
    role_key = fields.Str(allow_none=True, metadata={"description": "The template role the party plays, if any."})


class CaseOut(Schema):
    id = fields.Int()
    title = fields.Str()
    message = fields.Str()
    status = fields.Str(validate=validate.OneOf(CASE_STATUSES))
    owner = fields.Nested(OfficerOut, allow_none=True)
    methods = fields.List(fields.Str(), attribute="allowed_methods")
    signing_order = fields.Str(validate=validate.OneOf(SIGNING_ORDERS))
    language = fields.Str()
    expires_at = fields.AwareDateTime(allow_none=True)
    reminder_interval_days = fields.Int(allow_none=True)
    reminder_max = fields.Int(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    close_reason = fields.Str(allow_none=True)
    last_activity_at = fields.AwareDateTime()
    seal_state = fields.Str(allow_none=True, metadata={"description": "null, queued or sealed."})
    documents = fields.List(fields.Nested(DocumentOut))
    parties = fields.List(fields.Nested(PartyOut))
    template_id = fields.Int(allow_none=True, metadata={"description": "The template the case was made from."})
    template_version = fields.Int(allow_none=True, metadata={"description": "The template's version then."})


class CasePageOut(Schema):
    cases = fields.List(fields.Nested(CaseOut))
    next_cursor = fields.Str(allow_none=True, metadata={"description": "Pass as `cursor` for the next page; "
                                                                       "null on the last page."})


class EventOut(Schema):
    seq = fields.Int()
    kind = fields.Str()
    actor_type = fields.Str()
    actor_label = fields.Str()
    data = fields.Dict()
    ip = fields.Str(allow_none=True)
    user_agent = fields.Str(allow_none=True)
    created_at = fields.AwareDateTime()
    hash = fields.Str(metadata={"description": "SHA-256 of the event, chained to the previous one."})


class EventListOut(Schema):
    events = fields.List(fields.Nested(EventOut))


class FieldValueOut(Schema):
    name = fields.Str(metadata={"description": "The field's name: stable, for programs and exports."})
    label = fields.Str()
    type = fields.Str()
    party_id = fields.Int(allow_none=True, metadata={"description": "The party who fills it in."})
    value = fields.Function(lambda f: json_value(f.value), metadata={
        "nullable": True, "description": "Typed: a string, a number (number fields), a boolean (checkboxes) or "
                                         "null; dates are strings YYYY-MM-DD. A number with a fraction and more "
                                         "significant digits than a double keeps (over 15) is a string of the "
                                         "exact decimal, so no digit is lost."})
    text = fields.Str(metadata={"description": "The value as printed on the document."})
    signed = fields.Bool(metadata={"description": "Whether the party has signed it (then it is final)."})


class CaseFieldsOut(Schema):
    items = fields.List(fields.Nested(FieldValueOut), data_key="fields")


class RoleOut(Schema):
    key = fields.Str()
    label = fields.Str()
    kind = fields.Str(validate=validate.OneOf(PARTY_ROLES))
    methods = fields.List(fields.Str(), allow_none=True)
    fixed = fields.Function(lambda role: bool(role.get("fixed")), metadata={
        "type": "boolean", "description": "Whether the role always has the same person (no person needed)."})


class TemplateFieldOut(Schema):
    name = fields.Str()
    type = fields.Str()
    label = fields.Str()
    role = fields.Str(attribute="assignee", allow_none=True, metadata={"description": "The key of the role that fills "
                                                                                     "it in."})
    document = fields.Int(metadata={"description": "Index of the document in `documents`."})
    page = fields.Int()
    required = fields.Bool()
    read_only = fields.Bool()
    default = fields.Raw(allow_none=True)
    options = fields.List(fields.Str())


class TemplateDocumentOut(Schema):
    filename = fields.Str()
    sha256 = fields.Str()
    page_count = fields.Int()


class TemplateSummaryOut(Schema):
    id = fields.Int()
    name = fields.Str()
    description = fields.Str()
    status = fields.Str(validate=validate.OneOf(("active", "archived")))
    version = fields.Int(metadata={"description": "The newest version's number."})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    created_by = fields.Nested(OfficerOut, allow_none=True)
    updated_by = fields.Nested(OfficerOut, allow_none=True)


class TemplateOut(TemplateSummaryOut):
    documents = fields.List(fields.Nested(TemplateDocumentOut))
    roles = fields.List(fields.Nested(RoleOut))
    field_list = fields.List(fields.Nested(TemplateFieldOut), data_key="fields")


class TemplateListOut(Schema):
    templates = fields.List(fields.Nested(TemplateSummaryOut))


def json_value(value):
    """A typed field value in JSON: numbers as numbers, dates as ISO strings."""
    from datetime import date
    from decimal import Decimal

    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)  # JSON writes every digit of an integer
        as_float = float(value)
        # More significant digits than a double keeps (over 15): a number would come out changed,
        # so the exact decimal is given as text.
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class ErrorBody(Schema):
    code = fields.Str(required=True, metadata={"description": "Stable, for programs."})
    message = fields.Str(required=True, metadata={"description": "For people."})
    field_errors = fields.Dict(data_key="fields",
                               metadata={"description": "Field errors, by field name (marshmallow's messages)."})


class ErrorOut(Schema):
    error = fields.Nested(ErrorBody, required=True)
