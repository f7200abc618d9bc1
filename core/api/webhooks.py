"""Webhooks fired from the case lifecycle: an always-on core plugin (see `CORE_PLUGINS`).

Each hook queues one delivery per subscribed endpoint of the case's tenant, in the transaction of
the change itself: a change that is rolled back sends nothing. Deliveries run in parallel and are
retried, so they may arrive out of order: each payload carries `sequence`, the number of the
case's event that caused it (increasing per case), for receivers to order them by.
"""

from __future__ import annotations

from collections.abc import Callable

from core.api import schemas, service
from core.models import Case
from core.plugins import hookimpl


def fire(event: str, case: Case, data: dict | Callable[[], dict] | None = None) -> None:
    """Queue `event` about `case` for every endpoint of the case's organisation that subscribes to it.

    For plugins (their events declared with `webhook_events`) as for the core: call it inside the
    change's transaction, right after the case's event that caused it was recorded: its number in
    the case's chain is the delivery's `sequence` (two webhooks of one event share it). The payload's
    `data` is `{"case": <the case as GET /api/v1/cases/{id} shows it>, **data}`; `data` must be JSON
    (dates become ISO strings), with no secrets and no personal numbers; it may be a function
    giving that dict, called only when some endpoint subscribes.
    """
    def payload() -> dict:  # built only when an endpoint subscribes: most tenants have none (cheap signing)
        return {"case": schemas.CaseOut().dump(case), **((data() if callable(data) else data) or {})}

    service.queue_event(case.tenant_id, event, payload, case_id=case.id, sequence=case.event_count)


def _fire(event: str, case: Case, party=None) -> None:
    # Every hook fires right after its event joined the case's chain: its number orders the webhooks.
    # The party too is serialised only for a subscriber (a sign POST paid for it on every signature).
    fire(event, case, (lambda: {"party": schemas.PartyOut().dump(party)}) if party is not None else None)


@hookimpl
def case_sent(case):
    _fire("case.sent", case)


@hookimpl
def party_viewed(case, party):
    _fire("party.viewed", case, party)


@hookimpl
def party_signed(case, party, signature):
    _fire("party.signed", case, party)


@hookimpl
def case_completed(case):
    _fire("case.completed", case)


@hookimpl
def case_declined(case, party):
    _fire("case.declined", case, party)


@hookimpl
def case_revoked(case, officer):
    _fire("case.revoked", case)


@hookimpl
def case_expired(case):
    _fire("case.expired", case)
