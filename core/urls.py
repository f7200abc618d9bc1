"""Absolute links for emails, receipts and QR codes: always on BASE_URL, never the request host."""

from __future__ import annotations

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    return current_app.config["BASE_URL"] + url_for(endpoint, _external=False, **values)
