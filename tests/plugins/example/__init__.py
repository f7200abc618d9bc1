"""The worked example of docs/plugins.md: a plugin that uses only the documented surface.

"Example notice" lets an organisation publish a short notice: on a public page under its slug, on
a public page a party reaches with their own signing link, and in a panel of the signer page.
Its settings are the notice's text and a few choices. When `require_confirmation` is on, every
signer first confirms, on the plugin's own page, that they read the notice (a step before
signing); the confirmation goes into the signature's evidence. Visits of the public page are rows
of its own table (its own Alembic branch, `migrations/`), forgotten after a day by a periodic job.
In the API, `GET /api/v1/example/notice` gives the notice and the count of visits (described for
the OpenAPI document by `api_operations`); a confirmation fires the webhook
`example.notice.confirmed` (declared by `webhook_events`).
The tests load it with `create_app(plugins=[example])`; a real plugin would be an installed
package with a `sigill.plugins` entry point.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from markupsafe import Markup
from marshmallow import Schema, fields, validate

from core.api.views import plugin_api_blueprint
from core.api.webhooks import fire
from core.cases import events
from core.extensions import db
from core.i18n import _
from core.jobs import PeriodicJob
from core.models import Event, Tenant
from core.models.base import utcnow
from core.plugins import hookimpl, plugin_guard, plugin_settings, public
from core.signing.methods import MethodRefused, MethodResult, SigningMethod
from core.signing.steps import SigningStep
from tests.plugins.example.models import NoticeVisit

NAME = "example"


class Settings(Schema):
    notice = fields.String(load_default="Welcome.", validate=validate.Length(max=200),
                           metadata={"label": "Notice", "description": "Shown on the organisation's public page."})
    show_to_parties = fields.Boolean(load_default=True, metadata={"label": "Show the notice to parties"})
    colour = fields.String(load_default="blue", validate=validate.OneOf(["blue", "green"], labels=["Blue", "Green"]),
                           metadata={"label": "Colour"})
    max_visits = fields.Integer(load_default=10, validate=validate.Range(1, 100), metadata={"label": "Visits a day"})
    require_confirmation = fields.Boolean(load_default=False,
                                          metadata={"label": "Signers confirm the notice before signing"})


@hookimpl
def plugin_info():
    return {"name": NAME, "title": "Example notice", "description": "A public notice per organisation.",
            "settings_schema": Settings}


class NoticeWordMethod(SigningMethod):
    """Sign by typing the last word of the organisation's notice (a toy: it proves reading, not who)."""

    name = "notice_word"
    label = "Type the notice's last word"
    title = "Notice word"
    template = "example/sign_method.html"
    order = 60

    def template_context(self, ctx):
        return {"hint": "The notice's last word"}

    def verify(self, ctx, form):
        notice = plugin_settings(db.session.get(Tenant, ctx.case.tenant_id), NAME)["notice"]
        expected = (notice.split() or [""])[-1].strip(".,!?").casefold()
        if (form.get("notice_word") or "").strip().casefold() != expected:
            raise MethodRefused(_("That is not the notice's last word."))
        return MethodResult(evidence={"notice_word": expected}, summary={"matched": True})

    def evidence_lines(self, signature):
        return [("Notice word", (signature.evidence or {}).get("notice_word", ""))]


@hookimpl
def register_signing_methods():
    return [NoticeWordMethod]


@hookimpl
def register_translations():
    from pathlib import Path

    return [Path(__file__).parent / "translations"]


@hookimpl
def register_migrations():
    from pathlib import Path

    return [Path(__file__).parent / "migrations"]


@hookimpl
def register_periodic_jobs():
    return [PeriodicJob("example_forget_visits", forget_visits, seconds=3600, plugin=NAME)]


def forget_visits(tenant) -> int:
    """Visits are kept for a day (runs per tenant with the plugin on, in its context)."""
    from datetime import timedelta

    return db.session.execute(sa.delete(NoticeVisit).where(NoticeVisit.visited_at < utcnow() - timedelta(days=1))
                              ).rowcount


@hookimpl
def config_keys():
    return {"EXAMPLE_SIGNATURE": "sent by the example plugin"}


def _party_tenant(token: str, **_):
    from core.signing.service import find_party

    party = find_party(token)  # a signing link's party, looked up across tenants by its hashed token
    return db.session.get(Tenant, party.tenant_id) if party is not None else None


@hookimpl
def register_blueprints(app):
    bp = Blueprint(NAME, __name__, url_prefix="/example", template_folder="templates")
    bp.before_request(plugin_guard(NAME))

    @bp.get("/office")
    def office():  # not public: an officer of a tenant with the plugin on
        return f"office of {g.tenant.name}"

    @bp.get("/o/<slug>")
    @public(slug="slug")
    def notice(slug: str):
        db.session.add(NoticeVisit(language=request.accept_languages.best or ""))
        db.session.commit()
        visits = db.session.scalar(sa.select(sa.func.count()).select_from(NoticeVisit))
        return render_template("example/notice.html", tenant=g.tenant, settings=plugin_settings(g.tenant, NAME),
                               visits=visits)

    @bp.get("/p/<token>")
    @public(_party_tenant)
    def party_notice(token: str):
        settings = plugin_settings(g.tenant, NAME)
        if not settings["show_to_parties"]:
            abort(404)
        return render_template("example/notice.html", tenant=g.tenant, settings=settings)

    @bp.route("/confirm/<token>", methods=["GET", "POST"])
    @public(link="token")  # the organisation of the signing link in the URL
    @with_link("open")
    def confirm(token: str, link):
        """The step's page: the party reads the notice and confirms it; then back to signing."""
        if request.method == "POST":
            if not _confirmed(link.case, link.party):
                events.record(link.case, "example_confirmed", "party", actor_id=link.party.id,
                              actor_label=link.party.name, data={"party": link.party.id})
                fire(CONFIRMED, link.case, {"party_id": link.party.id})  # numbered by the event just recorded
                db.session.commit()
            return redirect(url_for("signing.open", token=token))
        return render_template("example/confirm.html", link=link, token=token,
                               settings=plugin_settings(link.tenant, NAME))

    api_bp = plugin_api_blueprint(NAME, __name__)  # /api/v1, the organisation's API key, 404 when off

    @api_bp.get("/example/notice")
    def api_notice():
        visits = db.session.scalar(sa.select(sa.func.count()).select_from(NoticeVisit))
        return {"notice": plugin_settings(g.tenant, NAME)["notice"], "visits": visits}

    return [bp, api_bp]


class NoticeOut(Schema):
    notice = fields.String()
    visits = fields.Integer()


@hookimpl
def api_operations():
    return {"schemas": {"ExampleNotice": NoticeOut},
            "paths": [("/example/notice", "get", {
                "operationId": "exampleNotice", "summary": "The organisation's notice (plugin: example)",
                "responses": {"200": {"description": "The notice and its visits.",
                                      "content": {"application/json": {"schema": "ExampleNotice"}}},
                              "404": {"description": "The organisation has the plugin off.",
                                      "content": {"application/json": {"schema": "Error"}}}}})]}


CONFIRMED = "example.notice.confirmed"


@hookimpl
def webhook_events():
    return {CONFIRMED: "A signer confirmed the notice"}


def with_link(*states):  # the signer's link decorator, imported late: it needs the app's blueprints
    from core.signing.views import with_link as core_with_link

    return core_with_link(*states)


def _confirmed(case, party) -> Event | None:
    return db.session.scalars(sa.select(Event).where(
        Event.case_id == case.id, Event.kind == "example_confirmed", Event.actor_id == party.id)).first()


@hookimpl
def signing_steps(case, party):
    if not plugin_settings(db.session.get(Tenant, case.tenant_id), NAME)["require_confirmation"]:
        return []
    return [SigningStep(name="example_confirm", label=_("Confirm that you read the notice"),
                        endpoint="example.confirm", done=_confirmed(case, party) is not None)]


@hookimpl
def signature_evidence(case, party, method):
    confirmed = _confirmed(case, party)
    if confirmed is None:
        return None
    return {NAME: {"confirmed_event": confirmed.id, "method": method}}


@hookimpl
def ui_panels(slot, context):
    if slot != "signer_page":
        return None
    notice = plugin_settings(db.session.get(Tenant, context["case"].tenant_id), NAME)["notice"]
    link = url_for("example.party_notice", token=context["token"])
    return Markup('<aside class="card example-notice"><p>{}</p><a href="{}">More</a></aside>').format(notice, link)


@hookimpl
def receipt_sections(case, language):
    lines = [f"{s.party.name}: event {s.evidence['plugins'][NAME]['confirmed_event']}"
             for s in _signatures(case) if NAME in (s.evidence or {}).get("plugins", {})]
    heading = "Bekräftat meddelande" if language == "sv" else "Notice confirmed"
    return [(heading, lines)] if lines else []


def _signatures(case):
    from core.models import Signature

    return db.session.scalars(sa.select(Signature).where(Signature.case_id == case.id).order_by(Signature.id)).all()


@hookimpl
def export_columns(cases):
    confirmed = set()
    if cases:
        confirmed = set(db.session.scalars(sa.select(Event.case_id).where(
            Event.case_id.in_([c.id for c in cases]), Event.kind == "example_confirmed")))
    return [("Notice confirmed", {c.id: c.id in confirmed for c in cases})]


@hookimpl
def event_text(event):
    return "Confirmed the notice" if event.kind == "example_confirmed" else None
