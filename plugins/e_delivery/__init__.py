"""E-delivery: files attached to a case that unlock only once it is signed (e.g. behind an NDA).

Everything lives here and reaches the core only through hooks: the case sidebar panel, the
signer's completion page and email, the receipt's list of delivered files, and the timeline texts.
"""

from __future__ import annotations

from flask import render_template, request
from markupsafe import Markup

from core.i18n import _, _l
from core.plugins import hookimpl
from core.urls import external_url
from plugins.e_delivery import service


@hookimpl
def plugin_info():
    return {
        "name": service.NAME,
        "title": _l("E-delivery"),
        "description": _l("Attach files to a case that the parties can download only once every signature is in."),
        "settings_schema": service.SettingsSchema,
    }


@hookimpl
def config_keys():
    # The secret file keys were wrapped under before FILE_KEYS (core/encryption.py); read for
    # those older rows only, until `sigill files rotate` moved them.
    return {"DELIVERY_KEY": None}


@hookimpl
def reencrypt_files():
    return service.rewrap_all()


@hookimpl
def register_translations():
    from pathlib import Path

    return [Path(__file__).parent / "translations"]


@hookimpl
def register_migrations():
    from pathlib import Path

    from plugins.e_delivery import models  # noqa: F401  (the table, for Alembic and the app)

    return [Path(__file__).parent / "migrations"]


@hookimpl
def register_blueprints(app):
    from plugins.e_delivery import models  # noqa: F401  (the table)
    from plugins.e_delivery.views import bp

    return [bp]


@hookimpl
def ui_panels(slot, context):
    case = context.get("case")
    if case is None:
        return None
    # render_template output is autoescaped HTML, so Markup() marks it safe without trusting input.
    if slot == "case_sidebar":
        html = render_template("e_delivery/case_panel.html", case=case, files=service.files_of(case),
                               open=case.status in service.OPEN_STATUSES)
        return Markup(html)  # noqa: S704
    if slot == "signer_completed" and service.released(case):
        files = service.files_of(case)
        token = (request.view_args or {}).get("token")
        if files and token:
            html = render_template("e_delivery/party_panel.html", files=files, token=token)
            return Markup(html)  # noqa: S704
    return None


@hookimpl
def completion_items(case, party):
    token = getattr(party, "link_token", None)
    if not service.released(case) or not token:
        return []
    return [(_("Delivered file: %(file)s", file=f.filename),
             external_url("e_delivery.party_download", token=token, file_id=f.id)) for f in service.files_of(case)]


@hookimpl
def receipt_sections(case, language):
    files = service.files_of(case)
    if not files:
        return []
    heading = "Levererade filer" if language == "sv" else "Delivered files"
    return [(heading, [f"{f.filename} ({f.size} bytes) SHA-256 {f.sha256}" for f in files])]


@hookimpl
def event_text(event):
    data = event.data or {}
    texts = {
        "delivery_file_added": _("File for delivery attached: %(file)s", file=data.get("filename", "")),
        "delivery_file_removed": _("File for delivery removed: %(file)s", file=data.get("filename", "")),
        "delivery_file_downloaded": _("Delivered file downloaded: %(file)s", file=data.get("filename", "")),
    }
    return texts.get(event.kind)
