"""The signer page under load: gunicorn (2 sync workers) serving GET /s/<token> to 50 concurrent clients.

A temporary instance (SQLite, blobs, secret key) gets sent cases made through the case service
(10 cases x 5 parties = 50 links, a 3-page PDF each); gunicorn serves `core.wsgi:app` on a
loopback port. The load generator is `wrk` (Debian's package; C, a few % of one core, so it
leaves the two cores to the server): 50 connections asking back to back, which is saturation,
where latency = clients / throughput. Rows:

* one link, and 50 links (each request picks one at random: 50 signers at once);
* 50 links with the signer-page cache off (SIGNER_PAGE_CACHE=0): every page rendered in full;
* 50 clients at a steady pace (a Python client: a page every 250 / 500 ms each).

Without wrk the saturation rows fall back to a Python client (threads over two processes),
which takes CPU from the server and so measures less than the server can do.
Prints a Markdown table; target p95 <= 50 ms at 50 clients.

Run: `python -m bench signer_page` (env: BENCH_SECONDS, BENCH_CLIENTS).
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
CASES, PARTIES_PER_CASE = 10, 5
PROCESSES = 2
TARGET_P95_MS = 50.0
PACES = (0.5, 0.25)  # seconds between one client's requests: 100 and 200 req/s offered by 50 clients
PACED_SECONDS = 20


def prepare_instance(folder: Path) -> list[str]:
    """A migrated SQLite instance with sent cases; returns the signers' paths /s/<token>."""
    os.environ["SIGILL_INSTANCE"] = str(folder)
    from core.app import create_app
    from core.auth.service import create_officer, create_tenant
    from core.cases import service as cases
    from core.extensions import db
    from tenants.scoping import tenant_context
    from tests.signing.helpers import pdf

    app = create_app({"JOBS_MANUAL": True, "SCHEDULER_ENABLED": False})
    paths = []
    with app.app_context():
        db.create_all()
        tenant = create_tenant("bench", "Bench AB")
        officer = create_officer(tenant, "officer@bench.example", "Olle Officer", role="admin",
                                 password=secrets.token_urlsafe(16), language="en")
        with tenant_context(tenant.id):
            for number in range(CASES):
                case = cases.create_case(officer, f"Lease {number + 1}", message="Please read and sign.",
                                         allowed_methods=["touch", "sms"])
                cases.add_document(case, "lease.pdf", pdf(pages=3, lines=[f"Lease number {number + 1}"]))
                parties = [cases.add_party(case, f"Signer {number}-{n}", f"s{number}-{n}@example.com",
                                           phone="+46701234567", language="en" if n % 2 else "sv")
                           for n in range(PARTIES_PER_CASE)]
                cases.send_case(case, officer)
                paths.extend("/s/" + cases.issue_party_link(party).rsplit("/", 1)[-1] for party in parties)
            db.session.commit()
        db.engine.dispose()
    return paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(folder: Path, port: int, **settings: str) -> subprocess.Popen:
    env = dict(os.environ, SIGILL_INSTANCE=str(folder), SCHEDULER_ENABLED="0", BASE_URL=f"http://127.0.0.1:{port}",
               **settings)
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


def _load_process(port: int, paths: list[str], per_client: int, start_at: float, queue,
                  pace: float = 0.0) -> None:
    latencies: list[float] = []
    errors: list[int] = []
    threads = [threading.Thread(target=_client, args=(port, path, per_client, latencies, errors, pace))
               for path in paths]
    time.sleep(max(0.0, start_at - time.time()))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((latencies, len(errors)))


def run_load(port: int, paths: list[str], clients: int, requests: int,
             pace: float = 0.0) -> tuple[list[float], int, float]:
    """`clients` concurrent keep-alive clients in PROCESSES processes, client i on paths[i % len(paths)];
    returns latencies, errors, seconds."""
    client_paths = [paths[i % len(paths)] for i in range(clients)]
    per_client = max(1, requests // clients)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start_at = time.time() + 0.5
    processes = [context.Process(target=_load_process, args=(port, client_paths[i::PROCESSES], per_client, start_at,
                                                             queue, pace))
                 for i in range(min(PROCESSES, clients))]
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


@dataclass
class Row:
    label: str
    clients: int
    requests: int
    errors: int
    per_second: float
    p50: float  # ms
    p95: float
    p99: float
    target: bool = True


WRK_SCRIPT = """
local paths = {}
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %.3f\\n", summary.requests,
    e.connect + e.read + e.write + e.timeout + e.status, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def wrk_row(label: str, port: int, paths: list[str], clients: int, seconds: int, folder: Path) -> Row:
    """`clients` connections asking back to back for `seconds`, each request a random path."""
    script, listing = folder / "paths.lua", folder / "paths.txt"
    script.write_text(WRK_SCRIPT)
    listing.write_text("\n".join(paths) + "\n")
    output = subprocess.run(
        ["wrk", "-t", "1", "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s", "-s", str(script),
         f"http://127.0.0.1:{port}", "--", str(listing)],
        capture_output=True, text=True, check=True,
    ).stdout
    match = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)", output)
    if match is None:
        raise RuntimeError("wrk printed no result: " + output[-500:])
    requests, errors = int(match[1]), int(match[2])
    seconds_run, p50, p95, p99 = (float(v) for v in match.groups()[2:])
    return Row(label, clients, requests, errors, requests / seconds_run, p50, p95, p99)


def python_row(label: str, port: int, paths: list[str], clients: int, pace: float, seconds: int,
               target: bool = True) -> Row:
    """The Python client: one path per client (clients spread over the paths)."""
    per_client = max(1, int(seconds / pace)) if pace else max(1, 200 * seconds // clients)
    latencies, errors, elapsed = run_load(port, paths, clients, per_client * clients, pace)
    ms = [v * 1000 for v in latencies]
    return Row(label, clients, len(ms), errors, len(ms) / elapsed, percentile(ms, 50), percentile(ms, 95),
               percentile(ms, 99), target)


def serve(folder: Path, **settings: str):
    port = free_port()
    return port, start_gunicorn(folder, port, **settings)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def main() -> None:
    have_wrk = shutil.which("wrk") is not None
    saturate = "wrk" if have_wrk else "Python client (wrk not installed: the client competes with the server)"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="sigill-bench-") as tmp:
        folder = Path(tmp)
        paths = prepare_instance(folder)
        one = paths[:1]

        def saturation(label: str, port: int, chosen: list[str]) -> Row:
            if have_wrk:
                return wrk_row(label, port, chosen, CLIENTS, SECONDS, folder)
            return python_row(label, port, chosen, CLIENTS, 0.0, SECONDS)

        port, server = serve(folder)
        try:
            python_row("warm-up", port, paths, len(paths), 0.0, 1)  # first views recorded, caches warm
            rows.append(python_row("1 client, one link, back to back", port, one, 1, 0.0, 3, target=False))
            rows.append(saturation(f"one link, back to back ({saturate})", port, one))
            rows.append(saturation(f"{len(paths)} links, back to back ({saturate})", port, paths))
            for pace in (0.5, 0.25):
                rows.append(python_row(f"{len(paths)} links, each client a page every {pace * 1000:.0f} ms "
                                       f"({CLIENTS / pace:.0f} req/s offered)", port, paths, CLIENTS, pace, 20))
        finally:
            stop(server)
        port, server = serve(folder, SIGNER_PAGE_CACHE="0")
        try:
            python_row("warm-up", port, paths, len(paths), 0.0, 1)
            rows.append(saturation(f"{len(paths)} links, page cache off, back to back ({saturate})", port, paths))
        finally:
            stop(server)

    print("| load (gunicorn, 2 sync workers, SQLite) | clients | requests | errors | requests/s | p50 ms "
          "| p95 ms | p99 ms | p95 target |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        verdict = ("met" if row.p95 <= TARGET_P95_MS else "missed") if row.target else "-"
        verdict += f" (<= {TARGET_P95_MS:.0f} ms)" if row.target else ""
        print(f"| {row.label} | {row.clients} | {row.requests} | {row.errors} | {row.per_second:.0f} | {row.p50:.1f} "
              f"| {row.p95:.1f} | {row.p99:.1f} | {verdict} |")
    print("\nBack to back is saturation: latency is clients / throughput. The page cache keeps rendered pages"
          " per worker (core/signing/page.py); with it off every request renders the whole page.")
    print(f"\n{os.cpu_count()}-core machine, load average {os.getloadavg()[0]:.1f} after the run "
          "(the load generator shares the machine).")


if __name__ == "__main__":
    main()
