"""The web form end to end: the office turns it on, a visitor starts and signs a case through the
core's signer page, the organisation's signatory follows, and the submissions download as Excel."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.models import Case, Event
from plugins.web_forms.models import WebFormSubmission
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.web_forms.helpers import form_of, form_template, key_of, office, public_path, submit, turn_on
from tests.signing.helpers import drawn_signature


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = ["web_forms"]
    db.session.commit()
    return people


def save_fields(client, path, values):
    token = support.csrf_token(client, path)
    response = client.post(path + "/fields", data=json.dumps({"values": values, "revisions": {}}),
                           content_type="application/json",
                           headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)


def sign(client, path):
    html = client.get(path).get_data(as_text=True)
    digest = re.search(r'name="documents_digest" value="([0-9a-f]{64})"', html).group(1)
    form = {"method": "touch", "consent": "yes", "documents_digest": digest, **drawn_signature()}
    response = support.post(client, path + "/sign", form, token_from=path)
    assert response.status_code == 302, response.get_data(as_text=True)


def cases_of(tenant_id) -> list[Case]:
    db.session.expire_all()
    with tenant_context(tenant_id):
        return list(db.session.scalars(sa.select(Case).order_by(Case.id)))


def sign_links(app, email) -> list[str]:
    return [re.search(r"(/s/[A-Za-z0-9_-]+)", support.body_text(m)).group(1)
            for m in support.outbox_messages(app) if m["To"] and email in m["To"]]


def test_a_visitor_signs_the_case_starts_is_sealed_and_the_excel_has_typed_values(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    assert turn_on(officer, template_id).status_code == 302
    path = public_path(officer, template_id)

    visitor = app.test_client()
    page = visitor.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Acme AB" in html and "Parking permit" in html
    assert page.headers["Cache-Control"] == "no-store"
    response = submit(visitor, path)
    assert response.status_code == 302
    signer_path = response.headers["Location"]
    assert signer_path.startswith("/s/")

    [case] = cases_of(acme_on.acme.id)
    assert case.status == "pending" and case.owner_id == acme_on.alice.id
    with tenant_context(case.tenant_id):
        [came] = db.session.scalars(sa.select(Event).where(Event.case_id == case.id,
                                                           Event.kind == "web_form_submitted")).all()
        assert came.actor_type == "public" and came.data["name"] == "Sara Svensson"
        tenant = next(p for p in case.parties if p.role_key == "tenant")
        assert (tenant.name, tenant.email, tenant.phone) == ("Sara Svensson", "sara@example.com", "+46701234567")

    # The visitor fills in their fields and signs on the core's signer page.
    signer_html = visitor.get(signer_path).get_data(as_text=True)
    assert "Full name" in signer_html and "Rent" in signer_html
    save_fields(visitor, signer_path, {"full_name": "Sara Svensson", "rent": "9500", "moving_in": "2026-09-01",
                                       "pets": True})
    sign(visitor, signer_path)
    done = visitor.get(signer_path).get_data(as_text=True)
    assert "Thanks, we will call you." in done

    # The organisation's own signatory (the template's fixed person) is invited next, and signs.
    drain()
    [landlord_path] = sign_links(app, "per@acme.example")
    sign(app.test_client(), landlord_path)
    drain()
    [case] = cases_of(acme_on.acme.id)
    assert case.status == "completed"

    timeline = officer.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Came from the web form of the template Parking permit, sent by Sara Svensson" in timeline

    # The office's page lists the submission, and the Excel file has typed columns.
    with tenant_context(case.tenant_id):
        form = form_of(case.tenant_id, template_id)
    listing = officer.get(f"/web-forms/{form.id}").get_data(as_text=True)
    assert "Sara Svensson" in listing and "Signed" in listing
    workbook_response = officer.get(f"/web-forms/{form.id}/export.xlsx")
    assert workbook_response.status_code == 200
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(workbook_response.data))
    sheet = book.active
    last_column = sheet.cell(1, sheet.max_column).column_letter
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{last_column}2"
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert isinstance(row["Submitted (UTC)"], datetime)
    assert row["Visitor"] == "Sara Svensson" and row["Email"] == "sara@example.com"
    assert row["Phone"] == "+46701234567" and row["Status"] == "Signed"
    assert row["Signed by"] == "Sara Svensson; Per Persson"
    assert row["Full name"] == "Sara Svensson"
    assert row["Rent"] == 9500 and isinstance(row["Rent"], int | float)
    assert row["Moving in"] == datetime(2026, 9, 1) and sheet.cell(2, header.index("Moving in") + 1).is_date
    assert row["Pets"] is True
    assert row["Case"] == case.id and row["Case link"].endswith(f"/cases/{case.id}")

    csv_text = officer.get(f"/web-forms/{form.id}/export.csv?sep=semicolon").get_data(as_text=True)
    assert csv_text.startswith("\ufeff") and "Submitted (UTC);Visitor;Email" in csv_text
    assert "Sara Svensson;sara@example.com;'+46701234567;;Signed" in csv_text  # never a formula


def test_a_double_submit_of_the_same_page_makes_one_case(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    visitor = app.test_client()
    key = key_of(visitor.get(path).get_data(as_text=True))
    data = {"name": "Sara Svensson", "email": "sara@example.com", "phone": "", "key": key}
    first = visitor.post(path, data=data)
    second = visitor.post(path, data=data)  # a double click, or the same page twice
    assert first.status_code == second.status_code == 302
    assert len(cases_of(acme_on.acme.id)) == 1
    # Both answers lead to the same party's signer page.
    assert "Sara Svensson" in visitor.get(second.headers["Location"]).get_data(as_text=True)
    other_tab = submit(visitor, path, name="Sara Svensson")  # a new page load is a new submission
    assert other_tab.status_code == 302 and len(cases_of(acme_on.acme.id)) == 2


def test_pause_rotate_and_off(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    form = form_of(acme_on.acme.id, template_id)
    visitor = app.test_client()

    support.post(officer, f"/web-forms/{form.id}/status", {"status": "paused"}, token_from=f"/templates/{template_id}")
    paused = visitor.get(path)
    assert paused.status_code == 503 and "This form is paused" in paused.get_data(as_text=True)
    support.post(officer, f"/web-forms/{form.id}/status", {"status": "active"}, token_from=f"/templates/{template_id}")
    assert visitor.get(path).status_code == 200

    support.post(officer, f"/web-forms/{form.id}/rotate", {}, token_from=f"/templates/{template_id}")
    assert visitor.get(path).status_code == 404
    new_path = public_path(officer, template_id)
    assert new_path != path and visitor.get(new_path).status_code == 200

    bob = office(app, "bob@acme.example")
    support.post(bob, f"/web-forms/{form.id}/status", {"status": "paused"}, token_from=f"/templates/{template_id}")
    history = officer.get(f"/templates/{template_id}").get_data(as_text=True)
    history = history[history.index('id="web-form-changes"'):]
    lines = re.findall(r"<li>[^<]*: ([^<]+)</li>", history)
    assert lines == ["Bob Berg paused it", "Alice Andersson gave it a new link",
                     "Alice Andersson let it take submissions again", "Alice Andersson paused it",
                     "Alice Andersson turned the web form on"]

    support.post(officer, f"/web-forms/{form.id}/status", {"status": "off"}, token_from=f"/templates/{template_id}")
    assert visitor.get(new_path).status_code == 404
    assert cases_of(acme_on.acme.id) == []


def test_a_paused_form_starts_no_case_even_from_a_page_loaded_before(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    form = form_of(acme_on.acme.id, template_id)
    visitor = app.test_client()
    key = key_of(visitor.get(path).get_data(as_text=True))
    support.post(officer, f"/web-forms/{form.id}/status", {"status": "paused"}, token_from=f"/templates/{template_id}")
    token = support.csrf_token(visitor, "/login")
    response = visitor.post(path, data={"name": "Sara", "email": "sara@example.com", "key": key, "csrf_token": token})
    assert response.status_code == 503 and cases_of(acme_on.acme.id) == []


def test_the_honeypot_starts_nothing(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    response = submit(app.test_client(), path, website="http://spam.example")
    assert response.status_code == 200 and "We have received your form" in response.get_data(as_text=True)
    assert cases_of(acme_on.acme.id) == []


def test_wrong_details_are_told_in_the_visitors_language(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id, require_phone="1")
    path = public_path(officer, template_id)
    visitor = app.test_client()
    html = visitor.get(path, headers={"Accept-Language": "sv"}).get_data(as_text=True)
    data = {"name": "", "email": "not an address", "phone": "", "key": key_of(html)}
    response = visitor.post(path, data=data,
                            headers={"Accept-Language": "sv"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Ange ditt namn." in text and "Ange en e-postadress" in text and "Ange ett mobilnummer" in text
    assert cases_of(acme_on.acme.id) == []


def test_a_template_whose_other_roles_have_no_fixed_person_cannot_be_a_form(app, acme_on):
    roles = [{"key": "tenant", "label": "Tenant", "kind": "signer"},
             {"key": "landlord", "label": "Landlord", "kind": "signer"}]
    template_id = form_template(acme_on.alice, roles=roles)
    officer = office(app)
    response = turn_on(officer, template_id)
    assert response.status_code == 302
    html = officer.get(f"/templates/{template_id}").get_data(as_text=True)
    assert "Every other role needs a fixed person" in html and "Landlord" in html
    assert 'id="web-form-link"' not in html


def test_too_many_submissions_from_one_address_are_refused(app, acme_on):
    app.config["WEB_FORM_IP_RATE_LIMIT"] = "2/3600"
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    visitor = app.test_client()
    assert submit(visitor, path).status_code == 302
    assert submit(visitor, path).status_code == 302
    refused = submit(visitor, path)
    assert refused.status_code == 429 and "Too many forms" in refused.get_data(as_text=True)
    assert len(cases_of(acme_on.acme.id)) == 2


def test_the_daily_cap(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id, daily_cap="1")
    path = public_path(officer, template_id)
    assert submit(app.test_client(), path).status_code == 302
    refused = submit(app.test_client(), path)
    assert refused.status_code == 429 and "all the submissions it takes today" in refused.get_data(as_text=True)
    assert len(cases_of(acme_on.acme.id)) == 1


def test_an_organisation_with_the_plugin_off_and_another_organisation_see_nothing(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    submit(app.test_client(), path)
    form = form_of(acme_on.acme.id, template_id)

    globex = office(app, "charlie@globex.example")
    acme_on.globex.enabled_plugins = ["web_forms"]
    db.session.commit()
    for url in (f"/web-forms/{form.id}", f"/web-forms/{form.id}/export.xlsx", f"/web-forms/{form.id}/export.csv"):
        assert globex.get(url).status_code == 404
    assert "Parking permit" not in globex.get("/web-forms/").get_data(as_text=True)
    refused = support.post(globex, f"/web-forms/{form.id}/rotate", {}, token_from="/web-forms/")
    assert refused.status_code == 404

    acme_on.acme.enabled_plugins = []
    db.session.commit()
    assert app.test_client().get(path).status_code == 404
    assert officer.get(f"/web-forms/{form.id}").status_code == 404
    assert officer.get(f"/web-forms/{form.id}/export.xlsx").status_code == 404
    assert 'id="web-form-panel"' not in officer.get(f"/templates/{template_id}").get_data(as_text=True)
    with tenant_context(acme_on.acme.id):
        assert db.session.scalar(sa.select(sa.func.count(WebFormSubmission.id))) == 1


def test_a_template_changed_so_that_it_no_longer_fits_closes_the_form_clearly(app, acme_on):
    from core.case_templates import service as templates

    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    with tenant_context(acme_on.acme.id):
        from core.case_templates.models import CaseTemplate

        template = db.session.get(CaseTemplate, template_id)
        content = dict(templates.version_of(template).content)
        content["roles"] = [{**r, "fixed": None} if r["key"] == "landlord" else r for r in content["roles"]]
        templates.save_version(template, acme_on.alice, content, template.version)
        db.session.commit()
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 503 and "not available at the moment" in page.get_data(as_text=True)
    html = officer.get(f"/templates/{template_id}").get_data(as_text=True)
    assert "Every other role needs a fixed person" in html
    assert cases_of(acme_on.acme.id) == []


def test_the_submissions_list_filters_by_status_and_by_name_or_email(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    submit(app.test_client(), path, name="Sara Svensson", email="sara@example.com")
    declined = submit(app.test_client(), path, name="Per 100% Nilsson", email="per@example.com")
    support.post(app.test_client(), declined.headers["Location"] + "/decline", {"reason": "No"},
                 token_from=declined.headers["Location"])
    form = form_of(acme_on.acme.id, template_id)
    page = f"/web-forms/{form.id}"
    both = officer.get(page).get_data(as_text=True)
    assert "Sara Svensson" in both and "Per 100% Nilsson" in both
    pending = officer.get(page + "?status=pending").get_data(as_text=True)
    assert "Sara Svensson" in pending and "Nilsson" not in pending
    found = officer.get(page + "?q=100%25").get_data(as_text=True)
    assert "Nilsson" in found and "Sara Svensson" not in found
    by_email = officer.get(page + "?q=SARA@").get_data(as_text=True)
    assert "Sara Svensson" in by_email and "Nilsson" not in by_email
    assert "No submissions match the filter." in officer.get(page + "?q=nobody").get_data(as_text=True)


def test_two_posts_of_the_same_page_at_the_same_moment_make_one_case(app, acme_on, monkeypatch):
    import threading

    from plugins.web_forms import service

    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    key = key_of(app.test_client().get(path).get_data(as_text=True))
    tenant_id = acme_on.acme.id
    db.session.remove()

    # Both requests look for an earlier submission before either has made one: the race of a double click.
    barrier, seen = threading.Barrier(2), threading.local()
    original = service.find_submission

    def find_then_wait(form, found_key):
        found = original(form, found_key)
        if not getattr(seen, "waited", False):
            seen.waited = True
            barrier.wait(timeout=10)
        return found

    monkeypatch.setattr(service, "find_submission", find_then_wait)
    answers = [None, None]

    def post(index):
        client = app.test_client()
        data = {"name": "Sara Svensson", "email": "sara@example.com", "phone": "", "key": key}
        answers[index] = client.post(path, data=data)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [302, 302], [a.get_data(as_text=True)[:300] for a in answers]
    assert len(cases_of(tenant_id)) == 1
    with tenant_context(tenant_id):
        assert db.session.scalar(sa.select(sa.func.count(WebFormSubmission.id))) == 1


def test_a_form_past_its_last_day_or_full_says_so_and_starts_nothing(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id, max_submissions="1")
    path = public_path(officer, template_id)
    assert submit(app.test_client(), path).status_code == 302
    full = app.test_client().get(path)
    assert full.status_code == 410 and "taken all the submissions it takes" in full.get_data(as_text=True)

    turn_on(officer, template_id, max_submissions="", closes_on="2020-01-31")
    closed = app.test_client().get(path, headers={"Accept-Language": "sv"})
    assert closed.status_code == 410 and "Formuläret stängde 2020-01-31" in closed.get_data(as_text=True)
    turn_on(officer, template_id, closes_on="2999-12-31")
    assert app.test_client().get(path).status_code == 200

    refused = turn_on(officer, template_id, closes_on="31/12")
    assert refused.status_code == 302
    assert "Last day: give a date like 2027-03-31." in officer.get(f"/templates/{template_id}").get_data(as_text=True)
    assert len(cases_of(acme_on.acme.id)) == 1


def test_too_many_submissions_to_one_form_are_refused_whoever_sends_them(app, acme_on):
    app.config["WEB_FORM_RATE_LIMIT"] = "1/3600"
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    assert submit(app.test_client(), path).status_code == 302
    refused = submit(app.test_client(), path, name="Per Persson", email="per@example.com")
    assert refused.status_code == 429 and "very many submissions right now" in refused.get_data(as_text=True)
    assert len(cases_of(acme_on.acme.id)) == 1


def test_the_public_page_shows_the_templates_message_never_its_office_description(app, acme_on):
    template_id = form_template(acme_on.alice, description="Internal: Bob approves these by hand",
                                message="Apply for a parking permit at our office.")
    officer = office(app)
    turn_on(officer, template_id)
    html = app.test_client().get(public_path(officer, template_id)).get_data(as_text=True)
    assert "Apply for a parking permit at our office." in html and "Bob approves" not in html


def test_a_kept_form_page_is_one_query_and_never_outlives_a_change(app, acme_on):
    """After the first visit a worker keeps the page: a visit is one lookup, yet any change to the
    form, its template or the organisation shows on the very next visit; each visit's key is new."""
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    form = form_of(acme_on.acme.id, template_id)
    visitor = app.test_client(use_cookies=False)
    assert visitor.get(path).status_code == 200  # the first visit renders and keeps the page

    with support.counted_statements() as statements:
        pages = [visitor.get(path) for _ in range(3)]
    assert [p.status_code for p in pages] == [200, 200, 200] and "set-cookie" not in pages[0].headers
    assert len(statements) == 3, statements  # one lookup per visit
    keys = {key_of(p.get_data(as_text=True)) for p in pages}
    assert len(keys) == 3 and "From Acme" in pages[0].get_data(as_text=True)

    acme_on.acme.name = "Acme Renamed AB"
    db.session.commit()
    assert "From Acme Renamed AB" in visitor.get(path).get_data(as_text=True)
    support.post(officer, f"/web-forms/{form.id}/status", {"status": "paused"}, token_from=f"/templates/{template_id}")
    assert visitor.get(path).status_code == 503
    support.post(officer, f"/web-forms/{form.id}/status", {"status": "active"}, token_from=f"/templates/{template_id}")
    assert visitor.get(path).status_code == 200
    turn_on(officer, template_id, require_phone="1")
    assert "(optional)" not in visitor.get(path).get_data(as_text=True).split("wf-phone")[0]
    turn_on(officer, template_id, closes_on="2020-01-31")
    assert visitor.get(path).status_code == 410
    turn_on(officer, template_id, closes_on="")
    assert visitor.get(path).status_code == 200
    acme_on.acme.enabled_plugins = []
    db.session.commit()
    assert visitor.get(path).status_code == 404
    acme_on.acme.enabled_plugins = ["web_forms"]
    db.session.commit()
    assert visitor.get(path).status_code == 200
    # A kept page's key is this form's own: it starts a case.
    assert submit(visitor, path).status_code == 302 and len(cases_of(acme_on.acme.id)) == 1
    support.post(officer, f"/web-forms/{form.id}/rotate", {}, token_from=f"/templates/{template_id}")
    assert visitor.get(path).status_code == 404
