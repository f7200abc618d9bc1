"""Production shape under load: PostgreSQL, Redis, 2 workers, the scheduler, gunicorn with 2 workers;
200 cases (2 signers each) signed by 50 concurrent signers, each opening the page and signing.

Rows: signer page and sign POST latency while sealing runs (target p95 <= 500 ms), the time from
the last signature to the last seal and the last mail (target <= 15 s), cases per minute end to
end, and CPU seconds per case by component (web, workers, scheduler, PostgreSQL backends, Redis).

Two runs:

* "back to back": each of the 50 signers posts the signature the moment the page has loaded and
  opens the next link the moment the POST answers. A closed loop with no pause measures
  throughput: by Little's law the mean latency is 50 / the requests per second served, and with
  CPU the only limit the requests per second are at most cores / CPU per request. The run prints
  that floor from its own measured CPU (all components per request, and the interactive part
  alone: web, PostgreSQL, Redis, the bench's clients), so a missed p95 here can be told apart
  from a slow service: with ~20 ms of interactive CPU per request, 50 signers on 2 cores cannot
  see a mean below ~500 ms even if every seal waited. Its first 50 page loads, all asked at the
  same instant before anyone has signed, are also reported on their own ("burst").
* "reading": each signer spends 3-7 s between the page and the signature (reading, drawing; a
  real signer takes longer), and the 50 signers arrive spread over the first BENCH_ARRIVAL_SECONDS
  (10 s; uniform), as people open an email they all got at once; with 0 they all open their first
  link at the same instant, as before 2026-12-06 (then the burst dominates this run's page p95:
  it is the back-to-back run's burst row).

Each request is timed by the client and inside gunicorn (bench/gunicorn_timing.py: wall time in
the app and the CPU of the thread that served it), so a slow request shows whether it waited for
a connection and a thread (client time minus app time: accept and thread queueing), for the CPU
or locks (app time minus its CPU), or did work (CPU). BENCH_DUMP=<folder> writes every request
(start, client, app, CPU, worker pid) as JSON per run. `BENCH_COMPARE=1` adds the back-to-back run
with the worker as it was before (RQ forking a work-horse per job). The machine's load from other
processes shows in the wall-clock rows, hardly in CPU per request or per case.

Run: `python -m bench scale_out` (env: BENCH_CASES, BENCH_SIGNERS, BENCH_COMPARE, BENCH_ONLY "back" or
"reading", BENCH_THINK_SECONDS "3-7", BENCH_ARRIVAL_SECONDS 10, BENCH_WEB_THREADS 8 per gunicorn
worker, BENCH_GUNICORN_OPTIONS to try more gunicorn options, BENCH_REUSE_PORT=1 for a listening socket per
gunicorn worker, WORKER_NICE for the job workers: the
service's default, 10, unless set).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import queue as queues
import sys
import threading
import time

from bench.stack import Stack, percentile, sign

CASES = int(os.environ.get("BENCH_CASES", "200"))
SIGNERS = int(os.environ.get("BENCH_SIGNERS", "50"))
PROCESSES = 2
CORES = os.cpu_count() or 2
TARGET_P95_MS = 500
TARGET_TAIL_S = 15
# The reading row's signers read and draw between opening the page and signing (uniform, seconds),
# and arrive spread over the first ARRIVAL seconds.
THINK = tuple(float(v) for v in os.environ.get("BENCH_THINK_SECONDS", "3-7").split("-", 1))
ARRIVAL = float(os.environ.get("BENCH_ARRIVAL_SECONDS", "10"))


def _signers(port: int, links: list[str], threads: int, out, think: tuple[float, float] | None,
             arrival: float, seed: int) -> None:
    import random

    from tests.signing.helpers import drawn_signature

    cpu = time.process_time()
    fields = drawn_signature()
    rng = random.Random(seed)
    pauses = {link: rng.uniform(*think) if think else 0.0 for link in links}
    arrivals = [rng.uniform(0, arrival) for _ in range(threads)]
    number = {link: n for n, link in enumerate(links)}
    todo: queues.Queue = queues.Queue()
    for link in links:
        todo.put(link)
    visits = []
    start = time.monotonic()

    def work(arrives: float):
        time.sleep(max(0.0, start + arrives - time.monotonic()))
        while True:
            try:
                link = todo.get_nowait()
            except queues.Empty:
                return
            visits.append(sign(port, link, fields, think=pauses[link], ident=f"{seed}.{number[link]}"))

    pool = [threading.Thread(target=work, args=(arrives,)) for arrives in arrivals]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.put((visits, time.process_time() - cpu))


def run(stack: Stack, think: tuple[float, float] | None = None, arrival: float = 0.0) -> dict:
    stack.wait_jobs_done(600)  # the invitations
    cpu_before = stack.cpu()
    sessions_before = stack.db_sessions()
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    started = time.time()
    processes = [context.Process(target=_signers, args=(stack.port, stack.links[i::PROCESSES], SIGNERS // PROCESSES,
                                                        out, think, arrival, i)) for i in range(PROCESSES)]
    for process in processes:
        process.start()
    visits, client_cpu = [], 0.0
    for _ in processes:
        got, used = out.get()
        visits += got
        client_cpu += used
    for process in processes:
        process.join()
    stack.wait_jobs_done(900)
    cpu_after = stack.cpu()
    outcome = stack.outcome()
    last_signature = max(v.signed_at for v in visits)
    done = max(outcome["last_seal"].timestamp(), outcome["last_mail"].timestamp())
    return {
        "visits": visits, "outcome": outcome, "tail": done - last_signature, "seconds": done - started,
        "started": started, "server": stack.server_times(), "sessions": stack.db_sessions() - sessions_before,
        "cpu": {k: (cpu_after[k] - cpu_before[k]) / stack.cases for k in cpu_after},
        "client_cpu": client_cpu / stack.cases,
    }


def requests(result: dict) -> list[dict]:
    """Every answered request: kind, start (s from the run's start), client, app and CPU seconds."""
    rows = []
    for v in result["visits"]:
        for kind, started, seconds, ok in (("page", v.page_started, v.page_seconds, v.page_status == 200),
                                           ("sign", v.sign_started, v.sign_seconds, v.sign_status in (302, 303))):
            if not ok:
                continue
            server = result["server"].get(f"{v.ident}-{kind}", {})
            rows.append({"kind": kind, "t": started - result["started"], "client": seconds,
                         "app": server.get("wall"), "cpu": server.get("cpu"), "pid": server.get("pid")})
    return rows


def _ms(values: list[float], p: float) -> str:
    return f"{percentile([v * 1000 for v in values], p):.0f}"


def report(label: str, result: dict, burst: bool) -> None:
    visits, outcome = result["visits"], result["outcome"]
    rows = requests(result)
    errors = sum(1 for v in visits if v.page_status != 200 or v.sign_status not in (302, 303))
    ok = lambda good: "yes" if good else "NO"  # noqa: E731
    for kind, name in (("page", "signer page"), ("sign", "sign POST")):
        mine = [r for r in rows if r["kind"] == kind]
        client = [r["client"] for r in mine]
        timed = [r for r in mine if r["app"] is not None]
        p95 = percentile([c * 1000 for c in client], 95)
        print(f"| {label}: {name}, p50 / p95 | {_ms(client, 50)} / {p95:.0f} ms | <= {TARGET_P95_MS} ms "
              f"| {ok(p95 <= TARGET_P95_MS)} |")
        print(f"| {label}: {name}: p95 in the app / waiting before it / app's CPU p50 | "
              f"{_ms([r['app'] for r in timed], 95)} / {_ms([r['client'] - r['app'] for r in timed], 95)} / "
              f"{percentile([r['cpu'] * 1000 for r in timed], 50):.1f} ms | | |")
    if burst:
        first = sorted((r for r in rows if r["kind"] == "page"), key=lambda r: r["t"])[:SIGNERS]
        pids = sorted({r["pid"] for r in first if r["pid"]})
        split = " / ".join(str(sum(1 for r in first if r["pid"] == p)) for p in pids)
        p95 = percentile([r["client"] * 1000 for r in first], 95)
        print(f"| {label}: burst, the first {len(first)} pages asked at the same instant, p50 / p95 "
              f"(served by each gunicorn worker) | {_ms([r['client'] for r in first], 50)} / {p95:.0f} ms ({split}) "
              f"| <= {TARGET_P95_MS} ms | {ok(p95 <= TARGET_P95_MS)} |")
    print(f"| {label}: last signature -> last seal and mail | {result['tail']:.1f} s | <= {TARGET_TAIL_S} s "
          f"| {ok(result['tail'] <= TARGET_TAIL_S)} |")
    print(f"| {label}: cases per minute, end to end | {outcome['completed'] / result['seconds'] * 60:.0f} | | |")
    cpu = result["cpu"]
    print(f"| {label}: CPU per case (web / workers / scheduler / PostgreSQL / Redis; bench clients) | "
          f"{cpu['web'] * 1000:.0f} / {cpu['workers'] * 1000:.0f} / {cpu['scheduler'] * 1000:.0f} / "
          f"{cpu['postgres'] * 1000:.0f} / {cpu['redis'] * 1000:.0f} ms; {result['client_cpu'] * 1000:.0f} ms | | |")
    if burst:  # the closed loop: what 2 cores allow at all
        per_case = len(rows) / outcome["cases"]  # requests per case (2 pages, 2 POSTs)
        everything = (sum(cpu.values()) + result["client_cpu"]) / per_case
        interactive = (cpu["web"] + cpu["postgres"] + cpu["redis"] + result["client_cpu"]) / per_case
        print(f"| {label}: floor of the mean latency, {SIGNERS} signers x CPU per request / {CORES} cores: all work "
              f"({everything * 1000:.1f} ms a request) / interactive only, every job later ({interactive * 1000:.1f} "
              f"ms) | {SIGNERS * everything / CORES * 1000:.0f} / {SIGNERS * interactive / CORES * 1000:.0f} ms "
              f"| p95 <= {TARGET_P95_MS} ms needs <= {TARGET_P95_MS * CORES / SIGNERS:.0f} ms a request "
              f"| {ok(SIGNERS * interactive / CORES * 1000 <= TARGET_P95_MS)} |")
    print(f"| {label}: PostgreSQL connections opened during the run | {result['sessions']} | | |")
    clean = (errors == 0 and outcome["lost_cases"] == 0 and outcome["duplicate_seals"] == 0
             and outcome["duplicate_mails"] == 0 and outcome["lost_mails"] == 0)
    print(f"| {label}: {len(visits)} signatures, {outcome['completed']} sealed, {outcome['received']} mails "
          f"| errors {errors}, duplicates {outcome['duplicate_seals'] + outcome['duplicate_mails']}, "
          f"losses {outcome['lost_cases'] + outcome['lost_mails']} | 0 / 0 / 0 | {ok(clean)} |")


def dump(label: str, result: dict) -> None:
    """BENCH_DUMP=<folder>: every request's start, client and app time, CPU and worker, as JSON."""
    folder = os.environ.get("BENCH_DUMP")
    if not folder:
        return
    os.makedirs(folder, exist_ok=True)
    name = label.split(":")[0].split(",")[0].replace(" ", "_")
    with open(os.path.join(folder, f"{name}.json"), "w") as f:
        json.dump({"rows": requests(result), "cpu": result["cpu"], "client_cpu": result["client_cpu"],
                   "tail": result["tail"], "started": result["started"]}, f)


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    nice = os.environ.get("WORKER_NICE", "the default")
    print(f"{CASES} cases x 2 signers, {SIGNERS} concurrent signers, 2 gunicorn workers x {Stack.web_threads} "
          f"threads, 2 job workers (nice {nice}), PostgreSQL + Redis on loopback, {CORES} cores; "
          f"load average before: {os.getloadavg()[0]:.1f}\n")
    print("| measure | value | target | met |\n|---|---|---|---|")
    warm = ["-m", "core.cli", "worker"]
    reading = f"reading {THINK[0]:g}-{THINK[1]:g} s, arriving over {ARRIVAL:g} s"
    variants = [("back to back", warm, None, 0.0), (reading, warm, THINK, ARRIVAL)]
    if os.environ.get("BENCH_COMPARE"):
        variants.append(("before: RQ fork per job", ["-m", "bench.forking_worker"], None, 0.0))
    only = os.environ.get("BENCH_ONLY")
    for label, command, think, arrival in [v for v in variants if not only or v[0].startswith(only)]:
        stack = Stack(cases=CASES, worker_command=command).start()
        try:
            result = run(stack, think, arrival)
            report(label, result, burst=think is None)
            dump(label, result)
        finally:
            stack.stop()
        print(f"| {label}: load average after (1 min, machine-wide) | {os.getloadavg()[0]:.1f} | | |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
