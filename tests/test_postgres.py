"""The same behaviour on the real PostgreSQL server."""

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Case
from tenants.scoping import NoTenantError, tenant_context
from tests import support

pytestmark = pytest.mark.postgres


def test_login_and_isolation_on_postgres(pg_app):
    assert pg_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    people = support.make_people()
    with tenant_context(people.acme.id):
        db.session.add(Case(title="Acme only", allowed_methods=["touch"]))
        db.session.commit()
    client = pg_app.test_client()
    assert support.login(client, "charlie@globex.example").status_code == 302
    assert "Acme only" not in client.get("/cases/").get_data(as_text=True)
    other = pg_app.test_client()
    support.login(other, "alice@acme.example")
    assert "Acme only" in other.get("/cases/").get_data(as_text=True)
    with pytest.raises(NoTenantError):
        db.session.scalars(sa.select(Case)).all()
    db.session.rollback()


def test_health_on_postgres(pg_app):
    assert pg_app.test_client().get("/healthz").json == {"ok": True, "database": "ok"}
