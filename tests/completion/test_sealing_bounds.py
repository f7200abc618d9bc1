"""A PDF that makes the sealing libraries loop fails alone, says so, and is not retried (issue 12).

Before, a PDF whose page tree loops was sealed in the worker (or the web process) itself: the
stamping loop never ended, the process grew to 4 GB and died, and the sweeper and "Retry sealing"
started it again. Uploads now refuse such files; a document stored before that check (or one that
slips through) is sealed in a bounded child process.
"""

from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.models import Case, Document, Event, Job
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import hostile_pdfs as hostile
from tests import support
from tests.completion.test_sealing_job import sign
from tests.signing.helpers import make_case, signer


def _events(case_id: int, tenant_id: int, kind: str) -> list[Event]:
    with tenant_context(tenant_id):
        return db.session.scalars(sa.select(Event).where(Event.case_id == case_id, Event.kind == kind)).all()


def test_a_document_whose_page_tree_loops_fails_alone_once_with_a_clear_timeline_entry(app, people, client):
    app.config.update(SEAL_CPU_SECONDS=2, SEAL_WALL_SECONDS=8, SEAL_MEMORY_MB=400)
    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"])
    with tenant_context(made.case.tenant_id):  # stored before uploads were checked
        document = db.session.get(Document, made.document_id)
        document.sha256 = blobs().put(hostile.kids_loop())
        document.filename = "looping.pdf"
        db.session.commit()
    sign(client, made, "Sara Svensson")
    started = time.monotonic()
    drain()
    assert time.monotonic() - started < 60
    job = db.session.scalars(sa.select(Job).where(Job.func == "core.sealing.jobs.seal_case")).one()
    assert job.state == "failed" and job.attempts == 1  # not retried: another attempt would loop again
    [failed] = _events(made.case.id, made.case.tenant_id, "seal_failed")
    assert failed.data["document"] == "looping.pdf" and failed.data["bound"] == "time"
    assert _events(made.case.id, made.case.tenant_id, "job_gave_up")
    db.session.expire_all()
    with tenant_context(made.case.tenant_id):
        assert db.session.get(Case, made.case.id).status == "pending"
    bob = app.test_client()
    support.login(bob, "bob@acme.example")
    page = bob.get(f"/cases/{made.case.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sealing stopped: looping.pdf takes longer than a document may" in page.replace("&#39;", "'")
    assert os.getpid()  # this process (the worker) is alive and well
    # "Try sealing again" runs it once more, inside the same bounds, and it stops again: no loop.
    alice = app.test_client()
    support.login(alice, "alice@acme.example")
    support.post(alice, f"/cases/{made.case.id}/seal/retry", token_from=f"/cases/{made.case.id}")
    drain()
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == "failed" and job.attempts == 1
    assert len(_events(made.case.id, made.case.tenant_id, "seal_failed")) == 2


def _grows_without_end(*_args, **_kwargs):
    hog = []
    while True:
        hog.append(bytearray(16 * 1024 * 1024))


def test_a_seal_that_grows_without_end_stops_at_its_memory_bound(app, people, client, monkeypatch):
    from core.sealing import jobs as sealing_jobs

    app.config.update(SEAL_MEMORY_MB=200, SEAL_WALL_SECONDS=60)
    monkeypatch.setattr(sealing_jobs, "seal_document", _grows_without_end)  # a library that leaks on some file
    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"])
    sign(client, made, "Sara Svensson")
    drain()
    [failed] = _events(made.case.id, made.case.tenant_id, "seal_failed")
    assert failed.data["bound"] == "memory" and failed.data["document"] == "lease.pdf"
    job = db.session.scalars(sa.select(Job).where(Job.func == "core.sealing.jobs.seal_case")).one()
    assert job.state == "failed" and job.attempts == 1
    bob = app.test_client()
    support.login(bob, "bob@acme.example")
    page = bob.get(f"/cases/{made.case.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sealing stopped: lease.pdf needs more memory than a document may use" in page


ACCEPTED = [kind for kind, (_make, code) in hostile.KINDS.items() if code is None]


@pytest.mark.parametrize("kind", ACCEPTED)
def test_a_broken_file_the_upload_accepts_is_sealed_and_verifies(app, people, client, kind):
    """What passes the upload check can always be stamped and sealed."""
    from core.sealing.service import seal_setup
    from core.sealing.validate import validate_sealed

    make, _code = hostile.KINDS[kind]
    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"],
                     document=make())
    sign(client, made, "Sara Svensson")
    drain()
    db.session.expire_all()
    with tenant_context(made.case.tenant_id):
        case = db.session.get(Case, made.case.id)
        assert case.status == "completed", [e.data for e in case.events if e.kind == "seal_failed"]
        sealed = blobs().get(case.documents[0].sealed_sha256)
    setup = seal_setup()
    assert validate_sealed(sealed, setup.trust_roots, seal_certs=[setup.certificate]).verdict == "authentic"
