"""Ending database sessions when the database may have cut the connection under them."""

from __future__ import annotations

import contextlib
import logging

from core.extensions import db

log = logging.getLogger(__name__)


def end_session() -> None:
    """Close the current session; on a broken connection, invalidate it instead of raising."""
    try:
        db.session.remove()
    except Exception as exc:  # noqa: BLE001
        log.warning("database session ended with an error (%s); its connection is discarded", type(exc).__name__)
        with contextlib.suppress(Exception):  # nothing more to save: the registry forgets the session below
            db.session.invalidate()
        db.session.registry.clear()


def safe_rollback() -> None:
    """Roll back, or discard the session if its connection is gone (error pages must still render)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001
        end_session()
