from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.models import OfficerToken
from core.models.base import utcnow
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


def _copy_session_cookie(source, target) -> None:
    cookie = source.get_cookie("session")
    target.set_cookie("session", cookie.value, domain=cookie.domain)


def test_logging_out_ends_the_session_for_a_copy_of_the_cookie_too(app, alice):
    browser, thief = app.test_client(), app.test_client()
    support.login(browser, alice.email)
    _copy_session_cookie(browser, thief)
    assert thief.get("/cases/").status_code == 200  # the copy works while the session lives
    browser.post("/logout", data={"csrf_token": support.csrf_token(browser, "/cases/")})
    assert browser.get("/cases/").status_code == 302
    assert thief.get("/cases/").status_code == 302  # ... and not after logout


def test_logging_out_one_browser_keeps_the_others(app, alice):
    laptop, phone = app.test_client(), app.test_client()
    support.login(laptop, alice.email)
    support.login(phone, alice.email)
    laptop.post("/logout", data={"csrf_token": support.csrf_token(laptop, "/cases/")})
    assert laptop.get("/cases/").status_code == 302
    assert phone.get("/cases/").status_code == 200


def test_a_password_reset_ends_copies_of_earlier_cookies(app, alice):
    browser, thief = app.test_client(), app.test_client()
    support.login(browser, alice.email)
    _copy_session_cookie(browser, thief)
    support.post(app.test_client(), "/forgot", {"email": alice.email})
    drain()
    link = next(u for u in support.links_in(support.outbox_messages()[0]) if "/reset/" in u)
    path = link.replace(app.config["BASE_URL"], "")
    fresh = app.test_client()
    support.post(fresh, path, {"password": "a brand new secret", "confirm": "a brand new secret"}, token_from=path)
    assert fresh.get("/cases/").status_code == 200
    assert browser.get("/cases/").status_code == 302
    assert thief.get("/cases/").status_code == 302


def test_a_session_idle_longer_than_its_lifetime_is_over(app, alice):
    from core.models import OfficerSession

    browser = app.test_client()
    support.login(browser, alice.email)
    row = db.session.scalars(sa.select(OfficerSession).execution_options(all_tenants=True)).one()
    row.last_seen_at -= app.permanent_session_lifetime + timedelta(minutes=1)
    db.session.commit()
    assert browser.get("/cases/").status_code == 302


def test_old_sessions_are_forgotten(app, alice):
    from core.auth.service import forget_old_sessions
    from core.models import OfficerSession

    browser, other = app.test_client(), app.test_client()
    support.login(browser, alice.email)
    support.login(other, alice.email)
    browser.post("/logout", data={"csrf_token": support.csrf_token(browser, "/cases/")})
    db.session.expire_all()
    ended = db.session.scalars(sa.select(OfficerSession).where(OfficerSession.ended_at.is_not(None))
                               .execution_options(all_tenants=True)).one()
    ended.last_seen_at -= timedelta(days=31)  # its address is no longer worth knowing
    db.session.commit()
    assert forget_old_sessions() == 1
    assert other.get("/cases/").status_code == 200


def _client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(app, alice):
    attacker = _client_at(app, "203.0.113.66")
    for _ in range(5):
        assert support.login(attacker, alice.email, "guess").status_code == 401
    refused = support.login(attacker, alice.email, support.PASSWORD)
    assert refused.status_code == 429  # the attacker's address is throttled ...
    assert "Too many attempts" in refused.get_data(as_text=True)
    owner = _client_at(app, "198.51.100.7")  # ... the owner, elsewhere, is not
    assert support.login(owner, alice.email).status_code == 302
    assert owner.get("/cases/").status_code == 200


def test_many_addresses_guessing_hold_the_account_back_except_where_the_owner_logged_in_before(app, alice):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "8/3600"
    office = _client_at(app, "198.51.100.7")
    support.login(office, alice.email)
    office.post("/logout", data={"csrf_token": support.csrf_token(office, "/cases/")})
    for n in range(8):  # a botnet: one guess per address, never tripping an address's own limit
        assert support.login(_client_at(app, f"203.0.113.{n + 1}"), alice.email, "guess").status_code == 401
    stranger = support.login(_client_at(app, "203.0.113.200"), alice.email, support.PASSWORD)
    assert stranger.status_code == 429  # the right password from a new address waits
    assert "too many wrong passwords" in stranger.get_data(as_text=True)
    assert support.login(office, alice.email).status_code == 302  # the owner's office still gets in
    assert office.get("/cases/").status_code == 200
    # From a new address the owner gets in with a reset link.
    travelling = _client_at(app, "192.0.2.44")
    support.post(travelling, "/forgot", {"email": alice.email})
    drain()
    link = next(u for u in support.links_in(support.outbox_messages()[-1]) if "/reset/" in u)
    path = link.replace(app.config["BASE_URL"], "")
    support.post(travelling, path, {"password": "a brand new secret", "confirm": "a brand new secret"},
                 token_from=path)
    assert travelling.get("/cases/").status_code == 200


def test_the_account_limit_speaks_swedish(app, alice):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "1/3600"
    assert support.login(_client_at(app, "203.0.113.1"), alice.email, "guess").status_code == 401
    client = _client_at(app, "203.0.113.2")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "sv"
    page = support.login(client, alice.email, "guess")
    assert page.status_code == 429
    assert "för många felaktiga lösenord" in page.get_data(as_text=True)


def test_a_whole_office_behind_one_address_logs_in(app, people):
    """Right passwords do not count against the address's limit (5 in the tests)."""
    from core.auth.service import create_officer

    colleagues = [create_officer(people.acme, f"officer{n}@acme.example", f"Officer {n}",
                                 password=support.PASSWORD) for n in range(7)]
    db.session.commit()
    for officer in colleagues:
        assert support.login(_client_at(app, "198.51.100.80"), officer.email).status_code == 302


def test_using_a_session_keeps_it_alive(app, alice):
    from core.models import OfficerSession

    browser = app.test_client()
    support.login(browser, alice.email)
    row = db.session.scalars(sa.select(OfficerSession).execution_options(all_tenants=True)).one()
    row.last_seen_at -= app.permanent_session_lifetime - timedelta(minutes=1)  # a minute from its end
    db.session.commit()
    assert browser.get("/cases/").status_code == 200
    db.session.refresh(row)
    assert row.last_seen_at > utcnow() - timedelta(minutes=1)  # renewed: the next twelve hours are its own
    assert browser.get("/cases/").status_code == 200


def test_an_officer_logs_out_everywhere_else(app, alice):
    laptop, phone, thief = app.test_client(), app.test_client(), app.test_client()
    support.login(laptop, alice.email)
    support.login(phone, alice.email)
    _copy_session_cookie(phone, thief)
    page = laptop.get("/account").get_data(as_text=True)
    assert "Besides this browser, you are logged in on 1 other device." in page
    done = support.post(laptop, "/account/sessions", {}, token_from="/account", follow_redirects=True)
    assert "You were logged out on every other device." in done.get_data(as_text=True)
    assert "Only in this browser." in done.get_data(as_text=True)
    assert laptop.get("/cases/").status_code == 200
    assert phone.get("/cases/").status_code == 302 and thief.get("/cases/").status_code == 302


def test_where_you_are_logged_in_reads_in_swedish(app, alice):
    alice.language = "sv"
    db.session.commit()
    laptop, phone = app.test_client(), app.test_client()
    for client in (laptop, phone, app.test_client()):
        support.login(client, alice.email)
    page = laptop.get("/account").get_data(as_text=True)
    assert "Förutom i den här webbläsaren är du inloggad på 2 andra enheter." in page
    assert "Logga ut på alla andra enheter" in page
