"""A certified PDF stored before uploads refused them: sealing stops once, says why, and is not retried."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.models import Case, Document, Event, Job
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import support
from tests.completion.test_sealing_job import sign
from tests.sealing.pdfs import signed_pdf
from tests.signing.helpers import make_case, pdf, signer


def test_a_certified_document_stops_sealing_once_with_the_reason(app, people, client):
    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"])
    with tenant_context(made.case.tenant_id):  # stored before uploads were checked for certification
        document = db.session.get(Document, made.document_id)
        document.sha256 = blobs().put(signed_pdf(pdf(), "Cert Ifier", certify=1))
        document.filename = "certified.pdf"
        db.session.commit()
    sign(client, made, "Sara Svensson")
    drain()
    job = db.session.scalars(sa.select(Job).where(Job.func == "core.sealing.jobs.seal_case")).one()
    assert job.state == "failed" and job.attempts == 1  # another attempt would fail the same way
    with tenant_context(made.case.tenant_id):
        [failed] = db.session.scalars(sa.select(Event).where(Event.case_id == made.case.id,
                                                             Event.kind == "seal_failed")).all()
        assert failed.data["document"] == "certified.pdf" and failed.data["certified_by"] == "Cert Ifier"
        assert db.session.get(Case, made.case.id).status == "pending"
    bob = app.test_client()
    support.login(bob, "bob@acme.example")
    page = bob.get(f"/cases/{made.case.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sealing stopped: certified.pdf is certified by Cert Ifier" in page
