"""The stamp's proof handed to its chunk jobs (`sign_chunk`): re-encrypted by `sigill files rotate`
so a job still pending when the old key is retired reads it, and released once every chunk job of
the stamp has finished (done or given up), never while one may still run again."""

from __future__ import annotations

import sqlalchemy as sa

from core import encryption
from core.cli import cli
from core.extensions import db
from core.jobs import drain
from core.models import Job, Signature
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.stamp_signature.test_stamp import SARA, lease, stamp_form

OLD = "2026a:" + "a" * 40
NEW = "2026b:" + "b" * 40


def _stamp(client, made) -> str:
    html = client.get(f"/stamp/s/{made[0].token(SARA)}").get_data(as_text=True)
    return client.post(f"/stamp/s/{made[0].token(SARA)}/sign",
                       data=stamp_form(html, [m.case_id for m in made])).get_data(as_text=True)


def _signed(tenant_id: int) -> int:
    with tenant_context(tenant_id):
        db.session.rollback()
        return db.session.scalar(sa.select(sa.func.count()).select_from(Signature))


def test_a_chunk_job_pending_across_a_key_rotation_still_reads_its_proof_after_the_old_key_is_retired(
        app_factory, monkeypatch):
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)  # 4 cases: signed by jobs of 2 cases each
    monkeypatch.setattr(service, "CHUNK", 2)
    app = app_factory(FILE_KEYS=OLD)
    with app.app_context():
        people = support.make_people()
        people.acme.enabled_plugins = people.globex.enabled_plugins = ["stamp_signature"]
        db.session.commit()
        acme_id, globex_id = people.acme.id, people.globex.id
        made = [lease(people.alice, f"Lease {n}") for n in range(1, 5)]
        other = [lease(people.charlie, f"Globex lease {n}") for n in range(1, 4)]  # another organisation's stamp
        assert "Your stamp signature covers 4 cases" in _stamp(app.test_client(), made)
        assert "Your stamp signature covers 3 cases" in _stamp(app.test_client(), other)
        assert _signed(acme_id) == 0 and _signed(globex_id) == 0, "the jobs have not run yet"

    rotated = app_factory(FILE_KEYS=f"{NEW},{OLD}")  # the new key first, the old one kept
    output = rotated.test_cli_runner().invoke(cli, args=["files", "rotate"]).output
    assert "2 re-encrypted under key '2026b'" in output, output  # one proof per organisation's stamp
    assert "0 re-encrypted" in rotated.test_cli_runner().invoke(cli, args=["files", "rotate"]).output

    retired = app_factory(FILE_KEYS=NEW)  # the old key removed, as `files rotate` said it could be
    with retired.app_context():
        drain()
        assert _signed(acme_id) == 4 and _signed(globex_id) == 3, "every pending chunk job read its proof"
        with tenant_context(acme_id):
            assert {j.state for j in db.session.scalars(sa.select(Job).where(Job.func.like("%sign_chunk")))} == {"done"}
        assert encryption.current_key_id() == "2026b"


def _proof(tenant_id: int):
    from plugins.stamp_signature.models import StampManifest

    with tenant_context(tenant_id):
        db.session.rollback()
        return db.session.scalars(sa.select(StampManifest.proof)).one()


def _chunk_jobs(tenant_id: int) -> list[Job]:
    with tenant_context(tenant_id):
        db.session.rollback()
        return db.session.scalars(sa.select(Job).where(Job.func.like("%sign_chunk")).order_by(Job.id)).all()


def test_the_proof_is_kept_while_a_chunk_job_waits_for_its_retry_and_released_when_the_last_one_is_done(
        app, on, client, monkeypatch):  # noqa: F811
    from core.models.base import utcnow
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)
    monkeypatch.setattr(service, "CHUNK", 2)
    made = [lease(on.alice, f"Lease {n}") for n in range(1, 5)]
    other = [lease(on.charlie, f"Globex lease {n}") for n in range(1, 4)]  # another organisation's stamp, waiting
    real, calls = service._sign_cases, []

    def first_attempt_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("database gone")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "_sign_cases", first_attempt_fails)
    assert "Your stamp signature covers 4 cases" in _stamp(client, made)
    first, second = _chunk_jobs(on.acme.id)
    drain(max_rounds=1)  # the first chunk fails once (retried after a backoff), the second is signed
    first, second = _chunk_jobs(on.acme.id)
    assert (first.state, first.attempts, second.state) == ("pending", 1, "done")
    assert _proof(on.acme.id) is not None, "the job waiting for its retry still needs the proof"

    with tenant_context(on.acme.id):
        db.session.execute(sa.update(Job).where(Job.id == first.id).values(run_after=utcnow()))
        db.session.commit()
    drain()
    assert _signed(on.acme.id) == 4, "the retried job read the proof and signed its cases"
    assert _proof(on.acme.id) is None, "released once every chunk job was done"
    with tenant_context(on.acme.id):  # the manifest stays: each signature names it
        assert db.session.scalar(sa.select(service.StampManifest.sha256)) is not None

    monkeypatch.setattr(service, "_sign_cases", real)
    monkeypatch.setattr(service, "INLINE_CASES", 1)
    assert "Your stamp signature covers 3 cases" in _stamp(client, other)
    assert _proof(on.globex.id) is not None, "another organisation's stamp keeps its proof until its jobs ran"


def test_a_stamp_whose_chunk_jobs_gave_up_releases_its_proof_and_a_retry_after_that_signs_nothing(
        app, on, client, monkeypatch):  # noqa: F811
    from core import jobs
    from core.models import OutgoingMail
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)
    monkeypatch.setattr(service, "CHUNK", 2)
    made = [lease(on.alice, f"Lease {n}") for n in range(1, 5)]
    monkeypatch.setattr(service, "_sign_cases", lambda *a, **k: (_ for _ in ()).throw(OSError("database gone")))
    assert "Your stamp signature covers 4 cases" in _stamp(client, made)
    with tenant_context(on.acme.id):
        db.session.execute(sa.update(Job).where(Job.func.like("%sign_chunk")).values(max_attempts=1))
        db.session.commit()
    drain()
    assert [j.state for j in _chunk_jobs(on.acme.id)] == ["failed", "failed"]
    assert _proof(on.acme.id) is None, "released once every chunk job had given up"

    # An admin retries a chunk job after that: its cases were handed back to the party, who was told.
    failed = _chunk_jobs(on.acme.id)[0]
    with tenant_context(on.acme.id):
        jobs.retry_now(failed.id)
        db.session.commit()
        mails = db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingMail))
    drain()
    [again, _second] = _chunk_jobs(on.acme.id)
    assert again.state == "done", "nothing left to do: its cases were handed back"
    assert _signed(on.acme.id) == 0
    with tenant_context(on.acme.id):
        db.session.rollback()
        told = db.session.scalars(sa.select(OutgoingMail.subject)).all()
    assert len([s for s in told if "were not signed" in s]) == 2, "one mail per chunk that gave up, none again"
    assert len(told) == mails, "the retry that gave up again sent nothing more"


def test_the_hourly_cleanup_releases_a_proof_two_jobs_finishing_together_left_and_keeps_a_waiting_ones(
        app, on, client, monkeypatch):  # noqa: F811
    from core.jobs import run_periodic
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)
    monkeypatch.setattr(service, "CHUNK", 2)
    made = [lease(on.alice, f"Lease {n}") for n in range(1, 5)]
    waiting = [lease(on.charlie, f"Globex lease {n}") for n in range(1, 4)]
    assert "Your stamp signature covers 4 cases" in _stamp(client, made)
    released = service.release_proof
    monkeypatch.setattr(service, "release_proof", lambda *a, **k: False)  # each saw the other still running
    drain()
    monkeypatch.setattr(service, "release_proof", released)
    assert _signed(on.acme.id) == 4 and _proof(on.acme.id) is not None
    assert "Your stamp signature covers 3 cases" in _stamp(client, waiting)  # its jobs not run yet

    run_periodic("stamp_signature_cleanup")
    assert _proof(on.acme.id) is None
    assert _proof(on.globex.id) is not None, "its chunk jobs still wait for it"


def test_a_chunk_job_that_finds_its_proof_gone_with_cases_waiting_gives_up_and_hands_them_back(
        app, on, client, monkeypatch):  # noqa: F811
    from core.models import Event
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)
    monkeypatch.setattr(service, "CHUNK", 4)
    made = [lease(on.alice, f"Lease {n}") for n in range(1, 4)]
    assert "Your stamp signature covers 3 cases" in _stamp(client, made)
    with tenant_context(on.acme.id):  # released by mistake (it cannot be, while its job waits)
        db.session.execute(sa.update(service.StampManifest).values(proof=None))
        db.session.commit()
    drain()
    [job] = _chunk_jobs(on.acme.id)
    assert job.state == "failed" and "proof was released" in job.last_error
    assert _signed(on.acme.id) == 0
    with tenant_context(on.acme.id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)
                                 .where(Event.kind == "stamp_not_signed")) == 3, "each case handed back"


def test_a_proof_handed_over_as_a_blob_by_the_release_before_is_adopted_and_rotated(app_factory, monkeypatch):
    from core.storage import blobs
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)
    monkeypatch.setattr(service, "CHUNK", 2)
    app = app_factory(FILE_KEYS=OLD)
    with app.app_context():
        people = support.make_people()
        people.acme.enabled_plugins = ["stamp_signature"]
        db.session.commit()
        acme_id = people.acme.id
        made = [lease(people.alice, f"Lease {n}") for n in range(1, 5)]
        assert "Your stamp signature covers 4 cases" in _stamp(app.test_client(), made)
        with tenant_context(acme_id):  # as the release before left it: the proof a blob the jobs name
            row = db.session.scalars(sa.select(service.StampManifest)).one()
            handle = blobs().put(row.proof)
            for job in db.session.scalars(sa.select(Job).where(Job.func.like("%sign_chunk"))):
                job.args = [job.args[0], handle, job.args[2], job.args[3]]
            row.proof, row.proof_sha256 = None, None
            db.session.commit()

    rotated = app_factory(FILE_KEYS=f"{NEW},{OLD}")
    output = rotated.test_cli_runner().invoke(cli, args=["files", "rotate"]).output
    assert "1 re-encrypted under key '2026b'" in output, output
    retired = app_factory(FILE_KEYS=NEW)
    with retired.app_context():
        drain()
        assert _signed(acme_id) == 4, "the jobs read the adopted proof under the new key"
        assert _proof(acme_id) is None, "and released it when the last was done"
