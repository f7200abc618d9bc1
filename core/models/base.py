"""Shared column helpers, and schema objects that exist on one database only."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use core.models.base.utcnow()")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def trigram_index(name: str, column: str) -> sa.Index:
    """A PostgreSQL pg_trgm GIN index on `column`: LIKE/ILIKE '%text%' searches use it instead of
    scanning the table. Other databases get no index (SQLite scans; it serves development).
    `include_object` keeps Alembic from expecting it where it is not built."""
    index = sa.Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})
    index.info["only_on"] = "postgresql"
    return index.ddl_if(dialect="postgresql")


def include_object(dialect_name: str, plugins: set[str] | frozenset[str] | None = None):
    """Alembic's include_object for `dialect_name`: leaves out objects built on other databases only,
    and tables of plugins that are not installed (`plugins`: the names installed; None: all).

    A plugin's table says whose it is with `__table_args__ = {"info": {"plugin": "<name>"}}`, so a
    plugin whose models are imported but which is not installed neither creates nor drops them."""

    def include(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ARG001  (Alembic's signature)
        info = getattr(obj, "info", {})
        only_on = info.get("only_on")
        if only_on is not None and only_on != dialect_name:
            return False
        owner = info.get("plugin")
        return owner is None or plugins is None or owner in plugins

    return include


# pg_trgm ships with PostgreSQL and is a trusted extension (13+): the database owner may create it.
PG_TRGM = sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql")
