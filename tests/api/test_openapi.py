"""The OpenAPI document: valid, complete, rendered at /api/docs, and schemathesis finds no server errors."""

from __future__ import annotations

import re

import pytest

from core.api.openapi import openapi_spec
from tests.api.conftest import case_body, make_key


def test_the_document_is_valid_openapi_3(client):
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json["openapi"].startswith("3.0")
    validate(response.json)


def test_every_route_of_the_api_is_described(app):
    spec = openapi_spec()
    described = {(path, method) for path, operations in spec["paths"].items() for method in operations}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        routed |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == described
    for path, method in described:
        operation = spec["paths"][path][method]
        assert operation["summary"] and operation["responses"]
        for name in re.findall(r"{(\w+)}", path):
            assert name in {p["name"] for p in operation["parameters"] if p["in"] == "path"}


def test_the_docs_page_renders_every_operation_without_a_cdn(client):
    response = client.get("/api/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for path, operations in openapi_spec()["paths"].items():
        for method in operations:
            assert f"{method.upper()} /api/v1{path}" in html
    assert "owner_email" in html and "content_base64" in html and "Sigill-Signature" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_schemathesis_finds_no_server_errors_and_every_answer_is_as_documented(app, people):
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from core.extensions import db

    app.config["API_RATE_LIMIT"] = "100000/60"
    headers = {"Authorization": f"Bearer {make_key(people.alice)}"}
    client = app.test_client()
    for _ in range(2):  # ids 1 and 2 exist: one draft, one sent
        created = client.post("/api/v1/cases", json=case_body(), headers=headers).json
    client.post(f"/api/v1/cases/{created['id']}/send", headers=headers)
    db.session.remove()
    statuses = []

    def fresh_context(environ, start_response):  # a fresh app context per request, as in production
        def recording_start_response(status, *args):
            statuses.append(int(status.split()[0]))
            return start_response(status, *args)

        with app.app_context():
            return app(environ, recording_start_response)

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fresh_context)
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy())
        def call(case):
            case.call_and_validate(headers=headers, checks=checks)

        call()
    assert len(statuses) > 50 and {200, 201, 404, 422} <= set(statuses) and max(statuses) < 500
