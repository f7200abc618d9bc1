"""What a party who has signed is told: true for every state the case can be in afterwards."""

from __future__ import annotations

import sqlalchemy as sa

from core.cases import service as cases
from core.cases.service import SEAL_JOB
from core.extensions import db
from core.jobs import drain
from core.models import Case, Job, Officer, Party
from core.models.base import utcnow
from tenants.scoping import tenant_context
from tests import support
from tests.signing.helpers import PER, SARA, sign_form

WAIT_FOR_OTHERS = "When every party has signed"
SEALING_NOW = "being sealed right now"


def sign(client, made, name: str) -> str:
    path = made.path(name)
    assert support.post(client, path + "/sign", sign_form(client, path), token_from=path).status_code == 302
    return client.get(path).get_data(as_text=True)


def status(client, made, name: str) -> str:
    response = client.get(made.path(name) + "/status", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return response.get_json()["outcome"]


def test_a_signer_before_the_last_is_told_who_is_still_to_sign(client, lease):
    html = sign(client, lease, SARA)
    assert "Thank you for signing" in html and "Still to sign: Per Persson." in html
    assert WAIT_FOR_OTHERS in html and SEALING_NOW not in html
    assert status(client, lease, SARA) == "others"


def test_the_last_signer_is_told_the_documents_are_being_sealed_then_gets_the_download(client, lease):
    sign(client, lease, SARA)
    html = sign(client, lease, PER)
    assert SEALING_NOW in html and WAIT_FOR_OTHERS not in html and "Still to sign" not in html
    assert 'data-status-url="' in html and "signing-status.js" in html
    assert status(client, lease, PER) == "sealing" and status(client, lease, SARA) == "sealing"
    drain()
    assert status(client, lease, PER) == "sealed"
    html = client.get(lease.path(PER)).get_data(as_text=True)
    assert f"/signed/{lease.document_id}" in html and "Download lease.pdf (signed)" in html
    assert SEALING_NOW not in html and 'data-status-url="' not in html  # nothing left to wait for


def test_a_signer_of_a_revoked_case_is_told_it_was_withdrawn_not_that_it_is_being_sealed(client, people, lease):
    sign(client, lease, SARA)
    with tenant_context(people.acme.id):
        cases.revoke_case(db.session.get(Case, lease.case_id), db.session.get(Officer, people.bob.id),
                          "The flat was let to someone else")
        db.session.commit()
    html = client.get(lease.path(SARA)).get_data(as_text=True)
    assert "Acme AB has withdrawn" in html and "The flat was let to someone else" in html
    assert "No signed documents will be made" in html
    assert SEALING_NOW not in html and "being sealed" not in html and WAIT_FOR_OTHERS not in html
    assert status(client, lease, SARA) == "revoked"
    drain()
    told = {str(m["To"]): support.body_text(m) for m in support.outbox_messages() if "withdrawn" in m["Subject"]}
    assert "Your signature was recorded, but the case will not be completed" in told["sara@example.com"]
    assert "You no longer need to sign it" not in told["sara@example.com"]
    assert "You no longer need to sign it" in told["per@example.com"]  # Per had not signed


def test_a_signer_of_an_expired_case_is_told_it_ran_out(client, people, lease):
    sign(client, lease, SARA)
    with tenant_context(people.acme.id):
        db.session.get(Case, lease.case_id).expires_at = utcnow()
        db.session.commit()
        assert cases.expire_case(lease.case_id, utcnow())
        db.session.commit()
    html = client.get(lease.path(SARA)).get_data(as_text=True)
    assert "ran out" in html and "being sealed" not in html and WAIT_FOR_OTHERS not in html
    assert status(client, lease, SARA) == "expired"


def test_a_signer_is_told_when_another_party_declined(client, lease):
    sign(client, lease, SARA)
    support.post(client, lease.path(PER) + "/decline", {"reason": "Too expensive"}, token_from=lease.path(PER))
    with tenant_context(lease.case.tenant_id):
        assert db.session.get(Party, lease.parties[1].id).status == "declined"
    html = client.get(lease.path(SARA)).get_data(as_text=True)
    assert "another party declined to sign" in html and "being sealed" not in html
    assert status(client, lease, SARA) == "declined"


def test_a_signer_is_told_when_sealing_gave_up(client, lease):
    sign(client, lease, SARA)
    sign(client, lease, PER)
    with tenant_context(lease.case.tenant_id):
        db.session.execute(sa.update(Job).where(Job.func == SEAL_JOB).values(state="failed"))
        db.session.commit()
    html = client.get(lease.path(SARA)).get_data(as_text=True)
    assert "sealing the documents has not succeeded yet" in html and "Acme AB has been told" in html
    assert SEALING_NOW not in html
    assert status(client, lease, SARA) == "sealing_failed"


def test_the_status_of_an_unknown_link_says_nothing(client):
    response = client.get("/s/not-a-token/status", headers={"Accept": "application/json"})
    assert response.status_code == 404 and b"outcome" not in response.data
