"""Stamp signature on the real PostgreSQL server: the stamp page's first page is found by index."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from tests.plugins.stamp_signature.test_stamp_queries import add_cases
from tests.signing.helpers import pdf

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(pg_app):
    """Only PostgreSQL: the query plan is what is tested."""
    return pg_app


@pytest.fixture
def on(people):
    people.acme.enabled_plugins = ["stamp_signature"]
    db.session.commit()
    return people


def test_on_postgresql_the_first_page_finds_the_persons_parties_by_their_index(app, on):
    """The person's parties are found by the (tenant, email) index and their cases by key, not by
    reading every party and case of the organisation."""
    from core.models import Party
    from plugins.stamp_signature import service
    from tenants.scoping import tenant_context

    first = add_cases(on, 3, 0, pdf(["The agreement"]))
    with tenant_context(on.acme.id):
        # The organisation's other people: 400 parties of one case.
        db.session.add_all(Party(case_id=first.case_id, position=n + 1, name=f"Person {n}",
                                 email=f"person{n}@example.com") for n in range(400))
        db.session.commit()
        db.session.execute(sa.text("ANALYZE party"))
        db.session.execute(sa.text('ANALYZE "case"'))
        party = db.session.get(Party, first.parties[0].id)
        # Few cases: tell the planner scanning is expensive, as it is with many organisations' cases.
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        compiled = service._newest_ids(party, 51, 0).compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(db.session.execute(sa.text(f"EXPLAIN {compiled}")).scalars())
        db.session.rollback()
    assert "ix_party_tenant_email" in plan and "pk_case" in plan, plan
