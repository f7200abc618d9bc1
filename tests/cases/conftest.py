"""Cases made through the service, the way the office makes them."""

from __future__ import annotations

import pytest

from core.cases import service
from core.extensions import db
from core.jobs import drain
from tenants.scoping import tenant_context
from tests.cases import pdfs


@pytest.fixture
def make_case(people):
    """`make_case(owner, parties=[(name, email), ...], send=True, order="parallel")` -> case id."""

    def make(owner=None, parties=(("Sam Signer", "sam@example.org"),), send=True, order="parallel",
             title="Lease agreement", methods=("touch",), documents=1, reminder_interval_days=None, reminder_max=None):
        owner = owner or people.alice
        with tenant_context(owner.tenant_id):
            case = service.create_case(owner, title, "Please sign", list(methods), order, "en", None,
                                       reminder_interval_days, reminder_max)
            for number in range(documents):
                service.add_document(case, f"doc{number + 1}.pdf", pdfs.pdf(2, f"Document {number + 1}"),
                                     actor=owner)
            for party in parties:
                name, email, *rest = party
                service.add_party(case, name, email, role=rest[0] if rest else "signer", language="en")
            if send:
                service.send_case(case, owner)
            db.session.commit()
            case_id = case.id
        drain()
        return case_id

    return make
