"""A web form on a lease template, turned on through the office's template page."""

from __future__ import annotations

import re

import sqlalchemy as sa

from core.case_templates import service as templates
from core.extensions import db
from plugins.web_forms.models import WebForm
from tenants.scoping import tenant_context
from tests import support
from tests.fields.helpers import FIELDS
from tests.signing.helpers import LEASE_LINES, pdf

LANDLORD = {"name": "Per Persson", "email": "per@acme.example", "phone": "+46709876543", "personal_number": None,
            "language": "en"}
ROLES = [{"key": "tenant", "label": "Tenant", "kind": "signer"},
         {"key": "landlord", "label": "Landlord", "kind": "signer", "fixed": LANDLORD}]
LINK = re.compile(r'id="web-form-link" type="text" readonly value="[^"]*(/f/[A-Za-z0-9_-]+)"')


def form_template(officer, name="Parking permit", order="sequential", roles=ROLES, description="", message=""):
    with tenant_context(officer.tenant_id):
        document = templates.document_entry("lease.pdf", pdf(LEASE_LINES, pages=2))
        content, _found = templates.revised_content(
            None, {"title": name, "message": message, "allowed_methods": ["touch", "sms"], "signing_order": order,
                   "language": "en", "expiry_days": 30, "reminder_interval_days": 0, "reminder_max": 0},
            [dict(r) for r in roles], [], [document])
        content["fields"] = list(FIELDS)
        template = templates.create_template(officer, name, content, description=description)
        db.session.commit()
        return template.id


def office(app, email="alice@acme.example"):
    client = app.test_client()
    support.login(client, email)
    return client


def turn_on(client, template_id, **extra):
    page = f"/templates/{template_id}"
    data = {"role_key": "tenant", "thank_you": "Thanks, we will call you.", "daily_cap": "50", **extra}
    return support.post(client, f"/web-forms/templates/{template_id}", data, token_from=page)


def public_path(client, template_id) -> str:
    html = client.get(f"/templates/{template_id}").get_data(as_text=True)
    return LINK.search(html).group(1)


def form_of(tenant_id, template_id) -> WebForm:
    db.session.expire_all()
    with tenant_context(tenant_id):
        return db.session.scalars(sa.select(WebForm).where(WebForm.template_id == template_id)).one()


def key_of(html: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', html).group(1)


def submit(visitor, path, name="Sara Svensson", email="sara@example.com", phone="070-123 45 67", headers=None,
           **extra):
    html = visitor.get(path, headers=headers).get_data(as_text=True)
    data = {"name": name, "email": email, "phone": phone, "key": key_of(html), **extra}
    return visitor.post(path, data=data, headers=headers)  # no session CSRF token: the signed page token stands in


SIGNER_PAGE = {
    "en": {"next": "Next field", "saved": "Saved.", "consent": "I have read the documents and agree to sign them",
           "sign": "Sign with my drawn signature"},
    "sv": {"next": "Nästa fält", "saved": "Sparat.", "consent": "Jag har läst handlingarna och vill skriva under dem",
           "sign": "Skriv under med min ritade underskrift"},
}


def fill_and_sign_in_browser(page, language: str, name: str = "Åsa Öberg") -> None:
    """On the core's signer page (Playwright): the lease's fields, the consent, a drawn signature."""
    from tests.signing.test_signer_browser import draw_with_mouse

    words = SIGNER_PAGE[language]
    page.get_by_label("Full name").fill(name)
    page.get_by_role("button", name=words["next"]).click()
    page.get_by_label("Rent").fill("9500")
    page.locator(".fill-status", has_text=words["saved"]).wait_for()
    for _ in range(4):
        page.get_by_role("button", name=words["next"]).click()
    page.get_by_label(words["consent"]).check()
    page.locator("#touch-pad").scroll_into_view_if_needed()
    draw_with_mouse(page, "#touch-pad")
    page.get_by_role("button", name=words["sign"]).click()
