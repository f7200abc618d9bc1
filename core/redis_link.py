"""The process's connection to Redis: short timeouts, and a breaker that stops waiting on a dead one.

Web requests touch Redis for rate limits and to hand jobs to the workers. A Redis that is down
answers at once, but one that is frozen (or a network that drops packets) lets every call wait
for its socket timeout. So calls have short timeouts (`REDIS_TIMEOUT`, 0.5 s), and after a failure
the breaker stays open for `REDIS_RETRY_AFTER` seconds: callers skip Redis and use their fallback
(rate limits count in the database, jobs wait for the sweeper) instead of each paying the timeout.

One connection pool per process: a forked worker builds its own rather than share sockets.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_lock = threading.Lock()
_open_until: dict[str, float] = {}


class RedisUnavailable(RuntimeError):
    """Redis failed just now (or the breaker is open): use the fallback."""


def connection(app: Flask | None = None, timeout: float | None = None) -> Redis:
    """This process's Redis client for the app (built once per process and timeout)."""
    app = app or current_app._get_current_object()
    timeout = float(timeout if timeout is not None else app.config["REDIS_TIMEOUT"])
    cache = app.extensions.setdefault("sigill_redis", {})
    key = (os.getpid(), timeout)
    conn = cache.get(key)
    if conn is None:
        conn = cache[key] = Redis.from_url(app.config["REDIS_URL"], socket_timeout=timeout,
                                           socket_connect_timeout=timeout, health_check_interval=10)
    return conn


def available(app: Flask | None = None) -> bool:
    """False while the breaker is open after a recent failure."""
    app = app or current_app._get_current_object()
    return time.monotonic() >= _open_until.get(app.config["REDIS_URL"], 0.0)


def failed(app: Flask | None = None, error: BaseException | None = None) -> None:
    """Open the breaker: for a while this process does not wait on Redis."""
    app = app or current_app._get_current_object()
    with _lock:
        first = available(app)
        _open_until[app.config["REDIS_URL"]] = time.monotonic() + float(app.config["REDIS_RETRY_AFTER"])
    if first:
        log.warning("Redis failed (%s); using fallbacks for %ss", type(error).__name__ if error else "error",
                    app.config["REDIS_RETRY_AFTER"])


def call(func, app: Flask | None = None):
    """`func(connection)`, or RedisUnavailable when the breaker is open or the call fails."""
    app = app or current_app._get_current_object()
    if not available(app):
        raise RedisUnavailable("Redis is unavailable (breaker open)")
    try:
        return func(connection(app))
    except (RedisError, OSError) as exc:
        failed(app, exc)
        raise RedisUnavailable(f"Redis failed: {type(exc).__name__}") from exc
