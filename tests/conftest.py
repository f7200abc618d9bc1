"""Shared fixtures.

Personas (healthchecks style): Alice is the admin of Acme, Bob her colleague at Acme, Charlie
the admin of Globex, another tenant who must never see Acme's things.

Every test that builds an app (`app_factory`, and so `app`, `client`, `people`, `live_server` ...)
runs once per database of `--databases` (default: sqlite and postgresql when CI=true, sqlite
otherwise), its id ending in [sqlite] or [postgresql]. On SQLite each test gets its own file copied
from one template; on PostgreSQL the tests share one database per session whose schema is built
once and whose rows are deleted after each test. `pg_app` is an app on that PostgreSQL database
for the tests that are about PostgreSQL itself (concurrency, its indexes). `smtp` is a real aiosmtpd
server; `live_server` serves the app on a free loopback port for Playwright.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from core.app import create_app
from core.extensions import db
from tests import support
from tests.support import IN_CI
from tests.support import require as _require

pytest_plugins = ["tests.bankid_fixtures"]

# The servers are shared by every developer's suites on this machine (see PROTOCOL.md).
# PostgreSQL: each session (each xdist worker is one) creates its own uniquely named database
# through TEST_PG_ADMIN_URL and drops it at the end.
# Redis: TEST_REDIS_URL names the first of a developer's database numbers; xdist worker gwK uses
# number base + K, so `make test` (two workers) uses base and base + 1: a developer needs as many
# numbers of their own as workers. Without xdist only the base is used.
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_BASE_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


def xdist_worker_number() -> int:
    """K of xdist's worker gwK; 0 without xdist."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def worker_redis_url(base: str = REDIS_BASE_URL) -> str:
    """This worker's Redis database: the base URL's number plus the worker's number."""
    parts = urlsplit(base)
    number = int(parts.path.strip("/") or 0) + xdist_worker_number()
    return urlunsplit(parts._replace(path=f"/{number}"))


REDIS_TEST_URL = worker_redis_url()


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (own `g`, own database session), as in production,
    even though the test itself holds an app context to look at the database."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Tests read English unless they ask otherwise (Swedish is the service's default).
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def base_config(tmp: Path, **extra) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'sigill.db'}",
        "STORAGE_DIR": str(tmp / "blobs"),
        "OUTBOX_DIR": str(tmp / "outbox"),
        "SMTP_URL": None,
        "REDIS_URL": None,
        "JOBS_MANUAL": True,
        "SCHEDULER_ENABLED": False,
        "BASE_URL": "http://sigill.test",
        "LOGIN_RATE_LIMIT": "5/300",
        "SEAL_DIR": str(tmp / "seal"),
        "PASSWORD_HASH_COST": "cheapest",  # argon2's strong parameters took most of the suite's time
    }
    config.update(extra)
    return config


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may skip: a test that cannot run there (a missing program, package or server)
    fails with its reason."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but in CI every test must run: {reason}"


# --- the databases -------------------------------------------------------------------------------

DATABASES = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--databases", default=None, metavar="sqlite,postgresql",
                     help="databases the app tests run on (default: both when CI=true, else sqlite)")


def selected_databases(config: pytest.Config) -> list[str]:
    chosen = config.getoption("--databases") or ("sqlite,postgresql" if IN_CI else "sqlite")
    names = [name.strip() for name in chosen.split(",") if name.strip()]
    unknown = sorted(set(names) - set(DATABASES))
    if unknown or not names:
        raise pytest.UsageError(f"--databases: choose from {', '.join(DATABASES)} (got {chosen!r})")
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that reaches the `database` fixture (through `app_factory`) runs on each database."""
    if "database" in metafunc.fixturenames:
        params = [pytest.param(name, marks=[pytest.mark.postgres] if name == "postgresql" else [])
                  for name in selected_databases(metafunc.config)]
        metafunc.parametrize("database", params, indirect=True)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One SQLite database built from the models, copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    app = create_app(base_config(folder))
    with app.app_context():
        support.create_schema()
        db.engine.dispose()
    return folder / "sigill.db"


@pytest.fixture
def database(request, tmp_path):
    """The URL of an empty database with the schema: a copy of the SQLite template, or the session's
    PostgreSQL database, emptied after the test."""
    if request.param == "sqlite":
        target = tmp_path / "sigill.db"
        shutil.copy(request.getfixturevalue("migrated_sqlite"), target)
        yield f"sqlite:///{target}"
        return
    url = request.getfixturevalue("pg_database")
    yield url
    support.empty_database(url)


@pytest.fixture
def app_factory(tmp_path, database):
    """Build apps on this test's database: `app_factory(**config)`; every app of a test shares it."""
    made = []

    def make(**extra):
        plugins = extra.pop("_plugins", None)
        app = create_app(base_config(tmp_path, SQLALCHEMY_DATABASE_URI=database, **extra), plugins=plugins)
        app.test_client_class = FreshContextClient
        made.append(app)
        return app

    yield make
    for app in made:
        close_app(app)


class _NoPool:
    """The job pool of a closed test app: what is submitted later is dropped."""

    def submit(self, *_args, **_kwargs) -> None:
        return None


def close_app(app) -> None:
    """Let the app's embedded job runner finish (nothing it would start later may touch the next
    test's rows) and close its database connections."""
    runner = app.extensions.get("sigill_runner")
    if runner is not None:
        pool, runner.pool = runner.pool, _NoPool()  # a retry timed for later finds nothing to run on
        pool.shutdown(wait=True, cancel_futures=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def people(app):
    return support.make_people()


@pytest.fixture
def alice(people):
    return people.alice


@pytest.fixture
def bob(people):
    return people.bob


@pytest.fixture
def charlie(people):
    return people.charlie


@pytest.fixture
def login(client):
    def do(officer, password=support.PASSWORD):
        return support.login(client, officer.email, password)

    return do


# --- real services -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_database(tmp_path_factory):
    """A fresh PostgreSQL database with the schema for this test session, dropped afterwards."""
    name = f"sigill_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        _require("PostgreSQL", exc)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    app = create_app(base_config(tmp_path_factory.mktemp("pg-schema"), SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        support.create_schema()
        db.engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_app(tmp_path, pg_database):
    """An app on the real PostgreSQL server, emptied after each test."""
    app = create_app(base_config(tmp_path, SQLALCHEMY_DATABASE_URI=pg_database))
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
    close_app(app)
    support.empty_database(pg_database)


@pytest.fixture
def redis_url():
    import redis

    try:
        conn = redis.Redis.from_url(REDIS_TEST_URL)
        conn.ping()
    except Exception as exc:  # noqa: BLE001
        _require(f"Redis database {REDIS_TEST_URL}", exc)
    conn.flushdb()
    yield REDIS_TEST_URL
    conn.flushdb()


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on loopback; `smtp.messages` are the parsed emails."""
    server = support.SmtpServer()
    server.start()
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(app_factory, smtp):
    """The app served over HTTP on loopback, mails going to the real SMTP server, jobs in its
    thread pool as with `make run`. Of the embedded scheduler only the sweeper runs: it retries a
    failed attempt (without it a job that failed once stayed pending for ever and the test waited
    for nothing); the other periodic tasks (reminders, expiry, digests) stay off, so what a test
    sees does not depend on when they happen to run (tests run them themselves)."""
    from core.jobs import start_embedded_scheduler

    port = free_port()
    app = app_factory(BASE_URL=f"http://127.0.0.1:{port}", SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
                      JOBS_MANUAL=False, WTF_CSRF_ENABLED=True, SCHEDULER_INTERVAL=1)
    scheduler = start_embedded_scheduler(app, only=("sweep",))
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{port}"
    server.app = app
    server.smtp = smtp
    yield server
    server.shutdown()
    scheduler.stopped.set()
    scheduler.thread.join(timeout=30)  # before the app's connections close


@pytest.fixture(scope="module")
def browser():
    """Chromium per test module: Playwright's sync API keeps an asyncio loop running in this
    thread while it is open, and pyHanko's own asyncio.run() must not meet it in other modules."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        _require("Chromium", FileNotFoundError(executable))
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=executable, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                  device_scale_factor=2, locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
