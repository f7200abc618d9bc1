"""The office's front door and the development outbox."""

from __future__ import annotations

import ipaddress
from email import message_from_string, policy
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from core.mail import outbox_dir
from core.plugins import current_hooks

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("cases.index"))


def outbox_refusal(config) -> str | None:
    """Why the development outbox page is off, or None when it is on (for loopback clients only).

    The page shows every tenant's emails, reset and invitation links included: it exists for a
    developer's own machine, so never where the service has an address others can reach."""
    if config.get("SMTP_URL"):
        return "mail goes out through SMTP_URL"
    if not (config.get("DEBUG") or config.get("DEBUG_OUTBOX")):
        return "DEBUG_OUTBOX is not set"
    if not is_local_url(config.get("BASE_URL") or ""):
        return f"BASE_URL {config.get('BASE_URL')} is not a local address"
    return None


def is_local_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "localhost" or host.endswith(".localhost") or _is_loopback(host)


def _is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _outbox_enabled() -> bool:
    if outbox_refusal(current_app.config) is not None:
        return False
    # Only a browser on this machine: a request that came through a proxy is not one, whatever
    # address the proxy connected from.
    proxied = any(request.headers.get(name) for name in ("X-Forwarded-For", "Forwarded", "X-Real-IP"))
    return not proxied and _is_loopback(request.remote_addr)


def _outbox_file(name: str) -> Path:
    path = outbox_dir() / name
    if not _outbox_enabled() or "/" in name or not name.endswith(".eml") or not path.is_file():
        abort(404)
    return path


@bp.get("/dev/outbox")
def outbox():
    if not _outbox_enabled():
        abort(404)
    messages = []
    for path in sorted(outbox_dir().glob("*.eml"), reverse=True)[:200]:
        msg = message_from_string(path.read_text(), policy=policy.default)
        messages.append({"name": path.name, "to": msg["To"], "subject": msg["Subject"], "date": path.name[:15]})
    from core.sms import outbox_messages

    texts = outbox_messages(Path(current_app.config["OUTBOX_DIR"]) / "sms", limit=50)
    return render_template("dev/outbox.html", messages=messages, texts=texts)


@bp.get("/dev/outbox/<name>")
def outbox_message(name: str):
    msg = message_from_string(_outbox_file(name).read_text(), policy=policy.default)
    body = msg.get_body(preferencelist=("html", "plain"))
    content = body.get_content()
    if body.get_content_type() == "text/plain":
        return Response(content, mimetype="text/plain")
    return Response(content, mimetype="text/html")


def ui_panels(slot: str, **context) -> Markup:
    """Template helper: everything the tenant's enabled plugins put in a named slot."""
    parts = current_hooks().ui_panels(slot=slot, context=context)
    # Plugins return Markup they built from escaped templates; plain strings are escaped here.
    return Markup("\n").join(p for p in parts if p)


@bp.app_context_processor
def _office_context():
    def menu():
        if not current_user.is_authenticated:
            return []
        items = []
        for extra in current_hooks().menu_items(officer=current_user):
            items.extend(extra or [])
        return items

    return {"ui_panels": ui_panels, "plugin_menu": menu}
