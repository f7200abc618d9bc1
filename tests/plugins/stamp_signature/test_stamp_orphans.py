"""Orphan stamp manifests: a BankID order started from the stamp page stores its manifest at once;
one cancelled or never completed signed nothing, and the hourly cleanup deletes it after a day.
A manifest a signature names is never deleted (against the BankID simulator)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.jobs import run_periodic
from core.models import Party, Signature
from core.models.base import utcnow
from plugins.stamp_signature.models import StampManifest
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.stamp_signature.helpers import SARA
from tests.plugins.stamp_signature.test_stamp_bankid import app, finish, lease, page_of, start, step  # noqa: F401
from tests.signing_bankid.conftest import ALICE, control, orders


def _manifests(tenant_id: int) -> dict[str, StampManifest]:
    with tenant_context(tenant_id):
        db.session.rollback()
        return {m.sha256: m for m in db.session.scalars(sa.select(StampManifest))}


def _age(tenant_id: int, days: float) -> None:
    with tenant_context(tenant_id):
        db.session.execute(sa.update(StampManifest).values(created_at=utcnow() - timedelta(days=days)))
        db.session.commit()


def test_manifests_of_orders_never_completed_are_deleted_after_a_day_and_signed_ones_are_kept(
        app, on, client, sim):  # noqa: F811
    from plugins.stamp_signature import cleanup

    made = [lease(on.alice, f"Lease {i}", personal_number=ALICE.personal_number) for i in range(1, 4)]
    html = page_of(client, made[0])
    cancelled = start(client, made[0], html, [made[0].case_id, made[1].case_id])["data"]
    assert step(client, made[0], "cancel", html, order=cancelled["order"]).get_json()["ok"]
    abandoned = start(client, made[0], html, [made[1].case_id, made[2].case_id])  # the party walked away
    assert abandoned["ok"]
    control(sim, f"orders/{orders(sim)[-1]['orderRef']}/outcome", outcome="fail:expiredTransaction")

    html = page_of(client, made[0])
    signed = start(client, made[0], html, [m.case_id for m in made])["data"]
    order = orders(sim)[-1]
    control(sim, "scan", qr=signed["qr"], personalNumber=ALICE.personal_number)
    control(sim, f"orders/{order['orderRef']}/approve", personalNumber=ALICE.personal_number)
    assert step(client, made[0], "collect", html, order=signed["order"]).get_json()["data"]["status"] == "complete"
    assert "You signed 3 cases in one stamp signature." in finish(client, made[0], html, [m.case_id for m in made],
                                                                  signed["order"]).get_data(as_text=True)
    acme = _manifests(on.acme.id)
    assert len(acme) == 3
    with tenant_context(on.acme.id):
        named = {s.evidence["plugins"]["stamp_signature"]["manifest_sha256"]
                 for s in db.session.scalars(sa.select(Signature))}
    [kept_sha] = named
    assert kept_sha in acme

    # Another organisation's order, never completed: the same person, Globex's cases.
    globex_case = lease(on.charlie, "Globex lease 1", personal_number=ALICE.personal_number)
    lease(on.charlie, "Globex lease 2", personal_number=ALICE.personal_number)
    globex_html = client.get(f"/stamp/s/{globex_case.token(SARA)}").get_data(as_text=True)
    assert start(client, globex_case, globex_html, [globex_case.case_id])["ok"]
    [globex_sha] = _manifests(on.globex.id)

    run_periodic("stamp_signature_cleanup")
    assert len(_manifests(on.acme.id)) == 3 and len(_manifests(on.globex.id)) == 1, "not a day old yet"

    _age(on.acme.id, 2)
    _age(on.globex.id, 2)
    with tenant_context(on.acme.id):  # Acme's cleanup: Globex's orphan is not Acme's to delete
        assert cleanup.cleanup(on.acme) == 2
        db.session.commit()
    left = _manifests(on.acme.id)
    assert list(left) == [kept_sha] and left[kept_sha].kept_at is not None, "the signed manifest stays"
    assert list(_manifests(on.globex.id)) == [globex_sha]

    run_periodic("stamp_signature_cleanup")
    assert _manifests(on.globex.id) == {}
    assert list(_manifests(on.acme.id)) == [kept_sha]
    # The office still downloads the manifest the signatures name.
    alice = app.test_client()
    support.login(alice, "alice@acme.example")
    with tenant_context(on.acme.id):
        party_id = db.session.scalar(sa.select(Party.id).where(Party.case_id == made[1].case_id))
    download = alice.get(f"/stamp/cases/{made[1].case_id}/parties/{party_id}/manifest.json")
    assert download.status_code == 200 and hashlib.sha256(download.data).hexdigest() == kept_sha
