"""PostgreSQL connections cut during requests (through a proxy this test owns, never the server's
other clients): work that succeeded is answered as a success, and a signer whose signature was
committed is told so."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.app import create_app
from core.extensions import db
from core.models import Signature
from tenants.scoping import tenant_context
from tests import support
from tests.conftest import FreshContextClient, base_config
from tests.faults import TcpProxy
from tests.signing.helpers import make_case, sign_form, signer


@pytest.fixture
def proxied(tmp_path, pg_database):
    """An app whose every database connection goes through a proxy the test can cut."""
    url = sa.engine.make_url(pg_database)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    app = create_app(base_config(tmp_path, SQLALCHEMY_DATABASE_URI=url.set(host="127.0.0.1", port=proxy.port)
                                 .render_as_string(hide_password=False)))
    app.test_client_class = FreshContextClient
    app.cut_after_response = False

    @app.after_request
    def _cut(response):
        if app.cut_after_response:
            proxy.cut()  # the view is done and its answer made; the session still holds a transaction
        return response

    with app.app_context():
        support.create_schema()
        people = support.make_people()
        app.case = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])],
                             methods=["touch"])
        yield app, proxy
        db.session.remove()
        db.engine.dispose()
    support.empty_database(pg_database)
    proxy.close()


@pytest.mark.postgres
@pytest.mark.parametrize("who", ["officer", "signer"])
def test_a_page_whose_connection_is_cut_after_it_was_made_is_still_served(proxied, who):
    app, proxy = proxied
    client = app.test_client()
    if who == "officer":
        support.login(client, "bob@acme.example")
        path = f"/cases/{app.case.case_id}"
    else:
        path = app.case.path("Sara Svensson")
        client.get(path)  # the first view is recorded; this test is about reading
    app.cut_after_response = True
    response = client.get(path)
    app.cut_after_response = False
    assert proxy.cuts >= 1
    assert response.status_code == 200 and "Lease 12" in response.get_data(as_text=True)
    assert client.get(path).status_code == 200  # the next request gets a new connection


@pytest.mark.postgres
def test_a_signer_whose_commit_lost_its_answer_is_told_the_signature_counts(proxied):
    app, proxy = proxied
    client = app.test_client()
    path = app.case.path("Sara Svensson")
    form = sign_form(client, path)
    form["csrf_token"] = support.csrf_token(client, path)
    proxy.cut_after = b"COMMIT"  # the server commits; the answer to COMMIT never arrives
    response = client.post(path + "/sign", data=form)
    assert proxy.cut_after is None, "no COMMIT went through the proxy"
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with tenant_context(app.case.case.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 1
    page = client.get(path).get_data(as_text=True)
    assert "signed" in page.lower()
    again = client.post(path + "/sign", data=form)  # the retry a worried signer makes
    assert again.status_code in (200, 302) and "signed" in client.get(path).get_data(as_text=True).lower()
