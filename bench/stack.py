"""Sigill in its production shape on loopback, for `bench_scale_out` and `chaos`.

A fresh PostgreSQL database on the local server (dropped afterwards), a private `redis-server`
on a free port (the only Redis a fault run may kill or freeze), a real SMTP server (aiosmtpd),
gunicorn with 2 workers, 2 `sigill worker`s and one `sigill scheduler`, all as separate processes
with the settings production would give them (gunicorn with `core/gunicorn_config.py` through
`bench/gunicorn_timing.py`, which adds per-request timing of the requests a bench marks; the job
workers at the default niceness, 10, unless WORKER_NICE is set). Optionally every database
connection of the service goes through a TCP proxy that a fault run can cut.

Signers are HTTP clients that do what a browser does: open the link, read the CSRF token and the
documents' digest from the page, and post a drawn signature.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults import RedisServer, TcpProxy, free_port  # noqa: E402
from tests.support import SmtpServer  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
_DIGEST = re.compile(r'name="documents_digest" value="([^"]+)"')


def clock_ticks(pid: int) -> float:
    """CPU seconds (user + system) a live process used so far, with its children that exited
    (RQ's forked work-horses count for the worker that forked them)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def tree(pid: int) -> list[int]:
    found = [pid]
    for child in children(pid):
        found += tree(child)
    return found


@dataclass
class Signing:
    """One signer's visit: latencies (s) and statuses of the page and of the signature POST."""

    page_seconds: float = 0.0
    page_status: int = 0
    sign_seconds: float = 0.0
    sign_status: int = 0
    signed_at: float = 0.0  # wall clock when the POST answered
    page_started: float = 0.0  # wall clock when the page was asked for
    sign_started: float = 0.0  # wall clock when the POST was sent
    ident: str = ""  # sent as X-Bench-Request ("<ident>-page", "<ident>-sign"): bench/gunicorn_timing.py logs it


@dataclass
class Stack:
    cases: int = 200
    signers_per_case: int = 2
    workers: int = 2
    web_threads: int = int(os.environ.get("BENCH_WEB_THREADS", "8"))  # per gunicorn worker, as in production
    proxy_database: bool = False
    worker_command: list[str] = field(default_factory=lambda: ["-m", "core.cli", "worker"])
    extra_env: dict = field(default_factory=dict)
    # One person (name, email) as the only signer of every case (the stamp signature's bench), and
    # the plugins the organisation switches on.
    one_signer: tuple[str, str] | None = None
    plugins: list[str] = field(default_factory=list)
    scheduler: bool = True
    # more gunicorn options to try one (BENCH_GUNICORN_OPTIONS, e.g. "--worker-connections 16")
    web_options: list[str] = field(default_factory=lambda: os.environ.get("BENCH_GUNICORN_OPTIONS", "").split())

    def server_times(self) -> dict[str, dict]:
        """X-Bench-Request -> {wall, cpu (s), pid, order} of the requests served so far
        (bench/gunicorn_timing.py)."""
        times = {}
        path = self.folder / "timing.log"
        for line in path.read_text().splitlines() if path.exists() else []:
            name, wall, cpu, pid, order = line.split()
            times[name] = {"wall": float(wall), "cpu": float(cpu), "pid": int(pid), "order": int(order)}
        return times

    def start(self) -> Stack:
        self.folder = Path(tempfile.mkdtemp(prefix="sigill-stack-"))
        self.db_name = f"sigill_bench_{uuid.uuid4().hex[:10]}"
        self.admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.db_name}"'))
        self.db_url = sa.engine.make_url(PG_ADMIN_URL).set(database=self.db_name)
        host, port = self.db_url.host or "127.0.0.1", self.db_url.port or 5432
        self.proxy = TcpProxy(host, port) if self.proxy_database else None
        self.redis = RedisServer().start()
        self.smtp = SmtpServer()
        self.smtp.start()
        self.port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.engine = sa.create_engine(self.db_url.render_as_string(hide_password=False))
        self._seed()
        self.start_web()
        for number in range(self.workers):
            self.start_worker(number)
        if self.scheduler:
            self.start_scheduler()
        return self

    def service_url(self) -> str:
        url = self.db_url.set(host="127.0.0.1", port=self.proxy.port) if self.proxy else self.db_url
        return url.render_as_string(hide_password=False)

    def env(self) -> dict:
        return {**os.environ, "DATABASE_URL": self.service_url(), "REDIS_URL": self.redis.url,
                "SMTP_URL": f"smtp://127.0.0.1:{self.smtp.port}", "SIGILL_INSTANCE": str(self.folder),
                "SECRET_KEY": "bench-secret-key-" + "x" * 32, "BASE_URL": f"http://127.0.0.1:{self.port}",
                "STORAGE_DIR": str(self.folder / "blobs"), "SCHEDULER_ENABLED": "0", "RQ_QUEUE": "bench",
                "PYTHONPATH": str(ROOT), "BENCH_TIMING_LOG": str(self.folder / "timing.log"), **self.extra_env}

    # --- processes ---------------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115  (kept open for the process)
        process = subprocess.Popen(args, env=self.env(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes[name] = process
        return process

    def start_web(self) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        # bench/gunicorn_timing.py logs each bench request's time in the app and its thread's CPU
        # (the client's time minus the first is the wait for a connection and a thread).
        self._spawn("web", [str(gunicorn), "-c", str(ROOT / "bench" / "gunicorn_timing.py"), "--workers", "2",
                            "--threads", str(self.web_threads), "--bind", f"127.0.0.1:{self.port}",
                            "--log-level", "warning", "--backlog", "512", "--timeout", "120",
                            *self.web_options, "core.wsgi:app"])
        self.wait_http("/healthz", 90)

    def start_worker(self, number: int) -> None:
        self._spawn(f"worker{number}", [sys.executable, *self.worker_command])

    def start_scheduler(self) -> None:
        self._spawn("scheduler", [sys.executable, "-m", "core.cli", "scheduler"])

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far by component (live processes; PostgreSQL's backends for our database)."""
        used = {"web": 0.0, "workers": 0.0, "scheduler": 0.0}
        for name, process in self.processes.items():
            component = "web" if name == "web" else "scheduler" if name == "scheduler" else "workers"
            used[component] += sum(clock_ticks(pid) for pid in tree(process.pid))
        used["redis"] = clock_ticks(self.redis.process.pid) if self.redis.process else 0.0
        with self.admin.connect() as conn:
            pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                {"d": self.db_name}).scalars().all()
        used["postgres"] = sum(clock_ticks(pid) for pid in pids)
        return used

    def db_sessions(self) -> int:
        """Connections to our database opened so far (PostgreSQL's own count; pool churn shows here)."""
        with self.admin.connect() as conn:
            return conn.execute(sa.text("SELECT sessions FROM pg_stat_database WHERE datname = :d"),
                                {"d": self.db_name}).scalar() or 0

    def stop(self) -> None:
        for name in list(self.processes):
            self.kill(name)
        self.redis.stop()
        self.smtp.stop()
        if self.proxy:
            self.proxy.close()
        self.engine.dispose()
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        self.admin.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)
        saved = getattr(self, "_saved_environ", None)
        if saved is not None:
            os.environ.clear()
            os.environ.update(saved)

    # --- data ----------------------------------------------------------------------------------------

    def _seed(self) -> None:
        """Schema, one organisation, and `cases` sent cases with their signers' links (no jobs run yet)."""
        self._saved_environ = dict(os.environ)  # given back in stop(): later benchmarks of this run get their own
        os.environ.update({k: v for k, v in self.env().items() if k != "PYTHONPATH"})
        os.environ["DATABASE_URL"] = self.db_url.render_as_string(hide_password=False)
        from core.app import create_app
        from core.auth.service import create_officer, create_tenant
        from core.cases import service as cases
        from core.extensions import db
        from tenants.scoping import tenant_context
        from tests.signing.helpers import pdf

        app = create_app({"JOBS_MANUAL": True, "REDIS_URL": None})
        self.links: list[str] = []
        with app.app_context():
            db.create_all()
            tenant = create_tenant("bench", "Bench AB")
            tenant.enabled_plugins = list(self.plugins)
            officer = create_officer(tenant, "officer@bench.example", "Olle Officer", role="admin",
                                     password=secrets.token_urlsafe(16), language="en")
            document = pdf(pages=2)
            checked = None  # the same file: checked once, as a template's document is
            with tenant_context(tenant.id):
                for number in range(self.cases):
                    case = cases.create_case(officer, f"Lease {number + 1}", message="Please sign.",
                                             allowed_methods=["touch"])
                    checked = cases.add_document(case, "lease.pdf", document, checked_pages=checked).page_count
                    people = ([self.one_signer] if self.one_signer else
                              [(f"Signer {number}-{n}", f"s{number}-{n}@example.com")
                               for n in range(self.signers_per_case)])
                    parties = [cases.add_party(case, name, email, language="en") for name, email in people]
                    cases.send_case(case, officer)
                    self.links += ["/s/" + cases.issue_party_link(p).rsplit("/", 1)[-1] for p in parties]
                db.session.commit()
            db.engine.dispose()

    def jobs_left(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM job WHERE state IN ('pending', 'running')")).scalar()

    def wait_jobs_done(self, timeout: float) -> float:
        started = time.monotonic()
        while self.jobs_left():
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{self.jobs_left()} jobs still open after {timeout}s")
            time.sleep(0.25)
        return time.monotonic() - started

    def outcome(self) -> dict:
        """What a user would count: seals, signatures, mails (stored and received), duplicates, losses."""
        with self.engine.connect() as conn:
            q = lambda sql: conn.execute(sa.text(sql)).scalar()  # noqa: E731
            completed = q("SELECT count(*) FROM \"case\" WHERE status = 'completed'")
            seals = q("SELECT count(*) FROM event WHERE kind = 'completed'")
            signatures = q("SELECT count(*) FROM signature")
            mails = q("SELECT count(*) FROM outgoing_mail")
            unsent = q("SELECT count(*) FROM outgoing_mail WHERE sent_at IS NULL")
            failed_jobs = q("SELECT count(*) FROM job WHERE state = 'failed'")
            last_seal = q("SELECT max(completed_at) FROM \"case\"")
            last_mail = q("SELECT max(sent_at) FROM outgoing_mail")
            ids = conn.execute(sa.text("SELECT mime FROM outgoing_mail")).scalars().all()
        stored_ids = {re.search(r"^Message-ID: (.+)$", m, re.M).group(1).strip() for m in ids}
        received = [str(m["Message-ID"]).strip() for m in self.smtp.messages]
        return {
            "cases": self.cases, "completed": completed, "seals": seals, "signatures": signatures,
            "mails": mails, "unsent": unsent, "failed_jobs": failed_jobs,
            "received": len(received), "duplicate_mails": len(received) - len(set(received)),
            "duplicate_seals": seals - completed, "lost_mails": len(stored_ids - set(received)),
            "lost_cases": self.cases - completed, "last_seal": last_seal, "last_mail": last_mail,
        }

    # --- HTTP ----------------------------------------------------------------------------------------

    def wait_http(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", path)
                if conn.getresponse().status < 500:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("web did not start: " + (self.folder / "web.log").read_text()[-2000:])

    def get(self, path: str, timeout: float = 60) -> tuple[int, float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status, time.perf_counter() - started
        except (OSError, http.client.HTTPException):
            return 0, time.perf_counter() - started
        finally:
            conn.close()


def sign(port: int, path: str, signature_fields: dict, timeout: float = 60, think: float = 0.0,
         ident: str = "") -> Signing:
    """Open the signer's link and sign with a drawn signature, as the browser would; `think` seconds
    between the page and the signature (reading, drawing), on a new connection as a browser would
    after the server closed the idle one."""
    visit = Signing(ident=ident)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        started = time.perf_counter()
        visit.page_started = time.time()
        conn.request("GET", path, headers={"X-Bench-Request": f"{ident}-page"} if ident else {})
        response = conn.getresponse()
        html = response.read().decode()
        visit.page_seconds, visit.page_status = time.perf_counter() - started, response.status
        cookie = "; ".join(c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or [])
        csrf, digest = _CSRF.search(html), _DIGEST.search(html)
        if response.status != 200 or not csrf or not digest:
            return visit
        form = {"csrf_token": csrf.group(1), "method": "touch", "consent": "yes", "documents_digest": digest.group(1),
                **signature_fields}
        if think > 0:
            conn.close()
            time.sleep(think)
        started = time.perf_counter()
        visit.sign_started = time.time()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        if ident:
            headers["X-Bench-Request"] = f"{ident}-sign"
        conn.request("POST", path + "/sign", body=urllib.parse.urlencode(form), headers=headers)
        response = conn.getresponse()
        response.read()
        visit.sign_seconds, visit.sign_status = time.perf_counter() - started, response.status
        visit.signed_at = time.time()
    except (OSError, http.client.HTTPException):
        visit.sign_status = visit.sign_status or 0
    finally:
        conn.close()
    return visit


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
