"""Rate limits shared by every web process: Redis when configured, else the database.

Sliding-window counters: hits are counted per fixed window, and a request is judged by this
window's count plus the previous window's, weighted by how much of it still lies within the last
`seconds`. Plain fixed windows would let 2x the limit through around a window boundary.

When Redis is away (or slow: see `core.redis_link`), limits that guard secrets (login, password
reset and invitation links, SMS codes, BankID starts) keep counting in the database: they fail
closed. The others (signer links, verification, the API) let requests through: they fail open,
so reading a case or a document does not depend on Redis.
"""

from __future__ import annotations

import time

from flask import abort, current_app

from core import redis_link
from core.extensions import db
from core.security import keyed_hash

# Buckets (by prefix) that guard secrets against guessing: never let through unchecked.
GUARDED = ("login-", "forgot-", "officer-link", "sms-", "bankid-")


def parse(rule: str) -> tuple[int, int]:
    """"10/300" -> (10 hits, 300 seconds)."""
    limit, seconds = rule.split("/")
    return int(limit), int(seconds)


def hit(bucket: str, subject: str, rule: str) -> bool:
    """Count one hit; True while within the limit. The subject (IP, email) is stored keyed-hashed."""
    return _judge(bucket, subject, rule, count=True)


def within(bucket: str, subject: str, rule: str) -> bool:
    """True while the hits counted so far leave room for one more; counts nothing."""
    return _judge(bucket, subject, rule, count=False)


def refund(bucket: str, subject: str, rule: str) -> None:
    """Take back one hit of this window (a hit counted up front that turned out not to count, e.g. a
    right password: counting first keeps parallel requests from all slipping under the limit)."""
    _limit, seconds = parse(rule)
    window = int(time.time()) // seconds
    key = f"{bucket}:{keyed_hash(bucket, subject)[:32]}"
    if current_app.config.get("REDIS_URL"):
        try:
            redis_link.call(lambda conn: _redis_refund(conn, f"sigill:rl:{key}:{window}"))
            return
        except redis_link.RedisUnavailable:
            if not bucket.startswith(GUARDED):
                return
    from core.models import RateLimitHit

    table = RateLimitHit.__table__
    with db.engine.begin() as conn:
        conn.execute(table.update().where(table.c.key == key, table.c.window == window, table.c.count > 0)
                     .values(count=table.c.count - 1))


def _redis_refund(conn, rkey: str) -> None:
    if conn.decr(rkey) < 0:
        conn.incr(rkey)  # nothing was counted in this window (it has just begun)


def _judge(bucket: str, subject: str, rule: str, count: bool) -> bool:
    limit, seconds = parse(rule)
    now = time.time()
    window = int(now) // seconds
    key = f"{bucket}:{keyed_hash(bucket, subject)[:32]}"
    if current_app.config.get("REDIS_URL"):
        try:
            hits, previous = redis_link.call(lambda conn: _redis_hit(conn, key, window, seconds, count))
        except redis_link.RedisUnavailable:
            if not bucket.startswith(GUARDED):
                return True
            hits, previous = _db_hit(key, window, count)
    else:
        hits, previous = _db_hit(key, window, count)
    elapsed = (now - window * seconds) / seconds  # share of this window gone by
    weighted = previous * (1 - elapsed) + hits
    return weighted <= limit if count else weighted + 1 <= limit


def _redis_hit(conn, key: str, window: int, seconds: int, count: bool = True) -> tuple[int, int]:
    rkey = f"sigill:rl:{key}:{window}"
    if not count:
        current, previous = conn.mget(rkey, f"sigill:rl:{key}:{window - 1}")
        return int(current or 0), int(previous or 0)
    pipe = conn.pipeline()
    pipe.incr(rkey)
    pipe.expire(rkey, 2 * seconds + 5)
    pipe.get(f"sigill:rl:{key}:{window - 1}")
    count, _expiry, previous = pipe.execute()
    return count, int(previous or 0)


def _db_hit(key: str, window: int, count: bool = True) -> tuple[int, int]:
    """Count a hit in `window` (unless not `count`); returns (this window's count, the previous one's)."""
    from core.models import RateLimitHit

    table = RateLimitHit.__table__
    if not count:
        with db.engine.connect() as conn:
            counts = dict(conn.execute(
                table.select().with_only_columns(table.c.window, table.c.count)
                .where(table.c.key == key, table.c.window >= window - 1)
            ).all())
        return counts.get(window, 0), counts.get(window - 1, 0)
    # A separate connection so the count survives a rollback of the request's work.
    with db.engine.begin() as conn:
        updated = conn.execute(
            table.update().where(table.c.key == key, table.c.window == window).values(count=table.c.count + 1)
        )
        if updated.rowcount == 0:
            try:
                with conn.begin_nested():
                    conn.execute(table.insert().values(key=key, window=window, count=1))
            except Exception:  # noqa: BLE001  another process inserted first
                conn.execute(
                    table.update().where(table.c.key == key, table.c.window == window).values(count=table.c.count + 1)
                )
        counts = dict(conn.execute(
            table.select().with_only_columns(table.c.window, table.c.count)
            .where(table.c.key == key, table.c.window >= window - 1)
        ).all())
        conn.execute(table.delete().where(table.c.key == key, table.c.window < window - 1))
    return counts.get(window, 0), counts.get(window - 1, 0)


def limit_or_429(bucket: str, subject: str, rule: str) -> None:
    if not hit(bucket, subject, rule):
        abort(429)
