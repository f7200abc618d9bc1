"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.app import create_app
from core.extensions import db
from core.models.base import include_object
from tests import support
from tests.conftest import base_config


def _diff_after_upgrade(app) -> list:
    with app.app_context():
        support.upgrade_database()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "render_as_batch": True, "include_object": include_object(conn.dialect.name)})
            return compare_metadata(context, db.metadata)


def test_sqlite_migrations_match_the_models(tmp_path):
    app = create_app(base_config(tmp_path))
    assert _diff_after_upgrade(app) == []


@pytest.mark.postgres
def test_postgres_migrations_match_the_models(tmp_path):
    from tests.conftest import PG_ADMIN_URL

    name = f"sigill_mig_{uuid.uuid4().hex[:10]}"  # unique: other suites run beside this one
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        support.require("PostgreSQL", exc)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        app = create_app(base_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
        assert _diff_after_upgrade(app) == []
        with app.app_context():
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
