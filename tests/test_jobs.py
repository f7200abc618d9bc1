"""Jobs: outbox rows written in the caller's transaction, run after commit, retried with backoff,
recovered after a dead worker; on real Redis with RQ workers too."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import jobs
from core.extensions import db
from core.models import Job, Tenant
from core.models.base import utcnow
from tests import jobs_support


def worker_env(app, tmp_path) -> dict:
    """The environment of a `sigill worker` process that shares this test app's database and queue."""
    return {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
            "RQ_QUEUE": app.config["RQ_QUEUE"], "STORAGE_DIR": app.config["STORAGE_DIR"],
            "SIGILL_INSTANCE": str(tmp_path / "worker-instance"), "SECRET_KEY": app.config["SECRET_KEY"]}


def _job(job_id):
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_a_job_runs_after_commit_with_its_tenant(app, people):
    job = jobs.enqueue("tests.jobs_support.rename_tenant", people.acme.id, "Acme Group", tenant_id=people.acme.id)
    db.session.commit()
    jobs.drain()
    assert db.session.get(Tenant, people.acme.id).name == "Acme Group"
    assert jobs_support.calls(app) == [f"rename {people.acme.id} Acme Group tenant={people.acme.id}"]
    assert _job(job.id).state == "done"


def test_a_rolled_back_transaction_leaves_no_job(app, people):
    jobs.enqueue("tests.jobs_support.rename_tenant", people.acme.id, "Never")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    assert jobs.drain() == 0


def test_jobs_take_ids_not_objects(app, people):
    with pytest.raises(TypeError):
        jobs.enqueue("tests.jobs_support.rename_tenant", people.acme, "x")


def test_a_failing_job_is_retried_with_backoff_until_it_succeeds(app):
    job = jobs.enqueue("tests.jobs_support.flaky", "a")
    db.session.commit()
    jobs.run_job(job.id)
    failed_once = _job(job.id)
    assert failed_once.state == "pending"
    assert failed_once.attempts == 1
    assert "temporary failure" in failed_once.last_error
    assert failed_once.run_after > utcnow() + timedelta(seconds=5)
    assert jobs.run_job(job.id) is False  # not due yet
    for expected_attempt in (2, 3):
        _job(job.id).run_after = utcnow()
        db.session.commit()
        jobs.run_job(job.id)
        assert _job(job.id).attempts == expected_attempt
    assert _job(job.id).state == "done"


def test_backoff_grows_and_is_capped():
    assert [jobs.backoff(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
    assert jobs.backoff(50).total_seconds() == 3600


def test_a_job_fails_for_good_after_its_attempts(app):
    job = jobs.enqueue("tests.jobs_support.always_fails", max_attempts=2)
    db.session.commit()
    for _ in range(2):
        _job(job.id).run_after = utcnow()
        db.session.commit()
        jobs.run_job(job.id)
    assert _job(job.id).state == "failed"
    jobs.retry_now(job.id)
    db.session.commit()
    assert _job(job.id).state == "pending"


def test_the_sweeper_recovers_a_job_whose_worker_died(app, people):
    job = jobs.enqueue("tests.jobs_support.rename_tenant", people.acme.id, "Recovered", tenant_id=people.acme.id)
    db.session.commit()
    # A worker claimed it and was killed mid-job: the row says running, nothing was done.
    row = _job(job.id)
    row.state, row.started_at, row.attempts = "running", utcnow() - timedelta(hours=1), 1
    db.session.commit()
    assert jobs.run_job(job.id) is False  # nobody else may run it while it is leased
    jobs.sweep()
    jobs.drain()
    assert _job(job.id).state == "done"
    assert db.session.get(Tenant, people.acme.id).name == "Recovered"


@pytest.mark.redis
def test_a_job_whose_dispatch_failed_is_dispatched_later_by_the_sweeper(app_factory, redis_url):
    queue = f"test-sweep-{os.getpid()}"
    down = app_factory(JOBS_MANUAL=False, REDIS_URL="redis://127.0.0.1:1/0", RQ_QUEUE=queue)
    with down.app_context():
        job = jobs.enqueue("tests.jobs_support.always_fails")
        db.session.commit()  # Redis is down: dispatch fails and is logged, the row stays
        assert _job(job.id).state == "pending"
        assert _job(job.id).dispatched_at is None
    up = app_factory(JOBS_MANUAL=False, REDIS_URL=redis_url, RQ_QUEUE=queue)
    with up.app_context():
        assert jobs.sweep() == 1
        assert jobs.rq_queue().count == 1
        assert _job(job.id).dispatched_at is not None


def test_the_embedded_runner_runs_jobs_in_a_thread(app_factory):
    app = app_factory(JOBS_MANUAL=False)
    with app.app_context():
        tenant = Tenant(slug="t", name="T", settings={}, enabled_plugins=[], plugin_settings={})
        db.session.add(tenant)
        db.session.commit()
        job = jobs.enqueue("tests.jobs_support.rename_tenant", tenant.id, "Threaded", tenant_id=tenant.id)
        db.session.commit()
        # The job logs its call before its work commits: wait for the job's row, then read.
        _wait_for(lambda: _job(job.id).state == "done", 30, "the job to run in the web process's thread pool")
        db.session.commit()
        assert db.session.scalar(sa.select(Tenant.name).where(Tenant.id == tenant.id)) == "Threaded"


def test_the_embedded_runner_seals_and_mails_before_it_runs_waiting_default_jobs(app_factory, monkeypatch):
    """Without Redis, a stamp signature of many cases queues its chunks (default queue) at once and
    each chunk a seal job per case: the seals and mails go first, as `sigill worker` takes them, so
    cases are sealed while later chunks wait (not every chunk signed before the first seal)."""
    import threading

    app = app_factory(JOBS_MANUAL=False, JOB_THREADS=1)
    ran, started, gate = [], threading.Event(), threading.Event()

    def run(_app, job_id):
        if job_id == 0:
            started.set()
            gate.wait(10)  # the one thread is busy while the others queue up
        ran.append(job_id)

    monkeypatch.setattr(jobs, "_run_in_app", run)
    runner = app.extensions["sigill_runner"]
    runner.submit(0, "default")
    assert started.wait(10)
    for job_id, queue in ((1, "default"), (2, "default"), (3, "webhooks"), (4, "sealing"), (5, "mail"),
                          (6, "sealing")):
        runner.submit(job_id, queue)
    gate.set()
    _wait_for(lambda: len(ran) == 7, 10, "every task to run")
    assert ran == [0, 4, 6, 5, 1, 2, 3]


@pytest.mark.redis
def test_rq_worker_on_real_redis_runs_the_job(app_factory, redis_url, tmp_path):
    app = app_factory(JOBS_MANUAL=False, REDIS_URL=redis_url, RQ_QUEUE=f"test-{os.getpid()}")
    with app.app_context():
        tenant = Tenant(slug="r", name="R", settings={}, enabled_plugins=[], plugin_settings={})
        db.session.add(tenant)
        db.session.commit()
        job = jobs.enqueue("tests.jobs_support.rename_tenant", tenant.id, "From RQ", tenant_id=tenant.id)
        db.session.commit()
        assert jobs.rq_queue().count == 1
        env = worker_env(app, tmp_path)
        result = subprocess.run([sys.executable, "-m", "core.cli", "worker", "--burst"], env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        assert _job(job.id).state == "done"
        assert db.session.scalar(sa.select(Tenant.name).where(Tenant.id == tenant.id)) == "From RQ"


def test_the_scheduler_runs_each_periodic_task_and_survives_its_errors(app, monkeypatch):
    ran = []

    def broken():
        ran.append("broken")
        raise ConnectionError("Redis went away")

    monkeypatch.setitem(jobs.PERIODIC, "broken", ("tests.test_jobs.broken_task", 1))
    monkeypatch.setattr(sys.modules[__name__], "broken_task", broken, raising=False)
    scheduler = jobs.Scheduler(app)
    scheduler.run_due()
    scheduler.last_run["broken"] -= 2
    scheduler.run_due()
    assert ran == ["broken", "broken"]


def _tenant(slug: str) -> Tenant:
    tenant = Tenant(slug=slug, name=slug.upper(), settings={}, enabled_plugins=[], plugin_settings={})
    db.session.add(tenant)
    db.session.commit()
    return tenant


def _wait_for(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"waited {timeout}s for {what}"
        time.sleep(0.1)
    return time.monotonic() - started


def _worker(env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "core.cli", "worker"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.mark.redis
def test_a_killed_work_process_is_replaced_and_its_job_run_again_at_once(app_factory, redis_url, tmp_path):
    app = app_factory(JOBS_MANUAL=False, REDIS_URL=redis_url, RQ_QUEUE=f"test-kill-{os.getpid()}")
    with app.app_context():
        tenant = _tenant("k")
        job = jobs.enqueue("tests.jobs_support.slow_rename", tenant.id, "Survived", "k1", tenant_id=tenant.id)
        db.session.commit()
        worker = _worker({**worker_env(app, tmp_path), "SLOW_JOB_SECONDS": "3"})
        try:
            _wait_for(lambda: "started k1" in jobs_support.calls(app), 60, "the job to start")
            [work_process] = _children(worker.pid)
            os.kill(work_process, signal.SIGKILL)  # the process running the job dies; its supervisor lives
            _wait_for(lambda: _job(job.id).state == "done", 30, "the job to be run again")
        finally:
            _stop(worker)
        assert _job(job.id).attempts == 2
        assert jobs_support.calls(app).count("started k1") == 2
        assert db.session.scalar(sa.select(Tenant.name).where(Tenant.id == tenant.id)) == "Survived"


@pytest.mark.redis
def test_a_worker_runs_its_jobs_below_the_web_s_cpu_priority_by_default(app_factory, redis_url, tmp_path):
    """Without WORKER_NICE a worker runs at niceness 10: seals and mails take the CPU that signers'
    pages leave (it ran at the web's priority before, and a burst of seals slowed every page)."""
    app = app_factory(JOBS_MANUAL=False, REDIS_URL=redis_url, RQ_QUEUE=f"test-nice-{os.getpid()}")
    with app.app_context():
        tenant = _tenant("n")
        job = jobs.enqueue("tests.jobs_support.rename_tenant", tenant.id, "Niced", tenant_id=tenant.id)
        db.session.commit()
        web = os.getpriority(os.PRIO_PROCESS, 0)
        env = {k: v for k, v in worker_env(app, tmp_path).items() if k != "WORKER_NICE"}
        worker = _worker(env)
        try:
            _wait_for(lambda: _job(job.id).state == "done", 60, "the job to run")
            [work_process] = _children(worker.pid)
            assert os.getpriority(os.PRIO_PROCESS, worker.pid) == max(web, 10)
            assert os.getpriority(os.PRIO_PROCESS, work_process) == max(web, 10)
        finally:
            _stop(worker)
        assert db.session.scalar(sa.select(Tenant.name).where(Tenant.id == tenant.id)) == "Niced"


@pytest.mark.redis
def test_a_worker_tree_killed_mid_job_is_recovered_after_the_lease(app_factory, redis_url, tmp_path):
    app = app_factory(JOBS_MANUAL=False, REDIS_URL=redis_url, RQ_QUEUE=f"test-tree-{os.getpid()}",
                      JOB_LEASE_SECONDS=1)
    with app.app_context():
        tenant = _tenant("t")
        job = jobs.enqueue("tests.jobs_support.slow_rename", tenant.id, "Survived", "t1", tenant_id=tenant.id)
        db.session.commit()
        env = {**worker_env(app, tmp_path), "JOB_LEASE_SECONDS": "1"}
        worker = _worker(env)
        _wait_for(lambda: "started t1" in jobs_support.calls(app), 60, "the job to start")
        _stop(worker)  # supervisor and work process die together: nobody releases the job
        assert _job(job.id).state == "running"
        assert jobs.sweep() == 0  # its heartbeat is still fresh
        time.sleep(1.2)
        assert jobs.sweep() == 1
        result = subprocess.run([sys.executable, "-m", "core.cli", "worker", "--burst"],
                                env={**env, "SLOW_JOB_SECONDS": "0"}, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        assert _job(job.id).state == "done" and _job(job.id).attempts == 2
        assert db.session.scalar(sa.select(Tenant.name).where(Tenant.id == tenant.id)) == "Survived"


def test_a_job_that_runs_longer_than_its_lease_is_never_started_twice(app_factory, tmp_path):
    import threading

    app = app_factory(JOB_LEASE_SECONDS=0.4)
    with app.app_context():
        tenant = _tenant("l")
        job_id = jobs.enqueue("tests.jobs_support.slow_rename", tenant.id, "Once", "l1", tenant_id=tenant.id).id
        db.session.commit()

    def run():
        with app.app_context():
            jobs.run_job(job_id)
            db.session.remove()

    os.environ["SLOW_JOB_SECONDS"] = "2"
    try:
        runner = threading.Thread(target=run)
        runner.start()
        with app.app_context():
            _wait_for(lambda: "started l1" in jobs_support.calls(app), 10, "the job to start")
            while runner.is_alive():  # five leases long, the sweeper and other runners keep trying
                assert jobs.sweep() == 0
                assert jobs.run_job(job_id) is False
                db.session.remove()
                time.sleep(0.1)
    finally:
        os.environ.pop("SLOW_JOB_SECONDS")
    runner.join()
    with app.app_context():
        assert _job(job_id).state == "done" and _job(job_id).attempts == 1
        assert jobs_support.calls(app).count("started l1") == 1


def test_a_runner_that_lost_its_claim_cannot_complete_the_job(app, people):
    job = jobs.enqueue("tests.jobs_support.rename_tenant", people.acme.id, "Twice?", tenant_id=people.acme.id)
    db.session.commit()
    claimed = jobs._claim(job.id)
    jobs.release(Job.id == claimed.id)  # as if its heartbeat had stopped: handed to another runner
    assert jobs.run_job(job.id) is True  # the other runner does it
    done = _job(job.id)
    db.session.execute(sa.update(Job).where(Job.id == job.id).values(state="running"))  # a late first runner
    assert db.session.execute(sa.update(Job).where(jobs._held(job.id, 1)).values(state="done")).rowcount == 0
    db.session.rollback()
    assert done.attempts == 2


@pytest.mark.redis
def test_worker_and_scheduler_carry_on_after_redis_dies_and_comes_back_empty(app_factory, tmp_path):
    redis = _own_redis()  # a private server: the shared one is never killed
    app = app_factory(JOBS_MANUAL=False, REDIS_URL=redis.url, RQ_QUEUE="reconnect", REDIS_RETRY_AFTER=0.2)
    processes = []
    try:
        with app.app_context():
            tenant = _tenant("r")
            env = worker_env(app, tmp_path)
            processes = [_worker({**env, "SLOW_JOB_SECONDS": "2"}),
                         subprocess.Popen([sys.executable, "-m", "core.cli", "scheduler"], env=env,
                                          start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
            first = jobs.enqueue("tests.jobs_support.slow_rename", tenant.id, "During", "r1", tenant_id=tenant.id)
            db.session.commit()
            _wait_for(lambda: "started r1" in jobs_support.calls(app), 60, "the first job to start")
            redis.kill()  # Redis dies while the job runs
            second = jobs.enqueue("tests.jobs_support.rename_tenant", tenant.id, "After", tenant_id=tenant.id)
            db.session.commit()  # not handed to Redis: the database keeps it
            _wait_for(lambda: _job(first.id).state == "done", 30, "the running job to finish without Redis")
            time.sleep(1)
            redis.start()  # back, and empty
            waited = _wait_for(lambda: _job(second.id).state == "done", 30, "the job to run after Redis came back")
            assert waited < 30
            assert all(process.poll() is None for process in processes), "worker or scheduler exited"
            assert db.session.scalar(sa.select(Tenant.name).where(Tenant.id == tenant.id)) == "After"
            assert _job(first.id).attempts == 1 and _job(second.id).attempts == 1
    finally:
        for process in processes:
            _stop(process)
        redis.stop()


def _own_redis():
    from tests.conftest import _require
    from tests.faults import RedisServer

    try:
        return RedisServer().start()
    except (OSError, RuntimeError) as exc:
        _require("redis-server", exc)


def test_a_mail_about_a_case_that_gives_up_is_reported_once_without_a_loop(app, people):
    from core.models import Event, OutgoingMail
    from tenants.scoping import tenant_context
    from tests.signing.helpers import make_case, signer

    made = make_case(people.bob, [signer()], methods=["touch"])
    db.session.execute(sa.update(Job).values(state="done"))
    job = jobs.enqueue("tests.jobs_support.always_fails", tenant_id=people.acme.id, case_id=made.case.id,
                       queue="mail", max_attempts=1)
    db.session.commit()
    jobs.drain()
    assert _job(job.id).state == "failed"
    with tenant_context(people.acme.id):
        kinds = [e.kind for e in db.session.scalars(sa.select(Event).where(Event.case_id == made.case.id))]
    assert kinds.count("job_gave_up") == 1
    told = db.session.scalars(sa.select(OutgoingMail).where(OutgoingMail.to_addr == "bob@acme.example")).all()
    assert len(told) == 1 and "could not be delivered" in told[0].subject
    owner_job = db.session.scalars(sa.select(Job).where(Job.func == "core.mail.deliver").order_by(Job.id)).all()[-1]
    assert owner_job.case_id is None  # if the owner's mail fails too, it is not reported again


def test_jobs_name_a_known_queue(app):
    with pytest.raises(ValueError):
        jobs.enqueue("tests.jobs_support.always_fails", queue="everything")
