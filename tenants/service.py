"""Tenant administration: settings and plugins per tenant."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from core.extensions import db
from core.models import Officer, Tenant
from core.plugins import switchable_plugins


class UnknownPlugin(LookupError):
    pass


def tenant_by_slug(slug: str) -> Tenant | None:
    return db.session.execute(sa.select(Tenant).where(Tenant.slug == slug.strip().lower())).scalar_one_or_none()


def set_plugin(tenant: Tenant, plugin: str, enabled: bool) -> None:
    if plugin not in switchable_plugins(current_app.extensions["sigill_pm"]):
        raise UnknownPlugin(plugin)
    current = [p for p in (tenant.enabled_plugins or []) if p != plugin]
    tenant.enabled_plugins = sorted(current + ([plugin] if enabled else []))


def update_settings(tenant: Tenant, name: str, sender_name: str | None, settings: dict) -> None:
    tenant.name = name
    tenant.sender_name = sender_name or None
    tenant.settings = {**(tenant.settings or {}), **settings}


def officers(tenant: Tenant) -> list[Officer]:
    return list(db.session.scalars(sa.select(Officer).order_by(Officer.name)))
