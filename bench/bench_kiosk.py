"""Kiosk: push to tablet display with 50 idle tablets on gunicorn's 2 workers.

The production shape (`bench.stack`: PostgreSQL, Redis, gunicorn with 2 workers of 8 threads, 2
job workers, the scheduler). 50 tablets are paired (device tokens in their cookies) and each
behaves as plugins/kiosk/static/kiosk.js does: idle, it asks `poll` with the version it knows (a
GET, then 0.5 s after the answer; 204 while nothing changed, else the state with its version);
given a link, it opens the signing page (a GET of the whole page, as location.replace does) and
then asks the watch URL every second until the push ends (404), then opens the idle screen again.
The officer pushes through the web like the case page's form (a logged-in POST with its CSRF token,
through the same 2 workers) and cancels the same way.

Counted per push: from the officer's POST leaving to the tablet having the signing page's HTML
(status 200, the case's title in it). The browser's own drawing of that page is not counted. While
the tablets poll, a signer page and the office's case list are measured against the same pages
with no tablet polling (4 interleaved rounds of 15 GETs each). Targets: push p95 <= 1 s; each
page's p95 no more than doubled.
Printed first: the CPU an idle poll costs the web processes (and PostgreSQL, Redis), measured over
a few seconds of idle polling only; unlike the latencies it does not depend on the machine's load.

Run: `python -m bench kiosk` (env: BENCH_TABLETS, default 50; BENCH_PUSHES, default 40;
BENCH_POLL_AFTER, default 0.5; BENCH_FULL_POLL=1 for polls as they were before the cheap check).
"""

from __future__ import annotations

import html as htmllib
import http.client
import json
import os
import random
import re
import secrets
import sys
import threading
import time
import urllib.parse
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench.stack import Stack, percentile  # noqa: E402

TABLETS = int(os.environ.get("BENCH_TABLETS", "50"))
PUSHES = int(os.environ.get("BENCH_PUSHES", "40"))
POLL_AFTER = float(os.environ.get("BENCH_POLL_AFTER", "0.5"))  # what kiosk.js waits between idle polls
# BENCH_FULL_POLL=1: every idle poll without the version, so each goes the full way (the organisation,
# the device's row, JSON) as every poll did before the cheap check: the comparison on the same machine.
FULL_POLL = os.environ.get("BENCH_FULL_POLL") == "1"
WATCH_EVERY = 1.0  # and between watch polls on the signing page
CPU_WINDOW = 6.0  # seconds of idle polling only, to measure what a poll costs
ROUNDS = 4  # office pages: rounds without and with the tablets polling, interleaved
PER_ROUND = 15  # GETs of each page per round
PAUSED = threading.Event()  # set: the tablets stop polling (the "no tablets" rounds)
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


class Browser:
    """One HTTP/1.1 connection with a cookie jar."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None):
        self.port, self.cookies = port, dict(cookies or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, form: dict | None = None, accept: str = "text/html") \
            -> tuple[int, bytes, dict]:
        headers = {"Accept": accept}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data, dict(response.headers)


class Tablet(threading.Thread):
    def __init__(self, port: int, token: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.browser = Browser(port, {"sigill_kiosk": token})
        self.stop = stop
        self.shown: dict[str, float] = {}  # signing link -> when its page had arrived
        self.errors = 0
        self.polls: list[float] = []
        self.unchanged = 0  # idle polls answered 204
        self.known: int | None = None  # the version the idle screen knows
        self.failures: list[str] = []
        self.pages: list[float] = []  # the signing page's GET

    def run(self) -> None:
        while not self.stop.is_set():
            if PAUSED.is_set():  # the office pages measured without tablets, between rounds with them
                while PAUSED.is_set() and not self.stop.is_set():
                    time.sleep(0.02)
                self.browser.conn.close()  # gunicorn closed the idle keep-alive meanwhile; a browser reconnects
                time.sleep(random.uniform(0, POLL_AFTER))  # resumed, each at its own phase again
                continue
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001  a tablet that stopped would make a push look lost
                self.failures.append(f"{type(exc).__name__}: {exc}")
                self.errors += 1
                time.sleep(POLL_AFTER)

    def poll_once(self) -> None:
        """The idle screen's ask: with the version it knows, 204 when nothing changed."""
        started = time.perf_counter()
        path = "/kiosk/o/bench/poll" + (f"?v={self.known}" if self.known is not None and not FULL_POLL else "")
        try:
            status, body, _ = self.browser.request("GET", path, accept="application/json")
            state = json.loads(body) if status == 200 else {}
        except (OSError, http.client.HTTPException, ValueError):
            self.errors += 1
            time.sleep(POLL_AFTER)
            return
        if status not in (200, 204):
            self.errors += 1
        self.polls.append(time.perf_counter() - started)
        if status == 204:
            self.unchanged += 1
        self.known = state.get("version", self.known)
        url = state.get("url")
        if url and url not in self.shown:
            self.show(url)
            self.known = None  # a fresh idle screen asks without a version first
        time.sleep(POLL_AFTER)

    def show(self, url: str) -> None:
        """What the idle screen does with a link: open the signing page, watch it, then idle again."""
        try:
            started = time.perf_counter()
            status, body, _ = self.browser.request("GET", url)
            self.pages.append(time.perf_counter() - started)
            if status != 200 or b"Lease " not in body:
                self.errors += 1
                return
            self.shown[url] = time.perf_counter()
            watch = "/kiosk/w/" + url.rsplit("/", 1)[-1]
            while not self.stop.is_set():
                time.sleep(WATCH_EVERY)
                status, _body, _ = self.browser.request("GET", watch, accept="application/json")
                if status == 404:
                    break
            self.browser.request("GET", "/kiosk/o/bench/")
        except (OSError, http.client.HTTPException):
            self.errors += 1


def officer_login(stack: Stack, engine) -> Browser:
    from core.auth.service import hash_password

    password = secrets.token_urlsafe(16)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE officer SET password_hash = :h WHERE email = 'officer@bench.example'"),
                     {"h": hash_password(password)})
    office = Browser(stack.port)
    _status, page, _ = office.request("GET", "/login")
    token = htmllib.unescape(_CSRF.search(page.decode()).group(1))
    status, _body, headers = office.request("POST", "/login", {"csrf_token": token, "email": "officer@bench.example",
                                                               "password": password})
    if status != 302:
        raise RuntimeError(f"the officer could not log in: {status}")
    return office


def csrf_of(office: Browser, path: str) -> str:
    _status, page, _ = office.request("GET", path)
    return htmllib.unescape(_CSRF.search(page.decode()).group(1))


def timed_gets(browser: Browser, path: str, count: int = 30) -> list[float]:
    """Each GET's time; a dropped connection (a worker restarted) counts its time and a retry's."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        try:
            browser.request("GET", path)
        except (OSError, http.client.HTTPException):
            browser.request("GET", path)
        times.append(time.perf_counter() - started)
    return times


def in_process_cpu(token: str, count: int = 500) -> dict[str, float]:
    """CPU ms per request in this process through the app's WSGI callable (no HTTP server, no
    other load's scheduling in the figure): the idle poll answered 204, the full state, /healthz."""
    from werkzeug.test import EnvironBuilder

    from core.app import create_app

    app = create_app({"JOBS_MANUAL": True})
    without_redis = create_app({"JOBS_MANUAL": True, "REDIS_URL": None})  # the fallback: one SQL query

    def call(path: str, app=app) -> tuple[str, bytes]:
        environ = EnvironBuilder(path=path, headers={"Cookie": f"sigill_kiosk={token}",
                                                     "Accept": "application/json"}).get_environ()
        status: list[str] = []
        body = b"".join(app.wsgi_app(environ, lambda s, _h, _e=None: status.append(s)))
        return status[0], body

    version = json.loads(call("/kiosk/o/bench/poll")[1])["version"]
    unchanged = f"/kiosk/o/bench/poll?v={version}"
    cases = {"unchanged poll (204)": (unchanged, app), "the same without Redis (204)": (unchanged, without_redis),
             "full state (every poll before the cheap check)": ("/kiosk/o/bench/state", app),
             "/healthz": ("/healthz", app)}
    if not all(call(path, target)[0].startswith("204") for path, target in list(cases.values())[:2]):
        raise RuntimeError("the idle poll did not answer 204")
    costs = {}
    for label, (path, target) in cases.items():
        for _ in range(50):
            call(path, target)
        started = time.process_time()
        for _ in range(count):
            call(path, target)
        costs[label] = (time.process_time() - started) / count * 1000
    return costs


def main() -> None:
    stack = Stack(cases=PUSHES, signers_per_case=1).start()
    stop = threading.Event()
    try:
        with stack.engine.begin() as conn:
            tenant_id = conn.execute(sa.text("SELECT id FROM tenant WHERE slug = 'bench'")).scalar()
            conn.execute(sa.text("UPDATE tenant SET enabled_plugins = :p WHERE id = :t"),
                         {"p": json.dumps(["kiosk"]), "t": tenant_id})
            import hashlib

            tokens = []
            for number in range(TABLETS):
                token = secrets.token_urlsafe(32)
                conn.execute(sa.text(
                    "INSERT INTO kiosk_device (tenant_id, name, token_hash, created_at, state, version) "
                    "VALUES (:t, :n, :h, now(), 'idle', 0)"),
                    {"t": tenant_id, "n": f"Counter {number + 1}", "h": hashlib.sha256(token.encode()).hexdigest()})
                tokens.append(token)
            devices = conn.execute(sa.text("SELECT id FROM kiosk_device ORDER BY id")).scalars().all()
            parties = conn.execute(sa.text("SELECT id, case_id FROM party ORDER BY id")).all()

        in_process = in_process_cpu(tokens[0])
        office = officer_login(stack, stack.engine)
        csrf = csrf_of(office, "/kiosk/")
        signer_page = Browser(stack.port)
        timed_gets(signer_page, stack.links[0], 5)  # warm: the first requests of a worker are slower
        timed_gets(office, "/cases/", 5)

        tablets = [Tablet(stack.port, token, stop) for token in tokens]
        for tablet in tablets:
            tablet.start()
            time.sleep(POLL_AFTER / TABLETS)  # spread out, as tablets switched on at different times
        time.sleep(3)
        # What 50 idle tablets cost: the web's CPU (and PostgreSQL's and Redis's) per idle poll,
        # over a few seconds of nothing but idle polling. Load-independent, unlike the latencies.
        cpu_before, polls_before, window_started = stack.cpu(), sum(len(t.polls) for t in tablets), time.perf_counter()
        time.sleep(CPU_WINDOW)
        cpu_after, polls_after = stack.cpu(), sum(len(t.polls) for t in tablets)
        window = time.perf_counter() - window_started
        idle_polls = max(polls_after - polls_before, 1)
        cost = {part: cpu_after[part] - cpu_before[part] for part in ("web", "postgres", "redis")}
        # The office pages without and with the tablets polling, in interleaved rounds so that the
        # shared machine's changing load weighs on both alike.
        baseline, loaded, office_baseline, office_loaded = [], [], [], []
        for _round in range(ROUNDS):
            PAUSED.set()
            time.sleep(0.5)  # polls under way end
            baseline += timed_gets(signer_page, stack.links[0], PER_ROUND)
            office_baseline += timed_gets(office, "/cases/", PER_ROUND)
            PAUSED.clear()
            time.sleep(POLL_AFTER + 0.5)
            loaded += timed_gets(signer_page, stack.links[0], PER_ROUND)
            office_loaded += timed_gets(office, "/cases/", PER_ROUND)

        latencies, posts, refused = [], [], 0
        for (party_id, case_id) in parties:
            index = random.randrange(len(devices))
            device_id, tablet = devices[index], tablets[index]
            before = set(tablet.shown)
            started = time.perf_counter()
            try:
                status, _body, _ = office.request("POST", f"/kiosk/cases/{case_id}/push",
                                                  {"csrf_token": csrf, "party": party_id, "device": device_id,
                                                   "confirm": "yes"})
            except (OSError, http.client.HTTPException):
                status = 0  # the connection dropped: counted as refused
            posts.append(time.perf_counter() - started)
            if status != 302:
                refused += 1
                continue
            deadline = started + 10
            while set(tablet.shown) == before and time.perf_counter() < deadline:
                time.sleep(0.005)
            new = set(tablet.shown) - before
            latencies.append(tablet.shown[new.pop()] - started if new else float("inf"))
            try:
                office.request("POST", f"/kiosk/devices/{device_id}/cancel", {"csrf_token": csrf})  # back to idle
            except (OSError, http.client.HTTPException):
                office.request("POST", f"/kiosk/devices/{device_id}/cancel", {"csrf_token": csrf})
            time.sleep(0.3)
        stop.set()
        polls = [p for t in tablets for p in t.polls]
        errors = sum(t.errors for t in tablets)
        unchanged = sum(t.unchanged for t in tablets)
        failures = [f for t in tablets for f in t.failures]
        load = os.getloadavg()[0]
        print(f"{TABLETS} tablets polling every {POLL_AFTER} s{' (each the full way)' if FULL_POLL else ''}, "
              f"2 gunicorn workers x {stack.web_threads} threads, "
              f"load average {load:.1f}\n")
        print(f"idle only, {window:.1f} s: {idle_polls} polls ({idle_polls / window:.0f}/s); CPU per idle poll: "
              f"web {cost['web'] / idle_polls * 1000:.2f} ms, "
              f"PostgreSQL {cost['postgres'] / idle_polls * 1000:.2f} ms, "
              f"Redis {cost['redis'] / idle_polls * 1000:.2f} ms; the web's CPU for the idle tablets: "
              f"{cost['web'] / window * 100:.0f} % of one core\n")
        print("in-process CPU per request (the app's WSGI callable, no HTTP server): " +
              ", ".join(f"{label} {ms:.2f} ms" for label, ms in in_process.items()) + "\n")
        print("| measure | p50 | p95 | max | target |")
        print("| --- | --- | --- | --- | --- |")
        print(f"| push to tablet display: officer's POST to the tablet having the signing page ({len(latencies)} "
              f"pushes, {refused} refused) | {percentile(latencies, 50):.2f} s | {percentile(latencies, 95):.2f} s | "
              f"{max(latencies):.2f} s | p95 <= 1 s |")
        print(f"| the officer's push POST | {percentile(posts, 50) * 1000:.0f} ms | "
              f"{percentile(posts, 95) * 1000:.0f} ms | {max(posts) * 1000:.0f} ms | |")
        pages = [p for t in tablets for p in t.pages]
        print(f"| the tablet's GET of the signing page ({len(pages)}) | {percentile(pages, 50) * 1000:.0f} ms | "
              f"{percentile(pages, 95) * 1000:.0f} ms | {max(pages) * 1000:.0f} ms | |")
        print(f"| a tablet's idle poll ({len(polls)}, {unchanged} answered 204, {errors} errors) | "
              f"{percentile(polls, 50) * 1000:.0f} ms | "
              f"{percentile(polls, 95) * 1000:.0f} ms | {max(polls) * 1000:.0f} ms | |")
        for label, before_, after in (("signer page", baseline, loaded), ("office case list", office_baseline,
                                                                           office_loaded)):
            print(f"| {label}, no tablet polling ({len(before_)}) | {percentile(before_, 50) * 1000:.0f} ms | "
                  f"{percentile(before_, 95) * 1000:.0f} ms | {max(before_) * 1000:.0f} ms | |")
            print(f"| {label}, {TABLETS} tablets polling ({len(after)}) | {percentile(after, 50) * 1000:.0f} ms | "
                  f"{percentile(after, 95) * 1000:.0f} ms | {max(after) * 1000:.0f} ms | p95 <= 2x |")
        if failures:
            print(f"\ntablet failures: {failures[:5]}")
    finally:
        stop.set()
        stack.stop()


if __name__ == "__main__":
    main()
