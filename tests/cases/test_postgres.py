"""Concurrency on the real PostgreSQL server: the event chain, sealing and the periodic tasks."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.cases import events, periodic, service
from core.extensions import db
from core.models import Case, Job, Officer, Party, Signature
from core.models.base import utcnow
from tenants.scoping import tenant_context
from tests import support
from tests.cases import pdfs


@pytest.fixture
def pg_case(pg_app):
    """A sent parallel case with two signers on PostgreSQL: (tenant id, case id)."""
    people = support.make_people()
    with tenant_context(people.acme.id):
        case = service.create_case(people.alice, "Lease", "", ["touch"], "parallel", "en", None, 2, 3)
        service.add_document(case, "lease.pdf", pdfs.pdf(1))
        service.add_party(case, "Sam", "sam@example.org")
        service.add_party(case, "Tove", "tove@example.org")
        service.send_case(case, people.alice)
        db.session.commit()
        return people.acme.id, case.id


def _in_threads(app, tenant_id: int, work, count: int = 2) -> list:
    """Run `work(index)` in `count` threads at once, each with its own app context and session."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(index: int) -> None:
        with app.app_context(), tenant_context(tenant_id):
            try:
                barrier.wait()
                results[index] = work(index)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001  reported below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def test_concurrent_appends_keep_one_unbroken_chain(pg_app, pg_case):
    tenant_id, case_id = pg_case

    def append(index: int) -> None:
        for number in range(10):
            case = db.session.get(Case, case_id)
            events.record(case, "note", "system", data={"thread": index, "number": number})
            db.session.commit()

    _in_threads(pg_app, tenant_id, append, count=3)
    with tenant_context(tenant_id):
        case = db.session.get(Case, case_id)
        db.session.refresh(case)
        assert events.verify_chain(case) == []
        assert sum(1 for e in case.events if e.kind == "note") == 30


def test_simultaneous_last_signatures_queue_sealing_once(pg_app, pg_case):
    tenant_id, case_id = pg_case

    def sign(index: int) -> None:
        case = db.session.get(Case, case_id)
        party = case.parties[index]
        db.session.add(Signature(case_id=case.id, party_id=party.id, method="touch", consent_text="I agree",
                                 document_hashes={}))
        db.session.flush()
        service.party_signed(case, party)

    _in_threads(pg_app, tenant_id, sign)
    with tenant_context(tenant_id):
        jobs = db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.func == service.SEAL_JOB))
        assert jobs == 1
        assert db.session.get(Case, case_id).seal_state == "queued"


def test_two_schedulers_at_once_send_each_reminder_once(pg_app, pg_case):
    tenant_id, case_id = pg_case
    with tenant_context(tenant_id):
        for party in db.session.scalars(sa.select(Party).where(Party.case_id == case_id)):
            party.invited_at = utcnow() - timedelta(days=3)
        db.session.commit()
    sent = _in_threads(pg_app, None, lambda _i: periodic.send_due_reminders(), count=3)
    assert sum(sent) == 2
    with tenant_context(tenant_id):
        counts = db.session.scalars(sa.select(Party.reminders_sent).where(Party.case_id == case_id)).all()
    assert counts == [1, 1]


def test_two_schedulers_at_once_expire_a_case_once(pg_app, pg_case):
    tenant_id, case_id = pg_case
    expired = _in_threads(pg_app, None, lambda _i: periodic.expire_due_cases(now=utcnow() + timedelta(days=40)),
                          count=3)
    assert sum(expired) == 1
    with tenant_context(tenant_id):
        case = db.session.get(Case, case_id)
        assert case.status == "expired" and [e.kind for e in case.events].count("expired") == 1
        assert db.session.scalar(sa.select(Officer.email).where(Officer.id == case.owner_id)) == "alice@acme.example"



def test_an_append_after_a_rolled_back_savepoint_follows_the_real_head(pg_app, pg_case):
    """A transaction's later events start from the head it appended itself, without reading the
    case again. When a savepoint took that append back (and with it the row's lock) and another
    transaction appended meanwhile (the same count, another head), the next event still follows
    the real head: the chain stays intact."""
    tenant_id, case_id = pg_case
    with tenant_context(tenant_id):
        case = db.session.get(Case, case_id)
        savepoint = db.session.begin_nested()
        events.record(case, "note", "system", data={"step": "taken back"})
        savepoint.rollback()

        def other(_index: int) -> None:
            events.record(db.session.get(Case, case_id), "note", "system", data={"step": "other"})

        _in_threads(pg_app, tenant_id, other, count=1)
        events.record(case, "note", "system", data={"step": "after"})
        db.session.commit()
        db.session.refresh(case)
        assert events.verify_chain(case) == []
        assert [e.data["step"] for e in case.events if e.kind == "note"] == ["other", "after"]
