"""The plugin system.

How to write a plugin
---------------------
A plugin is a module (or object) with functions marked `@hookimpl`, named exactly like the specs
in `core.hookspecs`. Built-in plugins are listed in `BUILTIN_PLUGINS`; third-party ones are
installed packages that declare an entry point in the group `sigill.plugins`::

    [project.entry-points."sigill.plugins"]
    my_plugin = "my_package.sigill_plugin"

Every plugin must implement `plugin_info()` returning at least `{"name": ...}`; a tenant admin
switches plugins on and off by that name. Hooks called for a tenant go through `TenantHooks`, so a
plugin the tenant has switched off is never called for it. Blueprints from `register_blueprints`
are registered for every tenant at start-up and guarded: their routes answer 404 for tenants
that have the plugin off; a view marked `@public(...)` is served without an officer session, for the
tenant its own token or slug names (and still 404 when that tenant has the plugin off).
A plugin reads its tenant settings with `plugin_settings(tenant, name)` and its configuration
keys (declared by `config_keys`) from `current_app.config`. The guide is docs/plugins.md.
"""

from __future__ import annotations

from functools import cached_property

import pluggy
from flask import abort, current_app, g, request

from core import hookspecs

hookimpl = pluggy.HookimplMarker("sigill")

# Core features registered as plugins too, always on (their names are not switchable).
CORE_PLUGINS: tuple[str, ...] = ("core.signing.builtin", "core.api.webhooks")
# Special features shipped with Sigill; each is switched on per tenant.
BUILTIN_PLUGINS: tuple[str, ...] = ("plugins.e_delivery", "plugins.id_check", "plugins.kiosk",
                                   "plugins.stamp_signature", "plugins.web_forms")


def make_plugin_manager(extra: list | None = None, load_entry_points: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("sigill")
    pm.add_hookspecs(hookspecs)
    for dotted in CORE_PLUGINS + BUILTIN_PLUGINS:
        pm.register(_import(dotted), name=dotted)
    for plugin in extra or []:
        pm.register(plugin)
    if load_entry_points:
        pm.load_setuptools_entrypoints("sigill.plugins")
    pm.check_pending()
    return pm


def _import(dotted: str):
    import importlib

    return importlib.import_module(dotted)


def switchable_plugins(pm: pluggy.PluginManager) -> dict[str, object]:
    """Plugins a tenant can switch on and off, by their `plugin_info()["name"]`."""
    found = {}
    for plugin in pm.get_plugins():
        info_impl = getattr(plugin, "plugin_info", None)
        if info_impl is None or pm.get_name(plugin) in CORE_PLUGINS:
            continue
        info = info_impl()
        if info and info.get("name"):
            found[info["name"]] = plugin
    return found


def plugin_infos(pm: pluggy.PluginManager) -> list[dict]:
    return [p.plugin_info() for p in switchable_plugins(pm).values()]


class TenantHooks:
    """The hook relay for one tenant: `hooks.case_sent(case=...)` calls only enabled plugins.

    Modelled on pytest's FSHookProxy: each attribute is `pm.subset_hook_caller(name,
    remove_plugins=...)`, cached on first use.
    """

    def __init__(self, pm: pluggy.PluginManager, enabled: list[str] | set[str]):
        self._pm = pm
        self._enabled = set(enabled or ())

    @cached_property
    def _removed(self) -> list:
        return [p for name, p in switchable_plugins(self._pm).items() if name not in self._enabled]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        caller = self._pm.subset_hook_caller(name, remove_plugins=self._removed)
        self.__dict__[name] = caller
        return caller


def hooks_for(tenant) -> TenantHooks:
    """The hook relay for a tenant (None: only always-on plugins)."""
    pm = current_app.extensions["sigill_pm"]
    enabled = tenant.enabled_plugins if tenant is not None else []
    return TenantHooks(pm, enabled)


def hooks_for_tenant_id(tenant_id: int) -> TenantHooks:
    """The hook relay for a tenant by id: the request's own (built once per request) when it is
    that tenant's, else a new one (jobs, or a request acting for another tenant)."""
    from flask import has_app_context

    tenant = g.get("tenant") if has_app_context() else None
    if tenant is not None and tenant.id == tenant_id:
        return current_hooks()
    from core.extensions import db
    from tenants.models import Tenant

    return hooks_for(db.session.get(Tenant, tenant_id))


def current_hooks() -> TenantHooks:
    """The hooks of the request's tenant (`g.tenant`), built once per request and tenant: a view
    that switches the tenant (a signer link, a public page) never gets the previous one's."""
    tenant = g.get("tenant")
    key = tenant.id if tenant is not None else None
    if "hooks" not in g or g.get("hooks_tenant", -1) != key:
        g.hooks, g.hooks_tenant = hooks_for(tenant), key
    return g.hooks


def public(resolve_tenant=None, *, slug: str | None = None, link: str | None = None):
    """Mark a plugin view as public: served to visitors without an officer session.

    The tenant comes from the URL, never from a session: `resolve_tenant(**view_args)` returns the
    `Tenant` the view's own token names, or None (then 404); `slug="arg"` resolves the tenant whose
    slug is that URL argument; `link="arg"` the tenant of the signing link whose token is that URL
    argument (a page for a party: combine with `core.signing.views.with_link`). A resolver runs
    with no tenant set, so tenant-scoped queries in it need `execution_options(all_tenants=True)`.
    `plugin_guard` then makes that tenant current (for the queries, `g.tenant` and the hooks) and
    still answers 404 when it has the plugin off. Unknown tokens and slugs are rate limited per IP
    like unknown signer links (`TOKEN_RATE_LIMIT`).

        @bp.get("/forms/<slug>/<form_id>")
        @public(slug="slug")
        def form(slug, form_id): ...
    """
    if sum(x is not None for x in (resolve_tenant, slug, link)) != 1:
        raise TypeError("public() takes one of: a resolver, slug=, link=")
    if link is not None:
        def resolve_tenant(**view_args):
            from core.extensions import db
            from core.signing.service import find_party
            from tenants.models import Tenant

            token = view_args.get(link)
            party = find_party(token) if isinstance(token, str) else None
            return db.session.get(Tenant, party.tenant_id) if party is not None else None
    if slug is not None:
        def resolve_tenant(**view_args):
            from tenants.service import tenant_by_slug

            value = view_args.get(slug)
            return tenant_by_slug(value) if isinstance(value, str) and value else None

    def decorator(view):
        view.sigill_public_tenant = resolve_tenant
        return view

    return decorator


def plugin_guard(plugin_name: str):
    """A `before_request` for a plugin blueprint: 404 unless the current tenant has it on.

    The current tenant is the officer's, or for a view marked `@public`, the one its resolver
    names (that one wins over a logged-in officer's own organisation, like a signer link).
    """

    def guard():
        view = current_app.view_functions.get(request.endpoint or "")
        resolve = getattr(view, "sigill_public_tenant", None)
        if resolve is not None:
            tenant = resolve(**(request.view_args or {}))
            if tenant is None:
                from core import ratelimit
                from core.security import client_ip

                ratelimit.limit_or_429("plugin-public", client_ip(), current_app.config["TOKEN_RATE_LIMIT"])
                abort(404)
            use_tenant(tenant)
        tenant = g.get("tenant")
        if tenant is None or not tenant.has_plugin(plugin_name):
            abort(404)

    return guard


def use_tenant(tenant) -> None:
    """Make `tenant` the request's tenant: its rows, its `g.tenant`, its plugins' hooks."""
    from tenants import scoping

    previous = g.pop("tenant_token", None)
    if previous is not None:
        scoping.reset_current_tenant(previous)
    g.tenant_token = scoping.set_current_tenant(tenant.id)
    g.tenant = tenant
    g.pop("hooks", None)


# --- settings and configuration -------------------------------------------------------------------


def settings_schema(name: str):
    """The marshmallow Schema class a switchable plugin declares in `plugin_info`, or None."""
    plugin = switchable_plugins(current_app.extensions["sigill_pm"]).get(name)
    if plugin is None:
        return None
    return (plugin.plugin_info() or {}).get("settings_schema")


def plugin_settings(tenant, name: str) -> dict:
    """A tenant's settings for a plugin, validated by its `settings_schema`, defaults filled in.

    Values stored before the schema changed and no longer valid fall back to their defaults, so a
    plugin upgrade never breaks a tenant's pages; the admin page shows and saves them anew.
    """
    from marshmallow import ValidationError

    stored = dict(((tenant.plugin_settings or {}) if tenant is not None else {}).get(name) or {})
    schema_class = settings_schema(name)
    if schema_class is None:
        return stored
    schema = schema_class()
    try:
        return schema.load(stored, unknown="exclude")
    except ValidationError as exc:
        bad = set(exc.messages) if isinstance(exc.messages, dict) else set(stored)
        return schema.load({k: v for k, v in stored.items() if k not in bad}, unknown="exclude")


def load_plugin_config(app, pm: pluggy.PluginManager) -> None:
    """Read every key a plugin declares with `config_keys` from the environment into `app.config`.

    The one place plugin configuration comes from: `create_app(config=...)` overrides win, then the
    environment, then the plugin's default. Core settings are never overwritten.
    """
    from core.config import _env

    for declared in pm.hook.config_keys():
        for key, default in (declared or {}).items():
            if key not in app.config:  # core settings and create_app(config=...) are already there
                app.config[key] = _env(key, default)


# --- migrations -------------------------------------------------------------------------------------


def installed_names(pm: pluggy.PluginManager) -> frozenset[str]:
    """Every installed plugin by its `plugin_info` name and its registered name (tables' owners)."""
    return frozenset(switchable_plugins(pm)) | frozenset(filter(None, (pm.get_name(p) for p in pm.get_plugins())))


def version_locations(script_location: str) -> str:
    """Alembic's `version_locations`: the core's versions folder, then each installed plugin's.

    Each plugin's migrations are a branch of their own (`branch_labels=("<name>",)`, starting from
    `down_revision = None` with `depends_on` the core revision whose tables they reference), so the
    core keeps one head and `sigill db upgrade` upgrades to every head (`heads`).
    """
    import os

    folders = [os.path.join(script_location, "versions")]
    for provided in current_app.extensions["sigill_pm"].hook.register_migrations():
        for folder in provided or []:
            folder = os.fspath(folder)
            if folder not in folders:
                folders.append(folder)
    return os.pathsep.join(folders)
