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


def include_object(dialect_name: str):
    """Alembic's include_object for `dialect_name`: leaves out objects built on other databases only."""

    def include(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ARG001  (Alembic's signature)
        only_on = getattr(obj, "info", {}).get("only_on")
        return only_on is None or only_on == dialect_name

    return include


# pg_trgm ships with PostgreSQL and is a trusted extension (13+): the database owner may create it.
PG_TRGM = sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql")
