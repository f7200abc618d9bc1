"""The `sigill` command: serve, worker, scheduler, db, tenants, officers, plugins, jobs."""

from __future__ import annotations

import logging
import os

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from core.app import create_app
from core.bankid.cli import bankid_simulator
from core.extensions import db

log = logging.getLogger(__name__)


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=False, add_version_option=False)
def cli() -> None:
    """Sigill: multi-tenant e-signing."""


def main() -> None:
    cli(prog_name="sigill")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False)
@with_appcontext
def serve(host: str, port: int, debug: bool) -> None:
    """Serve the web office (development server; use gunicorn `core.wsgi:app` in production)."""
    from core.jobs import start_embedded_scheduler
    from core.views import outbox_refusal

    app = current_app._get_current_object()
    app.debug = debug
    refusal = outbox_refusal(app.config)
    if refusal is None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104  (naming, not binding)
        click.echo(f"Emails and text messages (development outbox): http://{shown}:{port}/dev/outbox "
                   "(only to browsers on this machine)")
    elif app.config.get("DEBUG_OUTBOX") or debug:
        click.echo(f"The development outbox page is off: {refusal}.")
    if not app.config.get("REDIS_URL") and app.config["SCHEDULER_ENABLED"]:
        start_embedded_scheduler(app)
    from werkzeug.serving import run_simple

    run_simple(host, port, app, use_reloader=False, use_debugger=debug, threaded=True)


@cli.command()
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--queues", default=",".join(("sealing", "mail", "default", "webhooks")), show_default=True,
              help="Queues to take jobs from, highest priority first.")
@with_appcontext
def worker(burst: bool, queues: str) -> None:
    """Run a worker on REDIS_URL: a supervisor and one warm process that runs job after job."""
    from core import worker as worker_process
    from core.jobs import QUEUES

    if not current_app.config.get("REDIS_URL"):
        raise click.UsageError("REDIS_URL is not set: without Redis, jobs run inside `sigill serve`.")
    chosen = tuple(name.strip() for name in queues.split(",") if name.strip())
    unknown = [name for name in chosen if name not in QUEUES]
    if unknown or not chosen:
        raise click.UsageError(f"unknown queue(s) {', '.join(unknown)}; choose from {', '.join(QUEUES)}")
    raise SystemExit(worker_process.run(current_app._get_current_object(), chosen, burst=burst))


@cli.command()
@with_appcontext
def scheduler() -> None:
    """Run the periodic tasks (the job sweeper every 10 s, reminders, expiry ...) until stopped.

    Errors (database or Redis away) are logged and the task runs again at its next interval."""
    import signal

    from core.jobs import Scheduler

    if not current_app.config.get("REDIS_URL"):
        raise click.UsageError("REDIS_URL is not set: without Redis, `sigill serve` runs periodic tasks itself.")
    loop = Scheduler(current_app._get_current_object())
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: loop.stopped.set())
    loop.run_forever()


@cli.group()
def tenant() -> None:
    """Organisations."""


@tenant.command("create")
@click.argument("slug")
@click.argument("name")
@with_appcontext
def tenant_create(slug: str, name: str) -> None:
    from core.auth.service import create_tenant
    from core.text import line_problem

    if line_problem(name):
        raise click.BadParameter(line_problem(name), param_hint="NAME")
    created = create_tenant(slug, name)
    db.session.commit()
    click.echo(f"tenant {created.slug} created (id {created.id})")


@cli.group()
def officer() -> None:
    """Case officers."""


@officer.command("create")
@click.argument("tenant_slug")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["admin", "officer"]), default="officer", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def officer_create(tenant_slug: str, email: str, name: str, role: str, password: str) -> None:
    from core.auth.service import AccountError, create_officer

    org = _tenant_or_fail(tenant_slug)
    try:
        created = create_officer(org, email, name, role=role, password=password)
    except AccountError as exc:
        raise click.ClickException(f"could not create officer: {exc}") from exc
    db.session.commit()
    click.echo(f"officer {created.email} ({role}) created in {org.slug}")


@cli.group()
def plugin() -> None:
    """Special features per organisation."""


@plugin.command("list")
@with_appcontext
def plugin_list() -> None:
    from core.plugins import plugin_infos

    for info in plugin_infos(current_app.extensions["sigill_pm"]):
        click.echo(f"{info['name']}: {info.get('title', '')}")


@plugin.command("enable")
@click.argument("tenant_slug")
@click.argument("name")
@with_appcontext
def plugin_enable(tenant_slug: str, name: str) -> None:
    _toggle(tenant_slug, name, True)


@plugin.command("disable")
@click.argument("tenant_slug")
@click.argument("name")
@with_appcontext
def plugin_disable(tenant_slug: str, name: str) -> None:
    _toggle(tenant_slug, name, False)


def _toggle(tenant_slug: str, name: str, enabled: bool) -> None:
    from tenants.service import UnknownPlugin, set_plugin

    org = _tenant_or_fail(tenant_slug)
    try:
        set_plugin(org, name, enabled)
    except UnknownPlugin as exc:
        raise click.ClickException(f"no installed plugin is called {name!r} (see `sigill plugin list`)") from exc
    db.session.commit()
    click.echo(f"{name} {'enabled' if enabled else 'disabled'} for {org.slug}")


def _tenant_or_fail(slug: str):
    from tenants.service import tenant_by_slug

    org = tenant_by_slug(slug)
    if org is None:
        raise click.ClickException(f"no organisation with slug {slug!r}")
    return org


@cli.group()
def jobs() -> None:
    """Background jobs."""


@jobs.command("run")
@with_appcontext
def jobs_run() -> None:
    """Run every due job now, in this process."""
    from core.jobs import drain

    click.echo(f"{drain()} jobs run")


@cli.command()
@with_appcontext
def demo() -> None:
    """On an empty database: a demo organisation and its admin; prints where to log in."""
    from core.auth.service import create_officer, create_tenant
    from tenants.models import Tenant

    base = current_app.config["BASE_URL"]
    if db.session.scalar(sa.select(sa.func.count()).select_from(Tenant)):
        click.echo(f"\n  Sigill web office: {base}/login  (existing database; use your own account)\n")
        return
    password = os.environ.get("DEMO_PASSWORD") or "sigill-demo-2026"
    org = create_tenant("demo", "Demo AB")
    create_officer(org, "admin@demo.example", "Ada Admin", role="admin", password=password)
    db.session.commit()
    click.echo(f"\n  Sigill web office: {base}/login\n  Email: admin@demo.example\n  Password: {password}\n")


@cli.group()
def audit() -> None:
    """Evidence checks."""


@audit.command("verify")
@click.argument("case_id", required=False, type=int)
@with_appcontext
def audit_verify(case_id: int | None) -> None:
    """Check the event chain of one case (or of every case) against its keys, the anchors that saw it
    and its sealed documents; exit 1 if anything was edited, removed, moved or rewritten."""
    from core.cases.audit import audit_cases, missing_cases

    checked = failed = 0
    for case, problems in audit_cases(case_id):
        checked += 1
        if problems:
            failed += 1
            click.echo(f"case {case.id}: BROKEN")
            for problem in problems:
                click.echo(f"  - {problem}")
        elif case_id is not None:
            click.echo(f"case {case.id}: ok ({case.event_count} events)")
    if case_id is not None and not checked:
        raise click.ClickException(f"no case with id {case_id}")
    gone = missing_cases() if case_id is None else []
    for problem in gone:
        click.echo(problem)
    click.echo(f"{checked} case(s) checked, {failed} with problems")
    if failed or gone:
        raise SystemExit(1)


@audit.command("anchor")
@with_appcontext
def audit_anchor() -> None:
    """Anchor the chain heads now (the scheduler does it every ten minutes)."""
    from core.cases.anchoring import anchor_heads

    anchor = anchor_heads()
    if anchor is None:
        click.echo("no chain moved since the last anchor")
        return
    stamped = "timestamped" if anchor.token else "NOT timestamped (set TSA_URL)"
    click.echo(f"anchor {anchor.id}: {anchor.leaf_count} head(s), root {anchor.root}, {stamped}")


@cli.group()
def files() -> None:
    """Encryption at rest (FILE_KEYS)."""


@files.command("rotate")
@with_appcontext
def files_rotate() -> None:
    """Re-encrypt every plugin's encrypted files and keys under the first key of FILE_KEYS.

    Put the new key first in FILE_KEYS, keep the old ones after it, restart, then run this; when
    it reports 0, the old keys can go. Safe to run again and while the service runs."""
    from core.encryption import current_key_id

    pm = current_app.extensions["sigill_pm"]
    counts = [n or 0 for n in pm.hook.reencrypt_files()]
    click.echo(f"{sum(counts)} re-encrypted under key {current_key_id()!r}")


@cli.group()
def storage() -> None:
    """Blob storage."""


@storage.command("migrate")
@click.option("--from", "source_dir", type=click.Path(file_okay=False, exists=True),
              help="Folder of local blobs [STORAGE_DIR].")
@with_appcontext
def storage_migrate(source_dir: str | None) -> None:
    """Copy every local blob to the store STORAGE_URL names (S3); blobs already there are skipped.

    Safe to run again (e.g. while the service still writes locally, then once more after the switch):
    names are contents, so nothing is overwritten or copied twice. A local file whose content no
    longer matches its name is reported and not copied."""
    from core.storage import LocalBlobStore, blobs, sha256_of

    target = blobs()
    if isinstance(target, LocalBlobStore):
        raise click.UsageError("set STORAGE_URL=s3://bucket/prefix (and the S3_* settings) to migrate to")
    source = LocalBlobStore(source_dir or current_app.config["STORAGE_DIR"])
    copied = skipped = damaged = 0
    for name in source.names():
        if target.exists(name):
            skipped += 1
            continue
        with source.open(name) as stream:
            if sha256_of(stream) != name:
                damaged += 1
                click.echo(f"damaged, not copied: {name}", err=True)
                continue
            stream.seek(0)
            target.put_stream(stream)
        copied += 1
    click.echo(f"{copied} blob(s) copied, {skipped} already there, {damaged} damaged")
    if damaged:
        raise SystemExit(1)


@cli.group()
def apikey() -> None:
    """API keys for integrators."""


@apikey.command("create")
@click.argument("tenant_slug")
@click.argument("name")
@click.option("--owner", "owner_email", help="Officer who owns cases created with the key [the first admin].")
@with_appcontext
def apikey_create(tenant_slug: str, name: str, owner_email: str | None) -> None:
    """Create an API key for an organisation and print it (shown only this once)."""
    from core.api.service import create_api_key
    from core.models import Officer
    from tenants.scoping import tenant_context

    org = _tenant_or_fail(tenant_slug)
    with tenant_context(org.id):
        stmt = sa.select(Officer).where(Officer.active.is_(True)).order_by(Officer.id)
        stmt = stmt.where(Officer.email == owner_email.strip().lower()) if owner_email else stmt.where(
            Officer.role == "admin")
        owner = db.session.scalars(stmt).first()
        if owner is None:
            raise click.ClickException(f"no active officer {owner_email!r} in {org.slug}" if owner_email
                                       else f"{org.slug} has no active admin; give --owner EMAIL")
        key, secret = create_api_key(org, name, owner)
        db.session.commit()
    click.echo(f"API key {key.name!r} for {org.slug} (cases owned by {owner.email}); shown only now:", err=True)
    click.echo(secret)


try:  # Flask-Migrate's `db upgrade` etc.
    from flask_migrate.cli import db as db_commands

    # Plugins' migrations are branches of their own: `sigill db upgrade` goes to every head.
    for _param in db_commands.commands["upgrade"].params:
        if _param.name == "revision":
            _param.default = "heads"
    cli.add_command(db_commands, "db")
except ImportError:  # pragma: no cover
    pass

cli.add_command(bankid_simulator)


if __name__ == "__main__":
    main()
