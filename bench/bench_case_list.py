"""The case list at scale: 11 tenants of BENCH_CASES cases each (default 100,000), SQLite and PostgreSQL.

Each case has two parties, one document (a fingerprint once completed) and three events. The
generated databases are cached (SQLite under instance/bench/, PostgreSQL in the database
`sigill_bench` on 127.0.0.1:5432, user postgres) and rebuilt only when the size or the schema
changes. Bulk loading: SQLite executemany in one transaction, PostgreSQL COPY.

Measured: server-side time of what the list page asks the database for, i.e. the service
functions `core.cases.listing.list_cases` + `status_counts` (one page of 25 cases with parties
and owners, plus the tab counts, exact up to 10,000 per status), called in an app context with
the tenant set, p50/p95 over BENCH_RUNS runs (default 40) after warm-up. Template rendering is
not included. Target: p95 <= 50 ms.

Run: `python -m bench case_list` or `python bench/bench_case_list.py` (env: BENCH_CASES,
BENCH_RUNS, BENCH_BACKENDS=sqlite,postgresql, BENCH_PG_URL).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CASES = int(os.environ.get("BENCH_CASES", "100000"))
TENANTS = 11
RUNS = int(os.environ.get("BENCH_RUNS", "40"))
WARMUP = 3
TARGET_P95_MS = 50.0
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/sigill_bench")
BACKENDS = [b for b in os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",") if b]
ROOT = Path(__file__).resolve().parent.parent
STATUS_WEIGHTS = {"draft": 8, "pending": 25, "completed": 52, "declined": 5, "revoked": 5, "expired": 5}
OFFICERS_PER_TENANT = 5
DISTINCT_EMAILS = 20000  # per tenant: regular customers appear in several cases
FIRST_NAMES = ["Anna", "Erik", "Sara", "Johan", "Maria", "Lars", "Karin", "Nils", "Eva", "Olof", "Ida", "Per"]
LAST_NAMES = ["Andersson", "Berg", "Carlsson", "Dahl", "Ek", "Fors", "Holm", "Lund", "Nyberg", "Strand"]


# --- building the database -----------------------------------------------------------------------


def make_app(url: str):
    from core.app import create_app

    instance = ROOT / "instance" / "bench"
    instance.mkdir(parents=True, exist_ok=True)
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "JOBS_MANUAL": True, "SCHEDULER_ENABLED": False,
                       "STORAGE_DIR": str(instance / "blobs"), "OUTBOX_DIR": str(instance / "outbox"),
                       "SECRET_KEY": "bench"})


def schema_fingerprint(dialect) -> str:
    from sqlalchemy.schema import CreateTable

    import core.models  # noqa: F401  (every table registered before hashing the schema)
    from core.extensions import db

    tables = [t for t in db.metadata.sorted_tables if t.name in (*BULK_TABLES, "officer", "tenant")]
    parts = [str(CreateTable(table).compile(dialect=dialect)) for table in tables]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def sync_indexes(app) -> None:
    """Indexes are not part of the cache key: build the ones the models gained since the data was made."""
    import sqlalchemy as sa

    from core.extensions import db

    with app.app_context():
        existing = {ix["name"] for name in BULK_TABLES for ix in sa.inspect(db.engine).get_indexes(name)}
        missing = [ix for name in BULK_TABLES for ix in db.metadata.tables[name].indexes if ix.name not in existing]
        if missing:
            started = time.monotonic()
            with db.engine.begin() as conn:
                for index in missing:
                    index.create(conn)
                conn.exec_driver_sql("ANALYZE")
            print(f"built {len(missing)} new index(es) in {time.monotonic() - started:.0f} s", file=sys.stderr)
        db.engine.dispose()


def _row_defaults(table, ts, js) -> dict:
    """Values for columns the generator does not set: the model's scalar defaults, else NULL."""
    from core.models.base import utcnow

    values = {}
    for column in table.columns:
        default = column.default
        if default is None:
            values[column.name] = None
        elif default.is_scalar:
            values[column.name] = js(default.arg) if isinstance(default.arg, (dict, list)) else default.arg
        elif default.is_callable:  # the models' only callable default is utcnow
            values[column.name] = ts(utcnow())
        else:
            values[column.name] = None
    return values


def generate(tenant_ids: list[int], officer_ids: dict[int, list[int]], sink, ts, js) -> None:
    """Stream every row to `sink(table, rows)` in batches; `ts` and `js` format times and JSON for the backend."""
    from core.models import Case, Document, Event, Party
    from core.sealing.fingerprint import make_fingerprint

    rng = random.Random(20261128)
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    now = datetime.now(UTC).replace(microsecond=0)
    methods, empty = js(["touch", "sms"]), js({})
    case_id = party_id = document_id = event_id = 0
    tables = {name: (model.__table__, _row_defaults(model.__table__, ts, js))
              for name, model in (("case", Case), ("party", Party), ("document", Document), ("event", Event))}
    batch: dict[str, list[dict]] = {name: [] for name in tables}

    def add(table_name: str, **values) -> None:
        row = dict(tables[table_name][1])
        row.update(values)
        batch[table_name].append(row)

    def flush() -> None:
        for name in ("case", "party", "document", "event"):
            if batch[name]:
                sink(tables[name][0], batch[name])
                batch[name] = []

    for tenant_id in tenant_ids:
        for number in range(CASES):
            case_id += 1
            status = rng.choices(statuses, weights)[0]
            created = now - timedelta(seconds=rng.randrange(2 * 365 * 86400))
            activity = created + timedelta(seconds=rng.randrange(30 * 86400))
            sent = created + timedelta(minutes=5) if status != "draft" else None
            add("case", id=case_id, tenant_id=tenant_id, title=f"{rng.choice(['Lease', 'Loan', 'Employment', 'Sale'])} "
                f"agreement {number}", message="", status=status, owner_id=rng.choice(officer_ids[tenant_id]),
                signing_order="parallel", allowed_methods=methods, language="sv",
                expires_at=ts(created + timedelta(days=30)), reminder_interval_days=3, reminder_max=3,
                created_at=ts(created), sent_at=sent and ts(sent), last_activity_at=ts(activity), event_count=3,
                event_head=hashlib.sha256(f"{case_id}:3".encode()).hexdigest())
            sha = hashlib.sha256(f"doc{case_id}".encode()).hexdigest()
            document_id += 1
            add("document", id=document_id, tenant_id=tenant_id, case_id=case_id, position=0,
                filename="agreement.pdf", sha256=sha, size=120_000, page_count=3, created_at=ts(created),
                fingerprint=make_fingerprint(sha, f"{case_id}") if status == "completed" else None,
                sealed_sha256=hashlib.sha256(f"sealed{case_id}".encode()).hexdigest() if status == "completed"
                else None)
            for position in range(2):
                party_id += 1
                person = rng.randrange(DISTINCT_EMAILS)
                first, last = FIRST_NAMES[person % len(FIRST_NAMES)], LAST_NAMES[person % len(LAST_NAMES)]
                add("party", id=party_id, tenant_id=tenant_id, case_id=case_id, position=position,
                    name=f"{first} {last}", email=f"{first}.{last}{person}@example{tenant_id}.se".lower(),
                    role="signer", language="sv", status="signed" if status == "completed" else "invited",
                    invited_at=sent and ts(sent), reminders_sent=0)
            prev = "0" * 64
            for seq, kind in enumerate(("created", "sent", "signed"), start=1):
                event_id += 1
                digest = hashlib.sha256(f"{case_id}:{seq}".encode()).hexdigest()
                add("event", id=event_id, tenant_id=tenant_id, case_id=case_id, seq=seq, kind=kind,
                    actor_type="officer", actor_label="Bench", data=empty,
                    created_at=ts(created + timedelta(minutes=seq)), prev_hash=prev, hash=digest)
                prev = digest
            if len(batch["event"]) >= 30000:
                flush()
    flush()


BULK_TABLES = ("case", "party", "document", "event")


def _without_indexes(engine, load) -> None:
    """Drop the bulk tables' secondary indexes, run `load()`, build the indexes again (much faster)."""
    from core.extensions import db

    indexes = [index for name in BULK_TABLES for index in db.metadata.tables[name].indexes]
    with engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
    load()
    with engine.begin() as conn:
        for index in indexes:
            index.create(conn)


def _people(tenant_count: int) -> tuple[list[int], dict[int, list[int]]]:
    from core.auth.service import create_officer, create_tenant
    from core.extensions import db

    tenant_ids, officer_ids = [], {}
    for number in range(1, tenant_count + 1):
        tenant = create_tenant(f"bench{number}", f"Bench {number} AB")
        db.session.flush()
        tenant_ids.append(tenant.id)
        officer_ids[tenant.id] = []
        for k in range(OFFICERS_PER_TENANT):
            officer = create_officer(tenant, f"officer{k}@bench{number}.example", f"Officer {k}",
                                     role="admin" if k == 0 else "officer", password=None)
            db.session.flush()
            officer_ids[tenant.id].append(officer.id)
    db.session.commit()
    return tenant_ids, officer_ids


def _sqlite_time(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")  # SQLAlchemy's SQLite format, UTC


def build_sqlite(path: Path) -> None:
    from sqlalchemy.dialects.sqlite import dialect

    from core.extensions import db

    sqlite_dialect = dialect(paramstyle="qmark")
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
        tenant_ids, officer_ids = _people(TENANTS)

        def load() -> None:
            conn = sqlite3.connect(path)
            conn.execute("PRAGMA synchronous=OFF")

            def sink(table, rows):
                sql = table.insert().compile(dialect=sqlite_dialect, column_keys=list(rows[0]))
                assert list(sql.positiontup) == list(rows[0]), "columns out of order"
                conn.executemany(str(sql), [tuple(row.values()) for row in rows])

            with conn:
                generate(tenant_ids, officer_ids, sink, _sqlite_time, json.dumps)
            conn.close()

        _without_indexes(db.engine, load)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    return str(value)  # generated values hold no tabs, newlines or backslashes


def build_postgresql(url: str) -> None:
    import sqlalchemy as sa

    from core.extensions import db

    app = make_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        tenant_ids, officer_ids = _people(TENANTS)
        _without_indexes(db.engine, lambda: _copy_all(tenant_ids, officer_ids))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        db.engine.dispose()


def _copy_all(tenant_ids: list[int], officer_ids: dict[int, list[int]]) -> None:
    from core.extensions import db

    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()

        def sink(table, rows):
            columns = list(rows[0])
            text = "".join("\t".join(_copy_value(v) for v in row.values()) + "\n" for row in rows)
            with cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
                copy.write(text)

        generate(tenant_ids, officer_ids, sink, datetime.isoformat, json.dumps)
        for table in BULK_TABLES:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                           f"(SELECT max(id) FROM \"{table}\"))")  # fixed names, no input
        raw.commit()
    finally:
        raw.close()


def _meta_ok(app, wanted: str) -> bool:
    import sqlalchemy as sa

    from core.extensions import db

    with app.app_context():
        try:
            with db.engine.connect() as conn:
                return conn.execute(sa.text("SELECT value FROM bench_meta WHERE key = 'build'")).scalar() == wanted
        except Exception:  # noqa: BLE001  no such database or table yet
            return False
        finally:
            db.engine.dispose()


def _write_meta(app, value: str) -> None:
    import sqlalchemy as sa

    from core.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_meta (key VARCHAR(20) PRIMARY KEY, value TEXT)"))
        conn.execute(sa.text("DELETE FROM bench_meta"))
        conn.execute(sa.text("INSERT INTO bench_meta (key, value) VALUES ('build', :v)"), {"v": value})
    with app.app_context():
        db.engine.dispose()


def ensure_database(backend: str) -> str:
    """The URL of a ready database for `backend`, building it if the cached one does not match."""
    from sqlalchemy.dialects import postgresql, sqlite

    if backend == "sqlite":
        wanted = f"{CASES}x{TENANTS}-{schema_fingerprint(sqlite.dialect())}"
        path = ROOT / "instance" / "bench" / f"cases-{wanted}.db"
        url = f"sqlite:///{path}"
        if path.exists() and _meta_ok(make_app(url), wanted):
            return url
        for old in path.parent.glob("cases-*.db*"):
            old.unlink()
        started = time.monotonic()
        build_sqlite(path)
    else:
        _create_pg_database(PG_URL)
        wanted = f"{CASES}x{TENANTS}-{schema_fingerprint(postgresql.dialect())}"
        url = PG_URL
        if _meta_ok(make_app(url), wanted):
            return url
        started = time.monotonic()
        build_postgresql(url)
    _write_meta(make_app(url), wanted)
    print(f"built the {backend} database ({CASES * TENANTS:,} cases) in {time.monotonic() - started:.0f} s",
          file=sys.stderr, flush=True)
    return url


def _create_pg_database(url: str) -> None:
    import sqlalchemy as sa

    from core.config import normalise_database_url

    base, name = normalise_database_url(url).rsplit("/", 1)
    admin = sa.create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


# --- measuring -----------------------------------------------------------------------------------


def scenarios(tenant_id: int) -> list[tuple[str, dict, bool]]:
    """(label, list filters, counts toward the 50 ms target)."""
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import Case, Document, Party

    email = db.session.scalar(sa.select(Party.email).join(Case, Case.id == Party.case_id)
                              .where(Case.status == "pending").order_by(Party.id.desc()).limit(1))
    fingerprint = db.session.scalar(sa.select(Document.fingerprint).where(Document.fingerprint.is_not(None))
                                    .order_by(Document.id).limit(1))
    owner = db.session.scalar(sa.select(Case.owner_id).limit(1))
    typed = fingerprint.replace("-", " ").lower()
    rows = [("first page (all cases)", {}, True)]
    rows += [(f"status = {status}", {"status": status}, True) for status in STATUS_WEIGHTS]
    rows += [
        ("search: party email (full address)", {"q": email}, True),
        ("search: party email (start of address)", {"q": email.split("@")[0] + "@"}, True),
        ("search: fingerprint (typed lower-case, spaces)", {"q": typed}, True),
        ("signed archive + fingerprint", {"status": "completed", "q": fingerprint}, True),
        ("my cases", {"owner_id": owner}, False),
        ("second page (keyset)", {"cursor": "next"}, False),
        ("search: free text in title (SQLite scans; PostgreSQL: pg_trgm index)", {"q": "agreement 4711"}, False),
    ]
    return rows


def measure(filters: dict) -> list[float]:
    from core.cases import listing

    filters = dict(filters)
    if filters.get("cursor") == "next":
        filters["cursor"] = listing.list_cases().next_cursor
    count_filters = {k: v for k, v in filters.items() if k in ("owner_id", "q")}
    timings = []
    for run in range(WARMUP + RUNS):
        started = time.perf_counter()
        page = listing.list_cases(**filters)
        listing.status_counts(**count_filters)
        elapsed = (time.perf_counter() - started) * 1000
        assert page.cases or filters.get("q"), "an empty page where cases were expected"
        if run >= WARMUP:
            timings.append(elapsed)
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def bench_backend(backend: str) -> list[tuple]:
    from core.extensions import db
    from tenants.scoping import tenant_context

    url = ensure_database(backend)
    app = make_app(url)
    sync_indexes(app)
    results = []
    with app.app_context(), tenant_context(1):
        for label, filters, target in scenarios(1):
            timings = measure(filters)
            results.append((backend, label, statistics.median(timings), p95(timings), target))
            db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    print(f"Case list, {CASES:,} cases per tenant x {TENANTS} tenants ({CASES * TENANTS:,} cases, "
          f"{2 * CASES * TENANTS:,} parties, {3 * CASES * TENANTS:,} events); server-side time of "
          f"`list_cases` + `status_counts` (one page of 25 with tab counts), {RUNS} runs each.\n")
    print("| backend | query | p50 ms | p95 ms | target p95 <= 50 ms |")
    print("|---|---|---:|---:|---|")
    failures = []
    for backend in BACKENDS:
        try:
            rows = bench_backend(backend)
        except Exception as exc:  # noqa: BLE001  report, then go on with the other backend
            print(f"| {backend} | FAILED: {type(exc).__name__}: {exc} | | | |", flush=True)
            failures.append(backend)
            continue
        for backend_name, label, p50_ms, p95_ms, target in rows:
            verdict = ("ok" if p95_ms <= TARGET_P95_MS else "**over**") if target else "(not a target)"
            if target and p95_ms > TARGET_P95_MS:
                failures.append(f"{backend_name}: {label}")
            print(f"| {backend_name} | {label} | {p50_ms:.1f} | {p95_ms:.1f} | {verdict} |", flush=True)
    if failures:
        print(f"\nOver target or failed: {', '.join(failures)}")


if __name__ == "__main__":
    main()
