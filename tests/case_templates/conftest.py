"""Templates made through the template service, the way the office makes them."""

from __future__ import annotations

import pytest

from core.case_templates import service
from core.extensions import db
from tenants.scoping import tenant_context
from tests.fields.pdfs import lease_form

ROLES = [{"label": "Tenant", "kind": "signer"}, {"label": "Our signatory", "kind": "signer",
                                                  "fixed": {"name": "Alice Andersson", "email": "alice@acme.example",
                                                            "language": "en"}}]
SETTINGS = {"title": "Lease", "message": "Please sign", "allowed_methods": ["touch"], "signing_order": "sequential",
            "language": "en", "expiry_days": 14, "reminder_interval_days": 2, "reminder_max": 2}


def build_template(officer, name: str = "Lease agreement", documents=None, roles=None, extra_fields=()):
    """A template with the lease form (its form fields for the first role) and two roles."""
    with tenant_context(officer.tenant_id):
        added = [service.document_entry(f"doc{i}.pdf", pdf) for i, pdf in enumerate(documents or [lease_form()])]
        content, _found = service.revised_content(None, dict(SETTINGS), [dict(r) for r in roles or ROLES],
                                                  [], added)
        content["fields"] += [dict(f) for f in extra_fields]
        template = service.create_template(officer, name, content)
        db.session.commit()
        return template


@pytest.fixture
def make_template(people):
    def make(officer=None, **kwargs):
        return build_template(officer or people.alice, **kwargs)

    return make
