"""Helpers the tests share: people, logging in with CSRF, mail, a real SMTP server."""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import NoReturn

import pytest
import sqlalchemy as sa
from flask import current_app
from flask_migrate import upgrade

from core.auth.service import create_officer, create_tenant
from core.extensions import db

PASSWORD = "correct horse battery"
IN_CI = os.environ.get("CI") == "true"


def require(dependency: str, error: Exception | str) -> NoReturn:
    """A service or program a test needs is missing: in CI that fails the test, elsewhere it skips."""
    if IN_CI:
        raise RuntimeError(f"{dependency} must be available in CI: {error}")
    pytest.skip(f"{dependency} not available: {error}")


def require_program(*names: str) -> str:
    """The path of the first of `names` on PATH (a Debian package of the Makefile's APT_PACKAGES)."""
    for name in names:
        if path := shutil.which(name):
            return path
    require(names[0], "not on PATH (`make system-deps` installs it)")


def upgrade_database() -> None:
    """Build the schema with the real Alembic migrations (tests/test_migrations.py checks they
    match the models)."""
    upgrade(directory=current_app.extensions["migrate"].directory, revision="heads")


def create_schema() -> None:
    """Build the schema from the models: fast, and independent of migration work in progress."""
    db.create_all()


def empty_database(url: str) -> None:
    """Remove every row and restart the id sequences of a PostgreSQL database (the tests of a
    session share one). DELETE, because TRUNCATE costs about a second per test here; a lock still
    held by a straggler of the test fails after a while instead of hanging the run."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '20s'")
            present = set(conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").scalars())
            ordered = [t.name for t in reversed(db.metadata.sorted_tables) if t.name in present]
            others = sorted(present - set(ordered))  # tables outside the models: no order known
            for name in ordered:
                conn.execute(sa.table(name).delete())
            if others:
                conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{name}"' for name in others) + " CASCADE")
            conn.exec_driver_sql("SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), 1, false)"
                                 " FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL")
    finally:
        engine.dispose()


@dataclass
class People:
    acme: object
    globex: object
    alice: object
    bob: object
    charlie: object


def make_people() -> People:
    """Two tenants and three officers, made through the same services the app uses."""
    acme = create_tenant("acme", "Acme AB")
    globex = create_tenant("globex", "Globex AB")
    alice = create_officer(acme, "alice@acme.example", "Alice Andersson", role="admin", password=PASSWORD,
                           language="en")
    bob = create_officer(acme, "bob@acme.example", "Bob Berg", role="officer", password=PASSWORD, language="en")
    charlie = create_officer(globex, "charlie@globex.example", "Charlie Carlsson", role="admin", password=PASSWORD,
                             language="en")
    db.session.commit()
    return People(acme, globex, alice, bob, charlie)


_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client, url: str = "/login") -> str:
    html = client.get(url).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post(client, url: str, data: dict | None = None, token_from: str = "/login", **kwargs):  # noqa: S107
    """POST a form the way a browser would: with the CSRF token of the session."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, token_from))
    return client.post(url, data=data, **kwargs)


def login(client, email: str, password: str = PASSWORD):
    return post(client, "/login", {"email": email, "password": password})


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block, in order."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def click_and_load(page, target, *, key: str | None = None) -> None:
    """Click (or press `key` on) something that loads a new page, a link or a form's button, and
    return once that page has loaded: its deferred scripts have run and its stylesheets apply.
    Right after the click the old page may still be there, or the new one half parsed: an action
    then meets no script, an `is_visible()` or `count()` reads the old page, a width is measured
    mid-navigation. (`wait_for_url` cannot tell when the new page has the old one's address.)"""
    locator = page.locator(target) if isinstance(target, str) else target
    with page.expect_navigation():
        if key:
            locator.press(key)
        else:
            locator.click()


def browser_login(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the login form in a Playwright page; returns on the case list."""
    page.goto(base_url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/cases/**")


# --- mail ----------------------------------------------------------------------------------------


def outbox_messages(app=None) -> list[EmailMessage]:
    folder = Path((app or current_app).config["OUTBOX_DIR"])
    if not folder.exists():
        return []
    return [message_from_string(p.read_text(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]


def outbox_path_names(app=None) -> list[str]:
    """The file names of the outbox's emails, newest first (as the development outbox lists them)."""
    folder = Path((app or current_app).config["OUTBOX_DIR"])
    return [p.name for p in sorted(folder.glob("*.eml"), reverse=True)]


def body_text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def links_in(message: EmailMessage) -> list[str]:
    return re.findall(r"https?://[^\s<>\"]+", body_text(message))


class SmtpServer:
    """aiosmtpd on a free loopback port, keeping every message it receives."""

    def __init__(self):
        self.messages: list[EmailMessage] = []

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        server = self

        class Handler:
            async def handle_DATA(self, _server, _session, envelope):  # noqa: N802  (aiosmtpd's name)
                message = message_from_bytes(envelope.original_content, policy=policy.default)
                message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
                server.messages.append(message)
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, to: str, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages if to.lower() in str(m["To"]).lower()]
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"expected {count} mail(s) to {to}; got {[str(m['To']) for m in self.messages]}")
