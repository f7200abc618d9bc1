"""Stamp signature by jobs: a chunk of cases is signed in one transaction, and what goes wrong
with one case (a parallel signature on the party's own page) costs no case its signature and
gives none two."""

from __future__ import annotations

from email import message_from_string, policy

import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.models import Case, Job, Party, Signature
from core.models.base import utcnow
from tenants.scoping import tenant_context
from tests.plugins.stamp_signature.test_stamp import SARA, lease, stamp_form, stamp_page
from tests.signing.helpers import events_of
from tests.support import body_text


def _post_all(client, made) -> str:
    html = stamp_page(client, made[0]).get_data(as_text=True)
    return client.post(f"/stamp/s/{made[0].token(SARA)}/sign",
                       data=stamp_form(html, [m.case_id for m in made])).get_data(as_text=True)


def test_a_party_who_signed_one_case_on_its_own_page_meanwhile_keeps_that_signature_and_the_rest_are_signed(
        app, on, client, monkeypatch):  # noqa: F811
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)
    monkeypatch.setattr(service, "CHUNK", 4)
    made = [lease(on.alice if i % 2 else on.bob, f"Lease {i}") for i in range(1, 5)]
    assert "Your stamp signature covers 4 cases" in _post_all(client, made)
    with tenant_context(on.acme.id):
        # Another transaction wrote the party's signature of the third case (its own signer page)
        # after the chunk job read the party as unsigned: the job's insert of it breaks the unique rule.
        party = db.session.scalar(sa.select(Party).where(Party.case_id == made[2].case_id))
        db.session.add(Signature(case_id=party.case_id, tenant_id=party.tenant_id, party_id=party.id, method="touch",
                                 signed_at=utcnow(), ip="10.0.0.9", user_agent="own page", consent_text="own page",
                                 document_hashes={}, identity={}, evidence={}))
        db.session.commit()
        [job] = db.session.scalars(sa.select(Job).where(Job.func.like("%sign_chunk"))).all()
    drain()
    with tenant_context(on.acme.id):
        assert db.session.get(Job, job.id).state == "done"
        for m in made:
            [signature] = db.session.scalars(sa.select(Signature).where(Signature.case_id == m.case_id)).all()
            if m is made[2]:
                assert signature.user_agent == "own page"  # the one written first stands, alone
                continue
            assert signature.evidence["plugins"]["stamp_signature"]["cases"] == 4
            case = db.session.get(Case, m.case_id)
            assert case.status == "completed" and len(events_of(case, "completed")) == 1


def test_a_chunk_job_that_gives_up_puts_its_cases_back_to_waiting_and_tells_the_party(
        app, on, client, monkeypatch):  # noqa: F811
    from core.models import Event, OutgoingMail
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)
    monkeypatch.setattr(service, "CHUNK", 4)
    made = [lease(on.alice if i % 2 else on.bob, f"Lease {i}") for i in range(1, 5)]
    real = service._sign_cases
    monkeypatch.setattr(service, "_sign_cases", lambda *a, **k: (_ for _ in ()).throw(OSError("database gone")))
    assert "Your stamp signature covers 4 cases" in _post_all(client, made)
    with tenant_context(on.acme.id):
        db.session.execute(sa.update(Job).where(Job.func.like("%sign_chunk")).values(max_attempts=1))
        db.session.commit()
        sha256 = db.session.scalar(sa.select(service.StampManifest.sha256))
    url = f"/stamp/s/{made[0].token(SARA)}/progress?manifest={sha256}"
    assert {v["outcome"] for v in client.get(url).get_json().values()} == {"signing"}
    drain()

    states = client.get(url).get_json()
    assert {v["outcome"] for v in states.values()} == {"not_signed"}, "no longer 'Being signed…'"
    assert all("It is waiting for you: sign it again." in v["text"] for v in states.values())
    with tenant_context(on.acme.id):
        assert db.session.scalar(sa.select(Job.state).where(Job.func.like("%sign_chunk"))) == "failed"
        for m in made:
            [event] = db.session.scalars(sa.select(Event).where(Event.case_id == m.case_id,
                                                                Event.kind == "stamp_not_signed")).all()
            assert event.data["manifest_sha256"] == sha256
        [mail] = db.session.scalars(sa.select(OutgoingMail).where(OutgoingMail.subject.like("%were not signed"))).all()
        assert mail.to_addr == "sara@example.com" and "4 documents you signed together were not signed" in mail.subject
        text = body_text(message_from_string(mail.mime, policy=policy.default))
        assert all(f"Lease {i}" in text for i in range(1, 5))
    page = client.get(f"/stamp/s/{made[0].token(SARA)}").get_data(as_text=True)
    assert all(f'name="digest:{m.case_id}"' in page for m in made), "the cases wait to be signed again"

    monkeypatch.setattr(service, "_sign_cases", real)
    html = stamp_page(client, made[0]).get_data(as_text=True)
    again = client.post(f"/stamp/s/{made[0].token(SARA)}/sign", data=stamp_form(html, [m.case_id for m in made]))
    assert "Your stamp signature covers 4 cases" in again.get_data(as_text=True)
    drain()
    with tenant_context(on.acme.id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 4
