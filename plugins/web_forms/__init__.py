"""Web forms: a template becomes a public, signable form; its submissions download as Excel.

On a template the office turns on web automation: which role the visitor plays, whether a phone
number is required, a thank-you text and a daily cap. The form's public link (/f/<random>) asks
who the visitor is, starts the case from the template (owned by the form's owner, with an event
saying it came from the form), and hands the visitor to the core's signer page for their party:
fields, review and the template's signing methods are the core's own. The other roles (fixed
people of the organisation) are invited as usual. The office lists submissions and downloads
them as Excel or CSV with the template's fields as typed columns. The API lists forms and their
submissions, and webhooks announce a new submission and its completion (`api.py`).
"""

from __future__ import annotations

from pathlib import Path

from core.i18n import _l
from core.plugins import hookimpl
from plugins.web_forms.models import NAME


@hookimpl
def plugin_info():
    return {
        "name": NAME,
        "title": _l("Web forms"),
        "description": _l("A template becomes a public form on your website: a visitor fills in, signs, and a case "
                          "starts by itself."),
    }


@hookimpl
def config_keys():
    return {
        # Submissions that start a case, per client IP and per form.
        "WEB_FORM_IP_RATE_LIMIT": "10/3600",
        "WEB_FORM_RATE_LIMIT": "120/3600",
        # How long a visitor's email confirmation link works; unconfirmed submissions are deleted after.
        "WEB_FORM_CONFIRM_HOURS": "24",
    }


@hookimpl
def register_periodic_jobs():
    from core.jobs import PeriodicJob

    return [PeriodicJob("web_forms_expire_unconfirmed", "plugins.web_forms.service.expire_unconfirmed",
                        seconds=600, plugin=NAME)]


@hookimpl
def register_translations():
    return [Path(__file__).parent / "translations"]


@hookimpl
def register_migrations():
    from plugins.web_forms import models  # noqa: F401  (the tables)

    return [Path(__file__).parent / "migrations"]


@hookimpl
def register_blueprints(app):
    from plugins.web_forms import models  # noqa: F401
    from plugins.web_forms.api import bp as api_bp
    from plugins.web_forms.views import bp

    return [bp, api_bp]


@hookimpl
def api_operations():
    from plugins.web_forms.api import operations

    return operations()


@hookimpl
def webhook_events():
    return {"web_form.submission.created": _l("Web form: a visitor's submission started a case"),
            "web_form.submission.completed": _l("Web form: a submission's case is signed and sealed")}


@hookimpl
def case_completed(case):
    from core.api.webhooks import fire
    from plugins.web_forms.api import COMPLETED, submission_json

    submission = _submission_of(case)
    if submission is not None:
        fire(COMPLETED, case, {"submission": submission_json(submission)})


@hookimpl
def menu_items(officer):
    from flask import url_for

    from core.i18n import _

    if officer.tenant.has_plugin(NAME):
        return [(_("Web forms"), url_for("web_forms.index"))]
    return []


def _submission_of(case):
    import sqlalchemy as sa

    from core.extensions import db
    from plugins.web_forms.models import WebFormSubmission

    return db.session.scalar(sa.select(WebFormSubmission).where(WebFormSubmission.case_id == case.id))


def _actions() -> dict:
    from core.i18n import _

    return {"on": _("turned the web form on"), "changed": _("changed the settings"), "paused": _("paused it"),
            "active": _("let it take submissions again"), "rotated": _("gave it a new link"),
            "off": _("turned it off")}


@hookimpl
def ui_panels(slot, context):
    from flask import render_template
    from markupsafe import Markup

    if slot == "template_detail":
        from core.case_templates.service import version_of
        from plugins.web_forms import service
        from plugins.web_forms.views import embed_snippet, public_url

        template = context["template"]
        form = service.form_of(template)
        if form is not None and form.status == service.OFF:
            form = None
        content = version_of(template).content
        html = render_template("web_forms/template_panel.html", template=template, form=form,
                               roles=service.visitor_roles(content),
                               problems=service.role_problems(content, form.role_key) if form else [],
                               public_url=public_url(form) if form else None,
                               snippet=embed_snippet(form) if form else None,
                               changes=service.changes(form) if form else [], actions=_actions())
        return Markup(html)  # noqa: S704  (autoescaped template)
    if slot == "signer_completed":
        case, party = context.get("case"), context.get("party")
        if case is None or party is None:
            return None
        submission = _submission_of(case)
        if submission is None or submission.party_id != party.id or not submission.form.thank_you:
            return None
        html = render_template("web_forms/thank_you.html", text=submission.form.thank_you)
        return Markup(html)  # noqa: S704
    if slot == "case_sidebar":
        case = context.get("case")
        submission = _submission_of(case) if case is not None else None
        if submission is None:
            return None
        html = render_template("web_forms/case_panel.html", submission=submission)
        return Markup(html)  # noqa: S704
    return None


@hookimpl
def event_text(event):
    from core.i18n import _

    if event.kind == "web_form_submitted":
        data = event.data or {}
        return _("Came from the web form of the template %(template)s, sent by %(name)s",
                 template=data.get("template", ""), name=data.get("name", ""))
    return None
