"""The worked example of docs/plugins.md: a plugin that uses only the documented surface.

"Example notice" lets an organisation publish a short notice: on a public page under its slug, and
on a public page a party reaches with their own signing link. Its one setting is the notice's text
(and whether the party page shows it). The tests load it with `create_app(plugins=[example])`; a
real plugin would be an installed package with a `sigill.plugins` entry point.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template
from marshmallow import Schema, fields, validate

from core.plugins import hookimpl, plugin_guard, plugin_settings, public

NAME = "example"


class Settings(Schema):
    notice = fields.String(load_default="Welcome.", validate=validate.Length(max=200),
                           metadata={"label": "Notice", "description": "Shown on the organisation's public page."})
    show_to_parties = fields.Boolean(load_default=True, metadata={"label": "Show the notice to parties"})
    colour = fields.String(load_default="blue", validate=validate.OneOf(["blue", "green"], labels=["Blue", "Green"]),
                           metadata={"label": "Colour"})
    max_visits = fields.Integer(load_default=10, validate=validate.Range(1, 100), metadata={"label": "Visits a day"})


@hookimpl
def plugin_info():
    return {"name": NAME, "title": "Example notice", "description": "A public notice per organisation.",
            "settings_schema": Settings}


@hookimpl
def config_keys():
    return {"EXAMPLE_SIGNATURE": "sent by the example plugin"}


def _party_tenant(token: str, **_):
    from core.extensions import db
    from core.models import Tenant
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
        return render_template("example/notice.html", tenant=g.tenant, settings=plugin_settings(g.tenant, NAME))

    @bp.get("/p/<token>")
    @public(_party_tenant)
    def party_notice(token: str):
        settings = plugin_settings(g.tenant, NAME)
        if not settings["show_to_parties"]:
            abort(404)
        return render_template("example/notice.html", tenant=g.tenant, settings=settings)

    return [bp]
