"""The office's front door and the development outbox."""

from __future__ import annotations

from email import message_from_string, policy
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, redirect, render_template, url_for
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


def _outbox_enabled() -> bool:
    config = current_app.config
    return not config.get("SMTP_URL") and (current_app.debug or config.get("DEBUG_OUTBOX"))


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
