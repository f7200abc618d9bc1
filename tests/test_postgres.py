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
    assert pg_app.test_client().get("/readyz").json == {"status": "ready", "database": "ok"}


def test_free_text_search_uses_the_trigram_indexes(pg_app):
    """A title or name substring is looked up in pg_trgm indexes, not by scanning every case."""
    from core.cases import listing

    people = support.make_people()
    with tenant_context(people.acme.id):
        for n in range(30):
            case = Case(title=f"Lease {n} Storgatan", allowed_methods=["touch"])
            db.session.add(case)
        db.session.add(Case(title="Hyresavtal Kungsgatan 7", allowed_methods=["touch"]))
        db.session.commit()
        assert [c.title for c in listing.list_cases(q="ungsgatan").cases] == ["Hyresavtal Kungsgatan 7"]
        # Few rows: tell the planner scanning is expensive, as it is at 100,000 cases.
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        statement = sa.select(Case.id).where(listing._search_condition("ungsgatan"))
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(db.session.execute(sa.text(f"EXPLAIN {compiled}")).scalars())
        db.session.rollback()
    assert "ix_case_title_trgm" in plan and "ix_party_name_trgm" in plan, plan


def test_a_draft_edit_after_another_request_sent_the_case_is_refused(pg_app):
    """The editing request loaded the case while it was a draft; another request sends it; the
    edit must then see the sent case (row lock + fresh status), not change it."""
    from core.cases import service as cases
    from core.models import Officer
    from tests.signing.helpers import pdf

    people = support.make_people()
    with tenant_context(people.acme.id):
        case = cases.create_case(people.alice, "Race", allowed_methods=["touch"])
        cases.add_document(case, "a.pdf", pdf())
        cases.add_party(case, "Sara Svensson", "sara@example.com")
        db.session.commit()
        case_id, alice_id = case.id, people.alice.id
        stale = db.session.get(Case, case_id)
        assert stale.status == "draft"
        with pg_app.app_context():  # another request, its own session
            cases.send_case(db.session.get(Case, case_id), db.session.get(Officer, alice_id))
            db.session.commit()
        with pytest.raises(cases.CaseError):
            cases.update_case(stale, people.alice, title="Changed after sending")
        db.session.rollback()
        assert db.session.get(Case, case_id).title == "Race"
