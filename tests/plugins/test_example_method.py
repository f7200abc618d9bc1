"""A signing method from a plugin, with no line of the core naming it: the office form, the API (and
its OpenAPI document), the signer page, the receipt and the verify page all read the registry."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.models import Case, Signature
from core.signing.methods import MethodRegistryError, SigningMethod
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import support
from tests.api.conftest import ApiClient, case_body, make_key
from tests.plugins import example_method
from tests.sealing.checks import page_texts
from tests.signing.helpers import make_case, sign_form, signer

NUMBER = "191212121212"  # Skatteverket's test personal number


@pytest.fixture
def app(app_factory):
    app = app_factory(_plugins=[example_method])
    with app.app_context():
        yield app


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = ["example_method"]
    db.session.commit()
    return people


def office(app, email="alice@acme.example"):
    client = app.test_client()
    support.login(client, email)
    return client


def test_the_office_form_offers_the_method_with_its_title_and_icon(app, acme_on):
    page = office(app).get("/cases/new").get_data(as_text=True)
    assert 'name="methods" value="typed_name"' in page
    assert "Typed name" in page and 'id="typed-icon"' in page


def test_the_office_form_saves_it_and_asks_for_what_the_method_needs(app, acme_on):
    alice = office(app)
    form = {"title": "Lease", "message": "", "methods": ["typed_name"], "signing_order": "parallel",
            "language": "en", "expires_on": "2099-01-01", "reminder_interval_days": "0", "reminder_max": "0",
            "party-0-name": "Sam Signer", "party-0-email": "sam@example.org", "party-0-role": "signer",
            "party-0-language": "en", "action": "save"}
    from datetime import timedelta

    from core.models.base import utcnow

    form["expires_on"] = (utcnow() + timedelta(days=20)).date().isoformat()
    refused = support.post(alice, "/cases/new", form, token_from="/cases/new", content_type="multipart/form-data")
    assert "A personal identity number is needed for a typed-name signature." in refused.get_data(as_text=True)
    saved = support.post(alice, "/cases/new", {**form, "party-0-personal_number": NUMBER}, token_from="/cases/new",
                         content_type="multipart/form-data")
    assert saved.status_code == 302
    with tenant_context(acme_on.acme.id):
        case = db.session.scalars(sa.select(Case)).one()
        assert case.allowed_methods == ["typed_name"]
    detail = alice.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Typed name" in detail


def test_a_tenant_with_the_plugin_off_is_not_offered_the_method(app, people):
    page = office(app).get("/cases/new").get_data(as_text=True)
    assert 'value="typed_name"' not in page
    api = ApiClient(app.test_client(), make_key(people.alice))
    response = api.post("/api/v1/cases", json=case_body(methods=["typed_name"]))
    assert response.status_code == 422
    assert "typed_name" in str(response.json["error"]["fields"]["methods"])


def test_the_api_accepts_the_method_and_openapi_lists_it(app, acme_on):
    api = ApiClient(app.test_client(), make_key(acme_on.alice))
    body = case_body(methods=["typed_name"])
    refused = api.post("/api/v1/cases", json=body)
    assert refused.status_code == 422
    assert refused.json["error"]["fields"]["parties"]["0"]["personal_number"] == [
        "A personal identity number is needed for a typed-name signature."]
    body["parties"][0]["personal_number"] = NUMBER
    created = api.post("/api/v1/cases", json=body)
    assert created.status_code == 201 and created.json["methods"] == ["typed_name"]
    spec = app.test_client().get("/api/v1/openapi.json").json
    enum = spec["components"]["schemas"]["CaseIn"]["properties"]["methods"]["items"]["enum"]
    assert "typed_name" in enum and "touch" in enum and "sms" in enum


def _typed_case(people, language="en"):
    return make_case(people.alice, [signer(language=language, personal_number=NUMBER, methods=["typed_name"])],
                     methods=["typed_name"], language=language)


@pytest.mark.parametrize(("language", "heading", "button"), [
    ("en", "Type your name", "Sign with my typed name"),
    ("sv", "Skriv ditt namn", "Signera med mitt skrivna namn"),
])
def test_the_signer_page_shows_the_method_in_the_party_language(app, acme_on, client, language, heading, button):
    made = _typed_case(acme_on, language)
    page = client.get(made.path("Sara Svensson")).get_data(as_text=True)
    assert heading in page and button in page and 'name="typed_name"' in page


def test_a_wrong_name_is_refused_in_the_signer_language(app, acme_on, client):
    made = _typed_case(acme_on, "sv")
    path = made.path("Sara Svensson")
    response = support.post(client, path + "/sign", sign_form(client, path, method="typed_name", typed_name="Sara"),
                            token_from=path)
    assert "Skriv ditt namn precis som i inbjudan." in response.get_data(as_text=True)
    with tenant_context(made.case.tenant_id):
        assert db.session.scalars(sa.select(Signature)).all() == []


def _sign_and_seal(client, made):
    path = made.path("Sara Svensson")
    response = support.post(client, path + "/sign",
                            sign_form(client, path, method="typed_name", typed_name="  sara   svensson "),
                            token_from=path)
    assert response.status_code in (200, 302, 303)
    drain()
    db.session.expire_all()
    with tenant_context(made.case.tenant_id):
        case = db.session.get(Case, made.case.id)
        [document] = case.documents
        return case, document.sealed_sha256, document.fingerprint


@pytest.mark.parametrize(("language", "title", "typed"), [("en", "Typed name", "Name typed"),
                                                          ("sv", "Skrivet namn", "Namnet som skrevs")])
def test_the_signature_reaches_the_receipt_and_the_verify_page(app, acme_on, client, language, title, typed):
    made = _typed_case(acme_on, language)
    case, sealed_sha256, fingerprint = _sign_and_seal(client, made)
    assert case.status == "completed"
    with tenant_context(case.tenant_id):
        assert case.parties[0].signature.method == "typed_name"
        sealed = blobs().get(sealed_sha256)
    receipt = " ".join(" ".join(text.split()) for text in page_texts(sealed))
    assert title in receipt and f"{typed} sara svensson" in receipt
    visitor = app.test_client()
    page = support.post(visitor, "/verify/", {"file": (io.BytesIO(sealed), "sealed.pdf")}, token_from="/verify/",
                        content_type="multipart/form-data", headers={"Accept-Language": language})
    html = page.get_data(as_text=True)
    assert "Sara Svensson" in html and title in html and "sara svensson" in html
    assert "Sara Svensson" in visitor.get("/verify/" + fingerprint, headers={"Accept-Language": language}).get_data(
        as_text=True)


def test_a_stored_signature_keeps_its_title_after_the_tenant_switches_the_plugin_off(app, acme_on, client):
    made = _typed_case(acme_on)
    case, sealed_sha256, fingerprint = _sign_and_seal(client, made)
    acme_on.acme.enabled_plugins = []
    db.session.commit()
    assert "Typed name" in app.test_client().get("/verify/" + fingerprint,
                                                 headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Signed (Typed name)" in office(app).get(f"/cases/{case.id}").get_data(as_text=True)


class _Clash(SigningMethod):
    name = "touch"


class _ClashPlugin:
    from core.plugins import hookimpl

    @hookimpl
    def register_signing_methods(self):
        return [_Clash]


def test_a_second_method_with_a_taken_name_stops_the_start(app_factory):
    with pytest.raises(MethodRegistryError, match="two signing methods are named 'touch'"):
        app_factory(_plugins=[_ClashPlugin()])
