"""The OpenAPI 3 document of /api/v1, generated from the marshmallow schemas with apispec.

`ROUTES` describes every operation of the core; plugins describe theirs with the `api_operations`
hook (their routes are listed for every installed plugin; an organisation with the plugin off gets
404 from them). `tests/api/test_openapi.py` fails when a route under /api/v1 is described nowhere.
"""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from core.api import schemas
from core.api.models import WEBHOOK_EVENTS

CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
PARTY_ID = {"name": "party_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
DOCUMENT_ID = {"name": "document_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
TEMPLATE_ID = {"name": "template_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                   "schema": {"type": "string", "maxLength": 255},
                   "description": "Repeat the request with the same key and the same body to get the stored "
                                  "answer instead of acting twice; a different body with the same key gets 409."}

PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


def _json(schema: str) -> dict:
    return {"application/json": {"schema": schema}}


def _error(description: str) -> dict:
    return {"description": description, "content": _json("Error")}


COMMON_ERRORS = {
    "401": _error("No API key, or a key that is not valid or has been revoked."),
    "429": {**_error("Too many requests with this key; see `Retry-After`."),
            "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}},
}
NOT_FOUND = {"404": _error("No such case (or not in your organisation), party or document.")}
CONFLICT = {"409": _error("Not possible in the case's current state; `code` says why.")}
INVALID = {"422": _error("Fields not valid; `fields` says which and why.")}

ROUTES: list[tuple[str, str, dict]] = [
    ("/cases", "get", {
        "operationId": "listCases", "summary": "List cases",
        "description": "Latest activity first, a page at a time. Filters: status, owner, search.",
        "parameters": [{"in": "query", "schema": "CaseListQuery"}],
        "responses": {"200": {"description": "A page of cases.", "content": _json("CasePage")},
                      "400": _error("The cursor is not valid."), **INVALID},
    }),
    ("/cases", "post", {
        "operationId": "createCase", "summary": "Create a case (draft)",
        "description": "Documents as base64 in JSON, or as file parts of a multipart form with the case as JSON in "
                       "`data`. Owned by the officer who created the key unless `owner_email` names another.",
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": "CaseIn"},
            "multipart/form-data": {"schema": "CaseMultipartIn"},
        }},
        "responses": {"201": {"description": "The new draft.", "content": _json("Case"),
                              "headers": {"Location": {"schema": {"type": "string"}}}},
                      "400": _error("The body is not valid JSON."),
                      "409": _error("The Idempotency-Key was used for a different request."),
                      "413": _error("The request is too large."),
                      "415": _error("Neither JSON nor a multipart form."),
                      "422": _error("Fields not valid, or a document is not an acceptable PDF.")},
    }),
    ("/cases/{case_id}", "get", {
        "operationId": "getCase", "summary": "Get a case", "parameters": [CASE_ID],
        "responses": {"200": {"description": "The case.", "content": _json("Case")}, **NOT_FOUND},
    }),
    ("/cases/{case_id}", "patch", {
        "operationId": "changeDraft", "summary": "Change a draft",
        "description": "Only the fields given change; `null` is not a value here. `parties`, when given, is the "
                       "whole list in signing order: an entry with `id` keeps that party and changes the fields "
                       "it gives, an entry without `id` adds a party (`name` and `email` needed), and a party "
                       "left out is removed. Every change is recorded in the case's events. A sent case "
                       "cannot be changed (409).",
        "parameters": [CASE_ID, IDEMPOTENCY_KEY],
        "requestBody": {"required": True, "content": {"application/json": {"schema": "CaseChangeIn"}}},
        "responses": {"200": {"description": "The changed draft.", "content": _json("Case")},
                      "400": _error("The body is missing or is not valid JSON."),
                      "409": _error("The case is not a draft (`code`: not_draft), or the Idempotency-Key was "
                                    "used for a different request."),
                      "415": _error("The body is not JSON."), **NOT_FOUND,
                      "422": _error("Fields not valid, or the key's officer is no longer active.")},
    }),
    ("/cases/{case_id}", "delete", {
        "operationId": "deleteDraft", "summary": "Delete a draft", "parameters": [CASE_ID],
        "responses": {"204": {"description": "Deleted."}, **NOT_FOUND, **CONFLICT, **INVALID},
    }),
    ("/cases/{case_id}/send", "post", {
        "operationId": "sendCase", "summary": "Send a draft for signing",
        "description": "Signers get their personal links by email (in order: only the first).",
        "parameters": [CASE_ID, IDEMPOTENCY_KEY],
        "responses": {"200": {"description": "The case, now pending.", "content": _json("Case")},
                      **NOT_FOUND, **CONFLICT, **INVALID},
    }),
    ("/cases/{case_id}/parties/{party_id}/remind", "post", {
        "operationId": "remindParty", "summary": "Remind a party now (at most once an hour)",
        "description": "The reminder email carries a link of its own; links the party already has keep working.",
        "parameters": [CASE_ID, PARTY_ID],
        "responses": {"200": {"description": "The case.", "content": _json("Case")},
                      **NOT_FOUND, **CONFLICT, **INVALID},
    }),
    ("/cases/{case_id}/revoke", "post", {
        "operationId": "revokeCase", "summary": "Revoke a pending case",
        "description": "Links stop working at once; invited parties are told the reason.",
        "parameters": [CASE_ID],
        "requestBody": {"required": False, "content": {"application/json": {"schema": "RevokeIn"}}},
        "responses": {"200": {"description": "The case, now revoked.", "content": _json("Case")},
                      "400": _error("The body is not valid JSON."), **NOT_FOUND, **CONFLICT, **INVALID},
    }),
    ("/cases/{case_id}/events", "get", {
        "operationId": "caseEvents", "summary": "The case's timeline (hash-chained event log)",
        "parameters": [CASE_ID],
        "responses": {"200": {"description": "Every event, oldest first.", "content": _json("EventList")},
                      **NOT_FOUND},
    }),
    ("/cases/{case_id}/fields", "get", {
        "operationId": "caseFields", "summary": "The case's fields and their values, typed",
        "description": "Every field of the case in order, with the value saved or signed (else its prefilled "
                       "value): numbers as numbers, checkboxes as booleans, dates as YYYY-MM-DD.",
        "parameters": [CASE_ID],
        "responses": {"200": {"description": "The fields.", "content": _json("CaseFields")}, **NOT_FOUND},
    }),
    ("/templates", "get", {
        "operationId": "listTemplates", "summary": "List templates",
        "description": "The organisation's templates by name (archived ones with `archived=true`).",
        "parameters": [{"in": "query", "schema": "TemplateListQuery"}],
        "responses": {"200": {"description": "The templates.", "content": _json("TemplateList")}, **INVALID},
    }),
    ("/templates/{template_id}", "get", {
        "operationId": "getTemplate", "summary": "Get a template: its roles and fields",
        "parameters": [TEMPLATE_ID],
        "responses": {"200": {"description": "The template's newest version.", "content": _json("Template")},
                      "404": _error("No such template (or not in your organisation).")},
    }),
    ("/templates/{template_id}/cases", "post", {
        "operationId": "createCaseFromTemplate", "summary": "Create a case from a template",
        "description": "The template's documents, roles, fields and settings are copied into a new draft (or, "
                       "with `send`, a sent case): give the person for each role by its `key` and prefilled "
                       "field values by field `name`. The case records the template version it was made from; "
                       "later changes of the template never change it.",
        "parameters": [TEMPLATE_ID, IDEMPOTENCY_KEY],
        "requestBody": {"required": True, "content": {"application/json": {"schema": "TemplateCaseIn"}}},
        "responses": {"201": {"description": "The new case.", "content": _json("Case"),
                              "headers": {"Location": {"schema": {"type": "string"}}}},
                      "400": _error("The body is missing or is not valid JSON."),
                      "404": _error("No such template (or not in your organisation)."),
                      "409": _error("The template is archived or not ready to be used, the case could not be "
                                    "sent, or the Idempotency-Key was used for a different request."),
                      "415": _error("The body is not JSON."),
                      "422": _error("Fields not valid: a role without a person, a value of the wrong type, "
                                    "an unknown version.")},
    }),
    ("/cases/{case_id}/documents/{document_id}", "get", {
        "operationId": "downloadOriginal", "summary": "Download the original PDF",
        "parameters": [CASE_ID, DOCUMENT_ID],
        "responses": {"200": {"description": "The PDF as uploaded.", "content": PDF}, **NOT_FOUND},
    }),
    ("/cases/{case_id}/documents/{document_id}/sealed", "get", {
        "operationId": "downloadSealed", "summary": "Download the sealed PDF",
        "parameters": [CASE_ID, DOCUMENT_ID],
        "responses": {"200": {"description": "Stamped, with the receipt appended, PAdES-sealed.", "content": PDF},
                      "404": _error("No such document, or not sealed yet (`code`: not_sealed).")},
    }),
    ("/cases/{case_id}/documents/{document_id}/receipt", "get", {
        "operationId": "downloadReceipt", "summary": "Download the receipt alone",
        "parameters": [CASE_ID, DOCUMENT_ID],
        "responses": {"200": {"description": "The receipt pages as a PDF.", "content": PDF},
                      "404": _error("No such document, or not sealed yet (`code`: not_sealed).")},
    }),
]

PUBLIC_ROUTES: list[tuple[str, str, dict]] = [
    ("/openapi.json", "get", {
        "operationId": "openapi", "summary": "This document", "security": [],
        "responses": {"200": {"description": "OpenAPI 3.0", "content": {"application/json": {"schema": {
            "type": "object"}}}}},
    }),
]

DESCRIPTION = """The Sigill API for integrators: create signing cases (from scratch or from a template), send them,
follow them up, read the values the parties filled in and fetch the sealed PDFs.

Authenticate with an API key of your organisation (created by an administrator under Organisation -> API
and webhooks) as `Authorization: Bearer <key>` or `X-Api-Key: <key>`. Everything is scoped to the key's
organisation: ids of other organisations answer 404.

Errors are JSON: `{{"error": {{"code": "stable_code", "message": "...", "fields": {{...}}}}}}`.

Webhooks: an administrator registers endpoint URLs and picks events ({events}). Each
delivery is a POST of JSON `{{"id", "event", "created_at", "sequence", "data"}}` (`sequence`: the number of the
case's event that caused it, increasing per case, to order deliveries that arrive out of order) with the
headers `Sigill-Event`, `Sigill-Delivery` (the id; the same on retries) and
`Sigill-Signature: t=<unix time>,v1=<hex>`, where `v1` is HMAC-SHA256 with the endpoint's secret over
`<t>.<body>`. Answer with a 2xx status; anything else is retried with backoff (30 s, 2 min, 10 min,
1 h, ...) for a day. Deliveries go to public internet addresses only: the host name is resolved and
checked at every attempt, and redirects are not followed."""


def openapi_spec() -> dict:
    """The document for this app: signing methods are listed as the app's method registry has them
    (`schemas.MethodName.choices`) and plugins' routes and webhook events as its installed plugins
    describe them, so it is built once per app and set of installed methods."""
    from flask import current_app

    cached = current_app.extensions.setdefault("sigill_openapi", {})
    method_names = tuple(schemas.MethodName().choices)
    if method_names not in cached:
        cached[method_names] = _openapi_spec(current_app.extensions["sigill_pm"])
    return cached[method_names]


def _openapi_spec(pm) -> dict:
    plugin_events = [name for declared in pm.hook.webhook_events() for name in (declared or {})]
    events = ", ".join(dict.fromkeys([*WEBHOOK_EVENTS, *plugin_events]))
    spec = APISpec(title="Sigill API", version="1.0.0", openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": DESCRIPTION.format(events=events)}, servers=[{"url": "/api/v1"}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("apiKey", {"type": "apiKey", "in": "header", "name": "X-Api-Key"})
    for name, schema in (("Case", schemas.CaseOut), ("CasePage", schemas.CasePageOut),
                         ("EventList", schemas.EventListOut), ("Error", schemas.ErrorOut),
                         ("CaseIn", schemas.CaseIn), ("CaseMultipartIn", schemas.CaseMultipartIn),
                         ("CaseChangeIn", schemas.CaseChangeIn),
                         ("RevokeIn", schemas.RevokeIn), ("CaseFields", schemas.CaseFieldsOut),
                         ("Template", schemas.TemplateOut), ("TemplateList", schemas.TemplateListOut),
                         ("TemplateCaseIn", schemas.TemplateCaseIn)):
        spec.components.schema(name, schema=schema)
    routes = list(ROUTES)
    for described in pm.hook.api_operations():
        for name, schema in (described or {}).get("schemas", {}).items():
            spec.components.schema(name, schema=schema)
        routes.extend((described or {}).get("paths", []))
    paths: dict[str, dict] = {}
    for path, method, operation in routes:
        operation = {**operation, "responses": {**operation["responses"], **COMMON_ERRORS},
                     "security": [{"bearer": []}, {"apiKey": []}]}
        paths.setdefault(path, {})[method] = operation
    for path, method, operation in PUBLIC_ROUTES:
        paths.setdefault(path, {})[method] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    _changes_only(document["components"]["schemas"]["CaseChangeIn"])
    return document


def _changes_only(schema: dict) -> None:
    """A change to a draft has no defaults and no nulls: a field left out stays as it is."""
    for prop in schema["properties"].values():
        prop.pop("default", None)
        if prop.pop("nullable", False) and None in prop.get("enum", ()):
            prop["enum"].remove(None)
