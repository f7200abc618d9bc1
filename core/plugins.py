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
that have the plugin off.
"""

from __future__ import annotations

from functools import cached_property

import pluggy
from flask import abort, current_app, g

from core import hookspecs

hookimpl = pluggy.HookimplMarker("sigill")

# Core features registered as plugins too, always on (their names are not switchable).
CORE_PLUGINS: tuple[str, ...] = ("core.api.webhooks",)
# Special features shipped with Sigill; each is switched on per tenant.
BUILTIN_PLUGINS: tuple[str, ...] = ("plugins.e_delivery",)


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


def current_hooks() -> TenantHooks:
    if "hooks" not in g:
        g.hooks = hooks_for(g.get("tenant"))
    return g.hooks


def plugin_guard(plugin_name: str):
    """A `before_request` for a plugin blueprint: 404 unless the current tenant has it on."""

    def guard():
        tenant = g.get("tenant")
        if tenant is None or not tenant.has_plugin(plugin_name):
            abort(404)

    return guard
