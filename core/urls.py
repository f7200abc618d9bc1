"""Absolute links for emails, receipts and QR codes: always on BASE_URL, never the request host."""

from __future__ import annotations

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """Also works in jobs and periodic tasks, which run outside any request.

    Outside a request the path is built by one URL adapter the app keeps (the same rules, defaults
    and quoting as `url_for` in a blank request), not by a throw-away request context per link: a
    sealed case's mails carry five links, and a request context cost more than the rest of a link.
    """
    app = current_app._get_current_object()
    if has_request_context():
        return app.config["BASE_URL"] + url_for(endpoint, _external=False, **values)
    adapter = app.extensions.get("sigill_url_adapter")
    if adapter is None:
        adapter = app.extensions["sigill_url_adapter"] = app.url_map.bind("localhost", script_name="/")
    app.inject_url_defaults(endpoint, values)
    return app.config["BASE_URL"] + adapter.build(endpoint, values)
