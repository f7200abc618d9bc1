"""The tenant admin page: officers, invitations, settings, plugins."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.auth import service as accounts
from core.auth.forms import InviteForm
from core.extensions import db
from core.i18n import _
from core.plugins import current_hooks, plugin_infos, settings_schema
from tenants import plugin_settings, service
from tenants.forms import PluginToggleForm, TenantSettingsForm
from tenants.models import DEFAULT_SETTINGS

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.get("/")
@admin_required
def index():
    return _index()


def _index(plugin_errors: dict | None = None, status: int = 200):
    """The admin page; `plugin_errors`: {plugin name: SettingsError} of a refused settings form."""
    tenant = g.tenant
    plugin_errors = plugin_errors or {}
    plugins = plugin_infos(current_app.extensions["sigill_pm"])
    plugin_fields = {}
    for info in plugins:
        if tenant.has_plugin(info["name"]) and info.get("settings_schema") is not None:
            refused = plugin_errors.get(info["name"])
            plugin_fields[info["name"]] = plugin_settings.form_fields(
                tenant, info["name"], refused.values if refused else None, refused.errors if refused else None)
    settings_form = TenantSettingsForm(
        name=tenant.name, sender_name=tenant.sender_name,
        **{key: tenant.setting(key) for key in DEFAULT_SETTINGS},
    )
    return render_template(
        "admin/index.html",
        tenant=tenant,
        officers=service.officers(tenant),
        invite_form=InviteForm(),
        settings_form=settings_form,
        plugins=plugins,
        plugin_fields=plugin_fields,
        plugin_errors=plugin_errors,
        toggle_form=PluginToggleForm(),
        panels=current_hooks().ui_panels(slot="admin_settings", context={"tenant": tenant}),
    ), status


@bp.post("/invite")
@admin_required
def invite():
    form = InviteForm()
    if not form.validate_on_submit():
        flash(_("Check the invitation: name and a valid email are needed."), "error")
        return redirect(url_for("admin.index"))
    try:
        accounts.invite(g.tenant, current_user, form.email.data, form.name.data, form.role.data, form.language.data)
    except accounts.AccountError:
        flash(_("There is already an account with that email."), "error")
        return redirect(url_for("admin.index"))
    db.session.commit()
    flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
    return redirect(url_for("admin.index"))


@bp.post("/settings")
@admin_required
def settings():
    form = TenantSettingsForm()
    if not form.validate_on_submit():
        flash(_("Check the settings: %(errors)s", errors="; ".join(
            f"{form[name].label.text}: {' '.join(errs)}" for name, errs in form.errors.items())), "error")
        return redirect(url_for("admin.index"))
    service.update_settings(g.tenant, form.name.data, form.sender_name.data,
                            {key: DEFAULT_SETTINGS[key] if form[key].data is None else form[key].data
                             for key in DEFAULT_SETTINGS})
    db.session.commit()
    flash(_("Settings saved."), "success")
    return redirect(url_for("admin.index"))


@bp.post("/plugins/<name>/<any(on, off):state>")
@admin_required
def toggle_plugin(name: str, state: str):
    if not PluginToggleForm().validate_on_submit():
        abort(400)
    try:
        service.set_plugin(g.tenant, name, state == "on")
    except service.UnknownPlugin:
        abort(404)
    db.session.commit()
    flash(_("Feature switched on.") if state == "on" else _("Feature switched off."), "success")
    return redirect(url_for("admin.index"))


@bp.post("/plugins/<name>/settings")
@admin_required
def plugin_settings_save(name: str):
    if not PluginToggleForm().validate_on_submit():
        abort(400)
    if not g.tenant.has_plugin(name) or settings_schema(name) is None:
        abort(404)
    try:
        plugin_settings.save(g.tenant, name, request.form)
    except plugin_settings.SettingsError as exc:
        return _index({name: exc}, 400)
    db.session.commit()
    flash(_("Settings saved."), "success")
    return redirect(url_for("admin.index") + f"#plugin-{name}")
