"""A template's settings and roles, set in the office form, carry into every case made from it: the
roles in their order (moved without JavaScript), a role's own methods, a role that only receives
the result, the signing order, language, reminders and the last day for signing."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import sqlalchemy as sa

from core.case_templates import service
from core.case_templates.models import CaseTemplate
from core.extensions import db
from core.models import Case
from core.models.base import utcnow
from tenants.scoping import tenant_context
from tests import support
from tests.signing.helpers import LEASE_LINES, pdf

ROLES = {"role-0-label": "Customer", "role-0-kind": "signer", "role-0-methods": ["sms"],
         "role-1-label": "Accountant", "role-1-kind": "recipient",
         "role-2-label": "Our signatory", "role-2-kind": "signer", "role-2-fixed": "yes",
         "role-2-name": "Alice Andersson", "role-2-email": "alice@acme.example", "role-2-phone": "070-111 22 33",
         "role-2-language": "sv"}


def template_form(client, url: str, **changes) -> dict:
    data = {"csrf_token": support.csrf_token(client, url), "name": "Service agreement", "title": "Service",
            "message": "Please sign", "methods": ["touch", "sms"], "signing_order": "sequential", "language": "sv",
            "expiry_days": "10", "reminder_interval_days": "2", "reminder_max": "3", **ROLES, "action": "save"}
    data.update(changes)
    return data


def test_a_role_moved_up_without_javascript_keeps_everything_typed(client, people, login):
    login(people.alice)
    data = template_form(client, "/templates/new", action="up-2",
                         documents=(io.BytesIO(pdf(LEASE_LINES)), "agreement.pdf"))
    html = client.post("/templates/new", data=data, content_type="multipart/form-data").get_data(as_text=True)
    labels = re.findall(r'name="role-\d-label" value="([^"]*)"', html)
    assert labels == ["Customer", "Our signatory", "Accountant"]
    assert 'name="role-1-email" value="alice@acme.example"' in html  # the fixed person moved with the role
    assert "agreement.pdf" in html  # the document is kept, not lost
    with tenant_context(people.acme.id):
        assert db.session.scalars(sa.select(CaseTemplate)).all() == []  # moving is not saving


def test_the_settings_and_roles_carry_into_a_case(client, people, login):
    login(people.alice)
    data = template_form(client, "/templates/new", documents=(io.BytesIO(pdf(LEASE_LINES)), "agreement.pdf"))
    response = client.post("/templates/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    with tenant_context(people.acme.id):
        template = db.session.scalars(sa.select(CaseTemplate)).one()
        roles = service.version_of(template).content["roles"]
    assert [(r["key"], r["kind"], r["methods"]) for r in roles] == [
        ("customer", "signer", ["sms"]), ("accountant", "recipient", None), ("our-signatory", "signer", None)]

    url = f"/templates/{template.id}/use"
    use = client.get(url).get_data(as_text=True)
    last_day = (utcnow().date() + timedelta(days=10)).isoformat()
    assert f'value="{last_day}"' in use  # the template's days to sign, as the suggested last day
    response = client.post(url, data={
        "csrf_token": support.csrf_token(client, url), "version": "1", "title": "Service", "message": "Please sign",
        "expires_on": last_day, "person-customer-name": "Sara Svensson", "person-customer-email": "sara@example.com",
        "person-customer-phone": "070-123 45 67", "person-customer-language": "en",
        "person-accountant-name": "Per Persson", "person-accountant-email": "per@example.com",
        "person-accountant-language": "sv", "person-our-signatory-name": "Alice Andersson",
        "person-our-signatory-email": "alice@acme.example", "person-our-signatory-phone": "070-111 22 33",
        "person-our-signatory-language": "sv", "action": "save"})
    assert response.status_code == 302
    with tenant_context(people.acme.id):
        case = db.session.scalars(sa.select(Case)).one()
        assert [(p.name, p.role, p.methods or None) for p in case.parties] == [
            ("Sara Svensson", "signer", ["sms"]), ("Per Persson", "recipient", None),
            ("Alice Andersson", "signer", None)]
        assert (case.signing_order, case.language, case.reminder_interval_days, case.reminder_max) == (
            "sequential", "sv", 2, 3)
        assert sorted(case.allowed_methods) == ["sms", "touch"]
        assert case.expires_at.date().isoformat() == last_day
