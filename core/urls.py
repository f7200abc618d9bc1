"""Absolute links for emails, receipts and QR codes: always on BASE_URL, never the request host."""

from __future__ import annotations

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """Also works in jobs and periodic tasks, which run outside any request."""
    if has_request_context():
        return current_app.config["BASE_URL"] + url_for(endpoint, _external=False, **values)
    with current_app.test_request_context():
        return current_app.config["BASE_URL"] + url_for(endpoint, _external=False, **values)
