"""API keys on the admin page and with `sigill apikey create`."""

from __future__ import annotations

import re

from core.cli import cli
from tests import support
from tests.api.conftest import ApiClient


def create_key_on_the_page(client, name: str = "Payroll") -> str:
    response = support.post(client, "/admin/api/keys", {"name": name}, token_from="/admin/api/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "shown only this once" in html
    return re.search(r'<code class="secret">([^<]+)</code>', html).group(1)


def test_an_admin_creates_a_key_sees_it_once_and_it_works(client, login, people):
    login(people.alice)
    key = create_key_on_the_page(client)
    html = client.get("/admin/api/").get_data(as_text=True)
    assert "Payroll" in html and key not in html and key[:12] in html
    api = ApiClient(client.application.test_client(), key)
    assert api.get("/api/v1/cases").status_code == 200
    created = api.post("/api/v1/cases", json={"title": "From payroll"}).json
    assert created["owner"]["email"] == people.alice.email


def test_a_revoked_key_stops_working(client, login, people):
    login(people.alice)
    key = create_key_on_the_page(client)
    html = client.get("/admin/api/").get_data(as_text=True)
    key_id = re.search(r"/admin/api/keys/(\d+)/revoke", html).group(1)
    response = support.post(client, f"/admin/api/keys/{key_id}/revoke", token_from="/admin/api/")
    assert response.status_code == 302
    assert "Revoked" in client.get("/admin/api/").get_data(as_text=True)
    assert ApiClient(client.application.test_client(), key).get("/api/v1/cases").status_code == 401


def test_a_key_needs_a_name(client, login, people):
    login(people.alice)
    response = support.post(client, "/admin/api/keys", {"name": ""}, token_from="/admin/api/")
    assert response.status_code == 400 and 'class="secret"' not in response.get_data(as_text=True)


def test_only_admins_reach_the_page(client, login, people):
    login(people.bob)
    assert client.get("/admin/api/").status_code == 403


def test_the_organisation_page_links_to_it(client, login, people):
    login(people.alice)
    assert "/admin/api/" in client.get("/admin/").get_data(as_text=True)


def test_charlie_cannot_revoke_acme_keys(app, client, login, people):
    login(people.alice)
    key = create_key_on_the_page(client)
    key_id = re.search(r"/admin/api/keys/(\d+)/revoke", client.get("/admin/api/").get_data(as_text=True)).group(1)
    charlie = app.test_client()
    support.login(charlie, people.charlie.email)
    assert support.post(charlie, f"/admin/api/keys/{key_id}/revoke", token_from="/admin/api/").status_code == 404
    assert "Payroll" not in charlie.get("/admin/api/").get_data(as_text=True)
    assert ApiClient(app.test_client(), key).get("/api/v1/cases").status_code == 200


def test_the_cli_prints_a_key_owned_by_the_first_admin(app, people):
    result = app.test_cli_runner().invoke(cli, args=["apikey", "create", "acme", "Nightly import"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    api = ApiClient(app.test_client(), key)
    assert api.post("/api/v1/cases", json={"title": "Imported"}).json["owner"]["email"] == people.alice.email
    other = app.test_cli_runner().invoke(cli, args=["apikey", "create", "acme", "Bob's", "--owner", "bob@acme.example"])
    assert other.exit_code == 0
    bad = app.test_cli_runner().invoke(cli, args=["apikey", "create", "nope", "X"])
    assert bad.exit_code != 0 and "no organisation" in bad.output
