"""Tenant isolation is central: the scoping listeners, not each query, keep tenants apart."""

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Case, Officer
from tenants.scoping import CrossTenantWriteError, NoTenantError, tenant_context


def _case(tenant, title):
    with tenant_context(tenant.id):
        case = Case(title=title, allowed_methods=["touch"])
        db.session.add(case)
        db.session.commit()
        return case.id


def test_queries_only_see_the_current_tenant(people):
    _case(people.acme, "Acme lease")
    _case(people.globex, "Globex lease")
    with tenant_context(people.acme.id):
        assert [c.title for c in db.session.scalars(sa.select(Case))] == ["Acme lease"]
    with tenant_context(people.globex.id):
        assert [c.title for c in db.session.scalars(sa.select(Case))] == ["Globex lease"]


def test_get_by_id_of_another_tenant_finds_nothing(people):
    acme_case = _case(people.acme, "Acme lease")
    with tenant_context(people.globex.id):
        assert db.session.scalars(sa.select(Case).where(Case.id == acme_case)).first() is None


def test_a_query_with_no_tenant_fails_closed(people):
    with pytest.raises(NoTenantError):
        db.session.scalars(sa.select(Case)).all()


def test_all_tenants_must_be_asked_for_explicitly(people):
    _case(people.acme, "A")
    _case(people.globex, "G")
    rows = db.session.scalars(sa.select(Case).execution_options(all_tenants=True)).all()
    assert sorted(c.title for c in rows) == ["A", "G"]


def test_bulk_update_cannot_reach_another_tenant(people):
    _case(people.acme, "Acme lease")
    with tenant_context(people.globex.id):
        db.session.execute(sa.update(Case).values(title="hijacked"))
        db.session.commit()
    titles = db.session.scalars(sa.select(Case.title).execution_options(all_tenants=True)).all()
    assert titles == ["Acme lease"]


def test_new_rows_are_stamped_with_the_current_tenant(people):
    with tenant_context(people.globex.id):
        case = Case(title="stamped")
        db.session.add(case)
        db.session.commit()
        assert case.tenant_id == people.globex.id


def test_writing_another_tenants_row_is_refused(people):
    with tenant_context(people.globex.id):
        db.session.add(Case(title="sneaky", tenant_id=people.acme.id))
        with pytest.raises(CrossTenantWriteError):
            db.session.flush()
    db.session.rollback()


def test_new_row_without_tenant_is_refused(people):
    db.session.add(Case(title="orphan"))
    with pytest.raises(NoTenantError):
        db.session.flush()
    db.session.rollback()


def test_officers_are_scoped_too(people):
    with tenant_context(people.globex.id):
        names = db.session.scalars(sa.select(Officer.name)).all()
    assert names == ["Charlie Carlsson"]
