"""Times as people read them: in the organisation's time zone, named.

The database, the event chain, the evidence and the seal keep UTC. What people read (the office,
the signer's pages, emails, the verify page, the receipt beside UTC) is shown in the tenant's
`time_zone` setting (default Europe/Stockholm) with the zone named: "2026-03-29 14:05 CEST".
Templates use the filters `local_time` and `local_date` (the tenant of the request, or the one
given, e.g. in emails); code uses `format_time`/`format_date`.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Flask, g, has_app_context

DEFAULT_TIME_ZONE = "Europe/Stockholm"


@lru_cache(maxsize=64)
def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every zone an organisation can choose (IANA names with a region, sorted)."""
    return tuple(sorted(name for name in available_timezones() if "/" in name and not name.startswith(("Etc/",
                                                                                                       "SystemV/"))))


def valid_zone(name: str) -> bool:
    return name in zone_names()


def zone_of(where=None) -> ZoneInfo:
    """The zone of `where`: a tenant, a zone's name, or anything with a `time_zone`; without it,
    the request's tenant (the office, a signer's link); else the default."""
    if where is None and has_app_context():
        where = g.get("tenant")
    if where is None or isinstance(where, str):
        return zone(where)
    return zone(where.setting("time_zone") if hasattr(where, "setting") else getattr(where, "time_zone", None))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment  # the models store naive UTC


def zone_label(moment: datetime, where: tzinfo) -> str:
    """The zone as people know it at that moment: "CET"/"CEST"; a zone without letters, its name."""
    abbreviation = moment.tzname() or ""
    return abbreviation if abbreviation.isalpha() else str(where)


def format_time(moment: datetime | None, tenant=None, seconds: bool = False) -> str:
    """"2026-03-29 14:05 CEST" in the tenant's zone ("" for no moment)."""
    if moment is None:
        return ""
    where = zone_of(tenant)
    local = _aware(moment).astimezone(where)
    return f"{local.strftime('%Y-%m-%d %H:%M:%S' if seconds else '%Y-%m-%d %H:%M')} {zone_label(local, where)}"


def format_date(moment: datetime | None, tenant=None) -> str:
    """The date of `moment` where the organisation is ("" for no moment)."""
    if moment is None:
        return ""
    return _aware(moment).astimezone(zone_of(tenant)).date().isoformat()


def init_app(app: Flask) -> None:
    app.add_template_filter(lambda moment, tenant=None, seconds=False: format_time(moment, tenant, seconds),
                            "local_time")
    app.add_template_filter(lambda moment, tenant=None: format_date(moment, tenant), "local_date")
