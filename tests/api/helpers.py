"""Steps the API tests share: a tenant admin registering a webhook, a signer signing by their link."""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa

from core.api.models import WebhookDelivery, WebhookEndpoint
from core.extensions import db
from core.jobs import drain
from tenants.scoping import tenant_context
from tests import support
from tests.signing.test_signer_page import sign_form


def register_webhook(client, url: str, events: list[str]):
    """Alice (admin, logged in on `client`) adds an endpoint on the admin page."""
    return support.post(client, "/admin/api/webhooks", {"url": url, "events": events}, token_from="/admin/api/")


def endpoint_secret(tenant_id: int) -> str:
    with tenant_context(tenant_id):
        return db.session.scalars(sa.select(WebhookEndpoint)).one().secret


def deliveries(tenant_id: int) -> list[WebhookDelivery]:
    with tenant_context(tenant_id):
        return db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


def signature_ok(secret: str, received) -> bool:
    parts = dict(item.split("=", 1) for item in received.headers["Sigill-Signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts["v1"], expected)


def signer_link(email: str) -> str:
    """The newest signing link mailed to `email` (after the mail jobs ran)."""
    drain()
    messages = [m for m in support.outbox_messages() if email in str(m["To"])]
    assert messages, f"no mail to {email}"
    return next(link for link in support.links_in(messages[-1]) if "/s/" in link)


def sign_by_link(client, link: str) -> None:
    """The signer opens the link and signs with a drawn signature, through the signer's own pages."""
    path = link.split("://", 1)[1].split("/", 1)[1]
    path = "/" + path
    response = support.post(client, path + "/sign", sign_form(client, path), token_from=path)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
