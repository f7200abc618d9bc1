"""The REST API at /api/v1: a thin JSON layer over the case service.

Authentication by per-tenant API key (`Authorization: Bearer <key>` or `X-Api-Key`), never by the
office's session cookie (the blueprint is exempt from CSRF for exactly that reason). Errors are
`{"error": {"code", "message", "fields"}}` with a stable code.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from marshmallow import Schema, ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from core import ratelimit
from core.api import schemas
from core.api import service as api
from core.case_templates import cases as template_cases
from core.case_templates import service as templates
from core.case_templates.cases import Person
from core.case_templates.models import CaseTemplate
from core.case_templates.service import TemplateError
from core.cases import followup, listing
from core.cases import service as cases
from core.cases.lookup import case_or_404, document_or_404, party_or_404
from core.cases.messages import error_text
from core.downloads import attachment
from core.extensions import csrf, db
from core.fields.service import case_data
from core.i18n import _
from core.models import Case, Document, Event, Officer
from core.storage import blobs
from tenants import scoping
from tenants.models import Tenant

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

PUBLIC_ENDPOINTS = {"api.openapi_document"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None,
                 headers: dict | None = None):
        super().__init__(code)
        self.status, self.code, self.message, self.fields, self.headers = status, code, message, fields, headers


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   headers: dict | None = None) -> Response:
    body = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = status
    response.headers.update(headers or {})
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    db.session.rollback()
    return error_response(error.status, error.code, error.message, error.fields, error.headers)


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}


@bp.errorhandler(HTTPException)
@bp.errorhandler(404)  # the codes the app handles itself: a blueprint's handler by code comes first
@bp.errorhandler(413)
@bp.errorhandler(429)
def _http_error(error: HTTPException):
    db.session.rollback()
    code = error.code or 500
    message = _("The request is too large.") if code == 413 else error.description
    return error_response(code, _HTTP_CODES.get(code, "error"), message)


@bp.app_errorhandler(405)
def _method_not_allowed(error: HTTPException):
    """Routing errors have no blueprint yet: answer JSON for API paths, the default elsewhere."""
    if request.path.startswith(bp.url_prefix + "/"):
        return _http_error(error)
    return error


@bp.errorhandler(500)
def _server_error(_error):
    db.session.rollback()
    return error_response(500, "internal_error", _("Something went wrong on our side. The error has been logged; "
                                                    "try again in a moment."))


# --- authentication and tenant -------------------------------------------------------------------


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("X-Api-Key", "").strip() or None


@bp.before_request
def _authenticate():
    g.locale = request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "en"
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    secret = _presented_key()
    if not secret:
        raise ApiError(401, "missing_api_key", _("Send your API key as `Authorization: Bearer <key>`."),
                       headers={"WWW-Authenticate": "Bearer"})
    key = api.find_api_key(secret)
    if key is None:
        raise ApiError(401, "invalid_api_key", _("The API key is not valid, or it has been revoked."),
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    _rate_limit(key.id)
    officer_token = g.pop("tenant_token", None)
    if officer_token is not None:  # an office session cookie never authenticates the API
        scoping.reset_current_tenant(officer_token)
    g.tenant_token = scoping.set_current_tenant(key.tenant_id)
    g.tenant = db.session.get(Tenant, key.tenant_id)
    g.pop("hooks", None)
    g.api_key = key
    api.touch_api_key(key)


def _rate_limit(key_id: int) -> None:
    rule = current_app.config.get("API_RATE_LIMIT", "120/60")
    if not ratelimit.hit("api", str(key_id), rule):
        _limit, seconds = ratelimit.parse(rule)
        retry_after = seconds - int(time.time()) % seconds
        raise ApiError(429, "rate_limited", _("Too many requests with this API key. Wait %(seconds)s seconds.",
                                              seconds=retry_after), headers={"Retry-After": str(retry_after)})


# --- helpers -------------------------------------------------------------------------------------


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def load(schema: Schema, data) -> dict:
    if _has_nul(data if not hasattr(data, "to_dict") else data.to_dict(flat=False)):
        raise ApiError(400, "invalid_characters", _("Text may not contain NUL characters."))
    try:
        return schema.load(data)
    except ValidationError as error:
        raise invalid_fields(error.messages) from None


def invalid_fields(messages: dict) -> ApiError:
    """The answer to field errors: 422 `validation_failed`, with the errors by field in `fields`."""
    return ApiError(422, "validation_failed", _("Some fields are not valid; see `fields`."), fields=_plain(messages))


def _plain(messages):
    """Marshmallow's messages with lazy strings made plain, keys as strings (JSON)."""
    if isinstance(messages, dict):
        return {str(k): _plain(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [_plain(v) for v in messages]
    return str(messages)


def json_body(required: bool = True) -> dict:
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise ApiError(400, "missing_body", _("Send the request as a JSON object."))
        return {}
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", _("Send JSON with `Content-Type: application/json`."))
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", _("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", _("The body must be a JSON object."))
    return data


def _acting_officer(case: Case | None = None) -> Officer:
    """Actions by a key are the key creator's; if they have left, the case owner's."""
    officer = api.default_owner(g.api_key) or (case.owner if case is not None and case.owner is not None
                                               and case.owner.active else None)
    if officer is None:
        raise ApiError(422, "owner_required", _("The officer who created this API key is no longer active. "
                                                "Give `owner_email`, or create a new key."),
                       fields={"owner_email": [_("Give the email of an active case officer.")]})
    return officer


def run_case_action(action: Callable[[], None]) -> None:
    try:
        action()
    except cases.CaseError as error:
        raise ApiError(409, error.code, error_text(error)) from None


def case_json(case: Case) -> dict:
    return schemas.CaseOut().dump(case)


def committed(payload: dict | None, status: int = 200, headers: dict | None = None) -> Response:
    db.session.commit()
    if payload is None:
        return Response(status=status, headers=headers)
    response = jsonify(payload)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def idempotent(handler: Callable[[], tuple[dict, int, dict]]) -> Response:
    """Run `handler` once per `Idempotency-Key`: the same request again gets the stored answer."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        payload, status, headers = handler()
        return committed(payload, status, headers)
    if len(key) > 255:
        raise ApiError(400, "invalid_idempotency_key", _("An Idempotency-Key has at most 255 characters."))
    fingerprint = api.request_fingerprint(request.method, request.path, request.get_data(cache=True))
    replay = api.find_idempotent(key, fingerprint)
    if replay is None:
        try:
            payload, status, headers = handler()
        except ApiError:
            db.session.rollback()  # a concurrent request with the same key may have done it meanwhile
            replay = api.find_idempotent(key, fingerprint)
            if replay is None:
                raise
            return _replayed(replay)
        body = json.dumps(payload)
        try:
            api.remember_idempotent(key, request.path, fingerprint, status, body)
            db.session.commit()
        except IntegrityError:  # the same key in a concurrent request, which won: undo ours
            db.session.rollback()
            replay = api.find_idempotent(key, fingerprint)
            if replay is None:
                raise
        else:
            return Response(body, status=status, mimetype="application/json", headers=headers)
    return _replayed(replay)


def _replayed(replay: api.Replay) -> Response:
    if not replay.same_request:
        raise ApiError(409, "idempotency_key_reused", _("This Idempotency-Key was used for a different request."))
    return Response(replay.body, status=replay.status, mimetype="application/json",
                    headers={"Idempotent-Replayed": "true"})


# --- cases ---------------------------------------------------------------------------------------


def _encode_cursor(raw: str | None) -> str | None:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=") if raw else None


def _decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        raw = ""
    if listing.decode_cursor(raw) is None:
        raise ApiError(400, "invalid_cursor", _("The cursor is not valid; use `next_cursor` from the last page."))
    return raw


@bp.get("/cases")
def list_cases():
    query = load(schemas.CaseListQuery(), request.args)
    owner_id = None
    if query.get("owner_email"):
        owner = db.session.scalar(sa.select(Officer).where(Officer.email == query["owner_email"].strip().lower()))
        owner_id = owner.id if owner is not None else -1
    page = listing.list_cases(status=query.get("status"), owner_id=owner_id, q=query.get("q"),
                              cursor=_decode_cursor(query.get("cursor")), limit=query["limit"],
                              template_id=query.get("template_id"))
    return jsonify(schemas.CasePageOut().dump({"cases": page.cases,
                                               "next_cursor": _encode_cursor(page.next_cursor)}))


@bp.post("/cases")
def create_case():
    return idempotent(_create_case)


def _case_input() -> tuple[dict, list[tuple[str, bytes]]]:
    """The case and its documents, from a JSON body or a multipart form."""
    if request.mimetype == "multipart/form-data":
        try:
            data = json.loads(request.form.get("data") or "{}")
        except ValueError:
            raise ApiError(400, "invalid_json", _("The `data` part is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_json", _("The `data` part must be a JSON object."))
        values = load(schemas.CaseIn(), data)
        files = [(f.filename or "document.pdf", f.read()) for f in request.files.getlist("documents")]
    else:
        values = load(schemas.CaseIn(), json_body())
        files = []
    documents = [(d["filename"], d["content"]) for d in values.pop("documents")] + files
    return values, documents


def _owner(email: str | None) -> Officer:
    if not email:
        return _acting_officer()
    owner = db.session.scalar(sa.select(Officer).where(Officer.email == email.strip().lower()))
    if owner is None or not owner.active:
        raise invalid_fields({"owner_email": [_("No active case officer with this email in your organisation.")]})
    return owner


def _create_case() -> tuple[dict, int, dict]:
    values, documents = _case_input()
    owner = _owner(values.pop("owner_email"))
    parties = values.pop("parties")
    values["allowed_methods"] = values.pop("methods")
    values["language"] = values["language"] or g.tenant.setting("default_language") or "sv"
    case = cases.create_case(owner, **values)
    for index, (filename, content) in enumerate(documents):
        try:
            cases.add_document(case, filename, content, actor=owner)
        except cases.DocumentRejected as rejected:
            raise ApiError(422, f"document_{rejected.reason_code}", str(rejected.message),
                           fields={"documents": {str(index): [str(rejected.message)]}}) from None
    for party in parties:
        cases.add_party(case, actor=owner, **party)
    return case_json(case), 201, {"Location": url_for(".get_case", case_id=case.id)}


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int):
    return jsonify(case_json(case_or_404(case_id)))


@bp.patch("/cases/<int:case_id>")
def change_case(case_id: int):
    case = case_or_404(case_id)

    def change() -> tuple[dict, int, dict]:
        if case.status != "draft":  # before the body: whatever it says, a sent case is not changed
            raise ApiError(409, "not_draft", error_text(cases.CaseError("not_draft")))
        values = load(schemas.CaseChangeIn(), json_body())
        officer = _acting_officer(case)
        owner = _owner(values.pop("owner_email")) if "owner_email" in values else None
        if "methods" in values:
            values["allowed_methods"] = values.pop("methods")
        rows = _party_rows(case, values.pop("parties")) if "parties" in values else None
        _check_method_needs(case, values.get("allowed_methods", case.allowed_methods), rows)
        run_case_action(lambda: cases.update_case(case, officer, **values))
        if rows is not None:
            run_case_action(lambda: cases.replace_parties(case, officer, rows))
        if owner is not None:
            run_case_action(lambda: followup.reassign_case(case, officer, owner))
        return case_json(case), 200, {}

    return idempotent(change)


def _party_rows(case: Case, parties: list[dict]) -> list[dict]:
    """The rows for `replace_parties`; each `id` must name a party of this draft, once."""
    known = {p.id for p in case.parties}
    errors, seen = {}, set()
    for index, party in enumerate(parties):
        if "id" not in party:
            continue
        if party["id"] not in known:
            errors[index] = {"id": [_("The case has no party with this id.")]}
        elif party["id"] in seen:
            errors[index] = {"id": [_("Each party can be listed only once.")]}
        seen.add(party["id"])
    if errors:
        raise invalid_fields({"parties": errors})
    return parties


def _check_method_needs(case: Case, methods: list[str], rows: list[dict] | None) -> None:
    """The parties after the change, as for a new case: an SMS signer needs a mobile number ..."""
    current = {p.id: {"role": p.role, "methods": p.methods, "phone": p.phone, "personal_number": p.personal_number,
                      "name": p.name, "email": p.email} for p in case.parties}
    rows = rows if rows is not None else [{"id": party_id} for party_id in current]
    errors = schemas.method_needs_errors([{**current.get(row.get("id"), {}), **row} for row in rows], methods)
    if errors:
        raise invalid_fields({"parties": errors})


@bp.delete("/cases/<int:case_id>")
def delete_case(case_id: int):
    case = case_or_404(case_id)
    run_case_action(lambda: cases.delete_draft(case, _acting_officer(case)))
    return committed(None, 204)


@bp.post("/cases/<int:case_id>/send")
def send_case(case_id: int):
    case = case_or_404(case_id)

    def send() -> tuple[dict, int, dict]:
        run_case_action(lambda: cases.send_case(case, _acting_officer(case)))
        return case_json(case), 200, {}

    return idempotent(send)


@bp.post("/cases/<int:case_id>/parties/<int:party_id>/remind")
def remind_party(case_id: int, party_id: int):
    case = case_or_404(case_id)
    party = party_or_404(case, party_id)
    run_case_action(lambda: followup.remind_party(case, party, actor=_acting_officer(case)))
    return committed(case_json(case))


@bp.post("/cases/<int:case_id>/revoke")
def revoke_case(case_id: int):
    case = case_or_404(case_id)
    values = load(schemas.RevokeIn(), json_body(required=False))
    run_case_action(lambda: cases.revoke_case(case, _acting_officer(case), values["reason"]))
    return committed(case_json(case))


@bp.get("/cases/<int:case_id>/events")
def case_events(case_id: int):
    case = case_or_404(case_id)
    events = db.session.scalars(sa.select(Event).where(Event.case_id == case.id).order_by(Event.seq))
    return jsonify(schemas.EventListOut().dump({"events": list(events)}))


@bp.get("/cases/<int:case_id>/fields")
def case_fields(case_id: int):
    case = case_or_404(case_id)
    return jsonify(schemas.CaseFieldsOut().dump({"items": case_data(case, g.locale)}))


# --- templates -----------------------------------------------------------------------------------


def _template_or_404(template_id: int) -> CaseTemplate:
    template = template_id <= api.MAX_ID and db.session.scalar(
        sa.select(CaseTemplate).where(CaseTemplate.id == template_id))
    if not template:
        raise ApiError(404, "not_found", _("There is no template with this id."))
    return template


@bp.get("/templates")
def list_templates():
    query = load(schemas.TemplateListQuery(), request.args)
    found = templates.templates(q=query["q"], archived=query["archived"], limit=query["limit"])
    return jsonify(schemas.TemplateListOut().dump({"templates": found}))


@bp.get("/templates/<int:template_id>")
def get_template(template_id: int):
    template = _template_or_404(template_id)
    content = templates.version_of(template).content
    data = {name: getattr(template, name) for name in schemas.TemplateSummaryOut().fields}
    return jsonify(schemas.TemplateOut().dump({**data, "documents": content["documents"], "roles": content["roles"],
                                               "field_list": content["fields"]}))


@bp.post("/templates/<int:template_id>/cases")
def case_from_template(template_id: int):
    template = _template_or_404(template_id)
    return idempotent(lambda: _case_from_template(template))


def _case_from_template(template: CaseTemplate) -> tuple[dict, int, dict]:
    values = load(schemas.TemplateCaseIn(), json_body())
    owner = _owner(values["owner_email"])
    people = {key: Person(**person) for key, person in values["parties"].items()}
    try:
        case = template_cases.case_from_template(template, owner, people, values["version"], values["values"],
                                                 values["title"], values["message"], values["expires_at"])
    except TemplateError as error:
        raise _template_error(error) from None
    except cases.DocumentRejected as rejected:
        raise ApiError(422, f"document_{rejected.reason_code}", str(rejected.message)) from None
    if values["send"]:
        run_case_action(lambda: cases.send_case(case, owner))
    return case_json(case), 201, {"Location": url_for(".get_case", case_id=case.id)}


def _template_error(error: TemplateError) -> ApiError:
    where = {"missing_people": "parties", "unknown_roles": "parties", "invalid_values": "fields"}.get(error.code)
    if where is not None:
        return invalid_fields({where: error.errors})
    if error.code == "no_such_version":
        return invalid_fields({"version": [error.message]})
    return ApiError(409, error.code, error.message)


# --- documents -----------------------------------------------------------------------------------


def _pdf(sha256: str, filename: str) -> Response:
    return attachment(blobs().get(sha256), filename)


def _stem(document: Document) -> str:
    return document.filename[:-4] if document.filename.lower().endswith(".pdf") else document.filename


def _sealed_or_404(case_id: int, document_id: int) -> Document:
    document = document_or_404(case_or_404(case_id), document_id)
    if document.sealed_sha256 is None:
        raise ApiError(404, "not_sealed", _("The document is not sealed yet: it is sealed when every signer has "
                                            "signed. Wait for the case.completed webhook or poll the case."))
    return document


@bp.get("/cases/<int:case_id>/documents/<int:document_id>")
def original_document(case_id: int, document_id: int):
    document = document_or_404(case_or_404(case_id), document_id)
    return _pdf(document.sha256, document.filename)


@bp.get("/cases/<int:case_id>/documents/<int:document_id>/sealed")
def sealed_document(case_id: int, document_id: int):
    document = _sealed_or_404(case_id, document_id)
    return _pdf(document.sealed_sha256, f"{_stem(document)}-sealed.pdf")


@bp.get("/cases/<int:case_id>/documents/<int:document_id>/receipt")
def document_receipt(case_id: int, document_id: int):
    document = _sealed_or_404(case_id, document_id)
    if not document.receipt_sha256:
        raise ApiError(404, "not_sealed", _("This document has no separate receipt."))
    return _pdf(document.receipt_sha256, f"{_stem(document)}-receipt.pdf")


# --- plugins' routes ------------------------------------------------------------------------------


def plugin_api_blueprint(plugin_name: str, import_name: str) -> Blueprint:
    """A blueprint for a plugin's routes under /api/v1, to return from `register_blueprints`.

    Its requests are authenticated like the core's (the organisation's API key; its rate limit;
    the key's organisation is the current tenant), answer 404 while that organisation has the plugin
    off, and every error is the API's JSON. Describe each route with the `api_operations` hook.
    Helpers for its views: `load`, `json_body`, `ApiError`, `invalid_fields`, `encode_cursor` /
    `decode_id_cursor` (keyset paging by id).
    """
    plugin_bp = Blueprint(f"{plugin_name}_api", import_name, url_prefix=bp.url_prefix)
    csrf.exempt(plugin_bp)

    def guard():
        _authenticate()
        if not g.tenant.has_plugin(plugin_name):
            raise ApiError(404, "not_found", _("There is nothing here, or you do not have access to it."))

    plugin_bp.before_request(guard)
    plugin_bp.register_error_handler(ApiError, _api_error)
    for code in (HTTPException, 404, 413, 429):
        plugin_bp.register_error_handler(code, _http_error)
    plugin_bp.register_error_handler(500, _server_error)
    return plugin_bp


def encode_cursor(last_id: int | None) -> str | None:
    """An opaque cursor for the page after the row with id `last_id` (None: no next page)."""
    return _encode_cursor(f"id:{last_id}") if last_id is not None else None


def decode_id_cursor(cursor: str | None) -> int | None:
    """The id an `encode_cursor` cursor carries, or None without one; 400 `invalid_cursor` when forged."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        raw = ""
    kind, _sep, value = raw.partition(":")
    if kind != "id" or not value.isdigit() or int(value) > api.MAX_ID:
        raise ApiError(400, "invalid_cursor", _("The cursor is not valid; use `next_cursor` from the last page."))
    return int(value)


# --- the API's own description -------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document():
    from core.api.openapi import openapi_spec

    return jsonify(openapi_spec())


@bp.record_once
def _register_companions(state) -> None:
    """The rendered docs (/api/docs) and the admin pages (/admin/api) live outside /api/v1."""
    from core.api.admin_views import bp as admin_bp
    from core.api.docs import bp as docs_bp

    state.app.register_blueprint(docs_bp)
    state.app.register_blueprint(admin_bp)
