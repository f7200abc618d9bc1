"""Kiosk: push to tablet display with 50 idle tablets on gunicorn's 2 workers.

The production shape (`bench.stack`: PostgreSQL, Redis, gunicorn with 2 sync workers, 2 job
workers, the scheduler). 50 tablets are paired (device tokens in their cookies) and each polls its
state the way the idle screen's script does (a GET, then 0.7 s after the answer). The officer's
push is the same write `plugins.kiosk.service.push` commits; the time counted is from its commit
to the tablet's poll answering with the signing link (what the script then opens). While the
tablets poll, a signer page's p95 is measured against the same page with no tablet polling.
Targets: push p95 <= 1 s; the signer page's p95 no more than doubled.

Run: `python -m bench kiosk` (env: BENCH_TABLETS, default 50; BENCH_PUSHES, default 40).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import secrets
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench.stack import Stack, percentile  # noqa: E402

TABLETS = int(os.environ.get("BENCH_TABLETS", "50"))
PUSHES = int(os.environ.get("BENCH_PUSHES", "40"))
POLL_AFTER = 0.7  # what plugins/kiosk/static/kiosk.js waits between polls


class Tablet(threading.Thread):
    def __init__(self, port: int, token: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.token, self.stop = port, token, stop
        self.seen_url: str | None = None
        self.seen_at = 0.0
        self.errors = 0
        self.polls: list[float] = []

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", "/kiosk/o/bench/state",
                             headers={"Cookie": f"sigill_kiosk={self.token}", "Accept": "application/json"})
                response = conn.getresponse()
                body = json.loads(response.read() or b"{}")
                if response.status != 200:
                    self.errors += 1
            except (OSError, http.client.HTTPException, ValueError):
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                time.sleep(POLL_AFTER)
                continue
            self.polls.append(time.perf_counter() - started)
            url = body.get("url")
            if url and url != self.seen_url:
                self.seen_url, self.seen_at = url, time.perf_counter()
            time.sleep(POLL_AFTER)


def main() -> None:
    stack = Stack(cases=PUSHES, signers_per_case=1).start()
    stop = threading.Event()
    try:
        with stack.engine.begin() as conn:
            tenant_id = conn.execute(sa.text("SELECT id FROM tenant WHERE slug = 'bench'")).scalar()
            officer_id = conn.execute(sa.text("SELECT id FROM officer LIMIT 1")).scalar()
            conn.execute(sa.text("UPDATE tenant SET enabled_plugins = :p WHERE id = :t"),
                         {"p": json.dumps(["kiosk"]), "t": tenant_id})
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

        baseline = [stack.get(stack.links[0])[1] for _ in range(30)]
        tablets = [Tablet(stack.port, token, stop) for token in tokens]
        for tablet in tablets:
            tablet.start()
            time.sleep(POLL_AFTER / TABLETS)  # spread out, as tablets switched on at different times
        time.sleep(3)
        loaded = [stack.get(stack.links[0])[1] for _ in range(30)]

        from core.app import create_app
        from plugins.kiosk import service

        app = create_app({"JOBS_MANUAL": True, "REDIS_URL": None, "DATABASE_URL": stack.db_url.render_as_string(
            hide_password=False)})
        latencies = []
        with app.test_request_context():
            for (party_id, case_id) in parties:
                index = random.randrange(len(devices))
                device_id, tablet = devices[index], tablets[index]
                before = tablet.seen_url
                from datetime import UTC, datetime

                with stack.engine.begin() as conn:
                    version = conn.execute(sa.text("SELECT version FROM kiosk_device WHERE id = :d"),
                                           {"d": device_id}).scalar() + 1
                    pushed_at = datetime.now(UTC)

                    class Row:  # what push_token reads
                        pass

                    row = Row()
                    row.id, row.version, row.pushed_at, row.party_id = device_id, version, pushed_at, party_id
                    token = service.push_token(row)
                    conn.execute(sa.text(
                        "UPDATE kiosk_device SET state = 'pushed', case_id = :c, party_id = :p, pushed_by = :o, "
                        "pushed_at = :at, version = :v, push_token_hash = :h WHERE id = :d"),
                        {"c": case_id, "p": party_id, "o": officer_id, "at": pushed_at, "v": version,
                         "h": hashlib.sha256(token.encode()).hexdigest(), "d": device_id})
                committed = time.perf_counter()
                deadline = committed + 10
                while tablet.seen_url == before and time.perf_counter() < deadline:
                    time.sleep(0.01)
                latencies.append(tablet.seen_at - committed if tablet.seen_url != before else float("inf"))
                with stack.engine.begin() as conn:  # the tablet goes back to idle
                    conn.execute(sa.text("UPDATE kiosk_device SET state = 'idle', party_id = NULL, case_id = NULL, "
                                         "push_token_hash = NULL, version = version + 1 WHERE id = :d"),
                                 {"d": device_id})
                time.sleep(0.3)
        stop.set()
        polls = [p for t in tablets for p in t.polls]
        errors = sum(t.errors for t in tablets)
        load = os.getloadavg()[0]
        print(f"{TABLETS} tablets polling every {POLL_AFTER} s, 2 gunicorn workers (sync), load average {load:.1f}\n")
        print("| measure | p50 | p95 | max | target |")
        print("| --- | --- | --- | --- | --- |")
        print(f"| push to tablet ({len(latencies)} pushes) | {percentile(latencies, 50):.2f} s | "
              f"{percentile(latencies, 95):.2f} s | {max(latencies):.2f} s | p95 <= 1 s |")
        print(f"| a tablet's poll ({len(polls)}, {errors} errors) | {percentile(polls, 50) * 1000:.0f} ms | "
              f"{percentile(polls, 95) * 1000:.0f} ms | {max(polls) * 1000:.0f} ms | |")
        print(f"| signer page, no tablets | {percentile(baseline, 50) * 1000:.0f} ms | "
              f"{percentile(baseline, 95) * 1000:.0f} ms | {max(baseline) * 1000:.0f} ms | |")
        print(f"| signer page, {TABLETS} tablets polling | {percentile(loaded, 50) * 1000:.0f} ms | "
              f"{percentile(loaded, 95) * 1000:.0f} ms | {max(loaded) * 1000:.0f} ms | p95 <= 2x |")
    finally:
        stop.set()
        stack.stop()


if __name__ == "__main__":
    main()
