"""Seal in the job's bounded child: a child forked per document vs one reused across documents.

Run: .venv/bin/python bench/bench_seal_child.py [--quick]
The sealing job (core/sealing/jobs.py) seals each document in a bounded child (core/bounded.py).
Forked per document, the fork, its copy-on-write faults and its exit cost a warm worker ~25-30 ms
of CPU on a ~40 ms seal; the reused child (SEAL_REUSE_CHILD, the default) is forked once and fed
document after document. This seals one document (10 pages, 20 filled values, 3 drawn signatures,
B-B with the development seal) through `jobs._bounded_seal` in a process warmed as `sigill
worker` warms its work process (app, seal, a warm-up seal, gc.freeze), both ways in alternating
blocks, and prints per document: the CPU of the worker and its children together (getrusage of
this process and its reaped children, plus /proc of the live reused child), the worker's own CPU
and the wall time (median), with the load average (the machine is shared: CPU is the figure that
load hardly changes).
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_sealing import field_layer  # noqa: E402
from core import bounded  # noqa: E402
from tests.sealing.conftest import FINGERPRINT, VERIFY_URL, make_receipt  # noqa: E402
from tests.sealing.pdfs import MIXED_SIZES, reportlab_pdf  # noqa: E402

PAGES = 10
TICK = os.sysconf("SC_CLK_TCK")


def _own_and_reaped() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _live_child() -> float:
    """CPU seconds of this thread's reused child so far (0 without one)."""
    child = getattr(bounded._local, "child", None)
    if child is None or not child.pid:
        return 0.0
    try:
        fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _child_rss_mb() -> float:
    child = getattr(bounded._local, "child", None)
    try:
        for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (AttributeError, FileNotFoundError):
        pass
    return 0.0


def _block(seal, documents: int) -> tuple[float, float, list[float]]:
    """Seal `documents` times: worker + children CPU s, worker CPU s, wall ms per seal."""
    own, reaped = _own_and_reaped()
    live = _live_child()
    walls = []
    for _ in range(documents):
        started = time.perf_counter()
        seal()
        walls.append((time.perf_counter() - started) * 1000)
    own_after, reaped_after = _own_and_reaped()
    live_after = _live_child()
    # A child reaped in between (recycled) counts in `reaped`; its live share before is in `live`.
    total = (own_after - own) + (reaped_after - reaped) + max(0.0, live_after - live)
    return total, own_after - own, walls


def main(quick: bool = False) -> None:
    import gc
    import logging

    from core.app import create_app
    from core.sealing import jobs as sealing_jobs
    from core.sealing.service import seal_setup
    from core.worker import preload
    from tests.conftest import base_config

    logging.disable(logging.WARNING)
    rounds, documents = (2, 5) if quick else (4, 15)
    with tempfile.TemporaryDirectory() as directory:
        app = create_app(base_config(Path(directory)))
        preload(app)  # as `sigill worker`: job modules, the seal, a warm-up seal
        original = reportlab_pdf(PAGES, MIXED_SIZES)
        receipt, layer = make_receipt(PAGES), field_layer(PAGES)
        with app.app_context():
            setup = seal_setup(app)
            gc.freeze()

            def seal():
                sealing_jobs._bounded_seal("bench.pdf", setup, original, FINGERPRINT, VERIFY_URL, receipt, "sv", layer)

            results = {"fork per document": [0.0, 0.0, []], "reused child": [0.0, 0.0, []]}
            rss = []
            load = os.getloadavg()[0]
            for _ in range(rounds):
                for mode, reuse in (("fork per document", False), ("reused child", True)):
                    app.config["SEAL_REUSE_CHILD"] = reuse
                    seal()  # warm-up (the reused child's fork happens here, on its first use)
                    if reuse:
                        rss.append(_child_rss_mb())
                    total, own, walls = _block(seal, documents)
                    results[mode][0] += total
                    results[mode][1] += own
                    results[mode][2] += walls
            rss.append(_child_rss_mb())
            bounded.close_reused()
        count = rounds * documents
        print(f"Load average: {load:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs; "
              f"{count} documents each way ({PAGES} pages, 20 values, 3 signatures, B-B), worker RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB\n")
        print("| seal in the job's bounded child | CPU ms per document (worker + children) "
              "| worker's own CPU ms | wall median ms | wall p90 ms |")
        print("|---|---|---|---|---|")
        for mode, (total, own, walls) in results.items():
            walls = sorted(walls)
            print(f"| {mode} | {total / count * 1000:.1f} | {own / count * 1000:.1f} "
                  f"| {statistics.median(walls):.1f} | {walls[int(0.9 * (len(walls) - 1))]:.1f} |")
        fork, reused = (results[m][0] for m in results)
        after = [1 + r * (documents + 1) for r in range(rounds)] + [rounds * (documents + 1)]
        print(f"\nThe reused child's RSS (pages shared with the worker included) after "
              f"{', '.join(map(str, after))} documents: {', '.join(f'{mb:.0f}' for mb in rss)} MB.")
        print(f"Saved per document: {(fork - reused) / count * 1000:.1f} ms of CPU "
              f"({(fork - reused) / fork:.0%} of the seal's CPU in the worker).")
        logging.disable(logging.NOTSET)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer documents, for a smoke test")
    main(quick=parser.parse_args().quick)
