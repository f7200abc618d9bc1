"""Jobs in the web process (no Redis: `make run`'s embedded defaults, and the live test server the
browser tests use): a failed attempt is retried by the embedded scheduler's sweeper, not left
pending for ever. The backoff and the sweep interval are shortened so the test takes seconds; the
runner, the scheduler thread and the database are the real ones."""

from __future__ import annotations

from datetime import timedelta

from core import jobs
from core.extensions import db
from core.models import Job
from tests.test_jobs import _wait_for


def _fast_retries(monkeypatch) -> None:
    monkeypatch.setattr(jobs, "backoff", lambda attempt: timedelta(seconds=0.2))
    monkeypatch.setitem(jobs.PERIODIC, "sweep", ("core.jobs.sweep", 1))


def _state(job_id: int) -> tuple[str, int]:
    db.session.rollback()
    job = db.session.get(Job, job_id)
    return job.state, job.attempts


def _stop(scheduler) -> None:
    scheduler.stopped.set()
    scheduler.thread.join(timeout=30)


def test_make_run_s_embedded_scheduler_retries_a_failed_job_until_it_succeeds(app_factory, monkeypatch):
    _fast_retries(monkeypatch)
    app = app_factory(JOBS_MANUAL=False, SCHEDULER_ENABLED=True, SCHEDULER_INTERVAL=1)  # no REDIS_URL
    assert not app.config.get("REDIS_URL")
    scheduler = jobs.start_embedded_scheduler(app)  # what `sigill serve` and core.wsgi do without Redis
    try:
        with app.app_context():
            job = jobs.enqueue("tests.jobs_support.flaky", "embedded")  # fails its first two attempts
            db.session.commit()
            _wait_for(lambda: _state(job.id) == ("done", 3), 60, "the failed job to be retried and succeed")
    finally:
        _stop(scheduler)


def test_the_live_test_server_retries_a_failed_job_as_make_run_does(live_server, monkeypatch):
    _fast_retries(monkeypatch)
    with live_server.app.app_context():
        job = jobs.enqueue("tests.jobs_support.flaky", "live")
        db.session.commit()
        _wait_for(lambda: _state(job.id) == ("done", 3), 60, "the live server to retry the failed job")


def test_a_job_that_fails_before_its_dispatch_is_marked_is_still_retried_after_its_backoff(
        app_factory, monkeypatch):
    """The runner may start (and fail) a job before the dispatcher has noted that it handed the job
    over. That note must not hide the failed job's retry from the sweeper: the sweeper hands out a
    job noted as dispatched only after REDISPATCH_AFTER (60 s), and the retry was due in 0.2 s."""
    import time

    from core.models.base import utcnow

    _fast_retries(monkeypatch)
    real = jobs._mark_dispatched

    def after_the_job_failed(app, *job_ids):  # the slow side of the race, made to lose it every time
        with app.app_context():
            started = time.monotonic()
            while time.monotonic() - started < 5 and _state(job_ids[0]) != ("pending", 1):  # failed once
                time.sleep(0.05)
            db.session.remove()
        return real(app, *job_ids)

    monkeypatch.setattr(jobs, "_mark_dispatched", after_the_job_failed)
    app = app_factory(JOBS_MANUAL=False)
    with app.app_context():
        job = jobs.enqueue("tests.jobs_support.flaky", "race")
        db.session.commit()
        _wait_for(lambda: _state(job.id)[1] >= 1, 30, "the first attempt")
        time.sleep(0.5)  # its backoff (0.2 s) is over
        db.session.rollback()
        row = db.session.get(Job, job.id)
        assert row.state == "pending" and row.run_after <= utcnow()
        assert jobs.sweep() == 1, "the sweeper hands the due retry out at once"
