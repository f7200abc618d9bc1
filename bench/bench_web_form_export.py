"""A web form's Excel export at scale: 100,000 submissions x 20 fields, on PostgreSQL.

One tenant, one template with 20 value fields (6 text, 5 number, 4 date, 5 checkbox) whose web
form is turned on through the plugin's service; then BENCH_SUBMISSIONS (default 100,000)
submissions, each with its case (two parties, one document, 20 fields with their values), are
loaded with COPY into the database `sigill_bench_web_forms` (127.0.0.1:5432, user postgres; kept and
rebuilt only when the size or the schema changes).

Measured in a fresh process (`python -m bench.bench_web_form_export export ...`), so that its peak
RSS is the export's and nothing else's: what the office's download runs
(`plugins.web_forms.export.submissions_export` written by `core.cases.export.xlsx_file`, the
spooled file copied out as the response would stream it), under a request context with the tenant
set. Printed: wall and CPU seconds, the process's RSS before the export (the app loaded) and its
peak (getrusage ru_maxrss), the file's size, and a read-back of its first rows and dimension
with openpyxl. Targets: <= 10 s and <= 300 MB peak.

Run: `python -m bench web_form_export` (env: BENCH_SUBMISSIONS, BENCH_PG_URL).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SUBMISSIONS = int(os.environ.get("BENCH_SUBMISSIONS", "100000"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/sigill_bench_web_forms")
TARGET_SECONDS, TARGET_MB = 10.0, 300.0
TYPES = ["text"] * 6 + ["number"] * 5 + ["date"] * 4 + ["checkbox"] * 5
TABLES = ("case", "party", "document", "case_field", "field_value", "web_form_submission")
FIRST = ["Anna", "Erik", "Sara", "Johan", "Maria", "Lars", "Karin", "Nils", "Åsa", "Örjan"]
LAST = ["Andersson", "Berg", "Carlsson", "Dahl", "Ek", "Fors", "Holm", "Lund", "Nyberg", "Ström"]


def _fields() -> list[dict]:
    specs = []
    for number, kind in enumerate(TYPES):
        page, slot = divmod(number, 10)
        box = {"w": 0.03, "h": 0.02} if kind == "checkbox" else {"w": 0.4, "h": 0.03}
        specs.append({"name": f"{kind}_{number + 1}", "type": kind, "document": 0, "page": page + 1, "x": 0.12,
                      "y": 0.05 + slot * 0.09, "assignee": "tenant", "label": f"{kind.capitalize()} {number + 1}",
                      **box})
    return specs


def _value(kind: str, case_id: int, number: int):
    if kind == "text":
        return f"Svar {case_id}-{number} åäö"
    if kind == "number":
        return f"{(case_id * 7 + number) % 100000}.{number % 10}5"
    if kind == "date":
        return (datetime(2026, 1, 1) + timedelta(days=(case_id + number) % 365)).date().isoformat()
    return (case_id + number) % 2 == 0


def _fingerprint(dialect) -> str:
    from sqlalchemy.schema import CreateTable

    from core.extensions import db

    parts = [str(CreateTable(db.metadata.tables[name]).compile(dialect=dialect)) for name in TABLES]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> None:
    def text(value) -> str:
        if value is None:
            return "\\N"
        if value is True or value is False:
            return "t" if value else "f"
        return str(value)  # generated values hold no tabs, newlines or backslashes

    with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
        chunk = []
        for row in rows:
            chunk.append("\t".join(text(v) for v in row) + "\n")
            if len(chunk) >= 20000:
                copy.write("".join(chunk))
                chunk = []
        if chunk:
            copy.write("".join(chunk))


def build(url: str) -> dict:
    """The tenant, officer, template and form through the services; the rest by COPY. Returns ids."""
    from bench.bench_case_list import make_app
    from core.auth.service import create_officer, create_tenant
    from core.case_templates import service as templates
    from core.extensions import db
    from plugins.web_forms import service
    from tenants.scoping import tenant_context
    from tests.signing.helpers import LEASE_LINES, pdf

    app = make_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        tenant = create_tenant("bench", "Bench AB")
        tenant.enabled_plugins = ["web_forms"]
        officer = create_officer(tenant, "officer@bench.example", "Olle Officer", role="admin", password=None)
        db.session.commit()
        landlord = {"name": "Per Persson", "email": "per@bench.example", "phone": None, "personal_number": None,
                    "language": "sv"}
        with tenant_context(tenant.id):
            document = templates.document_entry("permit.pdf", pdf(LEASE_LINES, pages=2))
            content, _found = templates.revised_content(
                None, {"title": "Parking permit", "message": "", "allowed_methods": ["touch"],
                       "signing_order": "sequential", "language": "sv", "expiry_days": 30,
                       "reminder_interval_days": 0, "reminder_max": 0},
                [{"key": "tenant", "label": "Tenant", "kind": "signer"},
                 {"key": "landlord", "label": "Landlord", "kind": "signer", "fixed": landlord}], [], [document])
            content["fields"] = _fields()
            template = templates.create_template(officer, "Parking permit", content)
            form = service.turn_on(template, officer, "tenant", False, "", 10000)
            db.session.commit()
            ids = {"tenant": tenant.id, "officer": officer.id, "template": template.id, "form": form.id}
        indexes = [index for name in TABLES for index in db.metadata.tables[name].indexes if not index.unique]
        with db.engine.begin() as conn:  # secondary indexes are built once, after the load
            for index in indexes:
                index.drop(conn)
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SET session_replication_role = replica")  # no foreign key triggers per row
            _load(cursor, ids)
            raw.commit()
        finally:
            raw.close()
        with db.engine.begin() as conn:
            for index in indexes:
                index.create(conn)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        db.engine.dispose()
    return ids


def _load(cursor, ids: dict) -> None:
    tenant, form = ids["tenant"], ids["form"]
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=200)
    iso = datetime.isoformat

    def when(n: int) -> datetime:
        return start + timedelta(seconds=n * 150)

    def cases():
        for n in range(1, SUBMISSIONS + 1):
            done = n % 5 != 0
            at = when(n)
            yield (n, tenant, f"Parking permit {n}", "", "completed" if done else "pending", ids["owner"],
                   "sequential", '["touch"]', "sv", iso(at + timedelta(days=30)), 0, 0, iso(at), iso(at),
                   iso(at + timedelta(hours=2)) if done else None, iso(at), 4, ids["template"], 1)

    ids["owner"] = ids["officer"]
    _copy(cursor, "case", ("id", "tenant_id", "title", "message", "status", "owner_id", "signing_order",
                           "allowed_methods", "language", "expires_at", "reminder_interval_days", "reminder_max",
                           "created_at", "sent_at", "completed_at", "last_activity_at", "event_count",
                           "template_id", "template_version"), cases())

    def parties():
        for n in range(1, SUBMISSIONS + 1):
            done = n % 5 != 0
            first, last = FIRST[n % len(FIRST)], LAST[(n // 10) % len(LAST)]
            yield (2 * n - 1, tenant, n, 0, f"{first} {last}", f"{first}.{last}{n}@example.se".lower(), "signer",
                   "sv", "signed", "tenant", 0)
            yield (2 * n, tenant, n, 1, "Per Persson", "per@bench.example", "signer", "sv",
                   "signed" if done else "invited", "landlord", 0)

    _copy(cursor, "party", ("id", "tenant_id", "case_id", "position", "name", "email", "role", "language", "status",
                            "role_key", "reminders_sent"), parties())
    sha = hashlib.sha256(b"permit").hexdigest()
    _copy(cursor, "document", ("id", "tenant_id", "case_id", "position", "filename", "sha256", "size", "page_count",
                               "created_at"),
          ((n, tenant, n, 0, "permit.pdf", sha, 50_000, 2, iso(when(n))) for n in range(1, SUBMISSIONS + 1)))
    specs = _fields()

    def case_fields():
        for n in range(1, SUBMISSIONS + 1):
            for k, spec in enumerate(specs):
                yield ((n - 1) * len(specs) + k + 1, tenant, n, n, 2 * n - 1, k, spec["name"], spec["type"],
                       spec["label"], spec["page"], spec["x"], spec["y"], spec["w"], spec["h"], 595.0, 842.0,
                       False, False, "[]", "[]", "{}")

    _copy(cursor, "case_field", ("id", "tenant_id", "case_id", "document_id", "party_id", "position", "name", "type",
                                 "label", "page", "x", "y", "w", "h", "page_width", "page_height", "required",
                                 "read_only", "options", "option_areas", "rules"), case_fields())

    def values():
        for n in range(1, SUBMISSIONS + 1):
            at = iso(when(n) + timedelta(minutes=5))
            for k, spec in enumerate(specs):
                number = (n - 1) * len(specs) + k + 1
                yield (number, tenant, n, number, 2 * n - 1, json.dumps(_value(spec["type"], n, k),
                                                                        ensure_ascii=False), 1, at, at)

    _copy(cursor, "field_value", ("id", "tenant_id", "case_id", "field_id", "party_id", "value", "revision",
                                  "updated_at", "signed_at"), values())

    def submissions():
        for n in range(1, SUBMISSIONS + 1):
            first, last = FIRST[n % len(FIRST)], LAST[(n // 10) % len(LAST)]
            yield (n, tenant, form, n, 2 * n - 1, f"key{n}", f"{first} {last}", f"{first}.{last}{n}@example.se".lower(),
                   "+46701234567" if n % 3 else None, "sv", iso(when(n)))

    _copy(cursor, "web_form_submission", ("id", "tenant_id", "form_id", "case_id", "party_id", "idempotency_key",
                                          "name", "email", "phone", "language", "created_at"), submissions())
    for table in TABLES:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                       f"(SELECT max(id) FROM \"{table}\"))")  # fixed names, no input


def ensure_database() -> dict:
    from sqlalchemy.dialects import postgresql

    from bench.bench_case_list import _create_pg_database, _meta_ok, _write_meta, make_app

    _create_pg_database(PG_URL)
    app = make_app(PG_URL)
    with app.app_context():
        wanted = f"{SUBMISSIONS}-{_fingerprint(postgresql.dialect())}"
    if _meta_ok(app, wanted):
        with app.app_context():
            from core.extensions import db

            with db.engine.connect() as conn:
                ids = json.loads(conn.exec_driver_sql("SELECT value FROM bench_meta WHERE key = 'ids'").scalar())
            db.engine.dispose()
        return ids
    started = time.monotonic()
    ids = build(PG_URL)
    _write_meta(make_app(PG_URL), wanted)
    with app.app_context():
        from core.extensions import db

        with db.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO bench_meta (key, value) VALUES ('ids', %s)", (json.dumps(ids),))
        db.engine.dispose()
    print(f"built the database ({SUBMISSIONS:,} submissions x {len(TYPES)} fields) in "
          f"{time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return ids


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def export_in_this_process(url: str, tenant_id: int, form_id: int, out: str) -> dict:
    """The child: load the app, then export the form's submissions as the office's download does."""
    import shutil

    from bench.bench_case_list import make_app

    app = make_app(url)
    from core.cases import export as exporting
    from core.extensions import db
    from plugins.web_forms.export import submissions_export
    from plugins.web_forms.models import WebForm
    from tenants.models import Tenant
    from tenants.scoping import tenant_context

    with app.test_request_context("/"), tenant_context(tenant_id):
        from flask import g

        g.tenant = db.session.get(Tenant, tenant_id)
        form = db.session.get(WebForm, form_id)
        form.template  # noqa: B018  (loaded before the clock starts, as the view's lookup does)
        baseline = _rss_mb()
        wall, cpu = time.perf_counter(), time.process_time()
        spooled = exporting.xlsx_file(submissions_export(form), sheet="Submissions")
        with open(out, "wb") as target:
            shutil.copyfileobj(spooled, target, 1 << 16)
        spooled.close()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall": wall, "cpu": cpu, "baseline_mb": baseline, "peak_mb": peak}


def _read_back(path: str) -> tuple[str, list]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    sheet = book.active
    rows = []
    for row in sheet.iter_rows(min_row=1, max_row=2, values_only=True):
        rows.append(row)
    dimension = sheet.calculate_dimension(force=True)
    book.close()
    return dimension, rows


def main() -> None:
    ids = ensure_database()
    with tempfile.TemporaryDirectory(prefix="sigill-bench-") as tmp:
        out = str(Path(tmp) / "export.xlsx")
        child = subprocess.run([sys.executable, "-m", "bench.bench_web_form_export", "export", PG_URL,
                                str(ids["tenant"]), str(ids["form"]), out],
                               capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        size_mb = os.path.getsize(out) / 2**20
        dimension, rows = _read_back(out)
    header, first = rows
    typed = dict(zip(header, first, strict=False))
    print(f"Web form export: {SUBMISSIONS:,} submissions x {len(TYPES)} fields, PostgreSQL; the office's download "
          "path (`submissions_export` + `xlsx_file`) in a fresh process.\n")
    print("| export | rows | seconds (wall) | CPU s | RSS before MB | peak RSS MB | file MB | targets |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    ok_time, ok_mem = result["wall"] <= TARGET_SECONDS, result["peak_mb"] <= TARGET_MB
    verdict = (f"time {'met' if ok_time else 'missed'} (<= {TARGET_SECONDS:.0f} s), memory "
               f"{'met' if ok_mem else 'missed'} (<= {TARGET_MB:.0f} MB)")
    print(f"| Excel (.xlsx) | {SUBMISSIONS:,} | {result['wall']:.1f} | {result['cpu']:.1f} | "
          f"{result['baseline_mb']:.0f} | {result['peak_mb']:.0f} | {size_mb:.1f} | {verdict} |")
    print(f"\nRead back with openpyxl: dimension {dimension}; first row "
          + ", ".join(f"{k}={v!r}" for k, v in list(typed.items())[:4] + list(typed.items())[7:11]))
    print(f"\n{os.cpu_count()}-core machine shared with others, load average {os.getloadavg()[0]:.1f} after the run.")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "export":
        url, tenant_id, form_id, out = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        print(json.dumps(export_in_this_process(url, tenant_id, form_id, out)))
    else:
        main()
