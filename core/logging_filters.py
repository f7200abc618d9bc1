"""Keeping link tokens out of log lines that carry request paths.

Signer links (/s/<token>), password-reset and invitation links carry their secret in the path, and
three loggers write paths: werkzeug's request log (`flask run`, the test servers), Flask's
"Exception on <path> [METHOD]" (the app's logger) and gunicorn's error log. `SecretPathFilter`
rewrites such records with `core.security.mask_link_tokens`; `install(app)` (called by
`create_app`) puts it on those loggers. gunicorn's access log is masked by
`core.gunicorn_logging.MaskingLogger` (`--logger-class`).

Everything else the service logs names rows by id and masks phone and personal numbers itself
(`core.security.mask_phone`, `mask_personal_number`); tests/test_no_secrets_in_logs.py checks it.
"""

from __future__ import annotations

import logging

from flask import Flask

from core.security import mask_link_tokens

PATH_LOGGERS = ("werkzeug", "gunicorn.error")


class SecretPathFilter(logging.Filter):
    """Masks link tokens in the record's message (rendered with its arguments); never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001  (a broken record is logging's own business to report)
            return True
        masked = mask_link_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_on(logger: logging.Logger) -> None:
    if not any(isinstance(f, SecretPathFilter) for f in logger.filters):
        logger.addFilter(SecretPathFilter())


def install(app: Flask) -> None:
    for name in PATH_LOGGERS:
        install_on(logging.getLogger(name))
    install_on(app.logger)
