"""The stamp page alone: one person with 1,000 waiting cases opens /stamp/s/<token> (the first page, 50).

The production shape (`bench.stack`: PostgreSQL, Redis, gunicorn with 2 workers of 8 threads, one
no job worker) seeded with BENCH_STAMP_CASES (1,000) cases of one signer. Nothing is
signed: only the page is measured, so a run takes a minute or two (most of it seeding), not the
stamp bench's half hour.

The wall figures on a shared 2-core machine say as much about the others' work as about the page,
so the rows that load hardly changes come first:

* in-process (this process's app on the same PostgreSQL database, the Flask test client, no
  network): SQL statements per GET, CPU ms per GET of this process (Python) and of PostgreSQL's
  backends (the server side of those statements), and the wall p50 / p95 of sequential GETs;
* over HTTP to gunicorn: sequential GETs (p50 / p95, the service's latency with nothing queued),
  and a few concurrent clients (BENCH_STAMP_CLIENTS, default 4) asking back to back, with the web
  workers' and PostgreSQL's CPU per answered request;
* the person's own signer page, whose panel says how many are waiting.

Target (issue 16): first page p95 <= 50 ms with 1,000 waiting. The load average is printed.
BENCH_PROFILE=1 prints the cProfile of 20 in-process GETs (the top 40 by cumulative time).

Run: `python -m bench stamp_page` (env: BENCH_STAMP_CASES, BENCH_PAGE_LOADS (default 200),
BENCH_STAMP_CLIENTS, BENCH_PROFILE).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_stamp import SIGNER, TARGET_PAGE_MS, request  # noqa: E402
from bench.stack import Stack, percentile  # noqa: E402

CASES = int(os.environ.get("BENCH_STAMP_CASES", "1000"))
LOADS = int(os.environ.get("BENCH_PAGE_LOADS", "200"))
CLIENTS = int(os.environ.get("BENCH_STAMP_CLIENTS", "4"))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"


def _ms(values: list[float]) -> str:
    return f"{percentile(values, 50):.1f} / {percentile(values, 95):.1f} ms"


def in_process(stack: Stack, stamp: str, own: str) -> list[str]:
    """The app in this process on the stack's database: statements, CPU and wall per GET."""
    from core.app import create_app
    from core.extensions import db
    from tests.support import counted_statements

    app = create_app({"JOBS_MANUAL": True, "SCHEDULER_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": stack.service_url()})
    client = app.test_client()
    rows = []
    with app.app_context():
        for path, label in ((stamp, "stamp page (first page)"), (own, "signer page (its panel counts)")):
            for _ in range(5):  # what a process reads or compiles once
                assert client.get(path).status_code == 200, path
            with counted_statements() as statements:
                html = client.get(path).get_data(as_text=True)
            if path == stamp:
                listed = html.count('name="digest:')
                assert listed == min(50, CASES), f"{listed} cases listed"
            walls, cpus = [], []
            pg_before = stack.cpu()["postgres"]
            for _ in range(LOADS):
                started, cpu = time.perf_counter(), time.process_time()
                response = client.get(path)
                cpus.append((time.process_time() - cpu) * 1000)
                walls.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            pg = (stack.cpu()["postgres"] - pg_before) / LOADS * 1000
            met = ""
            if path == stamp:
                met = f"<= {TARGET_PAGE_MS} ms | {'yes' if percentile(walls, 95) <= TARGET_PAGE_MS else 'NO'}"
            rows += [f"| in-process, {label}: SQL statements per GET | {len(statements)} | | |",
                     f"| in-process, {label}: CPU per GET, this process p50 / p95; PostgreSQL mean | "
                     f"{_ms(cpus)}; {pg:.1f} ms | | |",
                     f"| in-process, {label}: wall p50 / p95 ({LOADS} sequential GETs) | {_ms(walls)} | {met or '|'} |"]
        if PROFILE:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(20):
                client.get(stamp)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        db.engine.dispose()
    return rows


def over_http(stack: Stack, stamp: str, own: str) -> list[str]:
    status, _page, cookie, _ = request(stack.port, "GET", stamp)
    if status != 200:
        raise RuntimeError(f"the stamp page answered {status}")
    for _ in range(10):
        request(stack.port, "GET", stamp, cookie=cookie)  # each gunicorn worker reads and compiles once
    rows = []
    for path, label in ((stamp, "stamp page"), (own, "signer page")):
        before = stack.cpu()
        loads = [request(stack.port, "GET", path, cookie=cookie)[3] * 1000 for _ in range(LOADS)]
        after = stack.cpu()
        web, pg = ((after[k] - before[k]) / LOADS * 1000 for k in ("web", "postgres"))
        met = (f"<= {TARGET_PAGE_MS} ms | {'yes' if percentile(loads, 95) <= TARGET_PAGE_MS else 'NO'}"
               if path == stamp else "|")
        rows.append(f"| HTTP, {label}: {LOADS} sequential GETs p50 / p95 (web / PostgreSQL CPU per GET "
                    f"{web:.1f} / {pg:.1f} ms) | {_ms(loads)} | {met} |")
    latencies: list[float] = []
    errors: list[int] = []

    def client() -> None:
        for _ in range(max(1, LOADS // CLIENTS)):
            code, _text, _c, seconds = request(stack.port, "GET", stamp, cookie=cookie)
            latencies.append(seconds * 1000)
            if code != 200:
                errors.append(code)

    before, started = stack.cpu(), time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, after = time.monotonic() - started, stack.cpu()
    web, pg = ((after[k] - before[k]) / max(1, len(latencies)) * 1000 for k in ("web", "postgres"))
    rows.append(f"| HTTP, stamp page: {CLIENTS} clients back to back, p50 / p95 ({len(latencies)} GETs, "
                f"{len(latencies) / elapsed:.0f}/s, {len(errors)} errors; web / PostgreSQL CPU per GET {web:.1f} / "
                f"{pg:.1f} ms) | {_ms(latencies)} | | |")
    return rows


def main() -> None:
    load = os.getloadavg()
    print(f"{CASES} waiting cases of one person; production shape (PostgreSQL, gunicorn 2 workers x "
          f"{os.environ.get('BENCH_WEB_THREADS', '8')} threads); {os.cpu_count()} cores shared with others; "
          f"load average {' '.join(f'{x:.1f}' for x in load)}\n", flush=True)
    # No job runs: the invitations stay queued (the page lists a case whether its mail went or not).
    stack = Stack(cases=CASES, signers_per_case=1, one_signer=SIGNER, plugins=["stamp_signature"], workers=0,
                  scheduler=False)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # killed: the stack's processes and database go too
    seeding = time.monotonic()
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    try:
        import sqlalchemy as sa

        with stack.engine.begin() as conn:  # the statistics autovacuum gathers after this many rows
            conn.execute(sa.text("ANALYZE"))
        print(f"({CASES} cases seeded and served in {time.monotonic() - seeding:.0f} s)", flush=True)
        own = stack.links[0]
        stamp = "/stamp" + own
        rows = ["| measure | value | target | met |", "|---|---|---|---|"]
        rows += in_process(stack, stamp, own)
        rows += over_http(stack, stamp, own)
        after = os.getloadavg()
        rows.append(f"| load average (1 / 5 min) before / after | {load[0]:.1f} / {load[1]:.1f}; "
                    f"{after[0]:.1f} / {after[1]:.1f} | | |")
    finally:
        stack.stop()
    print("\n".join(rows), flush=True)


if __name__ == "__main__":
    main()
