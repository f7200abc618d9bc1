"""The `sigill` command."""

import sqlalchemy as sa

from core.cli import cli
from core.extensions import db
from core.models import Officer, Tenant


def test_tenant_officer_and_plugin_commands(app):
    runner = app.test_cli_runner()
    result = runner.invoke(cli, args=["tenant", "create", "initech", "Initech AB"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, args=["officer", "create", "initech", "peter@initech.example", "--name", "Peter",
                                 "--role", "admin", "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    officer = db.session.scalars(sa.select(Officer).execution_options(all_tenants=True)).one()
    assert officer.role == "admin" and officer.password_hash.startswith("$argon2id$")
    result = runner.invoke(cli, args=["plugin", "enable", "initech", "no_such_plugin"])
    assert result.exit_code != 0
    assert "no installed plugin" in result.output


def test_unknown_tenant_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(cli, args=["officer", "create", "nope", "x@y.example", "--name", "X",
                                                "--password", "a long enough password"])
    assert result.exit_code != 0
    assert "no organisation with slug 'nope'" in result.output


def test_demo_creates_an_admin_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(cli, args=["demo"])
    assert "admin@demo.example" in first.output
    second = runner.invoke(cli, args=["demo"])
    assert "existing database" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tenant)) == 1
