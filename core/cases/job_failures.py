"""A job that gave up says so: on its case's timeline and to the case's owner by email.

Called by `core.jobs` when a job has used its last attempt (its function kept failing, or its
worker kept dying). The owner's email is itself a job without a case, so a mail that cannot be
delivered does not report itself in a loop.
"""

from __future__ import annotations

import logging

from core.cases import events
from core.extensions import db
from core.mail import send_mail
from core.models import Case, Job, Officer, Tenant
from core.urls import external_url
from tenants.scoping import tenant_context

log = logging.getLogger(__name__)


def report_given_up(job: Job) -> None:
    """Record `job_gave_up` on the job's case and mail the owner (in the caller's transaction), and
    let the organisation's plugins tell their own (`job_gave_up`: a job for many cases has none)."""
    if job.tenant_id is not None:
        _tell_plugins(job)
    if job.case_id is None or job.tenant_id is None:
        return
    report(job.tenant_id, job.case_id, job.queue, job.attempts, job.last_error or "")
    log.warning("job %s (%s) gave up after %s attempts; case %s told", job.id, job.queue, job.attempts, job.case_id)


def _tell_plugins(job: Job) -> None:
    from core.plugins import hooks_for_tenant_id

    error = ((job.last_error or "").splitlines() or [""])[0][:300]
    try:
        with tenant_context(job.tenant_id), db.session.begin_nested():
            hooks_for_tenant_id(job.tenant_id).job_gave_up(func=job.func, args=list(job.args or []), error=error)
    except Exception:  # noqa: BLE001  the job is marked failed all the same
        log.exception("a plugin could not report that job %s gave up", job.id)


def report(tenant_id: int, case_id: int, work: str, attempts: int, error: str) -> None:
    """Work of kind `work` (a job queue's name) for the case gave up after `attempts`."""
    with tenant_context(tenant_id):
        case = db.session.get(Case, case_id)
        if case is None:
            return
        first_line = (error.splitlines() or [""])[0]
        events.record(case, "job_gave_up", "system", actor_label="Sigill",
                      data={"work": work, "attempts": attempts, "error": first_line[:300]})
        owner = db.session.get(Officer, case.owner_id) if case.owner_id else None
        if owner is not None and owner.active:
            tenant = db.session.get(Tenant, case.tenant_id)
            send_mail(owner.email, "job_gave_up", owner.language or tenant.setting("default_language") or "sv",
                      tenant=tenant, case=case, owner=owner, work=work, attempts=attempts,
                      case_url=external_url("cases.detail", case_id=case.id), report_failure=False)
