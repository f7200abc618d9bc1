"""Webhooks fired from the case lifecycle: an always-on core plugin (see `CORE_PLUGINS`).

Each hook queues one delivery per subscribed endpoint of the case's tenant, in the transaction of
the change itself: a change that is rolled back sends nothing. Deliveries run in parallel and are
retried, so they may arrive out of order: each payload carries `sequence`, the number of the
case's event that caused it (increasing per case), for receivers to order them by.
"""

from __future__ import annotations

from core.api import schemas, service
from core.models import Case
from core.plugins import hookimpl


def _fire(event: str, case: Case, party=None) -> None:
    data = {"case": schemas.CaseOut().dump(case)}
    if party is not None:
        data["party"] = schemas.PartyOut().dump(party)
    # Every hook fires right after its event joined the case's chain: its number orders the webhooks.
    service.queue_event(case.tenant_id, event, data, case_id=case.id, sequence=case.event_count)


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
