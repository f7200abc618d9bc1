"""Jobs: outbox rows written in the caller's transaction, run after commit, retried with backoff,
recovered after a dead worker; on real Redis with RQ workers too."""

import os
import subprocess
import sys
import time
from datetime import timedelta

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
        jobs.enqueue("tests.jobs_support.rename_tenant", tenant.id, "Threaded", tenant_id=tenant.id)
        db.session.commit()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "Threaded" not in " ".join(jobs_support.calls(app)):
            time.sleep(0.05)
        assert db.session.scalar(sa.select(Tenant.name).where(Tenant.id == tenant.id)) == "Threaded"


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


@pytest.mark.redis
def test_periodic_tasks_are_enqueued_by_rqs_cron_scheduler(app_factory, redis_url):
    from core.cli import build_cron

    app = app_factory(JOBS_MANUAL=False, REDIS_URL=redis_url, RQ_QUEUE=f"test-cron-{os.getpid()}")
    with app.app_context():
        cron = build_cron(app)
        enqueued = cron.enqueue_jobs()
        assert "sweep" in {job.args[0] for job in enqueued}
        assert jobs.rq_queue().count == len(jobs.PERIODIC)


@pytest.mark.redis
def test_a_job_whose_rq_worker_is_killed_mid_job_is_run_again_by_another(app_factory, redis_url, tmp_path):
    import signal
    from datetime import timedelta

    app = app_factory(JOBS_MANUAL=False, REDIS_URL=redis_url, RQ_QUEUE=f"test-kill-{os.getpid()}")
    with app.app_context():
        tenant = Tenant(slug="k", name="K", settings={}, enabled_plugins=[], plugin_settings={})
        db.session.add(tenant)
        db.session.commit()
        job = jobs.enqueue("tests.jobs_support.slow_rename", tenant.id, "Survived", "k1", tenant_id=tenant.id)
        db.session.commit()
        env = worker_env(app, tmp_path)
        worker = subprocess.Popen([sys.executable, "-m", "core.cli", "worker"], env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while "started k1" not in jobs_support.calls(app) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "started k1" in jobs_support.calls(app)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its work horse die mid-job
        worker.wait(timeout=10)
        assert _job(job.id).state == "running"
        # The lease runs out (moved forward here instead of waiting 15 minutes); the sweeper re-queues it.
        row = _job(job.id)
        row.started_at -= jobs.LEASE + timedelta(seconds=1)
        db.session.commit()
        jobs.sweep()
        result = subprocess.run([sys.executable, "-m", "core.cli", "worker", "--burst"],
                                env={**env, "SLOW_JOB_SECONDS": "0"},
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        assert _job(job.id).state == "done" and _job(job.id).attempts == 2, result.stderr[-3000:]
        assert db.session.scalar(sa.select(Tenant.name).where(Tenant.id == tenant.id)) == "Survived"


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
    owner_job = db.session.scalars(sa.select(Job).where(Job.func == "core.mail.deliver")).all()[-1]
    assert owner_job.case_id is None  # if the owner's mail fails too, it is not reported again


def test_jobs_name_a_known_queue(app):
    with pytest.raises(ValueError):
        jobs.enqueue("tests.jobs_support.always_fails", queue="everything")
