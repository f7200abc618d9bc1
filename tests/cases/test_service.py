"""The case service: sending, the signer's callbacks, follow-up and the periodic tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.cases import events, followup, periodic, previews, service
from core.extensions import db
from core.jobs import drain
from core.models import Case, Job, Party, Signature
from core.models.base import utcnow
from core.signing.service import find_party, link_state
from tenants.scoping import tenant_context
from tests import support
from tests.cases import pdfs

TWO_SIGNERS_AND_A_RECIPIENT = (("Sam Signer", "sam@example.org"), ("Tove Two", "tove@example.org"),
                               ("Rita Recipient", "rita@example.org", "recipient"))


@pytest.fixture
def acme(people):
    with tenant_context(people.acme.id):
        yield people


def _case(case_id: int) -> Case:
    return db.session.get(Case, case_id)


def _party(case: Case, email: str) -> Party:
    return next(p for p in case.parties if p.email == email)


def _mail_to(address: str) -> list:
    return [m for m in support.outbox_messages() if address in str(m["To"])]


def _sign(case: Case, party: Party, run_jobs: bool = True) -> None:
    """What the signer's side does: write the Signature and its event, then tell the case service."""
    db.session.add(Signature(case_id=case.id, party_id=party.id, method="touch", consent_text="I agree",
                             document_hashes={d.filename: d.sha256 for d in case.documents}))
    db.session.flush()
    events.record(case, "party_signed", "party", actor_id=party.id, actor_label=party.name, data={"method": "touch"})
    service.party_signed(case, party)
    db.session.commit()
    if run_jobs:
        drain()


def _seal_jobs(case_id: int) -> int:
    # Compared here: PostgreSQL's json type has no equality operator.
    return db.session.scalars(sa.select(Job.args).where(Job.func == service.SEAL_JOB)).all().count([case_id])


def test_a_new_case_is_a_draft_with_the_tenants_defaults(acme):
    case = service.create_case(acme.alice, "Lease", "", ["touch"], "parallel", "sv", None, None, None)
    assert case.status == "draft" and case.owner_id == acme.alice.id
    assert case.reminder_interval_days == 3 and case.reminder_max == 3
    assert timedelta(days=29) < case.expires_at - utcnow() <= timedelta(days=30)


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"), (pdfs.png(), "not_pdf"), (pdfs.truncated_pdf(), "corrupt"), (pdfs.encrypted_pdf(), "encrypted"),
])
def test_add_document_rejects_bad_files(acme, data, reason):
    case = service.create_case(acme.alice, "Lease", "", ["touch"], "parallel", "sv", None, None, None)
    with pytest.raises(service.DocumentRejected) as rejected:
        service.add_document(case, "contract.pdf", data)
    assert rejected.value.reason_code == reason and rejected.value.filename == "contract.pdf"
    assert case.documents == []


def test_add_document_respects_the_tenants_size_limit(acme):
    acme.acme.settings = {"max_upload_mb": 1}
    case = service.create_case(acme.alice, "Lease", "", ["touch"], "parallel", "sv", None, None, None)
    big = pdfs.pdf(1) + b"%" + b"x" * (1024 * 1024) + b"\n%%EOF\n"
    with pytest.raises(service.DocumentRejected) as rejected:
        service.add_document(case, "huge.pdf", big)
    assert rejected.value.reason_code == "too_large"


def test_add_document_stores_a_good_pdf_as_a_blob(acme):
    from core.storage import blobs

    case = service.create_case(acme.alice, "Lease", "", ["touch"], "parallel", "sv", None, None, None)
    data = pdfs.pdf(3)
    document = service.add_document(case, "C:\\Users\\a\\lease.pdf", data)
    assert (document.filename, document.page_count, document.size) == ("lease.pdf", 3, len(data))
    assert blobs().get(document.sha256) == data


def test_a_sequential_case_invites_one_signer_at_a_time(acme, make_case):
    case = _case(make_case(parties=TWO_SIGNERS_AND_A_RECIPIENT, order="sequential"))
    assert [str(m["To"]) for m in support.outbox_messages()] == ["sam@example.org"]
    assert [p.status for p in case.parties] == ["invited", "waiting", "waiting"]
    _sign(case, _party(case, "sam@example.org"))
    assert len(_mail_to("tove@example.org")) == 1 and not _mail_to("rita@example.org")
    assert _party(case, "tove@example.org").status == "invited"


def test_a_parallel_case_invites_every_signer_but_not_recipients(acme, make_case):
    make_case(parties=TWO_SIGNERS_AND_A_RECIPIENT)
    assert sorted(str(m["To"]) for m in support.outbox_messages()) == ["sam@example.org", "tove@example.org"]


def test_the_invitation_carries_a_personal_link_stored_only_hashed(acme, make_case):
    case = _case(make_case())
    link = support.links_in(_mail_to("sam@example.org")[0])[0]
    token = link.rsplit("/", 1)[-1]
    party = case.parties[0]
    assert len(token) >= 43 and token not in (party.token_hash or "")
    assert find_party(token).id == party.id
    assert find_party(token + "x") is None


def test_the_last_signature_queues_sealing_exactly_once(acme, make_case):
    case = _case(make_case(parties=TWO_SIGNERS_AND_A_RECIPIENT))
    _sign(case, _party(case, "sam@example.org"))
    assert case.seal_state is None and _seal_jobs(case.id) == 0
    _sign(case, _party(case, "tove@example.org"), run_jobs=False)
    assert case.seal_state == "queued" and _seal_jobs(case.id) == 1
    assert service.queue_sealing(case) is False
    db.session.commit()
    assert _seal_jobs(case.id) == 1
    assert [e.kind for e in case.events][-2:] == ["party_signed", "seal_queued"]
    drain()
    assert case.status == "completed" and all(d.fingerprint for d in case.documents)


def test_a_decline_closes_the_case_kills_links_and_tells_the_owner(acme, make_case):
    case = _case(make_case(parties=TWO_SIGNERS_AND_A_RECIPIENT))
    tove = _party(case, "tove@example.org")
    service.party_declined(case, tove, "Wrong amount")
    db.session.commit()
    drain()
    assert case.status == "declined" and case.close_reason == "Wrong amount"
    assert [(p.email, p.token_hash) for p in case.parties if p.token_hash] == []
    assert "declined" in _mail_to("alice@acme.example")[0]["Subject"]


def test_revoking_kills_every_link_and_tells_invited_parties(acme, make_case):
    case = _case(make_case(parties=TWO_SIGNERS_AND_A_RECIPIENT, order="sequential"))
    token = support.links_in(_mail_to("sam@example.org")[0])[0].rsplit("/", 1)[-1]
    service.revoke_case(case, acme.bob, "Sent by mistake")
    db.session.commit()
    drain()
    assert case.status == "revoked" and link_state(find_party(token)).state == "revoked"
    told = _mail_to("sam@example.org")[-1]
    assert "withdrawn" in told["Subject"] and "Sent by mistake" in support.body_text(told)
    assert not _mail_to("tove@example.org")
    revoked = case.events[-1]
    assert (revoked.kind, revoked.actor_id) == ("revoked", acme.bob.id)


def test_correcting_an_email_kills_the_old_link_and_sends_a_new_one(acme, make_case):
    case = _case(make_case(parties=(("Sam Signer", "sam@exmaple.org"),)))
    old = support.links_in(_mail_to("sam@exmaple.org")[0])[0].rsplit("/", 1)[-1]
    followup.correct_party(case, case.parties[0], acme.alice, email="sam@example.org")
    db.session.commit()
    drain()
    new = support.links_in(_mail_to("sam@example.org")[0])[0].rsplit("/", 1)[-1]
    assert find_party(old) is None
    assert find_party(new).email == "sam@example.org"


def test_reminding_now_is_limited_to_once_an_hour(acme, make_case):
    case = _case(make_case())
    party = case.parties[0]
    followup.remind_party(case, party, actor=acme.alice)
    db.session.commit()
    with pytest.raises(service.CaseError) as error:
        followup.remind_party(case, party, actor=acme.alice)
    assert error.value.code == "reminded_recently"
    followup.remind_party(case, party, actor=acme.alice, now=utcnow() + timedelta(minutes=61))
    assert party.reminders_sent == 2


def _age_invitations(case: Case, days: float) -> None:
    for party in case.parties:
        if party.invited_at:
            party.invited_at -= timedelta(days=days)
    db.session.commit()


def test_the_scheduler_sends_reminders_per_the_policy(app, people, make_case):
    case_id = make_case(reminder_interval_days=2, reminder_max=2)
    with tenant_context(people.acme.id):
        case = _case(case_id)
        _age_invitations(case, 1)
    assert periodic.send_due_reminders() == 0
    assert periodic.send_due_reminders(now=utcnow() + timedelta(days=1, hours=1)) == 1
    assert periodic.send_due_reminders(now=utcnow() + timedelta(days=1, hours=2)) == 0  # not again so soon
    assert periodic.send_due_reminders(now=utcnow() + timedelta(days=3, hours=2)) == 1
    assert periodic.send_due_reminders(now=utcnow() + timedelta(days=30)) == 0  # at most twice
    drain()
    reminders = [m for m in _mail_to("sam@example.org") if "Reminder" in m["Subject"]]
    assert len(reminders) == 2
    with tenant_context(people.acme.id):
        assert _case(case_id).parties[0].reminders_sent == 2


def test_expiry_closes_the_case_and_tells_the_owner(app, people, make_case):
    case_id = make_case()
    assert periodic.expire_due_cases() == 0
    assert periodic.expire_due_cases(now=utcnow() + timedelta(days=31)) == 1
    assert periodic.expire_due_cases(now=utcnow() + timedelta(days=32)) == 0
    drain()
    with tenant_context(people.acme.id):
        case = _case(case_id)
        assert case.status == "expired" and case.parties[0].token_hash is None
        assert case.events[-1].kind == "expired" and case.events[-1].actor_type == "system"
    assert "expired" in _mail_to("alice@acme.example")[0]["Subject"]


def test_reassigning_records_who_handed_over(acme, make_case):
    case = _case(make_case())
    followup.reassign_case(case, acme.bob, acme.bob)
    assert case.owner_id == acme.bob.id
    assert case.events[-1].kind == "reassigned" and case.events[-1].actor_id == acme.bob.id


def test_a_colleague_of_another_tenant_cannot_take_over(acme, make_case):
    case = _case(make_case())
    with pytest.raises(service.CaseError):
        followup.reassign_case(case, acme.alice, acme.charlie)


def test_page_previews_are_rendered_once_and_kept(acme, make_case):
    case = _case(make_case())
    document = case.documents[0]
    png = previews.page_preview(document, 2)
    assert png.startswith(b"\x89PNG") and document.previews["2"]
    assert previews.page_preview(document, 2) == png
    with pytest.raises(service.CaseError):
        previews.page_preview(document, 3)


def test_the_new_owner_is_told_when_a_colleague_hands_a_case_over(acme, make_case):
    case = _case(make_case())
    followup.reassign_case(case, acme.alice, acme.bob)
    db.session.commit()
    drain()
    [notice] = [m for m in support.outbox_messages() if m["To"] == acme.bob.email and "handed you" in m["Subject"]]
    assert "Alice Andersson handed the case" in support.body_text(notice)
    assert f"/cases/{case.id}" in support.body_text(notice)
