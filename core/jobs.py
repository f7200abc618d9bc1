"""Background jobs with a transactional outbox.

`enqueue("core.mail.deliver", mail_id, queue="mail")` writes a `Job` row in the caller's
transaction. After the commit the row is dispatched: to its RQ queue on Redis when `REDIS_URL` is
set (run by `sigill worker`, see `core.worker`), else to a thread pool in the web process. Queues
(sealing, mail, webhooks, default) keep kinds of work from waiting on each other.

The database, not Redis, is the truth about a job; Redis only carries "run job N now":
- A job runs at most once at a time: the runner claims its row with a conditional UPDATE (state
  pending -> running, attempts + 1) and then renews `heartbeat_at` while the function runs. The
  function's work commits together with "done", guarded by the claim (fencing), so a runner that
  lost its claim cannot complete the job a second time.
- A job whose worker died is released at once by the worker's supervisor (`release_worker`), or,
  when the whole machine went, by the sweeper once its heartbeat is older than the lease
  (`JOB_LEASE_SECONDS`, 30 s). A job that really runs longer keeps renewing and is never released.
- The sweeper (every 10 s, on `sigill scheduler`) also dispatches due jobs that were never handed
  to Redis (it was down, or the retry was delayed) or that Redis lost; when Redis comes back empty
  it re-dispatches every pending job.
- A failed attempt is retried with exponential backoff; the last failed attempt (or the last
  worker death) marks the job failed and tells its case and owner (`core.cases.job_failures`).
  A job that raises `GiveUp` (another attempt would only repeat the failure) fails for good at once.

Jobs take ids, never objects, and run inside an app context with their tenant set.
"""

from __future__ import annotations

import atexit
import heapq
import importlib
import itertools
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event

from core import redis_link
from core.extensions import db
from core.models.base import utcnow
from core.models.platform import Job
from core.sessions import end_session
from tenants.scoping import current_tenant_id, tenant_context

log = logging.getLogger(__name__)

REDISPATCH_AFTER = timedelta(seconds=60)
QUEUES = ("sealing", "mail", "webhooks", "default")
# Seconds RQ lets one job run before it interrupts it (the job's attempt then fails and is retried).
QUEUE_TIMEOUTS = {"sealing": 1800, "mail": 120, "webhooks": 120, "default": 600}
_PENDING_KEY = "sigill_jobs_after_commit"

# name -> (dotted function, interval seconds): the core's. Plugins add theirs with the
# `register_periodic_jobs` hook (`PeriodicJob`, below); `register_periodic` is for the core only.
PERIODIC: dict[str, tuple[str, int]] = {
    "sweep": ("core.jobs.sweep", 10),
    "case_reminders": ("core.cases.periodic.send_due_reminders", 600),
    "case_expiry": ("core.cases.periodic.expire_due_cases", 300),
    "api_cleanup": ("core.api.service.forget_old_records", 3600),
    "session_cleanup": ("core.auth.service.forget_old_sessions", 3600),
    "chain_anchor": ("core.cases.anchoring.anchor_heads", 600),
}


def register_periodic(name: str, func: str, seconds: int) -> None:
    PERIODIC[name] = (func, seconds)


class Deferred(Exception):  # noqa: N818  (a signal to the runner, not an error)
    """Raised by a job to step aside for `seconds` without using up an attempt (e.g. fairness)."""

    def __init__(self, seconds: float):
        super().__init__(f"deferred for {seconds}s")
        self.seconds = seconds


class GiveUp(Exception):  # noqa: N818  (a signal to the runner)
    """Raised by a job whose failure another attempt would only repeat (e.g. a PDF over its memory
    bound): the job is failed for good now, and its case and owner are told."""


def backoff(attempt: int) -> timedelta:
    """10 s, 20 s, 40 s ... capped at one hour."""
    return timedelta(seconds=min(3600, 10 * 2 ** max(0, attempt - 1)))


def lease(app: Flask | None = None) -> timedelta:
    return timedelta(seconds=float((app or current_app).config["JOB_LEASE_SECONDS"]))


def worker_identity() -> str:
    """Who claims a job: this process ("host:pid"), so its supervisor can release what it held."""
    return f"{socket.gethostname()}:{os.getpid()}"


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
    if not delay:  # a delayed job is dispatched by the sweeper when it is due
        db.session.info.setdefault(_PENDING_KEY, []).append((job.id, queue))
    return job


def _after_commit(session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    if len(pending) == 1:
        dispatch(current_app._get_current_object(), *pending[0])
    elif pending:
        dispatch_many(current_app._get_current_object(), pending)


def _after_rollback(session) -> None:
    session.info.pop(_PENDING_KEY, None)


# --- dispatch ------------------------------------------------------------------------------------


# The order in which runners take waiting jobs, highest first (`sigill worker` polls its RQ queues in
# this order too: `core.worker.QUEUE_ORDER` is made from it): sealing and mail never wait behind webhooks or a
# stamp signature's chunks.
PRIORITY = {"sealing": 0, "mail": 1, "default": 2, "webhooks": 3}


class PriorityPool:
    """A thread pool that runs the waiting task of the highest priority first (FIFO within one).

    A stamp signature of 1,000 cases queues 20 chunk jobs at once, and each chunk 50 seal jobs: in
    a first-come pool every chunk was signed before the first case was sealed, so the job threads
    spent the signing under one GIL on one core. Seal jobs first, a seal's child process runs on
    the other core while a thread signs. `shutdown` has ThreadPoolExecutor's meaning."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "sigill-job"):
        self.max_workers, self.prefix = max_workers, thread_name_prefix
        self._order = itertools.count()
        self._waiting: list = []
        self._ready = threading.Condition()
        self._stopped = False
        self._threads: list[threading.Thread] = []

    def submit(self, fn: Callable, *args, priority: int = PRIORITY["default"]) -> None:
        with self._ready:
            if self._stopped:
                raise RuntimeError("the job pool was shut down")
            heapq.heappush(self._waiting, (priority, next(self._order), fn, args))
            self._ready.notify()
            if len(self._threads) < self.max_workers:  # started on demand, as ThreadPoolExecutor's
                if not self._threads:
                    atexit.register(self.shutdown, True, True)  # at exit: the running jobs finish
                thread = threading.Thread(target=self._work, daemon=True,
                                          name=f"{self.prefix}_{len(self._threads)}")
                self._threads.append(thread)
                thread.start()

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._stopped:
                    self._ready.wait()
                if not self._waiting:
                    return
                _priority, _n, fn, args = heapq.heappop(self._waiting)
            try:
                fn(*args)
            except BaseException:  # noqa: BLE001  a task's failure must not end the thread
                log.exception("job task failed")

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        with self._ready:
            self._stopped = True
            if cancel_futures:
                self._waiting.clear()
            self._ready.notify_all()
        if wait:
            for thread in list(self._threads):
                if thread is not threading.current_thread():
                    thread.join()


class InlineRunner:
    """The embedded default: a small thread pool in the web process, highest priority queue first."""

    def __init__(self, app: Flask, workers: int = 2):
        self.app = app
        self.pool = PriorityPool(max_workers=workers, thread_name_prefix="sigill-job")

    def submit(self, job_id: int, queue: str = "default") -> None:
        self.pool.submit(_run_in_app, self.app, job_id, priority=PRIORITY.get(queue, PRIORITY["default"]))


def _run_in_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            run_job(job_id)
        except Exception:  # noqa: BLE001  logged; the row keeps its state for the sweeper
            log.exception("job %s crashed outside its own error handling", job_id)
        finally:
            end_session()


def redis_connection():
    """The worker-side Redis client (RQ's blocking reads need more than a web request's timeout)."""
    return redis_link.connection(timeout=30)


def queue_name(queue: str, app: Flask | None = None) -> str:
    prefix = (app or current_app).config["RQ_QUEUE"]
    return prefix if queue == "default" else f"{prefix}-{queue}"


def rq_queue(queue: str = "default", app: Flask | None = None, connection=None):
    from rq import Queue

    app = app or current_app._get_current_object()
    return Queue(queue_name(queue, app), connection=connection or redis_link.connection(app),
                 default_timeout=QUEUE_TIMEOUTS[queue])


def dispatch(app: Flask, job_id: int, queue: str = "default") -> bool:
    """Hand a committed, due job to its runner. Failure is logged, not raised: the sweeper retries."""
    if app.config.get("JOBS_MANUAL") and not app.config.get("REDIS_URL"):
        return False  # tests run due jobs themselves with `drain()`
    mark = None
    try:
        # Noted before the hand-over: a runner that fails the job at once sets `dispatched_at` back
        # to NULL for its retry, and a note written after that would hide the retry from the sweeper
        # for REDISPATCH_AFTER.
        mark = _mark_dispatched(app, job_id)
        if app.config.get("REDIS_URL"):
            redis_link.call(lambda conn: rq_queue(queue, app, conn).enqueue(
                "core.jobs.rq_entry", job_id, result_ttl=0, failure_ttl=3600), app)
        else:
            app.extensions["sigill_runner"].submit(job_id, queue)
        return True
    except redis_link.RedisUnavailable as exc:
        log.info("job %s not handed to Redis (%s); the sweeper will", job_id, exc)
    except Exception:  # noqa: BLE001
        log.exception("could not dispatch job %s; the sweeper will retry", job_id)
    _unmark_dispatched(app, mark, job_id)
    return False


def dispatch_many(app: Flask, pending: list[tuple[int, str]]) -> bool:
    """`dispatch` for the (job id, queue) of several jobs one transaction queued (a chunk of stamp
    signatures queues a seal job per case): one Redis round trip and one UPDATE marking them
    dispatched, not one of each per job. Failure is logged, not raised: the sweeper retries."""
    if app.config.get("JOBS_MANUAL") and not app.config.get("REDIS_URL"):
        return False
    mark = None
    try:
        mark = _mark_dispatched(app, *(job_id for job_id, _queue in pending))  # before: see `dispatch`
        if app.config.get("REDIS_URL"):
            def push(conn) -> None:
                by_queue: dict[str, list[int]] = {}
                for job_id, queue in pending:
                    by_queue.setdefault(queue, []).append(job_id)
                with conn.pipeline() as pipe:
                    for queue, ids in by_queue.items():
                        rq = rq_queue(queue, app, conn)
                        rq.enqueue_many([rq.prepare_data("core.jobs.rq_entry", (job_id,), result_ttl=0,
                                                         failure_ttl=3600) for job_id in ids], pipeline=pipe)
                    pipe.execute()

            redis_link.call(push, app)
        else:
            for job_id, queue in pending:
                app.extensions["sigill_runner"].submit(job_id, queue)
        return True
    except redis_link.RedisUnavailable as exc:
        log.info("%s jobs not handed to Redis (%s); the sweeper will", len(pending), exc)
    except Exception:  # noqa: BLE001
        log.exception("could not dispatch %s jobs; the sweeper will retry", len(pending))
    _unmark_dispatched(app, mark, *(job_id for job_id, _queue in pending))
    return False


def _mark_dispatched(app: Flask, *job_ids: int):
    """Note that these jobs are being handed to their runner; returns the time noted."""
    now = utcnow()
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.update(Job).where(Job.id.in_(job_ids) if len(job_ids) > 1 else Job.id == job_ids[0])
                     .values(dispatched_at=now))
    return now


def _unmark_dispatched(app: Flask, mark, *job_ids: int) -> None:
    """The hand-over failed: the sweeper hands these jobs out at its next round (unless a runner
    changed the note meanwhile). Failure is logged: the sweeper then waits REDISPATCH_AFTER."""
    if mark is None:
        return
    try:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(sa.update(Job).where(Job.id.in_(job_ids), Job.dispatched_at == mark)
                         .values(dispatched_at=None))
    except Exception:  # noqa: BLE001
        log.exception("could not clear the dispatch note of %s jobs", len(job_ids))


# --- running -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """What a runner needs of the job it just claimed."""

    id: int
    func: str
    args: list
    tenant_id: int | None
    attempts: int


def _claim(job_id: int) -> Claimed | None:
    """Claim a due pending job: one UPDATE that also returns what the runner needs (no second
    round trip to read the row back; every job pays this, mails most of all)."""
    now = utcnow()
    row = db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.state == "pending", Job.run_after <= now)
        .values(state="running", started_at=now, heartbeat_at=now, attempts=Job.attempts + 1,
                claimed_by=worker_identity())
        .returning(Job.id, Job.func, Job.args, Job.tenant_id, Job.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    db.session.commit()
    return Claimed(*row) if row is not None else None


def _held(job_id: int, attempt: int):
    """The condition under which this runner still holds the job (its claim was not taken over)."""
    return sa.and_(Job.id == job_id, Job.state == "running", Job.attempts == attempt)


class Heartbeat:
    """Renews a running job's lease every quarter lease, on its own connection, until stopped."""

    def __init__(self, app: Flask, job_id: int, attempt: int):
        self.engine = db.engine
        self.every = max(0.05, lease(app).total_seconds() / 4)
        self.job_id, self.attempt = job_id, attempt
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"sigill-heartbeat-{job_id}")

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                with self.engine.begin() as conn:
                    held = conn.execute(sa.update(Job).where(_held(self.job_id, self.attempt))
                                        .values(heartbeat_at=utcnow())).rowcount
                if not held:
                    log.warning("job %s lost its claim while running", self.job_id)
                    return
            except Exception as exc:  # noqa: BLE001  the database may be back by the next beat
                log.warning("heartbeat of job %s failed: %s", self.job_id, type(exc).__name__)


def resolve(dotted: str) -> Callable:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def run_job(job_id: int) -> bool:
    """Run one job if it is due and nobody else has it. Returns True if it ran to success."""
    job = _claim(job_id)
    if job is None:
        return False
    func, args, tenant_id, attempt = job.func, list(job.args), job.tenant_id, job.attempts
    app = current_app._get_current_object()
    try:
        with Heartbeat(app, job_id, attempt), tenant_context(tenant_id):
            resolve(func)(*args)
            done = db.session.execute(sa.update(Job).where(_held(job_id, attempt)).values(
                state="done", finished_at=utcnow(), last_error=None, claimed_by=None)).rowcount
            if not done:
                db.session.rollback()
                log.error("job %s lost its claim before it finished; its work was rolled back", job_id)
                return False
            db.session.commit()
    except Deferred as deferred:
        db.session.rollback()
        _defer(job_id, attempt, deferred.seconds)
        return False
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        _record_failure(job_id, attempt, exc, final=isinstance(exc, GiveUp))
        return False
    return True


def _defer(job_id: int, attempt: int, seconds: float) -> None:
    db.session.execute(sa.update(Job).where(_held(job_id, attempt)).values(
        state="pending", attempts=Job.attempts - 1, run_after=utcnow() + timedelta(seconds=seconds),
        dispatched_at=None, claimed_by=None))
    db.session.commit()


def _record_failure(job_id: int, attempt: int, exc: Exception, final: bool = False) -> None:
    job = db.session.get(Job, job_id)
    if job is None or job.state != "running" or job.attempts != attempt:
        return  # released meanwhile: whoever holds it now records its own outcome
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
    _fail_or_retry(job, error, final)
    db.session.commit()


def _fail_or_retry(job: Job, error: str, final: bool = False) -> None:
    """After a failed attempt: back to pending after a backoff, or failed for good (and reported):
    after its last attempt, or at once when `final` (the job raised `GiveUp`)."""
    job.last_error = error
    job.claimed_by = None
    if final or job.attempts >= job.max_attempts:
        job.state = "failed"
        job.finished_at = utcnow()
        log.error("job %s (%s) failed for good after %s attempts: %s", job.id, job.func, job.attempts, error)
        _report_given_up(job)
    else:
        delay = backoff(job.attempts)
        job.state = "pending"
        job.run_after = utcnow() + delay
        job.dispatched_at = None  # the sweeper hands it out when it is due
        log.warning("job %s (%s) attempt %s failed, retry in %ss: %s", job.id, job.func, job.attempts,
                    int(delay.total_seconds()), error)


def _report_given_up(job: Job) -> None:
    """Tell the job's case and owner; a failure to tell must not keep the job from being marked failed."""
    from core.cases.job_failures import report_given_up

    try:
        with db.session.begin_nested():
            report_given_up(job)
    except Exception:  # noqa: BLE001
        log.exception("could not report that job %s gave up", job.id)


def rq_entry(job_id: int) -> None:
    """What RQ runs: the worker process holds one warm app (see `core.worker`)."""
    from core.worker import worker_app

    with worker_app().app_context():
        try:
            run_job(job_id)
        finally:
            end_session()


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
    queue = db.session.scalar(sa.select(Job.queue).where(Job.id == job_id)) or "default"
    db.session.execute(
        sa.update(Job).where(Job.id == job_id, Job.state == "failed")
        .values(state="pending", attempts=0, run_after=utcnow(), last_error=None)
    )
    db.session.info.setdefault(_PENDING_KEY, []).append((job_id, queue))


# --- recovery ------------------------------------------------------------------------------------


def release(condition) -> list[tuple[int, str]]:
    """Running jobs matching `condition` lost their worker: back to pending now (the attempt counts),
    or failed for good after their last attempt. Returns the (id, queue) to dispatch again."""
    released = []
    for job in db.session.scalars(sa.select(Job).where(Job.state == "running", condition)).all():
        attempt = job.attempts
        with db.session.begin_nested():
            # Guarded: a runner that is alive after all and finishes first keeps its result.
            still = db.session.execute(sa.update(Job).where(_held(job.id, attempt)).values(
                claimed_by=None).execution_options(synchronize_session=False)).rowcount
            if not still:
                continue
            db.session.refresh(job)
            _fail_or_retry(job, f"the worker running attempt {attempt} died")
            if job.state == "pending":
                job.run_after = utcnow()
                released.append((job.id, job.queue))
    db.session.commit()
    return released


def release_worker(app: Flask, identity: str) -> int:
    """The supervisor saw worker `identity` die: its jobs are handed out again at once."""
    with app.app_context():
        try:
            released = release(Job.claimed_by == identity)
            for job_id, queue in released:
                dispatch(app, job_id, queue)
            return len(released)
        finally:
            db.session.remove()


def _redis_lost_our_jobs(app: Flask) -> bool:
    """True once after Redis came back empty (or on the first sweep ever): every pending job goes out again."""
    if not app.config.get("REDIS_URL"):
        return False
    marker = f"{app.config['RQ_QUEUE']}:jobs-known"
    try:
        return bool(redis_link.call(lambda conn: conn.set(marker, str(time.time()), nx=True), app))
    except redis_link.RedisUnavailable:
        return False


def sweep() -> int:
    """Release jobs whose worker died, and dispatch due jobs that are not in Redis."""
    app = current_app._get_current_object()
    now = utcnow()
    beat = sa.func.coalesce(Job.heartbeat_at, Job.started_at)
    released = release(beat < now - lease(app))
    if not app.config.get("REDIS_URL") or redis_link.available(app):
        everything = _redis_lost_our_jobs(app)
        stale = db.session.execute(
            sa.select(Job.id, Job.queue).where(
                Job.state == "pending", Job.run_after <= now,
                sa.true() if everything else sa.or_(Job.dispatched_at.is_(None),
                                                    Job.dispatched_at < now - REDISPATCH_AFTER),
            ).order_by(Job.id).limit(5000)
        ).all()
        db.session.commit()
        if everything and stale:
            log.warning("Redis has none of our jobs: dispatching all %s pending jobs again", len(stale))
    else:
        stale = []
    sent = {(job_id, queue) for job_id, queue in released} | {(job_id, queue) for job_id, queue in stale}
    for job_id, queue in sorted(sent):
        dispatch(app, job_id, queue)
    return len(sent)


# --- periodic work -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodicJob:
    """A plugin's periodic work, returned from its `register_periodic_jobs` hook.

    name: unique (prefix it with the plugin's name); func: a callable or its dotted path; seconds:
    the interval. With `plugin` (the plugin's name) the job runs once per tenant that has the
    plugin on, as `func(tenant)` inside that tenant's context and its own transaction (committed
    after it returns, rolled back alone if it raises); without, once as `func()` with no tenant
    set (queries then say `execution_options(all_tenants=True)`).
    """

    name: str
    func: Callable | str
    seconds: int
    plugin: str | None = None


def periodic_tasks(app: Flask) -> dict[str, PeriodicJob]:
    """The core's periodic tasks and every installed plugin's, by name (the plugins' asked once)."""
    plugin_jobs = app.extensions.get("sigill_periodic")
    if plugin_jobs is None:
        plugin_jobs = {}
        pm = app.extensions.get("sigill_pm")
        with app.app_context():  # the scheduler asks outside any context; a plugin may read its config
            answers = pm.hook.register_periodic_jobs() if pm is not None else []
        for provided in answers:
            for job in provided or []:
                if job.name in plugin_jobs or job.name in PERIODIC:
                    raise ValueError(f"periodic job {job.name!r} is registered twice")
                plugin_jobs[job.name] = job
        app.extensions["sigill_periodic"] = plugin_jobs
    return {**{name: PeriodicJob(name, func, seconds) for name, (func, seconds) in PERIODIC.items()}, **plugin_jobs}


def run_periodic(name: str) -> None:
    """Run one periodic task (called by the scheduler loop)."""
    job = periodic_tasks(current_app)[name]
    func = resolve(job.func) if isinstance(job.func, str) else job.func
    if job.plugin is None:
        func()
        db.session.commit()
        return
    from tenants.models import Tenant

    tenant_ids = [t.id for t in db.session.scalars(sa.select(Tenant).order_by(Tenant.id)) if t.has_plugin(job.plugin)]
    db.session.rollback()
    for tenant_id in tenant_ids:
        with tenant_context(tenant_id):
            try:
                func(db.session.get(Tenant, tenant_id))
                db.session.commit()
            except Exception:  # noqa: BLE001  (one tenant's failure must not stop the others)
                db.session.rollback()
                log.exception("periodic task %s failed for tenant %s; it runs again at its next interval",
                              name, tenant_id)


class Scheduler:
    """Runs each periodic task at its interval, in this process, and never dies of an error.

    `sigill scheduler` runs it in the foreground next to Redis; without Redis the web process runs
    it in a thread. A failed task (database or Redis gone) is logged and tried again at its next
    interval, so the scheduler carries on by itself when the services come back.
    """

    def __init__(self, app: Flask, tick: float = 1.0, only: tuple[str, ...] | None = None):
        self.app = app
        self.tick = tick
        self.only = only  # run only these tasks (the live test server: the sweeper alone)
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None  # set by `start_embedded_scheduler`
        self.last_run: dict[str, float] = {}

    def run_due(self) -> None:
        for name, job in list(periodic_tasks(self.app).items()):
            if self.only is not None and name not in self.only:
                continue
            seconds = job.seconds
            if time.monotonic() - self.last_run.get(name, -1e9) < seconds:
                continue
            self.last_run[name] = time.monotonic()
            with self.app.app_context():
                try:
                    run_periodic(name)
                except Exception:  # noqa: BLE001
                    log.exception("periodic task %s failed; it runs again in %ss", name, seconds)
                finally:
                    end_session()

    def run_forever(self) -> None:
        while not self.stopped.is_set():
            self.run_due()
            self.stopped.wait(self.tick)


def init_app(app: Flask) -> None:
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_soft_rollback", lambda session, _tx: _after_rollback(session))
    if not app.config.get("REDIS_URL"):
        app.extensions["sigill_runner"] = InlineRunner(app, workers=int(app.config.get("JOB_THREADS") or 2))


def start_embedded_scheduler(app: Flask, only: tuple[str, ...] | None = None) -> Scheduler:
    """Without Redis the web process runs the periodic tasks itself, in a thread: its sweeper is
    what retries a failed attempt once its backoff is over (and releases a job whose thread
    died). `only`: just these tasks (the live test server runs the sweeper alone)."""
    scheduler = Scheduler(app, tick=min(5.0, float(app.config["SCHEDULER_INTERVAL"])), only=only)
    scheduler.thread = threading.Thread(target=scheduler.run_forever, daemon=True, name="sigill-scheduler")
    scheduler.thread.start()
    app.extensions["sigill_scheduler"] = scheduler
    return scheduler
