"""The signer page under load: gunicorn (2 workers) serving GET /s/<token> to 50 concurrent clients.

A temporary instance (SQLite, blobs, secret key) gets a sent case made through the case service;
gunicorn serves `core.wsgi:app` on a loopback port; a load generator (threads with keep-alive
`http.client` connections, spread over a few processes so the client is not the bottleneck)
sends a fixed number of requests and measures each one. Prints a Markdown table: requests per
second and p50/p95/p99 latency (target p95 <= 50 ms).

Run: `python -m bench signer_page` (env: BENCH_REQUESTS, BENCH_CLIENTS).
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "6000"))
WARMUP = 300
PROCESSES = 2
TARGET_P95_MS = 50.0
PACES = (0.5, 0.25)  # seconds between one client's requests: 100 and 200 req/s offered by 50 clients
PACED_SECONDS = 20


def prepare_instance(folder: Path) -> str:
    """A migrated SQLite instance with one sent case; returns the signer's path /s/<token>."""
    os.environ["SIGILL_INSTANCE"] = str(folder)
    from core.app import create_app
    from core.auth.service import create_officer, create_tenant
    from core.cases import service as cases
    from core.extensions import db
    from tenants.scoping import tenant_context
    from tests.signing.helpers import pdf

    app = create_app({"JOBS_MANUAL": True, "SCHEDULER_ENABLED": False})
    with app.app_context():
        db.create_all()
        tenant = create_tenant("bench", "Bench AB")
        officer = create_officer(tenant, "officer@bench.example", "Olle Officer", role="admin",
                                 password=secrets.token_urlsafe(16), language="en")
        with tenant_context(tenant.id):
            case = cases.create_case(officer, "Lease 12", message="Please read and sign.",
                                     allowed_methods=["touch", "sms"])
            cases.add_document(case, "lease.pdf", pdf(pages=3))
            party = cases.add_party(case, "Sara Svensson", "sara@example.com", phone="+46701234567", language="en")
            cases.send_case(case, officer)
            link = cases.issue_party_link(party)
            db.session.commit()
        db.engine.dispose()
    return "/s/" + link.rsplit("/", 1)[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(folder: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, SIGILL_INSTANCE=str(folder), SCHEDULER_ENABLED="0", BASE_URL=f"http://127.0.0.1:{port}")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--backlog", "512", "core.wsgi:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "gunicorn.log", "w"),  # noqa: SIM115
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start: " + (folder / "gunicorn.log").read_text()[-2000:])


def _client(port: int, path: str, count: int, latencies: list[float], errors: list[int], pace: float = 0.0) -> None:
    """`pace` > 0: a person-like client that asks for a page every `pace` seconds (start to start)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if pace:
        time.sleep(random.uniform(0, pace))  # clients do not arrive in lockstep
    for _ in range(count):
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = False
        latencies.append(time.perf_counter() - started)
        if not ok:
            errors.append(1)
        if pace:
            time.sleep(max(0.0, pace - (time.perf_counter() - started)))
    conn.close()


def _load_process(port: int, path: str, clients: int, per_client: int, start_at: float, queue,
                  pace: float = 0.0) -> None:
    latencies: list[float] = []
    errors: list[int] = []
    threads = [threading.Thread(target=_client, args=(port, path, per_client, latencies, errors, pace))
               for _ in range(clients)]
    time.sleep(max(0.0, start_at - time.time()))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((latencies, len(errors)))


def run_load(port: int, path: str, clients: int, requests: int, pace: float = 0.0) -> tuple[list[float], int, float]:
    """`clients` concurrent keep-alive clients in PROCESSES processes; returns latencies, errors, seconds."""
    per_process = [clients // PROCESSES + (1 if i < clients % PROCESSES else 0) for i in range(PROCESSES)]
    per_client = max(1, requests // clients)
    queue = multiprocessing.get_context("fork").Queue()
    start_at = time.time() + 0.5
    processes = [multiprocessing.get_context("fork").Process(
        target=_load_process, args=(port, path, n, per_client, start_at, queue, pace)) for n in per_process if n]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.time() - start_at
    latencies = [value for lat, _ in results for value in lat]
    return latencies, sum(err for _, err in results), elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sigill-bench-") as tmp:
        folder = Path(tmp)
        path = prepare_instance(folder)
        port = free_port()
        server = start_gunicorn(folder, port)
        try:
            run_load(port, path, 10, WARMUP)  # first view recorded, page images not involved, caches warm
            single, _, single_elapsed = run_load(port, path, 1, 300)
            latencies, errors, elapsed = run_load(port, path, CLIENTS, REQUESTS)
            paced = [(pace, *run_load(port, path, CLIENTS, int(CLIENTS * PACED_SECONDS / pace), pace))
                     for pace in PACES]
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("| server | clients | requests | errors | requests/s | p50 ms | p95 ms | p99 ms | mean ms | p95 target |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for clients, values, seconds, failed in ((1, single, single_elapsed, 0), (CLIENTS, latencies, elapsed, errors)):
        ms = [v * 1000 for v in values]
        p95 = percentile(ms, 95)
        verdict = f"{'met' if p95 <= TARGET_P95_MS else 'missed'} (<= {TARGET_P95_MS:.0f} ms)" if clients > 1 else "-"
        print(f"| gunicorn 2 sync workers, SQLite | {clients} | {len(ms)} | {failed} | {len(ms) / seconds:.0f} "
              f"| {percentile(ms, 50):.1f} | {p95:.1f} | {percentile(ms, 99):.1f} | {statistics.mean(ms):.1f} "
              f"| {verdict} |")
    for pace, values, failed, seconds in paced:
        ms = [v * 1000 for v in values]
        p95 = percentile(ms, 95)
        print(f"| same, each client a page every {pace * 1000:.0f} ms ({CLIENTS / pace:.0f} req/s offered) "
              f"| {CLIENTS} | {len(ms)} | {failed} | {len(ms) / seconds:.0f} | {percentile(ms, 50):.1f} | {p95:.1f} "
              f"| {percentile(ms, 99):.1f} | {statistics.mean(ms):.1f} "
              f"| {'met' if p95 <= TARGET_P95_MS else 'missed'} (<= {TARGET_P95_MS:.0f} ms) |")
    print("\nThe first 50-client row asks back to back (no pause): it measures saturation, where latency is"
          " clients / throughput. The paced rows are 50 people each loading the page at a steady pace.")
    print(f"\nGET {path[:8]}... on a {os.cpu_count()}-core machine, load average {os.getloadavg()[0]:.1f} "
          "(the load generator shares the machine).")


if __name__ == "__main__":
    main()
