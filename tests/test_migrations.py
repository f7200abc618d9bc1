"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL;
the core keeps one head, each plugin's migrations are a branch of their own, and e-delivery's table
kept its files when it moved from the core's initial migration to the plugin's branch."""

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.app import create_app
from core.extensions import db
from core.models.base import include_object
from core.plugins import installed_names
from tests import support
from tests.conftest import base_config


def _diff_after_upgrade(app) -> list:
    with app.app_context():
        support.upgrade_database()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "render_as_batch": True,
                "include_object": include_object(conn.dialect.name, installed_names(app.extensions["sigill_pm"]))})
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


CORE_HEAD = "3a6c0f2e8b17"  # the core's head when delivery_file moved to the plugin's branch


def _script(app):
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())


def test_the_core_has_one_head_and_each_plugin_a_branch_of_its_own(tmp_path):
    import os

    app = create_app(base_config(tmp_path))
    with app.app_context():
        script = _script(app)
        core_heads = script.get_revisions("core@heads")
        heads = [script.get_revision(rev) for rev in script.get_heads()]
    assert len(core_heads) == 1, f"the core must keep one Alembic head, found {core_heads}"
    core_folder = os.path.join(app.extensions["migrate"].directory, "versions")
    assert os.path.dirname(core_heads[0].path) == core_folder
    # Every other head is a plugin's own branch, in the plugin's folder, named after it.
    plugin_heads = [h for h in heads if h.revision != core_heads[0].revision]
    assert "e_delivery" in {label for h in plugin_heads for r in script.iterate_revisions(h.revision, "base")
                            for label in r.branch_labels}
    assert all(os.path.dirname(h.path) != core_folder for h in plugin_heads)


def _old_delivery_file(conn) -> sa.Table:
    """delivery_file exactly as the core's initial migration made it before the move."""
    meta = sa.MetaData(naming_convention=db.metadata.naming_convention)
    meta.reflect(conn, only=["case", "officer", "tenant"])
    return sa.Table(
    "delivery_file", meta,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("content_type", sa.String(200), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("blob_sha256", sa.String(64), nullable=False),
    sa.Column("wrapped_key", sa.String(200), nullable=False),
    sa.Column("created_by", sa.Integer(), sa.ForeignKey("officer.id", ondelete="SET NULL")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False, index=True),
    )


def test_e_delivery_files_survive_the_move_of_their_table(tmp_path):
    """A database of the release before the move (core head, delivery_file with files, one row in
    alembic_version) upgrades to the plugin's branch with every file still there and readable."""
    from flask_migrate import stamp, upgrade

    from core.cases import service as cases
    from plugins.e_delivery import service as delivery
    from tenants.scoping import tenant_context

    app = create_app(base_config(tmp_path))
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision=CORE_HEAD)  # the core's migrations up to the old head
        with db.engine.begin() as conn:
            _old_delivery_file(conn).create(conn)  # ... and the table its initial migration made then
        stamp(directory=directory, revision=CORE_HEAD, purge=True)  # alembic_version as it was
        people = support.make_people()
        people.acme.enabled_plugins = ["e_delivery"]
        with tenant_context(people.acme.id):
            case = cases.create_case(people.alice, "NDA", allowed_methods=["touch"])
            attached = delivery.attach(case, people.alice, "prices.txt", b"widgets 10 SEK\n" * 50)
            db.session.commit()
            case_id, file_id, tenant_id = case.id, attached.id, people.acme.id
        db.session.remove()
        with db.engine.connect() as conn:
            assert set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()) == {CORE_HEAD}

        support.upgrade_database()  # what `sigill db upgrade` does after updating

        with db.engine.connect() as conn:
            versions = set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
        assert CORE_HEAD in versions and "4f2b9d61c0a7" in versions
        with tenant_context(tenant_id):
            case = db.session.get(type(case), case_id)
            [kept] = delivery.files_of(case)
            assert kept.id == file_id and kept.filename == "prices.txt"
            assert delivery.read(kept) == b"widgets 10 SEK\n" * 50
        assert _diff_after_upgrade(app) == []
