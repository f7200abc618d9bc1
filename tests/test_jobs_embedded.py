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
