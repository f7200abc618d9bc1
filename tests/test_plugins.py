"""Plugins: a tenant's hook calls reach only the plugins it switched on; their routes 404 otherwise."""

import pytest
from flask import Blueprint

from core.cases.actors import Actor
from core.cases.service import create_case
from core.extensions import db
from core.plugins import hookimpl, hooks_for, plugin_guard
from tenants.scoping import tenant_context
from tests import support


class RecordingPlugin:
    """A switchable test plugin with a route and a lifecycle hook."""

    def __init__(self):
        self.sent = []

    @hookimpl
    def plugin_info(self):
        return {"name": "recorder", "title": "Recorder", "description": "Records sent cases."}

    @hookimpl
    def register_blueprints(self, app):
        bp = Blueprint("recorder", __name__, url_prefix="/recorder")
        bp.before_request(plugin_guard("recorder"))

        @bp.get("/")
        def index():
            return "recorder here"

        return [bp]

    @hookimpl
    def case_sent(self, case):
        self.sent.append(case)
        return "recorded"


@pytest.fixture
def plugin():
    return RecordingPlugin()


@pytest.fixture
def app(app_factory, plugin):
    app = app_factory(_plugins=[plugin])
    with app.app_context():
        yield app


def _alice(people) -> Actor:
    return Actor.for_officer(people.alice)


def _draft(officer):
    with tenant_context(officer.tenant_id):
        case = create_case(officer, f"Case of {officer.name}", allowed_methods=["touch"])
        db.session.commit()
        return case


def test_hooks_reach_the_plugin_only_for_tenants_that_enabled_it(app, plugin, people):
    people.acme.enabled_plugins = ["recorder"]
    db.session.commit()
    acme_case, globex_case = _draft(people.alice), _draft(people.charlie)
    with tenant_context(people.acme.id):
        assert hooks_for(people.acme).case_sent(case=acme_case, actor=_alice(people)) == ["recorded"]
    with tenant_context(people.globex.id):
        assert hooks_for(people.globex).case_sent(case=globex_case, actor=Actor.for_officer(people.charlie)) == []
    assert plugin.sent == [acme_case]


def test_switching_off_stops_the_calls(app, plugin, people):
    people.acme.enabled_plugins = ["recorder"]
    db.session.commit()
    case = _draft(people.alice)
    with tenant_context(people.acme.id):
        assert hooks_for(people.acme).case_sent(case=case, actor=_alice(people)) == ["recorded"]
    admin = app.test_client()
    support.login(admin, "alice@acme.example")
    assert support.post(admin, "/admin/plugins/recorder/off", token_from="/admin/").status_code == 302
    db.session.refresh(people.acme)
    assert people.acme.enabled_plugins == []
    with tenant_context(people.acme.id):
        assert hooks_for(people.acme).case_sent(case=case, actor=_alice(people)) == []
    assert plugin.sent == [case]
    assert admin.get("/recorder/").status_code == 404


def test_plugin_routes_answer_404_where_the_plugin_is_off(app, people):
    acme, globex = app.test_client(), app.test_client()
    support.login(acme, "alice@acme.example")
    support.login(globex, "charlie@globex.example")
    people.acme.enabled_plugins = ["recorder"]
    db.session.commit()
    assert acme.get("/recorder/").get_data(as_text=True) == "recorder here"
    assert globex.get("/recorder/").status_code == 404
    assert app.test_client().get("/recorder/").status_code == 404


def test_admin_switches_a_plugin_on_from_the_admin_page(app, people):
    client = app.test_client()
    support.login(client, "alice@acme.example")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Recorder" in page
    response = support.post(client, "/admin/plugins/recorder/on", token_from="/admin/")
    assert response.status_code == 302
    db.session.refresh(people.acme)
    assert people.acme.enabled_plugins == ["recorder"]
    assert client.get("/recorder/").status_code == 200


def test_an_officer_who_is_not_admin_cannot_switch_plugins(app, people):
    client = app.test_client()
    support.login(client, "bob@acme.example")
    response = support.post(client, "/admin/plugins/recorder/on", token_from="/cases/")
    assert response.status_code == 403
    db.session.refresh(people.acme)
    assert people.acme.enabled_plugins == []


def test_unknown_plugin_name_is_404(app, people):
    client = app.test_client()
    support.login(client, "alice@acme.example")
    assert support.post(client, "/admin/plugins/nope/on", token_from="/admin/").status_code == 404
