"""Pairing tablets for the kiosk tests, through the office's and the tablet's pages."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask.testing import FlaskClient

from core.extensions import db
from plugins.kiosk.models import KioskDevice
from tenants.scoping import tenant_context
from tests import support

CODE = re.compile(r'id="kiosk-code">([A-Z0-9]{4}-[A-Z0-9]{4})<')


def office(app, email: str = "alice@acme.example") -> FlaskClient:
    client = app.test_client()
    support.login(client, email)
    return client


def pairing_code(officer_client) -> str:
    response = support.post(officer_client, "/kiosk/pairings", token_from="/kiosk/")
    assert response.status_code == 200, response.get_data(as_text=True)
    return CODE.search(response.get_data(as_text=True)).group(1)


def pair(app, officer_client, name: str = "Counter 2", slug: str = "acme") -> FlaskClient:
    tablet = app.test_client()
    code = pairing_code(officer_client)
    response = support.post(tablet, f"/kiosk/o/{slug}/pair", {"code": code.lower().replace("-", " "), "name": name},
                            token_from=f"/kiosk/o/{slug}/")
    assert response.status_code == 302, response.get_data(as_text=True)
    return tablet


def device_of(tenant, name="Counter 2") -> KioskDevice:
    db.session.expire_all()
    with tenant_context(tenant.id):
        return db.session.scalars(sa.select(KioskDevice).where(KioskDevice.name == name)).one()
