"""Stamp signature on real Redis with `sigill worker` processes (as the core's recovery tests in
tests/test_jobs.py): the workers that sign and seal the cases are killed mid-stamp, and still every
case ends signed exactly once and sealed exactly once, with no mail lost or sent twice."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from core import jobs
from core.extensions import db
from core.models import Case, Job, OutgoingMail, Signature
from tests import support
from tests.plugins.stamp_signature.test_stamp import SARA, lease, stamp_form
from tests.signing.helpers import events_of
from tests.test_jobs import _children, _stop, _wait_for, worker_env

CASES = 12


def _count(model, *where) -> int:
    db.session.rollback()  # a fresh snapshot: the workers write in other processes
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.mark.redis
def test_workers_killed_mid_stamp_leave_every_case_signed_and_sealed_exactly_once(
        app_factory, redis_url, smtp, tmp_path, monkeypatch):
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)  # 12 cases: signed by jobs of 4 cases each
    monkeypatch.setattr(service, "CHUNK", 4)
    smtp_url = f"smtp://127.0.0.1:{smtp.port}"
    app = app_factory(JOBS_MANUAL=False, REDIS_URL=redis_url, RQ_QUEUE=f"test-stamp-{os.getpid()}",
                      JOB_LEASE_SECONDS=1, SMTP_URL=smtp_url)
    env = {**worker_env(app, tmp_path), "JOB_LEASE_SECONDS": "1", "SMTP_URL": smtp_url,
           "SEAL_DIR": app.config["SEAL_DIR"], "OUTBOX_DIR": app.config["OUTBOX_DIR"]}
    with app.app_context():
        people = support.make_people()
        people.acme.enabled_plugins = ["stamp_signature"]
        db.session.commit()
        made = [lease(people.alice if n % 2 else people.bob, f"Lease {n}") for n in range(1, CASES + 1)]
        client = app.test_client()
        html = client.get(f"/stamp/s/{made[0].token(SARA)}").get_data(as_text=True)
        worker = subprocess.Popen([sys.executable, "-m", "core.cli", "worker"], env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            result = client.post(f"/stamp/s/{made[0].token(SARA)}/sign",
                                 data=stamp_form(html, [m.case_id for m in made])).get_data(as_text=True)
            assert f"Your stamp signature covers {CASES} cases" in result

            # The work process dies while it signs: its supervisor releases the job and forks another.
            _wait_for(lambda: _count(Signature) >= 1, 120, "the first signature")
            [work_process] = _children(worker.pid)
            os.kill(work_process, 9)
            signed_at_first_kill = _count(Signature)
            # Then the whole worker tree dies mid-stamp: nobody releases its job; the sweeper does.
            _wait_for(lambda: _count(Signature) > signed_at_first_kill, 120, "the replacement to sign on")
            sealed_at_second_kill = _count(Case, Case.status == "completed")
            signed_at_second_kill = _count(Signature)
            _stop(worker)
            assert signed_at_first_kill < CASES and sealed_at_second_kill < CASES, "killed mid-stamp"
        finally:
            if worker.poll() is None:
                _stop(worker)

        time.sleep(1.2)  # past the lease: the dead tree's jobs are handed out again
        worker = subprocess.Popen([sys.executable, "-m", "core.cli", "worker"], env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            def all_done() -> bool:
                jobs.sweep()
                db.session.commit()
                return (_count(Case, Case.status == "completed") == CASES
                        and _count(Job, Job.state.in_(("pending", "running"))) == 0)

            _wait_for(all_done, 300, "every case sealed and every job done")
        finally:
            _stop(worker)

        db.session.rollback()
        for m in made:
            case = db.session.get(Case, m.case_id)
            assert case.status == "completed"
            assert _count(Signature, Signature.case_id == m.case_id) == 1
            assert len(events_of(case, "party_signed")) == 1 and len(events_of(case, "stamp_signed")) == 1
            assert len(events_of(case, "completed")) == 1
        assert _count(Job, Job.state == "failed") == 0
        # Every mail stored was delivered, once.
        stored = db.session.scalars(sa.select(OutgoingMail.mime)).all()
        assert _count(OutgoingMail, OutgoingMail.sent_at.is_(None)) == 0
        stored_ids = [re.search(r"^Message-ID: (.+)$", mime, re.M).group(1).strip() for mime in stored]
        received = Counter(str(message["Message-ID"]).strip() for message in smtp.messages)
        assert set(received) == set(stored_ids) and max(received.values()) == 1
        to_sara = Counter(str(message["Subject"]) for message in smtp.messages if "sara@example.com" in message["To"])
        assert max(to_sara.values()) == 1  # one invitation and one "signed and sealed" mail per case, none twice
        assert len(to_sara) >= 2 * CASES
    print(f"killed the work process after {signed_at_first_kill} signatures, the worker tree after "
          f"{signed_at_second_kill} signatures and {sealed_at_second_kill} seals")
