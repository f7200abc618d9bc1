"""The public web form page under load: gunicorn (2 sync workers) serving GET /f/<link> to 50 clients.

A temporary instance (SQLite, like the signer page's bench) with one organisation that has the
web forms plugin on and a template (2-page PDF, 8 fields, a fixed landlord) whose form is turned
on through the plugin's service. The load is `wrk` (see `bench_signer_page`): 50 connections
asking back to back for the form's page (saturation: latency = clients / throughput), and a
Python client of 50 people each asking every 250 ms (200 req/s offered). Every answer must be 200.
Target: p95 <= 30 ms at 50 clients.

Run: `python -m bench web_form_page` (env: BENCH_SECONDS, BENCH_CLIENTS).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

from bench.bench_signer_page import CLIENTS, SECONDS, python_row, serve, stop, wrk_row

TARGET_P95_MS = 30.0


def prepare_instance(folder: Path) -> list[str]:
    """A migrated SQLite instance with one web form; returns its public path /f/<link>."""
    os.environ["SIGILL_INSTANCE"] = str(folder)
    from core.app import create_app
    from core.auth.service import create_officer, create_tenant
    from core.extensions import db
    from plugins.web_forms import service
    from tenants.scoping import tenant_context

    app = create_app({"JOBS_MANUAL": True, "SCHEDULER_ENABLED": False})
    with app.app_context():
        db.create_all()
        tenant = create_tenant("bench", "Bench AB")
        tenant.enabled_plugins = ["web_forms"]
        officer = create_officer(tenant, "officer@bench.example", "Olle Officer", role="admin",
                                 password=secrets.token_urlsafe(16), language="en")
        db.session.commit()
        from core.case_templates.models import CaseTemplate
        from tests.plugins.web_forms.helpers import form_template

        template_id = form_template(officer, name="Parking permit", message="Fill in and sign to get a permit.")
        with tenant_context(tenant.id):
            form = service.turn_on(db.session.get(CaseTemplate, template_id), officer, "tenant", False,
                                   "Thank you.", 10000)
            db.session.commit()
            path = f"/f/{form.slug}"
        db.engine.dispose()
    return [path]


def main() -> None:
    have_wrk = shutil.which("wrk") is not None
    rows = []
    with tempfile.TemporaryDirectory(prefix="sigill-bench-") as tmp:
        folder = Path(tmp)
        paths = prepare_instance(folder)
        port, server = serve(folder)
        try:
            warm = python_row("warm-up", port, paths, 10, 0.0, 1)
            if warm.errors:
                raise RuntimeError(f"the form page answered errors during warm-up ({warm.errors})")
            rows.append(python_row("1 client, back to back", port, paths, 1, 0.0, 3, target=False))
            if have_wrk:
                rows.append(wrk_row(f"{CLIENTS} clients, back to back (wrk)", port, paths, CLIENTS, SECONDS, folder))
            else:
                rows.append(python_row(f"{CLIENTS} clients, back to back (Python client: wrk not installed)", port,
                                       paths, CLIENTS, 0.0, SECONDS))
            rows.append(python_row(f"{CLIENTS} clients, each a page every 250 ms ({CLIENTS / 0.25:.0f} req/s "
                                   "offered)", port, paths, CLIENTS, 0.25, 20))
        finally:
            stop(server)

    print("| GET /f/<link> (gunicorn, 2 sync workers, SQLite) | clients | requests | errors | requests/s | p50 ms "
          "| p95 ms | p99 ms | p95 target |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        verdict = (("met" if row.p95 <= TARGET_P95_MS else "missed") + f" (<= {TARGET_P95_MS:.0f} ms)"
                   if row.target else "-")
        print(f"| {row.label} | {row.clients} | {row.requests} | {row.errors} | {row.per_second:.0f} | {row.p50:.1f} "
              f"| {row.p95:.1f} | {row.p99:.1f} | {verdict} |")
    print(f"\n{os.cpu_count()}-core machine shared with others, load average {os.getloadavg()[0]:.1f} after the run "
          "(the load generator shares the machine).")


if __name__ == "__main__":
    main()
