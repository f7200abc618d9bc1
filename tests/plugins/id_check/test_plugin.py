"""The id_check plugin through its pages: required per party, the signer's photo read and checked,
the office's in-person check and approval, evidence and receipt, encrypted photos for the tenant's
officers only, and their deletion after the retention period."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from core.extensions import db
from core.jobs import drain
from core.models import Case, Event, Signature
from core.models.base import utcnow
from core.storage import blobs
from plugins.id_check import service
from plugins.id_check.models import IdCheck
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.id_check.images import RETAKES, Shot, photo_of
from tests.plugins.id_check.specimens import ANNA, id_card, passport
from tests.signing.helpers import events_of, make_case, pdf, sign_form, signer, sms_codes

ANNA_NAME = ANNA["party"]
FLAT = Shot("flat")


def photo(specimen=None) -> bytes:
    return photo_of(specimen or passport(), FLAT)


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = ["id_check"]
    db.session.commit()
    return people


def settings(people, **values):
    people.acme.plugin_settings = {"id_check": values}
    db.session.commit()


def anna_case(people, **extra):
    return make_case(people.alice, [signer(ANNA_NAME, "anna@example.com", personal_number=ANNA["personal_number"],
                                           **extra)], methods=["touch", "sms"])


@pytest.fixture
def remote(acme_on):
    settings(acme_on, require_mode="remote")
    return anna_case(acme_on)


def office(app, email="alice@acme.example"):
    client = app.test_client()
    support.login(client, email)
    return client


def row_of(made) -> IdCheck:
    db.session.expire_all()  # what the requests committed
    with tenant_context(made.case.tenant_id):
        return db.session.scalars(sa.select(IdCheck).where(IdCheck.case_id == made.case.id)).one()


def upload(client, made, front: bytes, back: bytes | None = None, mrz: str = ""):
    step = f"/id-check/s/{made.token(ANNA_NAME)}"
    files = {"front": (io.BytesIO(front), "front.jpg")}
    if back is not None:
        files["back"] = (io.BytesIO(back), "back.jpg")
    return support.post(client, step, {**files, "mrz": mrz}, token_from=step, content_type="multipart/form-data")


# --- requiring it --------------------------------------------------------------------------------------


def test_the_tenants_default_makes_every_signer_check_their_id_before_any_method_starts(app, remote):
    client = app.test_client()
    path = remote.path(ANNA_NAME)
    html = client.get(path).get_data(as_text=True)
    assert "Before you sign" in html and f'href="/id-check/s/{remote.token(ANNA_NAME)}"' in html
    assert "Check your ID document" in html and 'id="sign-form"' not in html
    token = support.csrf_token(client, path)
    answer = client.post(path + "/method/sms/send", headers={"Accept": "application/json", "X-CSRFToken": token})
    assert answer.status_code == 422
    assert answer.get_json()["message"] == "Before you sign: Check your ID document."
    assert sms_codes(Path(app.config["OUTBOX_DIR"]) / "sms") == []
    response = support.post(client, path + "/sign", {"method": "touch", "consent": "yes", "documents_digest": "x"},
                            token_from=path)
    assert response.status_code == 422


def test_the_officer_requires_the_check_per_party_on_the_case(app, acme_on):
    made = anna_case(acme_on)
    alice = office(app)
    page = f"/cases/{made.case.id}"
    assert "ID check for " + ANNA_NAME in alice.get(page).get_data(as_text=True)
    party_id = made.parties[0].id
    response = support.post(alice, f"/id-check/cases/{made.case.id}/parties/{party_id}/require",
                            {"mode": "in_person"}, token_from=page)
    assert response.status_code == 302
    assert row_of(made).mode == "in_person"
    html = app.test_client().get(made.path(ANNA_NAME)).get_data(as_text=True)
    assert "Show your ID document to the officer in person" in html and 'id="sign-form"' not in html
    assert events_of(made.case, "id_check_required")[0].data["mode"] == "in_person"


def test_the_signer_page_speaks_swedish(app, acme_on):
    settings(acme_on, require_mode="remote")
    made = anna_case(acme_on, language="sv")
    html = app.test_client().get(made.path(ANNA_NAME)).get_data(as_text=True)
    assert "Kontrollera din id-handling" in html


def test_nothing_is_asked_where_the_plugin_is_off(app, remote):
    acme = remote.case.tenant_id
    with tenant_context(acme):
        from core.models import Tenant

        db.session.get(Tenant, acme).enabled_plugins = []
        db.session.commit()
    client = app.test_client()
    assert 'id="sign-form"' in client.get(remote.path(ANNA_NAME)).get_data(as_text=True)
    assert client.get(f"/id-check/s/{remote.token(ANNA_NAME)}").status_code == 404


# --- the signer's check --------------------------------------------------------------------------------


def test_a_readable_passport_passes_the_party_signs_and_the_receipt_has_the_check(app, remote):
    client = app.test_client()
    response = upload(client, remote, photo())
    assert response.status_code == 302
    assert "The check passed. You can now sign." in client.get(response.headers["Location"]).get_data(as_text=True)
    path = remote.path(ANNA_NAME)
    assert 'id="sign-form"' in client.get(path).get_data(as_text=True)
    assert support.post(client, path + "/sign", sign_form(client, path), token_from=path).status_code == 302
    with tenant_context(remote.case.tenant_id):
        evidence = db.session.query(Signature).one().evidence["plugins"]["id_check"]
    assert evidence["mode"] == "remote" and evidence["how"] == "photo"
    assert evidence["document"] == {"kind": "passport", "issuing_state": "SWE", "number_last4": "4567",
                                    "expiry": "2031-01-15"}
    assert {"name", "birth_date", "personal_number", "not_expired", "document_number_digit"} <= set(
        evidence["checks_passed"])
    passed = events_of(remote.case, "id_check_passed")[0]
    assert passed.actor_type == "party" and passed.data["document"]["number_last4"] == "4567"
    chain = " ".join(str(e.data) for e in events_of(remote.case, "id_check_passed") + events_of(
        remote.case, "party_signed"))
    assert "AA1234567" not in chain and "8507099805" not in chain  # never the full number
    drain()
    with tenant_context(remote.case.tenant_id):
        receipt = blobs().get(db.session.get(Case, remote.case.id).documents[0].receipt_sha256)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt)).pages)
    assert "ID-kontroll" in text and "4567" in text and "AA1234567" not in text  # the tenant is Swedish


def test_a_failed_check_blocks_signing_and_says_which_check_failed(app, remote):
    client = app.test_client()
    response = upload(client, remote, photo(passport(broken="birth_date")))
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The check of your ID document failed" in html
    assert "The date of birth does not agree with its check digit." in html
    assert row_of(remote).status == "failed"
    page = client.get(remote.path(ANNA_NAME)).get_data(as_text=True)
    assert "The date of birth does not agree with its check digit." in page and 'id="sign-form"' not in page
    assert events_of(remote.case, "id_check_failed")[0].data["checks"]["birth_date_digit"] == "failed"


def test_someone_elses_passport_fails_on_the_name_and_number(app, acme_on):
    settings(acme_on, require_mode="remote")
    made = make_case(acme_on.alice, [signer(ANNA_NAME, "anna@example.com", personal_number="196408233234")],
                     methods=["touch"])
    upload(app.test_client(), made, photo())
    assert row_of(made).result["checks"]["personal_number"] == "failed"


def test_a_photo_to_take_again_stores_nothing_and_says_why(app, remote):
    response = upload(app.test_client(), remote, photo_of(passport(), RETAKES["blurred"]))
    assert response.status_code == 422
    assert "The photo is blurred." in response.get_data(as_text=True)
    row = row_of(remote)
    assert row.status == "required" and row.front_image is None and row.attempts == 1


def test_an_id_card_is_read_from_its_back(app, remote):
    card = id_card()
    upload(app.test_client(), remote, photo(card.with_(format="TD1")), back=photo(card))
    row = row_of(remote)
    assert row.status == "passed" and row.result["document"]["kind"] == "id_card"
    assert row.back_image is not None


def test_typed_lines_give_the_same_verdicts_and_wait_for_an_officer(app, remote):
    client = app.test_client()
    bad = "\n".join(passport(broken="expiry_date").lines())
    upload(client, remote, photo(), mrz=bad)
    assert row_of(remote).result["checks"]["expiry_date_digit"] == "failed"
    upload(client, remote, photo_of(passport(), RETAKES["blurred"]), mrz="\n".join(passport().lines()))
    row = row_of(remote)
    assert row.status == "awaiting_approval" and row.how == "typed"


def test_the_officer_approves_a_remote_check_when_the_tenant_asks_for_it(app, acme_on):
    settings(acme_on, require_mode="remote", approve_remote=True)
    made = anna_case(acme_on)
    client = app.test_client()
    upload(client, made, photo())
    row = row_of(made)
    assert row.status == "awaiting_approval"
    page = client.get(made.path(ANNA_NAME)).get_data(as_text=True)
    assert "An officer must approve the check before you can sign." in page and 'id="sign-form"' not in page
    alice = office(app)
    case_page = f"/cases/{made.case.id}"
    assert "Approve the ID check of" in alice.get(case_page).get_data(as_text=True)
    support.post(alice, f"/id-check/cases/{made.case.id}/checks/{row.id}/approve", {}, token_from=case_page)
    assert row_of(made).status == "passed"
    assert 'id="sign-form"' in client.get(made.path(ANNA_NAME)).get_data(as_text=True)
    assert events_of(made.case, "id_check_approved")[0].actor_label == acme_on.alice.name


# --- in person, photos, isolation -----------------------------------------------------------------------


def test_an_in_person_check_needs_the_officers_confirmation(app, acme_on):
    settings(acme_on, require_mode="in_person")
    made = anna_case(acme_on)
    alice = office(app)
    page = f"/cases/{made.case.id}"
    url = f"/id-check/cases/{made.case.id}/parties/{made.parties[0].id}/capture"
    files = {"front": (io.BytesIO(photo()), "p.jpg")}
    support.post(alice, url, files, token_from=page, content_type="multipart/form-data")
    assert row_of(made).status == "required"
    assert "Confirm that you have seen the person and the document." in alice.get(page).get_data(as_text=True)
    files = {"front": (io.BytesIO(photo()), "p.jpg"), "seen": "yes"}
    support.post(alice, url, files, token_from=page, content_type="multipart/form-data")
    row = row_of(made)
    assert row.status == "passed" and row.result["mode"] == "in_person"
    assert events_of(made.case, "id_check_passed")[0].actor_type == "officer"
    assert 'id="sign-form"' in app.test_client().get(made.path(ANNA_NAME)).get_data(as_text=True)


def test_photos_are_encrypted_and_shown_only_to_officers_of_the_tenant(app, remote):
    front = photo()
    upload(app.test_client(), remote, front)
    row = row_of(remote)
    assert row.front_image != front and front[:64] not in row.front_image
    url = f"/id-check/cases/{remote.case.id}/checks/{row.id}/front"
    shown = office(app).get(url)
    assert shown.status_code == 200 and shown.data == front and shown.headers["Cache-Control"] == "no-store, private"
    remote_globex_on = office(app, "charlie@globex.example")
    assert remote_globex_on.get(url).status_code == 404
    with tenant_context(remote.case.tenant_id):
        from core.models import Tenant

        globex = db.session.scalars(sa.select(Tenant).where(Tenant.slug == "globex")
                                    .execution_options(all_tenants=True)).one()
        globex.enabled_plugins = ["id_check"]
        db.session.commit()
    assert remote_globex_on.get(url).status_code == 404  # with the plugin on too
    assert app.test_client().get(url).status_code in (302, 401, 404)  # no session: the login page


def test_no_mrz_text_is_logged(app, remote, caplog):
    caplog.set_level(logging.DEBUG)
    upload(app.test_client(), remote, photo())
    lines = passport().lines()
    assert row_of(remote).status == "passed"
    assert not any(line in caplog.text for line in lines) and "AA1234567" not in caplog.text


# --- retention ------------------------------------------------------------------------------------------


def test_the_retention_job_deletes_photos_after_the_period_and_records_it(app, remote):
    upload(app.test_client(), remote, photo())
    with tenant_context(remote.case.tenant_id):
        case = db.session.get(Case, remote.case.id)
        case.status = "revoked"
        case.closed_at = utcnow() - timedelta(days=89)
        db.session.commit()
        tenant = case.tenant if hasattr(case, "tenant") else None
        from core.models import Tenant

        tenant = db.session.get(Tenant, case.tenant_id)
        assert service.delete_expired_images(tenant) == 0
        case.closed_at = utcnow() - timedelta(days=91)
        db.session.commit()
        assert service.delete_expired_images(tenant) == 1
        db.session.commit()
    row = row_of(remote)
    assert row.front_image is None and row.images_deleted_at is not None
    deleted = events_of(remote.case, "id_check_images_deleted")
    assert len(deleted) == 1 and deleted[0].data["retention_days"] == 90
    assert row.result["document"]["number_last4"] == "4567"  # the verdict stays: it is evidence
    with tenant_context(remote.case.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
            Event.case_id == remote.case.id, Event.kind == "id_check_images_deleted")) == 1


def test_files_rotate_reencrypts_the_photos_under_the_new_key(app_factory):
    from core import encryption
    from core.cli import cli

    app = app_factory(FILE_KEYS="2026a:" + "a" * 40)
    with app.app_context():
        people = support.make_people()
        people.acme.enabled_plugins = ["id_check"]
        people.acme.plugin_settings = {"id_check": {"require_mode": "remote"}}
        db.session.commit()
        made = anna_case(people)
        upload(app.test_client(), made, photo())
        check_id, acme_id = row_of(made).id, people.acme.id
    rotated = app_factory(FILE_KEYS="2026b:" + "b" * 40 + ",2026a:" + "a" * 40)
    output = rotated.test_cli_runner().invoke(cli, args=["files", "rotate"]).output
    assert "1 re-encrypted under key '2026b'" in output, output
    only_new = app_factory(FILE_KEYS="2026b:" + "b" * 40)
    with only_new.app_context(), tenant_context(acme_id):
        row = db.session.get(IdCheck, check_id)
        assert encryption.key_id_of(row.front_image) == "2026b"
        assert service.read_image(row, "front") == photo()


def test_the_officer_types_a_driving_licences_fields_and_the_same_checks_apply(app, acme_on):
    settings(acme_on, require_mode="in_person")
    made = anna_case(acme_on)
    alice = office(app)
    page = f"/cases/{made.case.id}"
    url = f"/id-check/cases/{made.case.id}/parties/{made.parties[0].id}/capture"
    licence = {"dl_number": "12345678", "dl_surname": "Öberg Åström", "dl_given_names": "Anna-Karin Maria",
               "dl_birth_date": "1985-07-08", "dl_expiry": "2030-03-01", "dl_personal_number": "850709-9805",
               "seen": "yes"}

    def post(**changes):
        data = {"front": (io.BytesIO(photo_of(passport(), RETAKES["blurred"])), "licence.jpg"), **licence,
                **changes}
        return support.post(alice, url, data, token_from=page, content_type="multipart/form-data")

    post(dl_expiry="")
    assert row_of(made).status == "required"
    assert "date of birth and expiry date." in alice.get(page).get_data(as_text=True)
    post()
    row = row_of(made)
    assert row.status == "failed" and row.result["checks"]["birth_date"] == "failed"
    post(dl_birth_date="1985-07-09")
    row = row_of(made)
    assert row.status == "passed" and row.how == "fields"
    assert row.result["document"] == {"kind": "driving_licence", "issuing_state": "SWE", "number_last4": "5678",
                                      "expiry": "2030-03-01"}
    assert row.result["checks"]["personal_number"] == "passed"


def test_a_draft_shows_the_tenants_default_and_the_officers_choice_wins_at_sending(app, acme_on):
    from core.cases import service as cases

    settings(acme_on, require_mode="remote")
    with tenant_context(acme_on.acme.id):
        case = cases.create_case(acme_on.alice, "Lease", allowed_methods=["touch"])
        cases.add_document(case, "lease.pdf", pdf())
        anna = cases.add_party(case, **signer(ANNA_NAME, "anna@example.com"))
        erik = cases.add_party(case, **signer("Erik Eriksson", "erik@example.com"))
        db.session.commit()
        case_id, anna_id, erik_id = case.id, anna.id, erik.id
    alice = office(app)
    page = f"/cases/{case_id}"
    html = alice.get(page).get_data(as_text=True)
    assert html.count('<option value="remote" selected>') == 2
    support.post(alice, f"/id-check/cases/{case_id}/parties/{erik_id}/require", {"mode": "none"}, token_from=page)
    with tenant_context(acme_on.acme.id):
        cases.send_case(db.session.get(Case, case_id), acme_on.alice)
        db.session.commit()
        modes = dict(db.session.execute(sa.select(IdCheck.party_id, IdCheck.mode)).all())
    assert modes == {anna_id: "remote", erik_id: "none"}


def test_the_case_export_has_each_partys_check(app, remote):
    import csv

    upload(app.test_client(), remote, photo())
    text = office(app).get("/cases/export.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    column = rows[0].index("ID check")
    assert [row[column] for row in rows[1:]] == [f"{ANNA_NAME}: Passed"]


def test_a_template_role_asks_its_check_of_cases_made_from_it(app, acme_on):
    from core.case_templates.cases import Person, case_from_template
    from core.case_templates.service import version_of
    from core.cases import service as cases
    from tests.case_templates.conftest import build_template

    settings(acme_on, require_mode="none")
    template = build_template(acme_on.alice)
    alice = office(app)
    page = f"/templates/{template.id}"
    html = alice.get(page).get_data(as_text=True)
    assert "ID check for Tenant" in html and "ID check for Our signatory" in html
    with tenant_context(acme_on.acme.id):
        keys = {r["label"]: r["key"] for r in version_of(template).content["roles"]}
    response = support.post(alice, f"/id-check/templates/{template.id}/roles/{keys['Tenant']}/require",
                            {"mode": "in_person"}, token_from=page)
    assert response.status_code == 302
    assert 'value="in_person" selected' in alice.get(page).get_data(as_text=True)
    refused = support.post(alice, f"/id-check/templates/{template.id}/roles/nobody/require", {"mode": "remote"},
                           token_from=page)
    assert "Choose how the ID is checked." in alice.get(refused.headers["Location"]).get_data(as_text=True)
    with tenant_context(acme_on.acme.id):
        case = case_from_template(template, acme_on.alice, {keys["Tenant"]: Person(ANNA_NAME, "anna@example.com")})
        db.session.commit()
        case_id = case.id
    assert 'value="in_person" selected' in alice.get(f"/cases/{case_id}").get_data(as_text=True)
    with tenant_context(acme_on.acme.id):
        case = db.session.get(Case, case_id)
        cases.send_case(case, acme_on.alice)
        db.session.commit()
        modes = {p.role_key: db.session.scalars(sa.select(IdCheck.mode).where(IdCheck.party_id == p.id)).first()
                 for p in case.parties}
    assert modes == {keys["Tenant"]: "in_person", keys["Our signatory"]: None}
    # Another organisation's officer cannot set a role of this template.
    with tenant_context(acme_on.acme.id):
        from core.models import Tenant

        db.session.get(Tenant, acme_on.globex.id).enabled_plugins = ["id_check"]
        db.session.commit()
    charlie = office(app, "charlie@globex.example")
    assert support.post(charlie, f"/id-check/templates/{template.id}/roles/{keys['Tenant']}/require",
                        {"mode": "none"}, token_from="/cases/").status_code == 404


def test_the_scheduler_runs_the_retention_job_with_the_tenants_own_period(app, acme_on):
    from core import jobs

    settings(acme_on, require_mode="remote", retention_days=30)
    made = anna_case(acme_on)
    upload(app.test_client(), made, photo())
    with tenant_context(made.case.tenant_id):
        case = db.session.get(Case, made.case.id)
        case.status, case.closed_at = "declined", utcnow() - timedelta(days=31)
        db.session.commit()
    assert "id_check_retention" in jobs.periodic_tasks(app)
    jobs.run_periodic("id_check_retention")  # what the scheduler does at the job's interval
    row = row_of(made)
    assert row.front_image is None and row.images_deleted_at is not None
    assert events_of(made.case, "id_check_images_deleted")[0].data["retention_days"] == 30
    assert "ID photos of" in office(app).get(f"/cases/{made.case.id}").get_data(as_text=True)
