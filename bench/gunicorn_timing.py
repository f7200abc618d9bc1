"""gunicorn settings for the benches on `bench/stack.py`: the service's own (`core/gunicorn_config.py`)
plus timing hooks. For each request that carries an X-Bench-Request header, one line in
$BENCH_TIMING_LOG with the header, the seconds from the app's start to its end (wall), the CPU
seconds of the thread that served it (the request's own work: wall minus CPU is waiting for the
GIL, a core, PostgreSQL or Redis), the worker's pid and how many of the worker's requests came
before it (0: the worker's first).
"""

import os
import threading
import time

from core.gunicorn_config import *  # noqa: F403  (the production settings)

_local = threading.local()
_lock = threading.Lock()
_served = 0


def pre_request(worker, req):
    global _served
    with _lock:
        _local.order = _served
        _served += 1
    _local.started = (time.perf_counter(), time.thread_time())


def post_request(worker, req, environ, resp):
    name = environ.get("HTTP_X_BENCH_REQUEST")
    started = getattr(_local, "started", None)
    if not name or not started:
        return
    wall, cpu = time.perf_counter() - started[0], time.thread_time() - started[1]
    line = f"{name} {wall:.6f} {cpu:.6f} {os.getpid()} {_local.order}\n"
    with _lock, open(os.environ["BENCH_TIMING_LOG"], "a") as log:
        log.write(line)



# BENCH_REUSE_PORT=1: a listening socket per worker (SO_REUSEPORT), for A/B runs against the default.
if os.environ.get("BENCH_REUSE_PORT") == "1":
    reuse_port = True
