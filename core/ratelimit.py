"""Fixed-window rate limits, shared by every web process: Redis when configured, else the database."""

from __future__ import annotations

import time

from flask import abort, current_app

from core.extensions import db
from core.security import keyed_hash


def parse(rule: str) -> tuple[int, int]:
    """"10/300" -> (10 hits, 300 seconds)."""
    limit, seconds = rule.split("/")
    return int(limit), int(seconds)


def hit(bucket: str, subject: str, rule: str) -> bool:
    """Count one hit; True while within the limit. The subject (IP, email) is stored keyed-hashed."""
    limit, seconds = parse(rule)
    window = int(time.time()) // seconds
    key = f"{bucket}:{keyed_hash(bucket, subject)[:32]}"
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        from core.jobs import redis_connection

        conn = redis_connection()
        rkey = f"sigill:rl:{key}:{window}"
        pipe = conn.pipeline()
        pipe.incr(rkey)
        pipe.expire(rkey, seconds + 5)
        count = pipe.execute()[0]
    else:
        count = _db_hit(key, window)
    return count <= limit


def _db_hit(key: str, window: int) -> int:
    from core.models import RateLimitHit

    # A separate connection so the count survives a rollback of the request's work.
    with db.engine.begin() as conn:
        table = RateLimitHit.__table__
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
        count = conn.execute(
            table.select().with_only_columns(table.c.count).where(table.c.key == key, table.c.window == window)
        ).scalar_one()
        conn.execute(table.delete().where(table.c.key == key, table.c.window < window - 1))
    return count


def limit_or_429(bucket: str, subject: str, rule: str) -> None:
    if not hit(bucket, subject, rule):
        abort(429)
