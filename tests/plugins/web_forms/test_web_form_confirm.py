"""A web form that requires a confirmed email: the submission waits (no case) until the visitor
opens the emailed link and confirms; the link's token is kept only as a hash; an unconfirmed
submission expires and the periodic job deletes it with its data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import jobs
from core.extensions import db
from core.models import Event
from core.models.base import utcnow
from core.security import hash_token, mask_link_tokens
from plugins.web_forms.models import WebFormSubmission
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.web_forms.helpers import form_of, form_template, key_of, office, public_path, submit, turn_on
from tests.plugins.web_forms.test_web_form import cases_of

NUMBER = "198112189876"


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = ["web_forms"]
    db.session.commit()
    return people


def confirm_links(app, email) -> list[str]:
    return [re.search(r"https?://[^/\s]+(/f/confirm/[A-Za-z0-9_-]+)", support.body_text(m)).group(1)
            for m in support.outbox_messages(app) if m["To"] and email in m["To"]
            and "/f/confirm/" in support.body_text(m)]


def submissions_of(tenant_id) -> list[WebFormSubmission]:
    db.session.expire_all()
    with tenant_context(tenant_id):
        return list(db.session.scalars(sa.select(WebFormSubmission).order_by(WebFormSubmission.id)))


def confirming_form(app, people, **extra):
    template_id = form_template(people.alice)
    officer = office(app)
    assert turn_on(officer, template_id, require_confirmation="1", **extra).status_code == 302
    assert form_of(people.acme.id, template_id).require_confirmation
    return officer, template_id, public_path(officer, template_id)


def test_the_case_starts_only_once_the_visitor_confirms_their_email(app, acme_on):
    officer, template_id, path = confirming_form(app, acme_on, require_personal_number="1",
                                                 frame_origins="https://www.example.com")
    form = form_of(acme_on.acme.id, template_id)
    visitor = app.test_client()
    html = visitor.get(path).get_data(as_text=True)
    data = {"name": "Sara Svensson", "email": "Sara@Example.com", "phone": "", "personal_number": NUMBER,
            "key": key_of(html)}
    response = visitor.post(path, data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Check your email" in text and "sara@example.com" in text
    assert visitor.post(path, data=data).status_code == 200  # the same page again: nothing more is sent
    jobs.drain()
    assert cases_of(acme_on.acme.id) == []
    [link] = confirm_links(app, "sara@example.com")
    [waiting] = submissions_of(acme_on.acme.id)
    token = link.rsplit("/", 1)[1]
    assert waiting.waiting and waiting.confirm_token_hash == hash_token(token) and token not in str(vars(waiting))
    assert waiting.confirm_expires_at - utcnow() > timedelta(hours=23)

    # The office sees it waiting, in the list and the export.
    listing = officer.get(f"/web-forms/{form.id}").get_data(as_text=True)
    assert "Waiting for email confirmation" in listing
    waiting_only = officer.get(f"/web-forms/{form.id}?status=waiting").get_data(as_text=True)
    assert "sara@example.com" in waiting_only and '<option value="waiting" selected>' in waiting_only
    exported = officer.get(f"/web-forms/{form.id}/export.csv").get_data(as_text=True)
    assert "Sara Svensson,sara@example.com,,19811218-XXXX,Waiting for email confirmation" in exported

    # Opening the link (a mail scanner does too) starts nothing; confirming does, once.
    opened = app.test_client().get(link)
    assert opened.status_code == 200 and "Confirm and continue" in opened.get_data(as_text=True)
    assert opened.headers["X-Frame-Options"] == "DENY"  # one click starts the case: never framed
    assert cases_of(acme_on.acme.id) == []
    confirmer = app.test_client(use_cookies=False)  # no session needed: the link is the secret
    first = confirmer.post(link)
    assert first.status_code == 302 and first.headers["Location"].startswith("/s/")
    [case] = cases_of(acme_on.acme.id)
    with tenant_context(case.tenant_id):
        party = next(p for p in case.parties if p.role_key == "tenant")
        assert (party.name, party.email, party.personal_number) == ("Sara Svensson", "sara@example.com", NUMBER)
        assert db.session.scalar(sa.select(sa.func.count(Event.id)).where(
            Event.case_id == case.id, Event.kind == "web_form_submitted")) == 1
    [done] = submissions_of(acme_on.acme.id)
    assert done.case_id == case.id and done.confirmed_at is not None and not done.waiting
    assert "Sara Svensson" in app.test_client().get(first.headers["Location"]).get_data(as_text=True)
    # Again (a double click, the link opened later): the same case's signer page, no second case.
    again = confirmer.post(link)
    assert again.status_code == 302 and again.headers["Location"].startswith("/s/")
    assert "Your email address is confirmed." in app.test_client().get(link).get_data(as_text=True)
    assert len(cases_of(acme_on.acme.id)) == 1
    assert "No submissions match the filter." in officer.get(f"/web-forms/{form.id}?status=waiting").get_data(
        as_text=True)
    jobs.drain()
    assert any(m["To"] == "sara@example.com" and "/s/" in support.body_text(m) for m in support.outbox_messages(app))


def test_the_email_and_pages_are_in_the_visitors_language(app, acme_on):
    _officer, _template_id, path = confirming_form(app, acme_on)
    sv = {"Accept-Language": "sv"}
    response = submit(app.test_client(), path, email="asa@example.com", headers=sv)
    assert "Kolla din e-post" in response.get_data(as_text=True)
    jobs.drain()
    [message] = [m for m in support.outbox_messages(app) if m["To"] == "asa@example.com"]
    assert message["Subject"] == "Bekräfta din e-postadress: Parking permit"
    assert "Bekräfta din e-postadress för att gå vidare till dokumentet" in support.body_text(message)
    [link] = confirm_links(app, "asa@example.com")
    page = app.test_client().get(link, headers=sv).get_data(as_text=True)
    assert "Bekräfta och fortsätt" in page


def test_an_unconfirmed_submission_expires_and_the_job_deletes_it_with_its_data(app, acme_on):
    _officer, template_id, path = confirming_form(app, acme_on, require_personal_number="1")
    submit(app.test_client(), path, name="Old Olsson", email="old@example.com", personal_number=NUMBER)
    submit(app.test_client(), path, name="New Nilsson", email="new@example.com", personal_number=NUMBER)
    jobs.drain()
    old_link, = confirm_links(app, "old@example.com")
    new_link, = confirm_links(app, "new@example.com")
    # A confirmed one and one from a form without confirmation stay, however old.
    assert app.test_client().post(new_link).status_code == 302
    plain = form_template(acme_on.alice, name="Plain")
    turn_on(office(app), plain)
    submit(app.test_client(), public_path(office(app), plain), name="Plain Person")

    with tenant_context(acme_on.acme.id):
        for row in db.session.scalars(sa.select(WebFormSubmission)):
            row.created_at = utcnow() - timedelta(days=3)
            if row.confirm_expires_at is not None:
                row.confirm_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()

    expired = app.test_client().get(old_link, headers={"Accept-Language": "sv"})
    assert expired.status_code == 410
    assert "Bekräftelselänken har gått ut" in expired.get_data(as_text=True)
    assert app.test_client().post(old_link).status_code == 410 and len(cases_of(acme_on.acme.id)) == 2
    # The confirmed one's link still leads to its case.
    assert app.test_client().post(new_link).status_code == 302

    assert "web_forms_expire_unconfirmed" in jobs.periodic_tasks(app)
    jobs.run_periodic("web_forms_expire_unconfirmed")
    names = [s.name for s in submissions_of(acme_on.acme.id)]
    assert names == ["New Nilsson", "Plain Person"]
    with tenant_context(acme_on.acme.id):
        assert db.session.scalar(sa.select(sa.func.count(WebFormSubmission.id))
                                 .where(WebFormSubmission.personal_number.is_not(None))) == 1
    assert app.test_client().get(old_link).status_code == 404


def test_a_confirmation_link_of_a_form_turned_off_or_a_plugin_switched_off_is_gone(app, acme_on):
    officer, template_id, path = confirming_form(app, acme_on)
    submit(app.test_client(), path)
    jobs.drain()
    [link] = confirm_links(app, "sara@example.com")
    acme_on.acme.enabled_plugins = []
    db.session.commit()
    assert app.test_client().get(link).status_code == 404
    acme_on.acme.enabled_plugins = ["web_forms"]
    db.session.commit()
    form = form_of(acme_on.acme.id, template_id)
    support.post(officer, f"/web-forms/{form.id}/status", {"status": "paused"}, token_from=f"/templates/{template_id}")
    paused = app.test_client().post(link)
    assert paused.status_code == 503 and cases_of(acme_on.acme.id) == []
    support.post(officer, f"/web-forms/{form.id}/status", {"status": "off"}, token_from=f"/templates/{template_id}")
    assert app.test_client().get(link).status_code == 404 and cases_of(acme_on.acme.id) == []
    assert app.test_client().get("/f/confirm/" + "x" * 43).status_code == 404


def test_the_confirmation_token_is_masked_in_logged_paths():
    token = "AbC_dEf-123" * 4
    masked = mask_link_tokens(f"GET /f/confirm/{token} HTTP/1.1")
    assert token not in masked and f"/confirm/[sha256:{hash_token(token)[:8]}]" in masked


def test_unconfirmed_submissions_take_no_place_until_confirmed(app, acme_on):
    """Most submissions and the daily cap count submissions that started a case; one waiting for its
    email to be confirmed takes a place only when confirmed, and the limits are checked again then."""
    officer, template_id, path = confirming_form(app, acme_on, max_submissions="1", daily_cap="1")
    for name in ("Anna", "Bertil", "Cecilia"):
        response = submit(app.test_client(), path, name=name, email=f"{name.lower()}@example.com")
        assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    assert app.test_client().get(path).status_code == 200  # three waiting: the form is not full
    jobs.drain()
    [anna] = confirm_links(app, "anna@example.com")
    [bertil] = confirm_links(app, "bertil@example.com")
    assert app.test_client().post(bertil).status_code == 302
    assert len(cases_of(acme_on.acme.id)) == 1
    # Now it is full: the form says so, and a later confirmation starts nothing.
    full = app.test_client().get(path)
    assert full.status_code == 410 and "taken all the submissions it takes" in full.get_data(as_text=True)
    late = app.test_client().post(anna)
    assert late.status_code == 410 and "taken all the submissions it takes" in late.get_data(as_text=True)
    assert len(cases_of(acme_on.acme.id)) == 1
    # Room again, but the day's one place is taken by Bertil's confirmation.
    turn_on(officer, template_id, require_confirmation="1", max_submissions="", daily_cap="1")
    capped = app.test_client().post(anna)
    assert capped.status_code == 429 and "all the submissions it takes today" in capped.get_data(as_text=True)
    turn_on(officer, template_id, require_confirmation="1", max_submissions="", daily_cap="2")
    assert app.test_client().post(anna).status_code == 302
    assert len(cases_of(acme_on.acme.id)) == 2
