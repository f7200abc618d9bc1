"""The web forms in the REST API (/api/v1/web-forms) and in webhooks.

Routes (an organisation's API key, like the core's; 404 while the organisation has the plugin off):
its forms, one form, a form's submissions a page at a time (oldest first, so an integration that
keeps `next_cursor` picks up only what came since) and one submission. A submission carries the
visitor, the case's status and the template's fields as typed values (numbers as numbers,
checkboxes as booleans, dates as YYYY-MM-DD; `core.fields.export`).

Webhooks (declared by `webhook_events`, fired through `core.api.webhooks.fire`):
`web_form.submission.created` when a visitor's submission starts its case (after the case's
`web_form_submitted` event), `web_form.submission.completed` when that case is signed by all and
sealed. Each carries `{"case": ..., "submission": ...}` as the routes show them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import jsonify, request
from marshmallow import EXCLUDE, Schema, fields, validate

from core.api.schemas import MAX_PAGE, json_value
from core.api.service import MAX_ID
from core.api.views import ApiError, decode_id_cursor, encode_cursor, load, plugin_api_blueprint
from core.extensions import db
from core.fields import export as field_export
from core.i18n import _
from core.models import Case
from core.models.case import CASE_STATUSES
from plugins.web_forms import service
from plugins.web_forms.models import ACTIVE, NAME, PAUSED, WebForm, WebFormSubmission

bp = plugin_api_blueprint(NAME, __name__)

CREATED, COMPLETED = "web_form.submission.created", "web_form.submission.completed"


# --- schemas -----------------------------------------------------------------------------------------


class WebFormOut(Schema):
    id = fields.Int()
    template_id = fields.Int()
    template_name = fields.Function(lambda form: form.template.name)
    status = fields.Str(validate=validate.OneOf([ACTIVE, PAUSED]),
                        metadata={"description": "`active` takes submissions; `paused` shows a closed page."})
    url = fields.Function(lambda form: _public_url(form), metadata={
        "description": "The public link to publish. A new link (rotated in the office) stops the old one."})
    visitor_role = fields.Str(attribute="role_key", metadata={"description": "The template role the visitor plays."})
    require_phone = fields.Bool()
    daily_cap = fields.Int(metadata={"description": "Submissions it takes in 24 hours."})
    closes_on = fields.Date(allow_none=True, metadata={"description": "The last day it takes submissions."})
    max_submissions = fields.Int(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class WebFormListOut(Schema):
    forms = fields.List(fields.Nested(WebFormOut))
    next_cursor = fields.Str(allow_none=True, metadata={"description": "Pass as `cursor` for the next page; "
                                                                       "null on the last page."})


class WebFormListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    cursor = fields.Str(validate=validate.Length(max=200), metadata={"description": "`next_cursor` of the "
                                                                                     "previous page."})
    limit = fields.Int(load_default=25, validate=validate.Range(1, MAX_PAGE))


class WebFormSubmissionOut(Schema):
    id = fields.Int()
    form_id = fields.Int()
    submitted_at = fields.AwareDateTime(attribute="created_at")
    name = fields.Str(metadata={"description": "The visitor's name as they gave it."})
    email = fields.Str()
    phone = fields.Str(allow_none=True)
    case_id = fields.Int(allow_none=True, metadata={"description": "The case it started (GET /cases/{case_id})."})
    status = fields.Str(allow_none=True, validate=validate.OneOf([*CASE_STATUSES, None]),
                        metadata={"description": "The case's status; null before a case started."})
    values = fields.Dict(keys=fields.Str(), metadata={
        "description": "The template's fields by name, typed: a string, a number (number fields), a boolean "
                       "(checkboxes) or null; dates are strings YYYY-MM-DD. What the visitor saved or signed, "
                       "else the field's prefilled value."})


class WebFormSubmissionPageOut(Schema):
    submissions = fields.List(fields.Nested(WebFormSubmissionOut))
    next_cursor = fields.Str(allow_none=True, metadata={"description": "Pass as `cursor` for the next page; "
                                                                       "null on the last page."})
    resume_cursor = fields.Str(allow_none=True, metadata={
        "description": "Names the last submission seen (also on the last page): pass it as `cursor` later to get "
                       "only what came since. Null when nothing was seen yet."})


class WebFormSubmissionQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.Str(validate=validate.OneOf(CASE_STATUSES), metadata={"description": "Only submissions "
                                                                                          "whose case has it."})
    cursor = fields.Str(validate=validate.Length(max=200), metadata={"description": "`next_cursor` of the "
                                                                                     "previous page."})
    limit = fields.Int(load_default=50, validate=validate.Range(1, MAX_PAGE))


def _public_url(form: WebForm) -> str:
    from plugins.web_forms.views import public_url

    return public_url(form)


def submission_rows(submissions: list[WebFormSubmission]) -> list[dict[str, Any]]:
    """The submissions as the API shows them: one query for their cases' statuses, one for their values."""
    case_ids = [s.case_id for s in submissions if s.case_id]
    statuses = dict(db.session.execute(sa.select(Case.id, Case.status).where(Case.id.in_(case_ids))).all()) \
        if case_ids else {}
    values = dict(field_export.rows(sa.select(Case.id).where(Case.id.in_(case_ids)))) if case_ids else {}
    return [{"id": s.id, "form_id": s.form_id, "created_at": s.created_at, "name": s.name, "email": s.email,
             "phone": s.phone, "case_id": s.case_id, "status": statuses.get(s.case_id),
             "values": {name: json_value(v) for name, v in values.get(s.case_id, {}).items()}}
            for s in submissions]


def submission_json(submission: WebFormSubmission) -> dict:
    return WebFormSubmissionOut().dump(submission_rows([submission])[0])


# --- routes ------------------------------------------------------------------------------------------


def _form_or_404(form_id: int) -> WebForm:
    form = form_id <= MAX_ID and db.session.scalar(sa.select(WebForm).where(WebForm.id == form_id,
                                                                            WebForm.status != service.OFF))
    if not form:
        raise ApiError(404, "not_found", _("There is no web form with this id."))
    return form


@bp.get("/web-forms")
def list_forms():
    query = load(WebFormListQuery(), request.args)
    after = decode_id_cursor(query.get("cursor"))
    stmt = sa.select(WebForm).where(WebForm.status != service.OFF).order_by(WebForm.id).limit(query["limit"] + 1)
    if after is not None:
        stmt = stmt.where(WebForm.id > after)
    found = list(db.session.scalars(stmt))
    more = len(found) > query["limit"]
    found = found[:query["limit"]]
    return jsonify(WebFormListOut().dump({"forms": found,
                                          "next_cursor": encode_cursor(found[-1].id) if more else None}))


@bp.get("/web-forms/<int:form_id>")
def get_form(form_id: int):
    return jsonify(WebFormOut().dump(_form_or_404(form_id)))


@bp.get("/web-forms/<int:form_id>/submissions")
def list_submissions(form_id: int):
    form = _form_or_404(form_id)
    query = load(WebFormSubmissionQuery(), request.args)
    after = decode_id_cursor(query.get("cursor"))
    stmt = (sa.select(WebFormSubmission).where(WebFormSubmission.form_id == form.id)
            .order_by(WebFormSubmission.id).limit(query["limit"] + 1))
    if after is not None:
        stmt = stmt.where(WebFormSubmission.id > after)
    if query.get("status"):
        stmt = stmt.join(Case, Case.id == WebFormSubmission.case_id).where(Case.status == query["status"])
    found = list(db.session.scalars(stmt))
    more = len(found) > query["limit"]
    found = found[:query["limit"]]
    last = found[-1].id if found else after
    return jsonify(WebFormSubmissionPageOut().dump({"submissions": submission_rows(found),
                                                    "next_cursor": encode_cursor(last) if more else None,
                                                    "resume_cursor": encode_cursor(last)}))


@bp.get("/web-forms/<int:form_id>/submissions/<int:submission_id>")
def get_submission(form_id: int, submission_id: int):
    form = _form_or_404(form_id)
    submission = submission_id <= MAX_ID and db.session.scalar(sa.select(WebFormSubmission).where(
        WebFormSubmission.id == submission_id, WebFormSubmission.form_id == form.id))
    if not submission:
        raise ApiError(404, "not_found", _("This web form has no submission with this id."))
    return jsonify(submission_json(submission))


# --- the OpenAPI description -------------------------------------------------------------------------

FORM_ID = {"name": "form_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
SUBMISSION_ID = {"name": "submission_id", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 1}}


def _json(schema: str) -> dict:
    return {"application/json": {"schema": schema}}


def _error(description: str) -> dict:
    return {"description": description, "content": _json("Error")}


NOT_FOUND = _error("No such web form (or not in your organisation, or your organisation does not use web forms).")


def operations() -> dict:
    return {
        "schemas": {"WebForm": WebFormOut, "WebFormList": WebFormListOut, "WebFormListQuery": WebFormListQuery,
                    "WebFormSubmission": WebFormSubmissionOut, "WebFormSubmissionPage": WebFormSubmissionPageOut,
                    "WebFormSubmissionQuery": WebFormSubmissionQuery},
        "paths": [
            ("/web-forms", "get", {
                "operationId": "listWebForms", "summary": "List web forms (plugin: web forms)",
                "description": "The organisation's web forms that are on (active or paused), oldest first, a page "
                               "at a time.",
                "parameters": [{"in": "query", "schema": "WebFormListQuery"}],
                "responses": {"200": {"description": "A page of forms.", "content": _json("WebFormList")},
                              "400": _error("The cursor is not valid."),
                              "404": _error("Your organisation does not use web forms."),
                              "422": _error("Fields not valid; `fields` says which and why.")},
            }),
            ("/web-forms/{form_id}", "get", {
                "operationId": "getWebForm", "summary": "Get a web form (plugin: web forms)",
                "parameters": [FORM_ID],
                "responses": {"200": {"description": "The form.", "content": _json("WebForm")}, "404": NOT_FOUND},
            }),
            ("/web-forms/{form_id}/submissions", "get", {
                "operationId": "listWebFormSubmissions", "summary": "List a web form's submissions (plugin: web "
                                                                    "forms)",
                "description": "Oldest first, a page at a time, with the template's fields as typed values. "
                               "`resume_cursor` names the last submission seen: pass it as `cursor` later to get "
                               "only the submissions that came since.",
                "parameters": [FORM_ID, {"in": "query", "schema": "WebFormSubmissionQuery"}],
                "responses": {"200": {"description": "A page of submissions.",
                                      "content": _json("WebFormSubmissionPage")},
                              "400": _error("The cursor is not valid."), "404": NOT_FOUND,
                              "422": _error("Fields not valid; `fields` says which and why.")},
            }),
            ("/web-forms/{form_id}/submissions/{submission_id}", "get", {
                "operationId": "getWebFormSubmission", "summary": "Get a web form's submission (plugin: web forms)",
                "parameters": [FORM_ID, SUBMISSION_ID],
                "responses": {"200": {"description": "The submission.", "content": _json("WebFormSubmission")},
                              "404": _error("No such web form or submission (or not in your organisation).")},
            }),
        ],
    }
