from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.models import OfficerToken
from tests import support


def test_alice_logs_in_and_sees_the_case_list(client, alice, login):
    response = login(alice)
    assert response.status_code == 302
    page = client.get("/cases/")
    assert page.status_code == 200
    assert "No cases here yet." in page.get_data(as_text=True)


def test_wrong_password_gets_a_generic_message(client, alice):
    response = support.login(client, alice.email, "wrong password")
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)


def test_unknown_email_gets_the_same_message(client, people):
    response = support.login(client, "nobody@acme.example", "whatever")
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)


def test_login_is_rate_limited(client, alice):
    for _ in range(5):
        assert support.login(client, alice.email, "wrong").status_code == 401
    response = support.login(client, alice.email, support.PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_form_without_csrf_token_is_refused_with_a_clear_page(client, alice):
    response = client.post("/login", data={"email": alice.email, "password": support.PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_passwords_are_stored_as_argon2id(alice):
    assert alice.password_hash.startswith("$argon2id$")


def test_password_reset_by_emailed_link(client, alice, app):
    support.post(client, "/forgot", {"email": alice.email})
    drain()
    [mail] = support.outbox_messages()
    assert mail["To"] == alice.email
    link = next(u for u in support.links_in(mail) if "/reset/" in u)
    path = link.replace(app.config["BASE_URL"], "")
    response = support.post(client, path, {"password": "a brand new secret", "confirm": "a brand new secret"},
                            token_from=path)
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": support.csrf_token(client, "/cases/")})
    assert support.login(client, alice.email, "a brand new secret").status_code == 302
    # The link works once.
    assert client.get(path).status_code == 410


def test_reset_for_unknown_email_says_the_same_and_sends_nothing(client, people):
    response = support.post(client, "/forgot", {"email": "nobody@acme.example"}, follow_redirects=True)
    assert "If the address belongs to an account" in response.get_data(as_text=True)
    drain()
    assert support.outbox_messages() == []


def test_expired_reset_link_shows_its_own_page(client, alice, app):
    support.post(client, "/forgot", {"email": alice.email})
    drain()
    link = next(u for u in support.links_in(support.outbox_messages()[0]) if "/reset/" in u)
    token_row = db.session.scalars(sa.select(OfficerToken).execution_options(all_tenants=True)).one()
    token_row.expires_at -= timedelta(hours=2)
    db.session.commit()
    response = client.get(link.replace(app.config["BASE_URL"], ""))
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


def test_a_password_change_ends_other_sessions(app, alice, login, client):
    login(alice)
    other = app.test_client()
    support.login(other, alice.email)
    assert other.get("/cases/").status_code == 200
    from core.auth.service import set_password

    set_password(alice, "another long password")
    db.session.commit()
    assert other.get("/cases/").status_code == 302


def test_organisation_login_address(client, people):
    page = client.get("/o/acme")
    assert page.status_code == 200
    assert "Acme AB" in page.get_data(as_text=True)


def test_unknown_organisation_slug_is_a_clear_404(client, people):
    page = client.get("/o/no-such-org")
    assert page.status_code == 404
    assert "No organisation uses this address" in page.get_data(as_text=True)


def test_an_officer_chooses_the_office_language(app, alice, login):
    client = app.test_client()
    support.login(client, alice.email)
    support.post(client, "/account", {"account-name": "Alice A. Andersson", "account-language": "sv"},
                 token_from="/account")
    page = client.get("/cases/").get_data(as_text=True)  # the browser asks for English; her choice wins
    assert '<html lang="sv">' in page and "Ärenden" in page
    db.session.refresh(alice)
    assert (alice.name, alice.language) == ("Alice A. Andersson", "sv")


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(app, alice):
    mine, other = app.test_client(), app.test_client()
    support.login(mine, alice.email)
    support.login(other, alice.email)
    new = {"password-password": "new secret 123", "password-confirm": "new secret 123"}
    wrong = support.post(mine, "/account/password", {"password-current": "not it", **new}, token_from="/account")
    assert wrong.status_code == 422 and "That is not your current password." in wrong.get_data(as_text=True)
    support.post(mine, "/account/password", {"password-current": support.PASSWORD, **new}, token_from="/account")
    assert mine.get("/cases/").status_code == 200
    assert other.get("/cases/").status_code == 302
    assert support.login(app.test_client(), alice.email, "new secret 123").status_code == 302
