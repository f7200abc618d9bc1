"""Background jobs with a transactional outbox.

`enqueue("core.mail.deliver", mail_id)` writes a `Job` row in the caller's transaction. After
the commit the row is dispatched: to RQ on Redis when `REDIS_URL` is set (run by `sigill
worker`), else to a thread pool in the web process. A job that fails is retried with exponential
backoff; a job whose dispatch failed (Redis down) or whose worker died is picked up again by the
sweeper, which runs on the scheduler with the other periodic tasks. A job runs at most once at a
time: the runner claims its row with a conditional UPDATE before calling the function.

Jobs take ids, never objects, and run inside an app context with their tenant set.
"""

from __future__ import annotations

import importlib
import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event

from core.extensions import db
from core.models.base import utcnow
from core.models.platform import Job
from tenants.scoping import current_tenant_id, tenant_context

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)  # a running job older than this had its worker die
REDISPATCH_AFTER = timedelta(seconds=60)
QUEUES = ("sealing", "mail", "webhooks", "default")
_PENDING_KEY = "sigill_jobs_after_commit"

# name -> (dotted function, interval seconds). Plugins add theirs with `register_periodic`.
PERIODIC: dict[str, tuple[str, int]] = {
    "sweep": ("core.jobs.sweep", 30),
    "case_reminders": ("core.cases.periodic.send_due_reminders", 600),
    "case_expiry": ("core.cases.periodic.expire_due_cases", 300),
    "api_cleanup": ("core.api.service.forget_old_records", 3600),
}


def register_periodic(name: str, func: str, seconds: int) -> None:
    PERIODIC[name] = (func, seconds)


def backoff(attempt: int) -> timedelta:
    """10 s, 20 s, 40 s ... capped at one hour."""
    return timedelta(seconds=min(3600, 10 * 2 ** max(0, attempt - 1)))


def _dotted(func: str | Callable) -> str:
    return func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"


def enqueue(func: str | Callable, *args, tenant_id: int | None = None, delay: timedelta | None = None,
            max_attempts: int = 8, case_id: int | None = None, queue: str = "default") -> Job:
    """Ask for `func(*args)` to run after the current transaction commits.

    `queue` keeps kinds of work from waiting on each other (see `QUEUES`); `case_id` names the case
    the work is for, whose timeline and owner hear about it if the job gives up.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown job queue {queue!r}")
    for arg in args:
        if not isinstance(arg, (int, str, bool, float, type(None))):
            raise TypeError("jobs take ids and plain values, not objects")
    job = Job(
        func=_dotted(func),
        args=list(args),
        tenant_id=tenant_id if tenant_id is not None else current_tenant_id(),
        case_id=case_id,
        queue=queue,
        run_after=utcnow() + (delay or timedelta()),
        max_attempts=max_attempts,
    )
    db.session.add(job)
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, []).append(job.id)
    return job


def _after_commit(session) -> None:
    ids = session.info.pop(_PENDING_KEY, [])
    if ids:
        app = current_app._get_current_object()
        for job_id in ids:
            dispatch(app, job_id)


def _after_rollback(session) -> None:
    session.info.pop(_PENDING_KEY, None)


# --- dispatch ------------------------------------------------------------------------------------


class InlineRunner:
    """The embedded default: a small thread pool in the web process."""

    def __init__(self, app: Flask, workers: int = 2):
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sigill-job")

    def submit(self, job_id: int, delay: float = 0) -> None:
        if delay > 0:
            timer = threading.Timer(delay, self.submit, args=(job_id,))
            timer.daemon = True
            timer.start()
            return
        self.pool.submit(_run_in_app, self.app, job_id)


def _run_in_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            run_job(job_id)
        except Exception:  # noqa: BLE001  logged; the row keeps its state for the sweeper
            log.exception("job %s crashed outside its own error handling", job_id)
        finally:
            db.session.remove()


def redis_connection():
    from redis import Redis

    app = current_app
    conn = app.extensions.get("sigill_redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"])
        app.extensions["sigill_redis"] = conn
    return conn


def rq_queue():
    from rq import Queue

    return Queue(current_app.config["RQ_QUEUE"], connection=redis_connection())


def dispatch(app: Flask, job_id: int, delay: float = 0) -> None:
    """Hand a committed job to its runner. Failure here is logged, not raised: the sweeper retries."""
    try:
        if app.config.get("REDIS_URL"):
            with app.app_context():
                queue = rq_queue()
                if delay > 0:
                    queue.enqueue_in(timedelta(seconds=delay), "core.jobs.rq_entry", job_id)
                else:
                    queue.enqueue("core.jobs.rq_entry", job_id)
        elif app.config.get("JOBS_MANUAL"):
            return  # tests run due jobs themselves with `drain()`
        else:
            app.extensions["sigill_runner"].submit(job_id, delay)
        _mark_dispatched(app, job_id)
    except Exception:  # noqa: BLE001
        log.exception("could not dispatch job %s; the sweeper will retry", job_id)


def _mark_dispatched(app: Flask, job_id: int) -> None:
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.update(Job).where(Job.id == job_id).values(dispatched_at=utcnow()))


# --- running -------------------------------------------------------------------------------------


def _claim(job_id: int) -> Job | None:
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.state == "pending", Job.run_after <= now)
        .values(state="running", started_at=now, attempts=Job.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    return db.session.get(Job, job_id)


def resolve(dotted: str) -> Callable:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def run_job(job_id: int) -> bool:
    """Run one job if it is due and nobody else has it. Returns True if it ran to success."""
    job = _claim(job_id)
    if job is None:
        return False
    func, args, tenant_id = job.func, list(job.args), job.tenant_id
    try:
        with tenant_context(tenant_id):
            resolve(func)(*args)
            db.session.commit()
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        _record_failure(job_id, exc)
        return False
    db.session.execute(
        sa.update(Job).where(Job.id == job_id).values(state="done", finished_at=utcnow(), last_error=None)
    )
    db.session.commit()
    return True


def _record_failure(job_id: int, exc: Exception) -> None:
    job = db.session.get(Job, job_id)
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
    job.last_error = error
    if job.attempts >= job.max_attempts:
        job.state = "failed"
        job.finished_at = utcnow()
        log.error("job %s (%s) failed for good after %s attempts: %s", job.id, job.func, job.attempts, error)
        _report_given_up(job)
    else:
        delay = backoff(job.attempts)
        job.state = "pending"
        job.run_after = utcnow() + delay
        log.warning("job %s (%s) attempt %s failed, retry in %ss: %s", job.id, job.func, job.attempts,
                    int(delay.total_seconds()), error)
    db.session.commit()
    if job.state == "pending":
        dispatch(current_app._get_current_object(), job.id, delay=delay.total_seconds())


def _report_given_up(job: Job) -> None:
    """Tell the job's case and owner; a failure to tell must not keep the job from being marked failed."""
    from core.cases.job_failures import report_given_up

    try:
        with db.session.begin_nested():
            report_given_up(job)
    except Exception:  # noqa: BLE001
        log.exception("could not report that job %s gave up", job.id)


def rq_entry(job_id: int) -> None:
    """What RQ runs: the worker process holds one app (see `core.cli.worker`)."""
    from core.cli import worker_app

    with worker_app().app_context():
        try:
            run_job(job_id)
        finally:
            db.session.remove()


def drain(max_rounds: int = 20) -> int:
    """Run every due pending job, in order, until none is left (tests and `sigill jobs run`)."""
    ran = 0
    for _ in range(max_rounds):
        due = db.session.scalars(
            sa.select(Job.id).where(Job.state == "pending", Job.run_after <= utcnow()).order_by(Job.id)
        ).all()
        db.session.commit()
        if not due:
            break
        for job_id in due:
            run_job(job_id)
            ran += 1
    return ran


def retry_now(job_id: int) -> None:
    """An admin's "retry": a failed job gets a fresh set of attempts."""
    db.session.execute(
        sa.update(Job).where(Job.id == job_id, Job.state == "failed")
        .values(state="pending", attempts=0, run_after=utcnow(), last_error=None)
    )
    db.session.info.setdefault(_PENDING_KEY, []).append(job_id)


# --- periodic work -------------------------------------------------------------------------------


def sweep() -> int:
    """Re-dispatch jobs never picked up (dispatch failed) and jobs whose worker died."""
    now = utcnow()
    db.session.execute(
        sa.update(Job).where(Job.state == "running", Job.started_at < now - LEASE)
        .values(state="pending", dispatched_at=None)  # its worker died: hand it out again now
    )
    stale = db.session.scalars(
        sa.select(Job.id).where(
            Job.state == "pending", Job.run_after <= now,
            sa.or_(Job.dispatched_at.is_(None), Job.dispatched_at < now - REDISPATCH_AFTER),
        ).limit(500)
    ).all()
    db.session.commit()
    app = current_app._get_current_object()
    for job_id in stale:
        dispatch(app, job_id)
    return len(stale)


def run_periodic(name: str) -> None:
    """Run one periodic task (called by RQ's cron scheduler or the embedded timer)."""
    func, _seconds = PERIODIC[name]
    resolve(func)()
    db.session.commit()


class EmbeddedScheduler(threading.Thread):
    """Runs the periodic tasks in the web process when there is no Redis."""

    def __init__(self, app: Flask, tick: float):
        super().__init__(daemon=True, name="sigill-scheduler")
        self.app = app
        self.tick = tick
        self.stopped = threading.Event()
        self.last_run: dict[str, float] = {}

    def run(self) -> None:
        import time

        while not self.stopped.wait(self.tick):
            for name, (_func, seconds) in list(PERIODIC.items()):
                if time.monotonic() - self.last_run.get(name, 0) < seconds:
                    continue
                self.last_run[name] = time.monotonic()
                with self.app.app_context():
                    try:
                        run_periodic(name)
                    except Exception:  # noqa: BLE001
                        log.exception("periodic task %s failed", name)
                        db.session.rollback()
                    finally:
                        db.session.remove()


def init_app(app: Flask) -> None:
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_soft_rollback", lambda session, _tx: _after_rollback(session))
    if not app.config.get("REDIS_URL"):
        app.extensions["sigill_runner"] = InlineRunner(app)


def start_embedded_scheduler(app: Flask) -> EmbeddedScheduler:
    scheduler = EmbeddedScheduler(app, tick=min(5.0, float(app.config["SCHEDULER_INTERVAL"])))
    scheduler.start()
    app.extensions["sigill_scheduler"] = scheduler
    return scheduler
