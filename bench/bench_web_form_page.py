"""The public web form page under load: gunicorn (2 sync workers) serving GET /f/<link> to 50 clients.

A temporary instance (SQLite, like the signer page's bench) with one organisation that has the
web forms plugin on and a template (2-page PDF, 8 fields, a fixed landlord) whose form is turned
on through the plugin's service. The load is `wrk` (see `bench_signer_page`): 50 connections
asking back to back for the form's page (saturation: latency = clients / throughput), and a
Python client of 50 people each asking every 250 ms (200 req/s offered). Every answer must be 200.
Target: p95 <= 30 ms at 50 clients.

Latency on the shared 2-core machine says more about the others' work than about the page, so two
load-independent figures come with it: the CPU the gunicorn workers spent per answered request in
each row (their utime + stime from /proc, over the row's requests), and the CPU of one GET in this
process (the WSGI app called directly, 5 x 2,000 GETs, the lowest and the median).

Run: `python -m bench web_form_page` (env: BENCH_SECONDS, BENCH_CLIENTS).
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import sys
import tempfile
import time
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


def _workers_cpu(master: int) -> float:
    """CPU seconds (user + system) of the gunicorn master's child processes so far."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def in_process_cpu_ms(folder: Path, path: str, count: int = 2000, rounds: int = 5) -> tuple[float, float]:
    """CPU ms of one GET of the form page, the app called directly (no server, no network)."""
    from core.app import create_app

    os.environ["SIGILL_INSTANCE"] = str(folder)
    app = create_app({"JOBS_MANUAL": True, "SCHEDULER_ENABLED": False})
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
               "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
               "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1", "HTTP_ACCEPT_LANGUAGE": "sv"}
    status = []

    def start_response(code, _headers, _exc=None):
        status.append(code)

    def get() -> None:
        b"".join(app(dict(environ, **{"wsgi.input": io.BytesIO()}), start_response))

    for _ in range(50):
        get()
    if not all(code.startswith("200") for code in status):
        raise RuntimeError(f"the form page answered {set(status)}")
    per_round = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(count):
            get()
        per_round.append((time.process_time() - started) / count * 1000)
    per_round.sort()
    return per_round[0], per_round[len(per_round) // 2]


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

            def measured(make):
                before = _workers_cpu(server.pid)
                row = make()
                cpu[row.label] = (_workers_cpu(server.pid) - before) * 1000 / max(row.requests, 1)
                return row

            cpu: dict[str, float] = {}
            rows.append(measured(lambda: python_row("1 client, back to back", port, paths, 1, 0.0, 3, target=False)))
            if have_wrk:
                rows.append(measured(lambda: wrk_row(f"{CLIENTS} clients, back to back (wrk)", port, paths, CLIENTS,
                                                     SECONDS, folder)))
            else:
                rows.append(measured(lambda: python_row(f"{CLIENTS} clients, back to back (Python client: wrk not "
                                                        "installed)", port, paths, CLIENTS, 0.0, SECONDS)))
            rows.append(measured(lambda: python_row(f"{CLIENTS} clients, each a page every 250 ms "
                                                    f"({CLIENTS / 0.25:.0f} req/s offered)", port, paths, CLIENTS,
                                                    0.25, 20)))
        finally:
            stop(server)
        lowest, median = in_process_cpu_ms(folder, paths[0])

    print("| GET /f/<link> (gunicorn, 2 sync workers, SQLite) | clients | requests | errors | requests/s | p50 ms "
          "| p95 ms | p99 ms | workers' CPU ms/request | p95 target |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        verdict = (("met" if row.p95 <= TARGET_P95_MS else "missed") + f" (<= {TARGET_P95_MS:.0f} ms)"
                   if row.target else "-")
        print(f"| {row.label} | {row.clients} | {row.requests} | {row.errors} | {row.per_second:.0f} | {row.p50:.1f} "
              f"| {row.p95:.1f} | {row.p99:.1f} | {cpu[row.label]:.2f} | {verdict} |")
    print(f"\nOne GET in-process (the app called directly, 5 x 2,000): CPU {lowest:.2f} ms lowest, {median:.2f} ms "
          "median.")
    print(f"\n{os.cpu_count()}-core machine shared with others, load average {os.getloadavg()[0]:.1f} after the run "
          "(the load generator shares the machine).")


if __name__ == "__main__":
    main()
