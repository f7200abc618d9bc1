"""Warm a web process before it serves (`core.wsgi`, once in each gunicorn worker).

A fresh worker's first requests paid for what is built lazily once per process: Jinja compiles
each template on first use (~5 ms each, ~0.55 s for all of them), Flask-Babel reads each
language's catalogue, SQLAlchemy initialises the dialect on the first connection and compiles
each statement on its first run. On a signer page that was ~200 ms of CPU for the first request
instead of ~9 ms, and when 50 signers opened their links at once every thread of both workers
paid part of it at the same moment (the scale-out bench's first page loads had 35-99 ms of CPU
each, and the burst's p95 was ~1 s). Doing it here moves that cost to the worker's start, before
gunicorn hands it a connection, and `gc.freeze()` in `core.wsgi` then keeps the result out of
the collector's way.

Nothing here writes: templates are compiled, catalogues read, and the signer link lookup runs
once with a token that cannot exist. Any failure (PostgreSQL not up yet) is logged and the
process starts anyway; the lazy path then does the same work on the first request.
"""

from __future__ import annotations

import logging
import time

from flask import Flask

log = logging.getLogger(__name__)

# Cannot match a real link (those are URL-safe base64 of 32 random bytes).
NO_SUCH_TOKEN = "warm-up.not-a-link"  # noqa: S105  (not a secret)


def warm_web(app: Flask) -> float:
    """Compile every template, load every language's catalogue and run the signer link lookup once;
    returns the CPU seconds spent."""
    started = time.process_time()
    for step in (_templates, _catalogues, _link_lookup):
        try:
            step(app)
        except Exception as exc:  # noqa: BLE001  (a warm-up never stops the process from serving)
            log.warning("warm-up step %s failed (%s); the first request does it instead", step.__name__,
                        type(exc).__name__)
    return time.process_time() - started


def _templates(app: Flask) -> None:
    env = app.jinja_env
    names = env.list_templates()
    if env.cache is not None and getattr(env.cache, "capacity", len(names)) < len(names):
        return  # a smaller cache would only evict what was compiled
    for name in names:
        env.get_template(name)


def _catalogues(app: Flask) -> None:
    from flask_babel import force_locale, get_translations

    with app.test_request_context("/"):
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                get_translations()


def _link_lookup(app: Flask) -> None:
    from core.extensions import db
    from core.signing import service

    with app.app_context():
        try:
            service.find_party(NO_SUCH_TOKEN)
        finally:
            db.session.rollback()
            db.session.remove()
