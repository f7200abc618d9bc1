"""The organisation admin page: officers, invitations, settings."""

import re

import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.models import Officer
from tenants.scoping import tenant_context
from tests import support


def test_admin_invites_a_colleague_who_chooses_a_password(app, client, alice, login):
    login(alice)
    response = support.post(client, "/admin/invite", {"name": "Dora Dahl", "email": "dora@acme.example",
                                                      "role": "officer", "language": "en"}, token_from="/admin/")
    assert response.status_code == 302
    assert "Dora Dahl" in client.get("/admin/").get_data(as_text=True)
    drain()
    mail = next(m for m in support.outbox_messages() if m["To"] == "dora@acme.example")
    link = next(u for u in support.links_in(mail) if "/invite/" in u).replace(app.config["BASE_URL"], "")
    dora = app.test_client()
    response = support.post(dora, link, {"password": "doras own secret", "confirm": "doras own secret"},
                            token_from=link)
    assert response.status_code == 302
    assert dora.get("/cases/").status_code == 200
    with tenant_context(alice.tenant_id):
        assert db.session.scalars(sa.select(Officer).where(Officer.email == "dora@acme.example")).one().tenant_id \
            == alice.tenant_id


def test_inviting_an_existing_email_says_so(client, alice, bob, login):
    login(alice)
    response = support.post(client, "/admin/invite", {"name": "Bob", "email": bob.email, "role": "officer",
                                                      "language": "en"}, token_from="/admin/", follow_redirects=True)
    assert "There is already an account with that email." in response.get_data(as_text=True)


def test_officers_who_are_not_admins_cannot_open_the_admin_page(client, bob, login):
    login(bob)
    assert client.get("/admin/").status_code == 403


def test_admin_page_lists_only_the_own_organisations_officers(client, charlie, people, login):
    login(charlie)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Charlie Carlsson" in page
    assert "Alice" not in page and "Bob Berg" not in page


def test_settings_are_saved_and_validated(client, alice, login, people):
    login(alice)
    form = {"name": "Acme Aktiebolag", "sender_name": "Acme Avtal", "max_upload_mb": "10",
            "reminder_interval_days": "2", "reminder_max": "4", "expiry_days": "14", "retention_days": "3650",
            "default_language": "en"}
    support.post(client, "/admin/settings", form, token_from="/admin/")
    db.session.refresh(people.acme)
    assert people.acme.name == "Acme Aktiebolag"
    assert people.acme.setting("max_upload_mb") == 10
    bad = support.post(client, "/admin/settings", {**form, "max_upload_mb": "5000"}, token_from="/admin/",
                       follow_redirects=True)
    assert "Check the settings" in bad.get_data(as_text=True)
    db.session.refresh(people.acme)
    assert people.acme.setting("max_upload_mb") == 10


def test_the_pdf_limits_are_settings_with_safe_defaults(client, alice, login, people):
    """Issue 12: pages, unpacked size, nesting and objects of an upload are limits per tenant."""
    login(alice)
    page = client.get("/admin/").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="max_pages"[^>]*value="2000"', page)
    form = {"name": "Acme AB", "max_upload_mb": "25", "reminder_interval_days": "3", "reminder_max": "3",
            "expiry_days": "30", "retention_days": "3650", "default_language": "en", "max_pages": "300",
            "max_unpacked_mb": "128", "max_nesting": "32", "max_objects": "50000"}
    support.post(client, "/admin/settings", form, token_from="/admin/")
    db.session.refresh(people.acme)
    assert [people.acme.setting(key) for key in ("max_pages", "max_unpacked_mb", "max_nesting", "max_objects")] \
        == [300, 128, 32, 50000]
    bad = support.post(client, "/admin/settings", {**form, "max_nesting": "100000"}, token_from="/admin/",
                       follow_redirects=True)
    assert "Check the settings" in bad.get_data(as_text=True)
    db.session.refresh(people.acme)
    assert people.acme.setting("max_nesting") == 32
    assert people.globex.setting("max_pages") == 2000


def test_an_officer_invited_in_swedish_gets_the_invitation_page_in_swedish(app, client, alice, login):
    """The invitation page speaks the language the invitation was sent in, not the browser's."""
    login(alice)
    support.post(client, "/admin/invite", {"name": "Eva Ek", "email": "eva@acme.example", "role": "officer",
                                           "language": "sv"}, token_from="/admin/")
    drain()
    mail = next(m for m in support.outbox_messages() if m["To"] == "eva@acme.example")
    link = next(u for u in support.links_in(mail) if "/invite/" in u).replace(app.config["BASE_URL"], "")
    eva = app.test_client()
    page = eva.get(link, headers={"Accept-Language": "en-GB,en;q=0.9"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="sv">' in html
    assert "Välkommen! Välj ditt lösenord" in html and "Welcome! Choose your password" not in html
    refused = support.post(eva, link, {"password": "kort", "confirm": "kort"}, token_from=link,
                           headers={"Accept-Language": "en"})
    assert '<html lang="sv">' in refused.get_data(as_text=True)
    eva.get("/lang/en")  # the visitor's own choice wins
    assert "Welcome! Choose your password" in eva.get(link).get_data(as_text=True)
    support.post(eva, link, {"password": "evas own secret", "confirm": "evas own secret"}, token_from=link)
    used = app.test_client().get(link, headers={"Accept-Language": "en"})
    assert used.status_code == 410 and '<html lang="sv">' in used.get_data(as_text=True)
