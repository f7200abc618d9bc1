"""Liveness and readiness for load balancers and supervisors.

`/healthz` (liveness): the process answers; nothing else is asked, so a database or Redis outage
never gets healthy web processes restarted. `/readyz` (readiness): can this process serve? The
database is required (503 names it when it fails). Redis is reported but not required: without it
rate limits fall back and jobs wait for the sweeper, so the process stays in the load balancer
("degraded", with the failing dependency named).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from core import redis_link
from core.extensions import db


def readiness(app: Flask) -> tuple[dict, int]:
    report: dict = {"status": "ready", "database": "ok"}
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:  # noqa: BLE001
        report.update(status="unavailable", database=f"error: {type(exc).__name__}", failing=["database"])
    if app.config.get("REDIS_URL"):
        try:
            redis_link.call(lambda conn: conn.ping(), app)
            report["redis"] = "ok"
        except redis_link.RedisUnavailable as exc:
            report["redis"] = f"error: {exc}"
            report.setdefault("failing", []).append("redis")
            if report["status"] == "ready":
                report["status"] = "degraded"
    return report, (503 if report["status"] == "unavailable" else 200)
