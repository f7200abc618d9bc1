"""Job functions used by the job tests (jobs are looked up by dotted name, like real ones)."""

from pathlib import Path

from flask import current_app

from core.extensions import db
from core.models import Tenant
from tenants.scoping import current_tenant_id

CALLS_FILE = "job_calls.txt"


def _log(line: str) -> None:
    path = Path(current_app.config["STORAGE_DIR"]) / CALLS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(line + "\n")


def calls(app) -> list[str]:
    path = Path(app.config["STORAGE_DIR"]) / CALLS_FILE
    return path.read_text().splitlines() if path.exists() else []


def rename_tenant(tenant_id: int, name: str) -> None:
    """A job that writes: proves it runs in an app context with the tenant set."""
    db.session.get(Tenant, tenant_id).name = name
    _log(f"rename {tenant_id} {name} tenant={current_tenant_id()}")


def flaky(marker: str) -> None:
    """Fails on its first two attempts."""
    attempts = sum(1 for line in calls(current_app) if line.startswith(f"flaky {marker}"))
    _log(f"flaky {marker} attempt {attempts + 1}")
    if attempts < 2:
        raise RuntimeError("temporary failure")


def always_fails() -> None:
    _log("always_fails")
    raise RuntimeError("permanent failure")


def slow_rename(tenant_id: int, name: str, marker: str) -> None:
    """Announces that it started, then takes long enough to be killed mid-job."""
    import os
    import time

    _log(f"started {marker}")
    time.sleep(float(os.environ.get("SLOW_JOB_SECONDS", "30")))
    rename_tenant(tenant_id, name)
