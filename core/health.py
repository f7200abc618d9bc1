"""Readiness for load balancers: the database and, when configured, Redis."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from core.extensions import db


def check(app: Flask) -> dict:
    report: dict = {"ok": True, "database": "ok"}
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:  # noqa: BLE001
        report.update(ok=False, database=f"error: {type(exc).__name__}")
    if app.config.get("REDIS_URL"):
        try:
            from core.jobs import redis_connection

            redis_connection().ping()
            report["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            report.update(ok=False, redis=f"error: {type(exc).__name__}")
    return report
