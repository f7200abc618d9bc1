"""Production shape under load: PostgreSQL, Redis, 2 workers, the scheduler, gunicorn with 2 workers;
200 cases (2 signers each) signed by 50 concurrent signers, each opening the page and signing.

Rows: signer page and sign POST latency while sealing runs (target p95 <= 500 ms), the time from
the last signature to the last seal and the last mail (target <= 15 s), cases per minute end to
end, and CPU seconds per case by component (web, workers, scheduler, PostgreSQL backends, Redis).

Two runs: "back to back", where each of the 50 signers posts the signature the moment the page has
loaded and opens the next link the moment the POST answers (a closed loop with no pause: latency is
then about 50 / the requests per second the machine can serve, so it measures throughput), and
"reading", where each signer spends 3-7 s between the page and the signature (reading, drawing; a
real signer takes longer), so the 50 signers load the service as people would.
`BENCH_COMPARE=1` adds the same run with the worker as it was before (RQ forking a work-horse per
job). The machine's load from other processes shows in the wall-clock rows, hardly in CPU per case.

Run: `python -m bench scale_out` (env: BENCH_CASES, BENCH_SIGNERS, BENCH_COMPARE, BENCH_THINK_SECONDS
"3-7", BENCH_WEB_THREADS 8 per gunicorn worker, WORKER_NICE for the job workers, 0 as in production's default).
"""

from __future__ import annotations

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
TARGET_P95_MS = 500
TARGET_TAIL_S = 15
# The second row's signers read and draw between opening the page and signing (uniform, seconds).
THINK = tuple(float(v) for v in os.environ.get("BENCH_THINK_SECONDS", "3-7").split("-", 1))


def _signers(port: int, links: list[str], threads: int, out, think: tuple[float, float] | None, seed: int) -> None:
    import random

    from tests.signing.helpers import drawn_signature

    fields = drawn_signature()
    rng = random.Random(seed)
    pauses = {link: rng.uniform(*think) if think else 0.0 for link in links}
    todo: queues.Queue = queues.Queue()
    for link in links:
        todo.put(link)
    visits = []

    def work():
        while True:
            try:
                link = todo.get_nowait()
            except queues.Empty:
                return
            visits.append(sign(port, link, fields, think=pauses[link]))

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.put(visits)


def run(stack: Stack, think: tuple[float, float] | None = None) -> dict:
    stack.wait_jobs_done(600)  # the invitations
    cpu_before = stack.cpu()
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    started = time.time()
    processes = [context.Process(target=_signers, args=(stack.port, stack.links[i::PROCESSES], SIGNERS // PROCESSES,
                                                        out, think, i)) for i in range(PROCESSES)]
    for process in processes:
        process.start()
    visits = [v for _ in processes for v in out.get()]
    for process in processes:
        process.join()
    stack.wait_jobs_done(900)
    cpu_after = stack.cpu()
    outcome = stack.outcome()
    last_signature = max(v.signed_at for v in visits)
    done = max(outcome["last_seal"].timestamp(), outcome["last_mail"].timestamp())
    return {
        "visits": visits, "outcome": outcome, "tail": done - last_signature, "seconds": done - started,
        "cpu": {k: (cpu_after[k] - cpu_before[k]) / stack.cases for k in cpu_after},
    }


def report(label: str, result: dict) -> None:
    visits, outcome = result["visits"], result["outcome"]
    pages = [v.page_seconds * 1000 for v in visits if v.page_status == 200]
    posts = [v.sign_seconds * 1000 for v in visits if v.sign_status in (302, 303)]
    errors = sum(1 for v in visits if v.page_status != 200 or v.sign_status not in (302, 303))
    ok = lambda good: "yes" if good else "NO"  # noqa: E731
    print(f"| {label}: signer page, p50 / p95 | {percentile(pages, 50):.0f} / {percentile(pages, 95):.0f} ms "
          f"| <= {TARGET_P95_MS} ms | {ok(percentile(pages, 95) <= TARGET_P95_MS)} |")
    print(f"| {label}: sign POST, p50 / p95 | {percentile(posts, 50):.0f} / {percentile(posts, 95):.0f} ms "
          f"| <= {TARGET_P95_MS} ms | {ok(percentile(posts, 95) <= TARGET_P95_MS)} |")
    print(f"| {label}: last signature -> last seal and mail | {result['tail']:.1f} s | <= {TARGET_TAIL_S} s "
          f"| {ok(result['tail'] <= TARGET_TAIL_S)} |")
    print(f"| {label}: cases per minute, end to end | {outcome['completed'] / result['seconds'] * 60:.0f} | | |")
    cpu = result["cpu"]
    print(f"| {label}: CPU per case (web / workers / scheduler / PostgreSQL / Redis) | "
          f"{cpu['web'] * 1000:.0f} / {cpu['workers'] * 1000:.0f} / {cpu['scheduler'] * 1000:.0f} / "
          f"{cpu['postgres'] * 1000:.0f} / {cpu['redis'] * 1000:.0f} ms | | |")
    clean = (errors == 0 and outcome["lost_cases"] == 0 and outcome["duplicate_seals"] == 0
             and outcome["duplicate_mails"] == 0 and outcome["lost_mails"] == 0)
    print(f"| {label}: {len(visits)} signatures, {outcome['completed']} sealed, {outcome['received']} mails "
          f"| errors {errors}, duplicates {outcome['duplicate_seals'] + outcome['duplicate_mails']}, "
          f"losses {outcome['lost_cases'] + outcome['lost_mails']} | 0 / 0 / 0 | {ok(clean)} |")


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    print(f"{CASES} cases x 2 signers, {SIGNERS} concurrent signers, 2 gunicorn workers x {Stack.web_threads} "
          f"threads, 2 job workers (nice {os.environ.get('WORKER_NICE', '0')}), PostgreSQL + Redis on loopback; "
          f"load average before: {os.getloadavg()[0]:.1f}\n")
    print("| measure | value | target | met |\n|---|---|---|---|")
    warm = ["-m", "core.cli", "worker"]
    variants = [("back to back", warm, None), (f"reading {THINK[0]:g}-{THINK[1]:g} s", warm, THINK)]
    if os.environ.get("BENCH_COMPARE"):
        variants.append(("before: RQ fork per job", ["-m", "bench.forking_worker"], None))
    for label, command, think in variants:
        stack = Stack(cases=CASES, worker_command=command).start()
        try:
            report(label, run(stack, think))
        finally:
            stack.stop()
        print(f"| {label}: load average after (1 min, machine-wide) | {os.getloadavg()[0]:.1f} | | |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
