"""The worked example's API route and webhook (tests/plugins/example): `plugin_api_blueprint`,
`api_operations` and `webhook_events`, through the documented surface only."""

from __future__ import annotations

import pytest

from core.extensions import db
from core.jobs import drain
from tenants.scoping import tenant_context
from tests import support
from tests.api.conftest import LOOPBACK, ApiClient, make_key, receiver  # noqa: F401  (fixture)
from tests.api.helpers import endpoint_secret, register_webhook, signature_ok
from tests.plugins import example
from tests.signing.helpers import events_of, make_case, signer

SARA = "Sara Svensson"


@pytest.fixture
def app(app_factory):
    app = app_factory(_plugins=[example], WEBHOOK_ALLOWED_NETWORKS=LOOPBACK)
    with app.app_context():
        yield app


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = [example.NAME]
    people.acme.plugin_settings = {"example": {"require_confirmation": True, "notice": "Read the fine print."}}
    db.session.commit()
    return people


def test_a_plugins_api_route_answers_with_the_organisations_key_and_404_where_it_is_off(app, acme_on):
    acme = ApiClient(app.test_client(), make_key(acme_on.alice))
    answer = acme.get("/api/v1/example/notice")
    assert answer.status_code == 200 and answer.json == {"notice": "Read the fine print.", "visits": 0}
    globex = ApiClient(app.test_client(), make_key(acme_on.charlie, "Globex CRM"))  # Globex has it off
    off = globex.get("/api/v1/example/notice")
    assert off.status_code == 404 and off.json["error"]["code"] == "not_found"
    unknown = app.test_client().get("/api/v1/example/notice")
    assert unknown.status_code == 401 and unknown.json["error"]["code"] == "missing_api_key"


def test_the_openapi_document_describes_the_plugins_route_and_event(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    operation = spec["paths"]["/example/notice"]["get"]
    assert operation["operationId"] == "exampleNotice" and "401" in operation["responses"]
    assert "ExampleNotice" in spec["components"]["schemas"]
    assert "example.notice.confirmed" in spec["info"]["description"]


def test_a_plugins_webhook_is_signed_and_numbered_by_the_cases_event(app, acme_on, receiver):  # noqa: F811
    client = app.test_client()
    support.login(client, "alice@acme.example")
    assert "example.notice.confirmed" in client.get("/admin/api/").get_data(as_text=True)
    assert register_webhook(client, receiver.url, ["example.notice.confirmed", "case.sent"]).status_code == 302
    made = make_case(acme_on.alice, [signer(SARA, "sara@example.com")], methods=["touch"])
    step = f"/example/confirm/{made.token(SARA)}"
    visitor = app.test_client()
    support.post(visitor, step, {}, token_from=step)
    support.post(visitor, step, {}, token_from=step)  # confirmed once: one event, one webhook
    drain()
    assert receiver.events() == ["case.sent", "example.notice.confirmed"]
    confirmed = receiver.received[1]
    assert signature_ok(endpoint_secret(acme_on.acme.id), confirmed)
    [event] = events_of(made.case, "example_confirmed")
    assert confirmed.json["sequence"] == event.seq and confirmed.json["data"]["case"]["id"] == made.case.id
    with tenant_context(made.case.tenant_id):
        assert confirmed.json["data"]["party_id"] == next(p.id for p in made.case.parties if p.name == SARA)


def test_an_organisation_without_the_plugin_is_not_offered_its_event(app, people):
    client = app.test_client()
    support.login(client, "charlie@globex.example")
    assert "example.notice.confirmed" not in client.get("/admin/api/").get_data(as_text=True)
