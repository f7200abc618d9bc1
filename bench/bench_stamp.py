"""Stamp signature: one person with 1,000 waiting cases (one signer each) signs them all at once.

The production shape (`bench.stack`: PostgreSQL, Redis, gunicorn with 2 sync workers), in two
variants: jobs run by 2 RQ workers (`sigill worker`, with the scheduler), and jobs run in the web
process (no Redis: the embedded runner's threads). The party opens the stamp page (its p95 is
measured with 1,000 waiting cases), ticks all, and signs with one drawn signature; the time counted
is from that POST to the last case sealed. Peak memory (RSS) of every process is sampled during the
run, and read again at each quarter of the run to show whether it stays flat.

Targets: every case signed and sealed in <= 60 s, <= 300 MB per process; the page's p95 <= 50 ms.
The machine has 2 cores that others share: the load average is printed with the figures.

Run: `python -m bench stamp` (env: BENCH_STAMP_CASES, default 1000; BENCH_STAMP_VARIANTS,
default "rq,inline"; BENCH_PAGE_LOADS, default 60).
"""

from __future__ import annotations

import contextlib
import html as htmllib
import http.client
import os
import re
import sys
import threading
import time
import urllib.parse
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import Stack, percentile, tree  # noqa: E402

CASES = int(os.environ.get("BENCH_STAMP_CASES", "1000"))
VARIANTS = [v for v in os.environ.get("BENCH_STAMP_VARIANTS", "rq,inline").split(",") if v]
PAGE_LOADS = int(os.environ.get("BENCH_PAGE_LOADS", "60"))
SIGNER = ("Sara Svensson", "sara@example.com")
TARGET_SECONDS = 60
TARGET_MB = 300
TARGET_PAGE_MS = 50

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_DIGEST = re.compile(r'name="digest:(\d+)" value="([^"]+)"')


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Memory(threading.Thread):
    """Samples the RSS of every process of the stack (each gunicorn and worker process on its own)."""

    def __init__(self, stack: Stack, every: float = 0.25):
        super().__init__(daemon=True)
        self.stack, self.every = stack, every
        self.stop = threading.Event()
        self.peak: dict[str, float] = {}
        self.samples: list[tuple[float, dict[str, float]]] = []

    def run(self) -> None:
        while not self.stop.is_set():
            now: dict[str, float] = {}
            for name, process in list(self.stack.processes.items()):
                for pid in tree(process.pid):
                    key = f"{name}:{pid}"
                    now[key] = rss_mb(pid)
                    self.peak[key] = max(self.peak.get(key, 0.0), now[key])
            self.samples.append((time.monotonic(), now))
            self.stop.wait(self.every)

    def at(self, moment: float) -> dict[str, float]:
        return min(self.samples, key=lambda s: abs(s[0] - moment))[1] if self.samples else {}


def request(port: int, method: str, path: str, body: str | None = None, cookie: str = "",
            timeout: float = 600) -> tuple[int, str, str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        cookies = "; ".join(c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or [])
        return response.status, text, cookies, time.perf_counter() - started
    finally:
        conn.close()


def completed(stack: Stack) -> int:
    import sqlalchemy as sa

    with stack.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM \"case\" WHERE status = 'completed'")).scalar()


def signatures(stack: Stack) -> int:
    import sqlalchemy as sa

    with stack.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM signature")).scalar()


def run(label: str, stack: Stack) -> list[str]:
    from tests.signing.helpers import drawn_signature

    stack.wait_jobs_done(1800)  # the invitations
    stamp = "/stamp" + stack.links[0]
    status, page, cookie, _ = request(stack.port, "GET", stamp)
    if status != 200:
        raise RuntimeError(f"stamp page answered {status}")
    loads = [request(stack.port, "GET", stamp, cookie=cookie)[3] * 1000 for _ in range(PAGE_LOADS)]
    # The party shows every waiting case ("Show all waiting documents"), ticks all and signs.
    status, page, _cookie, all_seconds = request(stack.port, "GET", stamp + "?all=1", cookie=cookie)
    digests = dict(_DIGEST.findall(page))
    print(f"({label}: the first page p95 {percentile(loads, 95):.0f} ms; all {len(digests)} cases listed in "
          f"{all_seconds:.1f} s)", flush=True)
    # The person's own signer page, whose panel counts the waiting cases.
    signer_page = [request(stack.port, "GET", stack.links[0], cookie=cookie)[3] * 1000 for _ in range(PAGE_LOADS)]
    load_before = os.getloadavg()

    memory = Memory(stack)
    memory.start()
    cpu_before = stack.cpu()
    form = [("csrf_token", htmllib.unescape(_CSRF.search(page).group(1))), ("consent", "yes"), ("method", "touch"),
            *(("case", case_id) for case_id in digests), *((f"digest:{k}", v) for k, v in digests.items()),
            *drawn_signature().items()]
    started = time.monotonic()
    status, result, _cookie, post_seconds = request(stack.port, "POST", stamp + "/sign",
                                                    body=urllib.parse.urlencode(form), cookie=cookie)
    signed_message = re.search(r'id="stamp-signed">([^<]+)<', result)
    if status != 200 or not signed_message:
        memory.stop.set()
        raise RuntimeError(f"the stamp POST answered {status}: {result[-1500:]}")
    deadline, said = started + 3600, started
    while (done := completed(stack)) < len(digests) and time.monotonic() < deadline:
        if time.monotonic() - said >= 30:  # a run cut short still shows its pace
            said = time.monotonic()
            print(f"({label}: {said - started:.0f} s after the POST: {signatures(stack)} signed, {done} sealed, "
                  f"largest RSS now {max(memory.samples[-1][1].values() if memory.samples else [0]):.0f} MB, "
                  f"load {os.getloadavg()[0]:.1f})", flush=True)
        time.sleep(0.25)
    sealed_after = time.monotonic() - started
    stack.wait_jobs_done(1800)  # the mails after sealing
    all_done = time.monotonic() - started
    cpu_after = stack.cpu()
    cpu = {k: (cpu_after[k] - cpu_before[k]) / max(1, len(digests)) for k in cpu_after}
    cpu_total = sum(cpu.values()) * len(digests)
    memory.stop.set()
    memory.join()
    load_after = os.getloadavg()
    outcome = stack.outcome()

    quarters = [memory.at(started + sealed_after * q / 4) for q in range(5)]
    flat = []
    for key in sorted(memory.peak, key=lambda k: -memory.peak[k])[:4]:
        flat.append(f"{key.split(':')[0]} " + " / ".join(f"{q.get(key, 0):.0f}" for q in quarters))
    peak_key = max(memory.peak, key=memory.peak.get)
    peak = memory.peak[peak_key]
    ok = lambda good: "yes" if good else "NO"  # noqa: E731
    signatures_ok = outcome["signatures"] == len(digests)
    clean = (outcome["completed"] == len(digests) and outcome["duplicate_seals"] == 0 and signatures_ok
             and outcome["duplicate_mails"] == 0 and outcome["lost_mails"] == 0 and outcome["failed_jobs"] == 0)
    return [
        f"| {label}: stamp page with {len(digests)} waiting cases, p50 / p95 ({PAGE_LOADS} loads) | "
        f"{percentile(loads, 50):.0f} / {percentile(loads, 95):.0f} ms | <= {TARGET_PAGE_MS} ms "
        f"| {ok(percentile(loads, 95) <= TARGET_PAGE_MS)} |",
        f"| {label}: the person's signer page (its panel: \"more than 50 are waiting\"), p50 / p95 | "
        f"{percentile(signer_page, 50):.0f} / {percentile(signer_page, 95):.0f} ms | | |",
        f"| {label}: the page listing all {len(digests)} cases (\"Show all\"), once | {all_seconds * 1000:.0f} ms "
        f"| | |",
        f"| {label}: the sign POST ({signed_message.group(1).strip()}) | {post_seconds:.1f} s | | |",
        f"| {label}: POST to the last case sealed | {sealed_after:.1f} s | <= {TARGET_SECONDS} s "
        f"| {ok(sealed_after <= TARGET_SECONDS)} |",
        f"| {label}: POST to the last job done (mails too) | {all_done:.1f} s | | |",
        f"| {label}: peak RSS of any process ({peak_key.split(':')[0]}) | {peak:.0f} MB | <= {TARGET_MB} MB "
        f"| {ok(peak <= TARGET_MB)} |",
        f"| {label}: RSS at 0/25/50/75/100 % of the run (MB) | {'; '.join(flat)} | flat | |",
        f"| {label}: {outcome['signatures']} signatures, {outcome['completed']} sealed, {outcome['seals']} seal "
        f"events, {outcome['received']} mails | duplicates {outcome['duplicate_seals'] + outcome['duplicate_mails']}, "
        f"losses {outcome['lost_cases'] + outcome['lost_mails']}, failed jobs {outcome['failed_jobs']} "
        f"| 0 / 0 / 0 | {ok(clean)} |",
        f"| {label}: CPU per case (web / workers / PostgreSQL / Redis), from the POST to the last job | "
        f"{cpu['web'] * 1000:.0f} / {cpu['workers'] * 1000:.0f} / {cpu['postgres'] * 1000:.0f} / "
        f"{cpu['redis'] * 1000:.0f} ms | | |",
        f"| {label}: CPU in all, and that spread over {os.cpu_count()} idle cores | {cpu_total:.0f} s; "
        f"{cpu_total / (os.cpu_count() or 1):.0f} s | | |",
        f"| {label}: load average (1 min) before / after the stamp | {load_before[0]:.1f} / {load_after[0]:.1f} "
        f"| | |",
    ]


def main() -> None:
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    print(f"{CASES} cases, one signer each (the same person), 2 gunicorn workers, PostgreSQL on loopback, "
          f"{os.cpu_count()} cores shared with others; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
          "\n")
    rows = ["| measure | value | target | met |", "|---|---|---|---|"]
    for variant in VARIANTS:
        if variant == "rq":
            stack = Stack(cases=CASES, signers_per_case=1, one_signer=SIGNER, plugins=["stamp_signature"])
            label = "2 RQ workers"
        else:
            stack = Stack(cases=CASES, signers_per_case=1, one_signer=SIGNER, plugins=["stamp_signature"],
                          workers=0, scheduler=False, extra_env={"REDIS_URL": "", "SCHEDULER_ENABLED": "1"})
            label = "jobs in the web process"
        seeding = time.monotonic()
        try:
            stack.start()
        except BaseException:  # interrupted while seeding: the database and servers go all the same
            with contextlib.suppress(Exception):  # half started: what exists is stopped
                stack.stop()
            raise
        print(f"({label}: {CASES} cases seeded and served in {time.monotonic() - seeding:.0f} s)", flush=True)
        try:
            rows += run(label, stack)
        finally:
            stack.stop()
        print("\n".join(rows), flush=True)  # after each variant: a later one cut short loses nothing
        rows = rows[:2]


if __name__ == "__main__":
    main()
