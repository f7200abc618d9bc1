"""Web forms in the API and in webhooks: an integration lists forms and submissions with its
organisation's key, and hears of a new submission and of its completion, numbered per case."""

from __future__ import annotations

import pytest

from core.extensions import db
from core.jobs import drain
from tests.api.conftest import LOOPBACK, ApiClient, make_key, receiver  # noqa: F401  (fixture)
from tests.api.helpers import endpoint_secret, register_webhook, signature_ok
from tests.plugins.web_forms.helpers import form_of, form_template, office, public_path, submit, turn_on
from tests.plugins.web_forms.test_web_form import save_fields, sign, sign_links

EVENTS = ["web_form.submission.created", "web_form.submission.completed", "case.sent", "case.completed"]


@pytest.fixture
def app(app_factory):
    app = app_factory(WEBHOOK_ALLOWED_NETWORKS=LOOPBACK, API_RATE_LIMIT="10000/60")
    with app.app_context():
        yield app


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = ["web_forms"]
    db.session.commit()
    return people


def a_form(app, people, **extra) -> tuple[int, str]:
    """Alice's parking permit form, on: (form id, public path)."""
    template_id = form_template(people.alice)
    officer = office(app)
    assert turn_on(officer, template_id, **extra).status_code == 302
    return form_of(people.acme.id, template_id).id, public_path(officer, template_id)


def test_the_api_lists_forms_and_a_forms_submissions_with_typed_values(app, acme_on):
    form_id, path = a_form(app, acme_on)
    visitor = app.test_client()
    signer_path = submit(visitor, path).headers["Location"]
    save_fields(visitor, signer_path, {"full_name": "Sara Svensson", "rent": "9500.50", "moving_in": "2026-09-01",
                                       "pets": True})
    submit(app.test_client(), path, name="Bo Berg", email="bo@example.com")
    api = ApiClient(app.test_client(), make_key(acme_on.alice))

    forms = api.get("/api/v1/web-forms")
    assert forms.status_code == 200
    [form] = forms.json["forms"]
    assert form["id"] == form_id and form["template_name"] == "Parking permit" and form["status"] == "active"
    assert form["url"].endswith(path) and form["visitor_role"] == "tenant" and forms.json["next_cursor"] is None
    assert api.get(f"/api/v1/web-forms/{form_id}").json == form

    page = api.get(f"/api/v1/web-forms/{form_id}/submissions?limit=1")
    assert page.status_code == 200
    [sara] = page.json["submissions"]
    assert (sara["name"], sara["email"], sara["phone"], sara["status"]) == (
        "Sara Svensson", "sara@example.com", "+46701234567", "pending")
    assert sara["values"]["full_name"] == "Sara Svensson" and sara["values"]["rent"] == 9500.5
    assert sara["values"]["moving_in"] == "2026-09-01" and sara["values"]["pets"] is True
    assert sara["submitted_at"].endswith("+00:00") and sara["case_id"]
    following = api.get(f"/api/v1/web-forms/{form_id}/submissions?limit=1&cursor={page.json['next_cursor']}").json
    assert [s["name"] for s in following["submissions"]] == ["Bo Berg"] and following["next_cursor"] is None
    # The last page's resume cursor gives only what comes later.
    resume = following["resume_cursor"]
    assert api.get(f"/api/v1/web-forms/{form_id}/submissions?cursor={resume}").json["submissions"] == []
    submit(app.test_client(), path, name="Cleo Ek", email="cleo@example.com")
    later = api.get(f"/api/v1/web-forms/{form_id}/submissions?cursor={resume}").json["submissions"]
    assert [s["name"] for s in later] == ["Cleo Ek"]

    one = api.get(f"/api/v1/web-forms/{form_id}/submissions/{sara['id']}")
    assert one.status_code == 200 and one.json == sara
    assert api.get(f"/api/v1/web-forms/{form_id}/submissions?status=completed").json["submissions"] == []
    assert api.get(f"/api/v1/web-forms/{form_id}/submissions?cursor=bm9wZQ").status_code == 400
    assert api.get(f"/api/v1/web-forms/{form_id}/submissions?limit=1000").status_code == 422


def test_another_organisations_key_sees_none_of_it_and_a_plugin_switched_off_answers_404(app, acme_on):
    form_id, path = a_form(app, acme_on)
    submit(app.test_client(), path)
    api = ApiClient(app.test_client(), make_key(acme_on.alice))
    sara = api.get(f"/api/v1/web-forms/{form_id}/submissions").json["submissions"][0]

    globex = ApiClient(app.test_client(), make_key(acme_on.charlie, "Globex CRM"))
    assert globex.get("/api/v1/web-forms").status_code == 404  # Globex has the plugin off
    acme_on.globex.enabled_plugins = ["web_forms"]
    db.session.commit()
    assert globex.get("/api/v1/web-forms").json["forms"] == []
    for url in (f"/api/v1/web-forms/{form_id}", f"/api/v1/web-forms/{form_id}/submissions",
                f"/api/v1/web-forms/{form_id}/submissions/{sara['id']}", "/api/v1/web-forms/99999999999"):
        answer = globex.get(url)
        assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found", url

    swedish = globex.get(f"/api/v1/web-forms/{form_id}", headers={"Accept-Language": "sv"})
    assert swedish.json["error"]["message"] == "Det finns inget webbformulär med det här id:t."
    assert app.test_client().get("/api/v1/web-forms").status_code == 401  # no key
    assert app.test_client().get(f"/api/v1/web-forms/{form_id}", headers={"X-Api-Key": "sgl_nope"}).status_code == 401
    acme_on.acme.enabled_plugins = []
    db.session.commit()
    off = api.get(f"/api/v1/web-forms/{form_id}/submissions")
    assert off.status_code == 404 and off.json["error"]["code"] == "not_found"


def test_a_form_turned_off_is_gone_from_the_api(app, acme_on):
    form_id, _path = a_form(app, acme_on)
    from tests import support

    officer = office(app)
    support.post(officer, f"/web-forms/{form_id}/status", {"status": "off"}, token_from="/web-forms/")
    api = ApiClient(app.test_client(), make_key(acme_on.alice))
    assert api.get("/api/v1/web-forms").json["forms"] == []
    assert api.get(f"/api/v1/web-forms/{form_id}").status_code == 404


def test_webhooks_announce_a_new_submission_and_its_completion_in_the_cases_order(
        app, acme_on, receiver):  # noqa: F811
    officer = office(app)
    # The admin page offers the plugin's events to an organisation that has it on.
    admin_page = officer.get("/admin/api/").get_data(as_text=True)
    assert "web_form.submission.created" in admin_page and "submission started a case" in admin_page
    assert register_webhook(officer, receiver.url, EVENTS).status_code == 302
    form_id, path = a_form(app, acme_on)

    visitor = app.test_client()
    signer_path = submit(visitor, path).headers["Location"]
    drain()
    assert receiver.events() == ["web_form.submission.created", "case.sent"]
    created = receiver.received[0].json
    assert signature_ok(endpoint_secret(acme_on.acme.id), receiver.received[0])
    submission = created["data"]["submission"]
    assert submission["form_id"] == form_id and submission["name"] == "Sara Svensson"
    assert created["data"]["case"]["id"] == submission["case_id"]
    assert created["sequence"] < receiver.received[1].json["sequence"]  # the submission, then the sending

    save_fields(visitor, signer_path, {"full_name": "Sara Svensson", "rent": "9500", "moving_in": "2026-09-01",
                                       "pets": False})
    sign(visitor, signer_path)
    drain()
    [landlord_path] = sign_links(app, "per@acme.example")
    sign(app.test_client(), landlord_path)
    drain()
    by_event = {r.headers["Sigill-Event"]: r.json for r in receiver.received}
    completed = by_event["web_form.submission.completed"]
    assert completed["data"]["submission"]["status"] == "completed"
    values = completed["data"]["submission"]["values"]
    assert {k: values[k] for k in ("full_name", "rent", "moving_in", "pets")} == {
        "full_name": "Sara Svensson", "rent": 9500, "moving_in": "2026-09-01", "pets": False}
    assert completed["data"]["case"]["status"] == "completed"
    # Both webhooks of the case's `completed` event carry its number, after everything before it.
    assert completed["sequence"] == by_event["case.completed"]["sequence"] > created["sequence"]


def test_an_organisation_without_the_plugin_is_not_offered_its_events(app, people):
    html = office(app, "charlie@globex.example").get("/admin/api/").get_data(as_text=True)
    assert "case.sent" in html and "web_form.submission.created" not in html


def test_the_openapi_document_describes_the_forms_routes_and_events(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert {"/web-forms", "/web-forms/{form_id}", "/web-forms/{form_id}/submissions",
            "/web-forms/{form_id}/submissions/{submission_id}"} <= set(spec["paths"])
    assert "WebFormSubmission" in spec["components"]["schemas"]
    assert "web_form.submission.completed" in spec["info"]["description"]
