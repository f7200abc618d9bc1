"""The sealing job seals in a bounded child reused across documents (core.bounded.run_reused).

A document over a bound in that child fails alone, exactly as with a child per document (the
case's timeline says which and why, the job gives up), and the next document of the same job
thread seals in a fresh child; the seal setup reaches the child once and a new one (a rotated key)
replaces it.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import bounded
from core.extensions import db
from core.jobs import drain
from core.models import Case, Document, Event, Job
from core.sealing import pipeline
from core.sealing.validate import validate_sealed
from core.storage import blobs
from tenants.scoping import tenant_context
from tests.completion.test_sealing_job import sign
from tests.signing.helpers import make_case, pdf, signer

GROW, SPIN, HANG = b"%sigill-test-grow\n", b"%sigill-test-spin\n", b"%sigill-test-hang\n"


def _hang_file(parent: int) -> Path:
    return Path(tempfile.gettempdir()) / f"sigill-test-sealer-{parent}.pid"


def _misbehaving_seal(original_pdf: bytes, *args, **kwargs):
    """`seal_document`, but a library that leaks, loops or hangs on the files marked so (runs in
    the sealing child: it is passed there by name)."""
    if original_pdf.endswith(GROW):
        hog = []
        while True:
            hog.append(bytearray(16 * 1024 * 1024))
    if original_pdf.endswith(SPIN):
        while True:
            pass
    if original_pdf.endswith(HANG):
        _hang_file(os.getppid()).write_text(str(os.getpid()))
        time.sleep(60)
    return pipeline.seal_document(original_pdf, *args, **kwargs)


@pytest.fixture
def misbehaving(monkeypatch):
    from core.sealing import jobs as sealing_jobs

    bounded.close_reused()  # this test's seals start with a child of their own
    monkeypatch.setattr(sealing_jobs, "seal_document", _misbehaving_seal)
    yield
    bounded.close_reused()


def _signed_case(people, client, marker: bytes = b"", title: str = "Lease 12"):
    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"],
                     title=title)
    if marker:
        with tenant_context(made.case.tenant_id):  # stored as is (the marker is a comment after %%EOF)
            document = db.session.get(Document, made.document_id)
            document.sha256 = blobs().put(pdf() + marker)
            db.session.commit()
    sign(client, made, "Sara Svensson")
    return made


def _state(made) -> tuple[str, list[dict]]:
    db.session.expire_all()
    with tenant_context(made.case.tenant_id):
        case = db.session.get(Case, made.case.id)
        failed = db.session.scalars(sa.select(Event).where(Event.case_id == case.id, Event.kind == "seal_failed"))
        return case.status, [e.data for e in failed]


def _sealed(made) -> bytes:
    with tenant_context(made.case.tenant_id):
        return blobs().get(db.session.get(Case, made.case.id).documents[0].sealed_sha256)


def _seal_jobs() -> list[Job]:
    return db.session.scalars(sa.select(Job).where(Job.func == "core.sealing.jobs.seal_case").order_by(Job.id)).all()


@pytest.mark.parametrize(("marker", "bound"), [(GROW, "memory"), (SPIN, "time")])
def test_a_document_over_a_bound_in_the_reused_child_fails_alone_and_the_next_seals(
        app, people, client, misbehaving, marker, bound):
    app.config.update(SEAL_MEMORY_MB=300, SEAL_CPU_SECONDS=1, SEAL_WALL_SECONDS=60)
    before = _signed_case(people, client, title="Before")
    drain()
    assert _state(before) == ("completed", [])
    child = bounded._local.child.pid  # the child that sealed it stays for the next document

    hostile = _signed_case(people, client, marker, title="Hostile")
    drain()
    status, [failed] = _state(hostile)
    assert status == "pending" and failed["bound"] == bound and failed["document"] == "lease.pdf"
    job = _seal_jobs()[-1]
    assert job.state == "failed" and job.attempts == 1  # given up: another attempt would do the same

    after = _signed_case(people, client, title="After")
    drain()
    assert _state(after) == ("completed", [])
    assert bounded._local.child.pid != child  # in a fresh child
    from core.sealing.service import seal_setup

    setup = seal_setup()
    assert validate_sealed(_sealed(after), setup.trust_roots, seal_certs=[setup.certificate]).verdict == "authentic"


def test_a_reused_child_keeps_sealing_documents_one_after_another(app, people, client, misbehaving):
    children = set()
    for number in range(3):
        made = _signed_case(people, client, title=f"Lease {number}")
        drain()
        assert _state(made) == ("completed", [])
        children.add(bounded._local.child.pid)
    assert len(children) == 1 and os.getpid() not in children


def test_the_sealing_child_killed_mid_seal_is_reported_as_crashed_and_the_next_case_seals(
        app, people, client, misbehaving):
    marker = _hang_file(os.getpid())
    marker.unlink(missing_ok=True)

    def kill_the_sealer():
        for _ in range(600):
            if marker.exists() and marker.read_text():
                os.kill(int(marker.read_text()), signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_sealer)
    killer.start()
    hung = _signed_case(people, client, HANG, title="Hung")
    try:
        drain()
    finally:
        killer.join()
        marker.unlink(missing_ok=True)
    status, [failed] = _state(hung)
    assert status == "pending" and failed["bound"] == "crashed"
    after = _signed_case(people, client, title="After")
    drain()
    assert _state(after) == ("completed", [])


def test_two_job_threads_seal_at_once_each_in_its_own_child(app, people, client, misbehaving):
    from core.sealing import jobs as sealing_jobs
    from core.sealing.fingerprint import make_fingerprint
    from core.sealing.service import seal_setup

    made = _signed_case(people, client)
    with tenant_context(made.case.tenant_id):
        case = db.session.get(Case, made.case.id)
        setup = seal_setup()
        head = "0" * 64
        documents = {}
        for number in range(2):
            from core.sealing import service

            fingerprint = make_fingerprint(f"{number:064x}", head)
            receipt = service.receipt_data(case, case.documents[0], fingerprint, head, setup, "en")
            documents[number] = (fingerprint, receipt)
    original = pdf()
    results, errors = {}, []

    def seal_in_thread(number):
        try:
            with app.app_context():
                fingerprint, receipt = documents[number]
                results[number] = [(sealing_jobs._bounded_seal("lease.pdf", setup, original, fingerprint,
                                                               receipt.verify_url, receipt, "en",
                                                               pipeline.FieldLayer()), bounded._local.child.pid)
                                   for _ in range(2)]
                bounded.close_reused()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=seal_in_thread, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    children = {number: {pid for _sealed, pid in results[number]} for number in results}
    assert len(children[0]) == len(children[1]) == 1 and children[0] != children[1]
    for number, sealed in results.items():
        fingerprint = documents[number][0]
        for result, _pid in sealed:
            assert fingerprint.encode() in result.pdf or fingerprint in _text(result.pdf)
            report = validate_sealed(result.pdf, setup.trust_roots, seal_certs=[setup.certificate])
            assert report.verdict == "authentic"


def _text(sealed: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(sealed)).pages)


def test_a_new_seal_setup_reaches_the_reused_child(app, people, client, misbehaving, tmp_path):
    from core.sealing.service import seal_setup

    first = _signed_case(people, client, title="Old key")
    drain()
    old = seal_setup()
    child = bounded._local.child.pid
    app.config["SEAL_DIR"] = str(tmp_path / "rotated")  # a new key, as after a rotation and restart
    del app.extensions["sigill_seal"]
    new = seal_setup()
    assert new.key != old.key
    second = _signed_case(people, client, title="New key")
    drain()
    assert bounded._local.child.pid == child  # the same child, sent the new setup
    assert validate_sealed(_sealed(first), old.trust_roots, seal_certs=[old.certificate]).verdict == "authentic"
    assert validate_sealed(_sealed(second), new.trust_roots, seal_certs=[new.certificate]).verdict == "authentic"
    assert validate_sealed(_sealed(second), old.trust_roots, seal_certs=[old.certificate]).verdict != "authentic"


def test_with_seal_reuse_child_off_each_document_is_sealed_in_a_child_of_its_own(app, people, client, misbehaving):
    app.config["SEAL_REUSE_CHILD"] = False
    made = _signed_case(people, client)
    drain()
    assert _state(made) == ("completed", [])
    assert getattr(bounded._local, "child", None) is None or not bounded._local.child.pid
    hostile = _signed_case(people, client, GROW, title="Hostile")
    app.config["SEAL_MEMORY_MB"] = 300
    drain()
    assert _state(hostile)[1][0]["bound"] == "memory"


def _job_threads_children() -> dict[int, list[int]]:
    """The live children of each of this process's job threads (their sealing children)."""
    found = {}
    for thread in threading.enumerate():
        if thread.name.startswith("sigill-job") and thread.native_id:
            try:
                found[thread.native_id] = [int(pid) for pid in
                                           Path(f"/proc/self/task/{thread.native_id}/children").read_text().split()]
            except FileNotFoundError:
                continue
    return found


def test_jobs_in_the_web_process_seal_in_a_reused_child_per_job_thread_that_ends_with_it(app, people, client):
    from tests.test_bounded import _gone
    from tests.test_jobs import _wait_for

    app.config["JOBS_MANUAL"] = False  # the web process's own job threads, as without Redis
    made = [_signed_case(people, client, title=f"Lease {number}") for number in range(4)]
    _wait_for(lambda: all(_state(m)[0] == "completed" for m in made), 120, "the cases to be sealed")
    children = _job_threads_children()
    sealers = [pid for pids in children.values() for pid in pids]
    assert children and all(len(pids) <= 1 for pids in children.values())  # one child per job thread
    assert 1 <= len(sealers) <= 2 and len(sealers) < len(made)  # reused: fewer children than documents
    app.extensions["sigill_runner"].pool.shutdown(wait=True)  # the web process stops its job threads
    assert all(_gone(pid) for pid in sealers)
