"""The worked example plugin (tests/plugins/example) end to end: each hook it uses, through the app."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from core.extensions import db
from core.jobs import drain
from core.models import Case, Signature
from core.plugins import hookimpl
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import support
from tests.plugins import example
from tests.signing.helpers import events_of, make_case, sign_form, signer, sms_codes

SARA = "Sara Svensson"


@pytest.fixture
def app(app_factory, monkeypatch):
    monkeypatch.setenv("EXAMPLE_SIGNATURE", "from the environment")
    app = app_factory(_plugins=[example])
    with app.app_context():
        yield app


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = [example.NAME]
    db.session.commit()
    return people


def office(app, email):
    client = app.test_client()
    support.login(client, email)
    return client


# --- public routes ------------------------------------------------------------------------------


def test_a_public_page_is_served_without_a_session_for_the_tenant_its_slug_names(app, acme_on):
    page = app.test_client().get("/example/o/acme")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Acme AB" in text and "Welcome." in text


def test_a_public_page_answers_404_where_that_tenant_has_the_plugin_off(app, acme_on):
    visitor = app.test_client()
    assert visitor.get("/example/o/globex").status_code == 404
    assert visitor.get("/example/o/nobody").status_code == 404
    # An officer of a tenant with the plugin on gets no other tenant's public page either.
    assert office(app, "alice@acme.example").get("/example/o/globex").status_code == 404


def test_the_public_pages_tenant_wins_over_a_logged_in_officers(app, acme_on):
    charlie = office(app, "charlie@globex.example")  # globex has the plugin off
    text = charlie.get("/example/o/acme").get_data(as_text=True)
    assert "<h1>Acme AB</h1>" in text  # the header still names charlie's own organisation
    assert charlie.get("/example/office").status_code == 404  # charlie's own tenant: off


def test_office_routes_still_need_an_officer_of_a_tenant_with_the_plugin_on(app, acme_on):
    assert app.test_client().get("/example/office").status_code == 404
    assert office(app, "alice@acme.example").get("/example/office").get_data(as_text=True) == "office of Acme AB"


def test_a_public_route_resolves_its_tenant_from_its_own_token(app, acme_on):
    made = make_case(acme_on.alice, [signer("Sara Svensson", "sara@example.com", methods=["touch"])],
                     methods=["touch"])
    token = made.token("Sara Svensson")
    visitor = app.test_client()
    assert "Welcome." in visitor.get(f"/example/p/{token}").get_data(as_text=True)
    assert visitor.get("/example/p/not-a-token").status_code == 404
    acme_on.acme.enabled_plugins = []
    db.session.commit()
    assert visitor.get(f"/example/p/{token}").status_code == 404


def test_unknown_public_tokens_are_rate_limited(app_factory, people, monkeypatch):
    app = app_factory(_plugins=[example], TOKEN_RATE_LIMIT="3/60")
    with app.app_context():
        visitor = app.test_client()
        codes = [visitor.get(f"/example/p/guess-{n}").status_code for n in range(5)]
    assert codes[:3] == [404, 404, 404] and codes[-1] == 429


# --- settings -----------------------------------------------------------------------------------


def test_the_admin_edits_the_plugins_settings_and_the_plugin_reads_them(app, acme_on):
    alice = office(app, "alice@acme.example")
    page = alice.get("/admin/").get_data(as_text=True)
    assert "Settings for Example notice" in page and 'value="Welcome."' in page
    response = support.post(alice, "/admin/plugins/example/settings",
                            {"notice": "Closed on Fridays.", "max_visits": "5", "colour": "green"},
                            token_from="/admin/")
    assert response.status_code == 302
    db.session.refresh(acme_on.acme)
    assert acme_on.acme.plugin_settings["example"] == {"notice": "Closed on Fridays.", "max_visits": 5,
                                                       "show_to_parties": False, "colour": "green",
                                                       "require_confirmation": False}
    assert "Closed on Fridays." in app.test_client().get("/example/o/acme").get_data(as_text=True)
    page = alice.get("/admin/").get_data(as_text=True)
    assert 'value="Closed on Fridays."' in page and '<option value="green" selected>Green</option>' in page


def test_settings_out_of_range_are_refused_in_the_admins_language(app, acme_on):
    alice = office(app, "alice@acme.example")
    response = support.post(alice, "/admin/plugins/example/settings",
                            {"notice": "Hello", "max_visits": "500", "show_to_parties": "on", "colour": "red"},
                            token_from="/admin/")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Visits a day: give a value from 1 to 100." in text
    assert "Colour: choose one of the listed values." in text
    assert 'value="500"' in text and 'aria-invalid="true"' in text  # what was typed stays, marked
    alice.get("/lang/sv")
    response = support.post(alice, "/admin/plugins/example/settings", {"max_visits": "many"}, token_from="/admin/")
    assert "Visits a day: ange ett heltal." in response.get_data(as_text=True)
    db.session.refresh(acme_on.acme)
    assert "example" not in (acme_on.acme.plugin_settings or {})


def test_settings_of_a_plugin_that_is_off_cannot_be_saved(app, people):
    alice = office(app, "alice@acme.example")
    assert "Settings for Example notice" not in alice.get("/admin/").get_data(as_text=True)
    response = support.post(alice, "/admin/plugins/example/settings", {"notice": "x"}, token_from="/admin/")
    assert response.status_code == 404


def test_an_officer_who_is_not_admin_cannot_change_settings(app, acme_on):
    bob = office(app, "bob@acme.example")
    response = support.post(bob, "/admin/plugins/example/settings", {"notice": "x"}, token_from="/cases/")
    assert response.status_code == 403


def test_stored_settings_that_no_longer_validate_fall_back_to_defaults(app, acme_on):
    from core.plugins import plugin_settings

    acme_on.acme.plugin_settings = {"example": {"notice": "Kept", "max_visits": 1000, "gone": 1}}
    db.session.commit()
    assert plugin_settings(acme_on.acme, "example") == {"notice": "Kept", "max_visits": 10, "show_to_parties": True,
                                                            "colour": "blue", "require_confirmation": False}


# --- configuration ------------------------------------------------------------------------------


def test_a_plugins_configuration_key_is_read_from_the_environment(app, acme_on):
    assert app.config["EXAMPLE_SIGNATURE"] == "from the environment"
    assert "from the environment" in app.test_client().get("/example/o/acme").get_data(as_text=True)


def test_a_plugins_configuration_key_has_its_default_and_a_config_override_wins(app_factory, monkeypatch):
    monkeypatch.delenv("EXAMPLE_SIGNATURE", raising=False)
    assert app_factory(_plugins=[example]).config["EXAMPLE_SIGNATURE"] == "sent by the example plugin"
    assert app_factory(_plugins=[example], EXAMPLE_SIGNATURE="given").config["EXAMPLE_SIGNATURE"] == "given"


# --- a step before signing, evidence, the signer page's panel --------------------------------------


@pytest.fixture
def confirming(acme_on):
    acme_on.acme.plugin_settings = {"example": {"require_confirmation": True, "notice": "Read the fine print."}}
    db.session.commit()
    return make_case(acme_on.alice, [signer(SARA, "sara@example.com")], methods=["touch", "sms"])


def test_an_open_step_replaces_the_methods_on_the_signer_page(app, confirming):
    html = app.test_client().get(confirming.path(SARA)).get_data(as_text=True)
    assert "Before you sign" in html
    assert f'href="/example/confirm/{confirming.token(SARA)}"' in html
    assert 'id="sign-form"' not in html and "Send the code" not in html


def test_no_code_is_sent_while_a_step_is_open(app, confirming):
    client = app.test_client()
    path = confirming.path(SARA)
    token = support.csrf_token(client, path)
    answer = client.post(path + "/method/sms/send", headers={"Accept": "application/json", "X-CSRFToken": token})
    assert answer.status_code == 422
    assert answer.get_json()["message"] == "Before you sign: Confirm that you read the notice."
    assert sms_codes(Path(app.config["OUTBOX_DIR"]) / "sms") == []


def test_the_final_submit_is_refused_while_a_step_is_open(app, confirming):
    client = app.test_client()
    path = confirming.path(SARA)
    response = support.post(client, path + "/sign", {"method": "touch", "consent": "yes", "documents_digest": "x"},
                            token_from=path)
    assert response.status_code == 422
    assert "Before you sign: Confirm that you read the notice." in response.get_data(as_text=True)
    with tenant_context(confirming.case.tenant_id):
        assert db.session.query(Signature).count() == 0


def test_after_the_step_the_party_signs_and_the_evidence_names_it(app, confirming):
    client = app.test_client()
    path = confirming.path(SARA)
    step = f"/example/confirm/{confirming.token(SARA)}"
    assert "Read the fine print." in client.get(step).get_data(as_text=True)
    assert support.post(client, step, {}, token_from=step).headers["Location"] == path
    html = client.get(path).get_data(as_text=True)
    assert "Before you sign" not in html and 'id="sign-form"' in html
    response = support.post(client, path + "/sign", sign_form(client, path), token_from=path)
    assert response.status_code == 302
    confirmed = events_of(confirming.case, "example_confirmed")
    with tenant_context(confirming.case.tenant_id):
        signature = db.session.query(Signature).one()
        assert signature.evidence["plugins"] == {"example": {"confirmed_event": confirmed[0].id, "method": "touch"}}
    signed = events_of(confirming.case, "party_signed")[0]
    assert signed.data["plugins"] == signature.evidence["plugins"]  # the chain covers it
    drain()  # the sealing job: the receipt has the plugin's section
    with tenant_context(confirming.case.tenant_id):
        receipt = blobs().get(db.session.get(Case, confirming.case.id).documents[0].receipt_sha256)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt)).pages)
    assert "Bekräftat meddelande" in text and f"Sara Svensson: event {confirmed[0].id}" in text  # the tenant is Swedish


def test_the_step_is_not_asked_where_the_plugin_is_off(app, confirming):
    confirming_tenant = confirming.case.tenant_id
    with tenant_context(confirming_tenant):
        from core.models import Tenant

        db.session.get(Tenant, confirming_tenant).enabled_plugins = []
        db.session.commit()
    client = app.test_client()
    html = client.get(confirming.path(SARA)).get_data(as_text=True)
    assert "Before you sign" not in html and 'id="sign-form"' in html
    assert client.get(f"/example/confirm/{confirming.token(SARA)}").status_code == 404


def test_the_signer_page_panel_follows_the_setting_through_the_page_cache(app, acme_on):
    made = make_case(acme_on.alice, [signer(SARA, "sara@example.com")], methods=["touch"])
    client = app.test_client()
    html = client.get(made.path(SARA)).get_data(as_text=True)
    assert '<aside class="card example-notice"><p>Welcome.</p>' in html
    assert f'href="/example/p/{made.token(SARA)}"' in html  # the panel's link carries the party's token
    assert "standin" not in html
    acme_on.acme.plugin_settings = {"example": {"notice": "Closed <b>today</b>."}}
    db.session.commit()
    html = client.get(made.path(SARA)).get_data(as_text=True)
    assert "<p>Closed &lt;b&gt;today&lt;/b&gt;.</p>" in html and "Welcome." not in html


# --- its own table and migrations, its periodic job -----------------------------------------------


def test_the_plugins_table_comes_from_its_own_migration_branch(tmp_path):
    import sqlalchemy as sa
    from flask_migrate import downgrade

    from core.app import create_app
    from tests.conftest import base_config

    app = create_app(base_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.db'}"),
                     plugins=[example])
    with app.app_context():
        support.upgrade_database()  # `sigill db upgrade`: the core and every plugin's branch
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"example_notice_visit", "delivery_file", "case"} <= tables
        with db.engine.connect() as conn:
            versions = set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
        assert "8b3e5f0d2a91" in versions
        downgrade(directory=app.extensions["migrate"].directory, revision="example@base")
        db.engine.dispose()
        tables = set(sa.inspect(db.engine).get_table_names())
        assert "example_notice_visit" not in tables and "case" in tables  # only the plugin's branch went
        db.engine.dispose()


def test_a_periodic_job_runs_per_tenant_that_has_the_plugin_on(app, acme_on):
    from datetime import timedelta

    import sqlalchemy as sa

    from core import jobs
    from core.models.base import utcnow
    from tests.plugins.example.models import NoticeVisit

    visitor = app.test_client()
    assert "1 visits" in visitor.get("/example/o/acme").get_data(as_text=True)
    assert "2 visits" in visitor.get("/example/o/acme").get_data(as_text=True)
    old = utcnow() - timedelta(days=2)
    for tenant in (acme_on.acme, acme_on.globex):  # globex has the plugin off: its rows stay
        with tenant_context(tenant.id):
            db.session.add(NoticeVisit(visited_at=old, language="sv"))
            db.session.commit()
    assert "example_forget_visits" in jobs.periodic_tasks(app)
    scheduler = jobs.Scheduler(app)
    scheduler.run_due()  # what `sigill scheduler` (or the web process's thread) does every tick
    with tenant_context(acme_on.acme.id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(NoticeVisit)) == 2
    with tenant_context(acme_on.globex.id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(NoticeVisit)) == 1


# --- its signing method (from the registry) ------------------------------------------------------


def test_its_signing_method_is_offered_in_the_office_and_signs_with_its_evidence(app, acme_on):
    acme_on.acme.plugin_settings = {"example": {"notice": "Bring your own pen."}}
    db.session.commit()
    assert 'value="notice_word"' in office(app, "alice@acme.example").get("/cases/new").get_data(as_text=True)
    made = make_case(acme_on.alice, [signer(SARA, "sara@example.com", methods=["notice_word"])],
                     methods=["notice_word"])
    client = app.test_client()
    path = made.path(SARA)
    assert "Type the notice&#39;s last word" in client.get(path).get_data(as_text=True)
    wrong = support.post(client, path + "/sign", sign_form(client, path, method="notice_word", notice_word="paper"),
                         token_from=path)
    assert wrong.status_code == 422 and "That is not the notice" in wrong.get_data(as_text=True)
    right = support.post(client, path + "/sign", sign_form(client, path, method="notice_word", notice_word=" PEN "),
                         token_from=path)
    assert right.status_code == 302
    drain()
    with tenant_context(made.case.tenant_id):
        signature = db.session.query(Signature).one()
        assert signature.method == "notice_word" and signature.evidence["notice_word"] == "pen"
        receipt = blobs().get(db.session.get(Case, made.case.id).documents[0].receipt_sha256)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt)).pages)
    assert "Notice word" in text


def test_its_signing_method_is_not_offered_where_the_plugin_is_off(app, people):
    assert 'value="notice_word"' not in office(app, "alice@acme.example").get("/cases/new").get_data(as_text=True)


def test_its_own_catalogue_speaks_to_a_swedish_party(app, acme_on):
    acme_on.acme.plugin_settings = {"example": {"require_confirmation": True}}
    db.session.commit()
    made = make_case(acme_on.alice, [signer(SARA, "sara@example.com", language="sv")], methods=["touch"])
    html = app.test_client().get(made.path(SARA)).get_data(as_text=True)
    assert "Bekräfta att du har läst meddelandet" in html  # from tests/plugins/example/translations
    assert "Innan du skriver under" in html  # the core's own texts still translate


class Refusing:
    """A plugin that refuses every signature of its organisation (`before_party_signs`)."""

    @hookimpl
    def plugin_info(self):
        return {"name": "refusing", "title": "Refusing", "description": "Refuses."}

    @hookimpl
    def before_party_signs(self, case, party, method):
        return f"Not with {method} today."


def test_a_refusal_stops_a_method_before_it_starts_and_at_submit(app_factory):
    app = app_factory(_plugins=[Refusing()])
    with app.app_context():
        people = support.make_people()
        people.acme.enabled_plugins = ["refusing"]
        db.session.commit()
        made = make_case(people.alice, [signer(SARA, "sara@example.com")], methods=["touch", "sms"])
        client = app.test_client()
        path = made.path(SARA)
        token = support.csrf_token(client, path)
        answer = client.post(path + "/method/sms/send", headers={"Accept": "application/json", "X-CSRFToken": token})
        assert answer.status_code == 422 and answer.get_json()["message"] == "Not with sms today."
        assert sms_codes(Path(app.config["OUTBOX_DIR"]) / "sms") == []
        refused = support.post(client, path + "/sign", sign_form(client, path), token_from=path)
        assert refused.status_code == 422 and "Not with touch today." in refused.get_data(as_text=True)
