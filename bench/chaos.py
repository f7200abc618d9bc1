"""Fault runs on the production shape (`bench/stack.py`): signers keep signing while a fault hits.

Faults: the work process killed during a seal; a whole worker tree killed; Redis killed and
started again empty; Redis frozen (SIGSTOP) for 40 s; every PostgreSQL connection of the service
cut, five times. Only what this run started is touched: its own redis-server, its own workers,
the connections through its own proxy; never the shared servers.

Per fault it prints requests by status, jobs recovered (run again after their worker died),
seconds to recover (the killed job done again; for Redis faults: every job waiting when Redis
came back started again), duplicates (seals, mails received twice: must be 0) and losses (cases
not sealed, mails not received, jobs failed: must be 0).

Run: `make chaos` or `python -m bench.chaos [fault ...]` (env: CHAOS_CASES, CHAOS_SIGNERS, CHAOS_FREEZE).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from bench.stack import Stack, sign

CASES = int(os.environ.get("CHAOS_CASES", "30"))
SIGNERS = int(os.environ.get("CHAOS_SIGNERS", "10"))
FREEZE_SECONDS = float(os.environ.get("CHAOS_FREEZE", "40"))
RECOVERY_LIMIT = 180


class Run:
    """Signers signing in the background, and the stack they sign on."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.visits: list = []
        self.statuses: Counter = Counter()

    def sign_all(self, pace: float = 0.0) -> threading.Thread:
        from tests.signing.helpers import drawn_signature

        fields = drawn_signature()

        def one(link: str) -> None:
            visit = sign(self.stack.port, link, fields, timeout=120)
            self.visits.append(visit)
            self.statuses[f"page {visit.page_status}"] += 1
            if visit.page_status == 200:
                self.statuses[f"sign {visit.sign_status}"] += 1
            time.sleep(pace)

        def all_of_them() -> None:
            with ThreadPoolExecutor(SIGNERS) as pool:
                list(pool.map(one, self.stack.links))

        thread = threading.Thread(target=all_of_them)
        thread.start()
        return thread

    def resign_failures(self) -> None:
        """A signer whose attempt failed tries again (as a person would): the truth either way."""
        from tests.signing.helpers import drawn_signature

        done = self.signed_parties()
        for link in self.stack.links:
            if link not in done:
                visit = sign(self.stack.port, link, drawn_signature(), timeout=120)
                self.statuses[f"retry {visit.page_status}/{visit.sign_status}"] += 1

    def signed_parties(self) -> set[str]:
        with self.stack.engine.connect() as conn:
            hashes = set(conn.execute(sa.text("SELECT p.token_hash FROM party p JOIN signature s ON s.party_id = p.id"))
                         .scalars())
        from core.security import hash_token

        return {link for link in self.stack.links if hash_token(link.rsplit("/", 1)[-1]) in hashes}

    def running_job(self, queue: str, timeout: float = 120) -> tuple[int, int]:
        """(job id, pid of the worker process running it) of a job running now in `queue`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.stack.engine.connect() as conn:
                row = conn.execute(sa.text("SELECT id, claimed_by FROM job WHERE state = 'running' AND queue = :q "
                                           "ORDER BY id LIMIT 1"), {"q": queue}).first()
            if row and row.claimed_by:
                return row.id, int(row.claimed_by.rsplit(":", 1)[1])
            time.sleep(0.01)
        raise TimeoutError(f"no {queue} job ran within {timeout}s")

    def job_done_at(self, job_id: int, since: float) -> float:
        while time.monotonic() - since < RECOVERY_LIMIT:
            with self.stack.engine.connect() as conn:
                if conn.execute(sa.text("SELECT state FROM job WHERE id = :j"), {"j": job_id}).scalar() == "done":
                    return time.monotonic() - since
            time.sleep(0.1)
        return float("inf")

    def redispatched_within(self, since: float) -> float:
        """Seconds until every job that waited when the fault ended had been started again."""
        ended = time.time()
        with self.stack.engine.connect() as conn:
            waiting = conn.execute(sa.text("SELECT id FROM job WHERE state IN ('pending', 'running')")).scalars().all()
        while waiting and time.monotonic() - since < RECOVERY_LIMIT:
            with self.stack.engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT id, state, started_at FROM job WHERE id = ANY(:ids)"),
                                    {"ids": list(waiting)}).all()
            waiting = [row.id for row in rows if row.state == "pending" or
                       (row.started_at is None or row.started_at.timestamp() < ended)]
            time.sleep(0.1)
        return time.monotonic() - since

    def all_done_at(self, since: float) -> float:
        self.stack.wait_jobs_done(RECOVERY_LIMIT)
        return time.monotonic() - since


def horse_killed(run: Run) -> tuple[float, str]:
    signing = run.sign_all()
    job_id, pid = run.running_job("sealing")
    killed = time.monotonic()
    os.kill(pid, 9)
    recovered = run.job_done_at(job_id, killed)
    signing.join()
    run.all_done_at(killed)
    return recovered, f"seal job {job_id}: its work process {pid} killed"


def tree_killed(run: Run) -> tuple[float, str]:
    signing = run.sign_all()
    job_id, _pid = run.running_job("sealing")
    killed = time.monotonic()
    for number in range(run.stack.workers):
        run.stack.kill(f"worker{number}")  # supervisor and work process: nobody releases the job
    for number in range(run.stack.workers):
        run.stack.start_worker(number)  # as systemd would; the dead tree's job waits for its lease
    recovered = run.job_done_at(job_id, killed)
    signing.join()
    run.all_done_at(killed)
    return recovered, f"seal job {job_id}: both worker trees killed and started again"


def redis_restarted_empty(run: Run) -> tuple[float, str]:
    signing = run.sign_all(pace=0.05)
    run.running_job("sealing")
    run.stack.redis.kill()
    time.sleep(5)
    run.stack.redis.start()  # empty: every queued job is gone from it
    back = time.monotonic()
    redispatched = run.redispatched_within(back)
    signing.join()
    done = run.all_done_at(back)
    return redispatched, f"Redis killed mid-run, started again empty 5 s later (all jobs done after {done:.0f} s)"


def redis_frozen(run: Run) -> tuple[float, str]:
    signing = run.sign_all(pace=0.2)
    run.running_job("sealing")
    run.stack.redis.freeze()
    time.sleep(FREEZE_SECONDS)
    run.stack.redis.thaw()
    thawed = time.monotonic()
    redispatched = run.redispatched_within(thawed)
    signing.join()
    done = run.all_done_at(thawed)
    slowest = max(v.page_seconds for v in run.visits)
    return redispatched, (f"Redis frozen (SIGSTOP) for {FREEZE_SECONDS:.0f} s (slowest page {slowest:.1f} s; "
                          f"all jobs done after {done:.0f} s)")


def postgres_cut(run: Run) -> tuple[float, str]:
    signing = run.sign_all(pace=0.05)
    cuts = 0
    for _ in range(5):
        time.sleep(2)
        cuts += run.stack.proxy.cut()
    last = time.monotonic()
    signing.join()
    run.resign_failures()
    return run.all_done_at(last), f"every service connection to PostgreSQL cut 5 times ({cuts} connections)"


FAULTS: dict[str, tuple[Callable[[Run], tuple[float, str]], dict]] = {
    "horse": (horse_killed, {}),
    "tree": (tree_killed, {}),
    "redis-empty": (redis_restarted_empty, {}),
    "redis-frozen": (redis_frozen, {}),
    "postgres-cut": (postgres_cut, {"proxy_database": True}),
}


def main(names: list[str]) -> int:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    print(f"{CASES} cases x 2 signers, {SIGNERS} concurrent signers; load average {os.getloadavg()[0]:.1f}\n")
    print("| fault | requests by status | jobs recovered | seconds to recover | duplicates | losses |")
    print("|---|---|---|---|---|---|")
    failed = False
    for name in names or list(FAULTS):
        fault, options = FAULTS[name]
        stack = Stack(cases=CASES, **options).start()
        try:
            stack.wait_jobs_done(600)  # the invitations
            run = Run(stack)
            seconds, what = fault(run)
            outcome = stack.outcome()
            with stack.engine.connect() as conn:
                recovered = conn.execute(sa.text("SELECT count(*) FROM job WHERE state = 'done' AND attempts > 1"))\
                    .scalar()
            duplicates = outcome["duplicate_seals"] + outcome["duplicate_mails"]
            losses = outcome["lost_cases"] + outcome["lost_mails"] + outcome["unsent"] + outcome["failed_jobs"]
            statuses = ", ".join(f"{status}: {count}" for status, count in sorted(run.statuses.items()))
            print(f"| {name}: {what} | {statuses} | {recovered} | {seconds:.1f} | {duplicates} | {losses} |",
                  flush=True)
            failed |= bool(duplicates or losses)
        except Exception as exc:  # noqa: BLE001  one fault's failure must not hide the others
            failed = True
            print(f"| {name} | FAILED: {type(exc).__name__}: {exc} | | | | |", flush=True)
        finally:
            stack.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
