"""`sigill worker`: a supervisor and one long-lived, warm worker process.

RQ's default worker forks a fresh work-horse for every job, and every horse built again what
the last one had: database connections, the seal key and validation context, fonts, the modules
imported on first use. Here the app and everything sealing needs are loaded once, before the
fork, and the worker process runs job after job itself (RQ's SimpleWorker), keeping its
connections.

Crash isolation comes from the supervisor around it: if the worker process dies (killed, out of
memory, a crash in a C library), the supervisor releases the jobs it had claimed at once
(`core.jobs.release_worker`: their attempt counts) and forks a fresh worker from its warm state.
If it exits because Redis failed, it is started again with a growing pause, so `sigill worker`
carries on by itself when Redis is back. If the whole tree dies, the sweeper releases its jobs
once their heartbeat is older than the lease.

The tree can run at a lower CPU priority than the web (`WORKER_NICE`, e.g. 10; 0 by default):
while seals and mails run, signers' pages then get the CPU first and jobs use what is left.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import time

from flask import Flask
from rq import SimpleWorker

from core import jobs
from core.extensions import db

log = logging.getLogger(__name__)

# Highest priority first (`jobs.PRIORITY`, which the in-process pool uses too): sealing and mail
# never wait behind webhooks.
QUEUE_ORDER = tuple(sorted(jobs.PRIORITY, key=jobs.PRIORITY.__getitem__))
RESTART_PAUSES = (0.5, 1, 2, 4, 8)

_app: Flask | None = None


def worker_app() -> Flask:
    """The warm app of this worker process (built once)."""
    global _app
    if _app is None:
        from core.app import create_app

        _app = create_app()
    return _app


def use_app(app: Flask) -> None:
    global _app
    _app = app


def preload(app: Flask) -> None:
    """Load once what every job would otherwise load: job modules, the seal, fonts, pyHanko."""
    for func, _seconds in jobs.PERIODIC.values():
        jobs.resolve(func)
    for dotted in ("core.mail.deliver", "core.mail.deliver_many", "core.api.service.deliver_webhook",
                   "core.sealing.jobs.seal_case"):
        jobs.resolve(dotted)
    with app.app_context():
        _seal_once(app)


def _seal_once(app: Flask) -> None:
    """Seal a one-page PDF in memory (no timestamp server asked): loads the seal key and every lazy
    part of the stamp, receipt, QR and pyHanko path, as the sealing bench's warm-up does."""
    import io
    from datetime import UTC, datetime

    from reportlab.pdfgen import canvas

    from core.sealing.fingerprint import make_fingerprint
    from core.sealing.pipeline import seal_document
    from core.sealing.receipt import ReceiptData, ReceiptDocument, ReceiptParty, ReceiptSeal
    from core.sealing.service import seal_setup

    setup = seal_setup(app)
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "warm-up")
    page.save()
    code = make_fingerprint("0" * 64, "0" * 64)
    now = datetime.now(UTC)
    receipt = ReceiptData(
        organisation="Sigill", case_title="warm-up", case_id="0",
        documents=(ReceiptDocument("warm-up.pdf", "0" * 64, 1),),
        parties=(ReceiptParty(name="Sigill", role="signer", method="touch", method_title="Drawn signature",
                              email="warm-up@sigill.invalid",
                              invited_at=now, viewed_at=now, signed_at=now),),
        evidence_head="0" * 64, fingerprint=code, verify_url=app.config["BASE_URL"] + "/verify/",
        seal=ReceiptSeal(setup.subject, "B-B", None, sealed_at=now))
    for language in ("sv", "en"):
        seal_document(out.getvalue(), code, receipt.verify_url, receipt, language, setup.signer, "B-B")


class SigillWorker(SimpleWorker):
    """Runs jobs in this (warm) process. A Redis error while a job finishes ends the process, and
    the supervisor starts another; the job's own outcome is already in the database."""

    max_connection_wait_time = 5.0  # RQ's own wait between reconnects while Redis is away (not 60 s)
    # RQ renews the worker's key on its own ("heartbeat": three round trips) several times per job
    # (before and after each dequeue, in its loop), each time for `worker_ttl` + 60 s. A renewal on
    # its own is skipped while the key still has more than HEARTBEAT_SLACK seconds of that left;
    # those inside RQ's pipelines (starting a job) always go, they cost no round trip of their own.
    HEARTBEAT_SLACK = 60.0
    _key_alive_until = 0.0

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        default = self.worker_ttl + 60
        if pipeline is None and (timeout is None or timeout <= default) and \
                self._key_alive_until - time.monotonic() > self.HEARTBEAT_SLACK:
            return
        super().heartbeat(timeout, pipeline=pipeline)
        self._key_alive_until = time.monotonic() + (timeout or default)


def run(app: Flask, queues: tuple[str, ...] = QUEUE_ORDER, burst: bool = False) -> int:
    """Supervise a warm worker process until told to stop; returns the exit code."""
    use_app(app)
    lower_priority(int(app.config.get("WORKER_NICE") or 0))
    preload(app)
    gc.freeze()  # the warm objects stay shared with the worker instead of being copied by the collector
    stopping = False
    child = 0

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        if child:
            os.kill(child, signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failures = 0
    while True:
        started = time.monotonic()
        child = _fork_worker(app, queues, burst)
        status = _wait(child)
        released = jobs.release_worker(app, f"{socket.gethostname()}:{child}")
        code = os.waitstatus_to_exitcode(status)
        if released:
            log.warning("worker %s died (%s) holding %s job(s): handed out again", child, code, released)
        if stopping or (burst and code == 0):
            return 0 if stopping else code
        failures = 0 if time.monotonic() - started > 60 else failures + 1
        pause = RESTART_PAUSES[min(failures, len(RESTART_PAUSES) - 1)]
        log.warning("worker %s exited (%s); starting another in %ss", child, code, pause)
        time.sleep(pause)


def lower_priority(niceness: int) -> None:
    """Run this process tree at `niceness` (never higher priority than it has): jobs take the CPU
    that web requests leave, so a burst of seals and mails does not slow every signer's page."""
    wanted = max(0, min(19, niceness))
    current = os.nice(0)
    if wanted > current:
        os.nice(wanted - current)


def _wait(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue


def _fork_worker(app: Flask, queues: tuple[str, ...], burst: bool) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        code = _work(app, queues, burst)
    except BaseException:  # noqa: BLE001  whatever it was, the supervisor restarts us
        log.exception("worker process failed")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _work(app: Flask, queues: tuple[str, ...], burst: bool) -> int:
    with app.app_context():
        db.engine.dispose(close=False)  # the supervisor's connections stay the supervisor's
        connection = jobs.redis_connection()
        worker = SigillWorker([jobs.rq_queue(name, app, connection) for name in queues], connection=connection,
                              worker_ttl=30)
        worker.work(burst=burst, logging_level="INFO")
    return 0 if burst or worker._stop_requested else 1
