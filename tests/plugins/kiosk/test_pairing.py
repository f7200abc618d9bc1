"""Pairing a tablet: a one-time code from the office, a device token in the tablet's cookie (stored
hashed), revocable from the office; no officer session on the tablet."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models.base import utcnow
from core.security import hash_token
from plugins.kiosk import service
from plugins.kiosk.models import KioskDevice, KioskPairing
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.kiosk.helpers import office, pair, pairing_code


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = ["kiosk"]
    db.session.commit()
    return people


def devices(tenant) -> list[KioskDevice]:
    db.session.expire_all()
    with tenant_context(tenant.id):
        return list(db.session.scalars(sa.select(KioskDevice)))


def device_cookie(client) -> str:
    return client.get_cookie(service.COOKIE).value


def test_a_tablet_pairs_with_a_code_and_shows_the_organisation(app, acme_on):
    alice = office(app)
    assert "Kiosk" in alice.get("/cases/").get_data(as_text=True)
    page = alice.get("/kiosk/").get_data(as_text=True)
    assert "http://localhost/kiosk/o/acme/" in page or "/kiosk/o/acme/" in page
    shown = support.post(alice, "/kiosk/pairings", token_from="/kiosk/").get_data(as_text=True)
    assert "<svg" in shown  # the QR code

    tablet = pair(app, alice, "Counter 2")
    idle = tablet.get("/kiosk/o/acme/")
    assert idle.headers["Cache-Control"] == "no-store"
    html = idle.get_data(as_text=True)
    assert "Acme AB" in html and "Counter 2" in html and "kiosk-idle" in html
    [device] = devices(acme_on.acme)
    token = device_cookie(tablet)
    assert device.token_hash == hash_token(token) and token not in (device.token_hash or "")
    assert device.name == "Counter 2" and device.last_seen_at is not None
    # No officer session on the tablet: the office is closed to it.
    assert tablet.get("/cases/").status_code in (302, 401)
    assert tablet.get("/kiosk/").status_code in (302, 401, 404)
    assert "Counter 2" in alice.get("/kiosk/").get_data(as_text=True)


def test_a_code_is_single_use_and_expires(app, acme_on):
    alice = office(app)
    code = pairing_code(alice)
    first = app.test_client()
    assert support.post(first, "/kiosk/o/acme/pair", {"code": code, "name": "Counter 1"},
                        token_from="/kiosk/o/acme/").status_code == 302
    second = app.test_client()
    again = support.post(second, "/kiosk/o/acme/pair", {"code": code, "name": "Counter 3"}, token_from="/kiosk/o/acme/")
    assert again.status_code == 422
    assert "wrong, used or expired" in again.get_data(as_text=True)

    late = pairing_code(alice)
    with tenant_context(acme_on.acme.id):
        for row in db.session.scalars(sa.select(KioskPairing).where(KioskPairing.used_at.is_(None))):
            row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    refused = support.post(second, "/kiosk/o/acme/pair", {"code": late, "name": "Counter 3"},
                           token_from="/kiosk/o/acme/")
    assert refused.status_code == 422
    assert [d.name for d in devices(acme_on.acme)] == ["Counter 1"]


def test_guessing_codes_is_rate_limited_and_in_swedish(app, acme_on):
    tablet = app.test_client()
    statuses = []
    for attempt in range(12):
        response = support.post(tablet, "/kiosk/o/acme/pair", {"code": f"AAAA{attempt:04d}", "name": "X"},
                                token_from="/kiosk/o/acme/")
        statuses.append(response.status_code)
    assert statuses[:10] == [422] * 10
    assert "Too many attempts" in response.get_data(as_text=True)


def test_right_codes_do_not_count_against_an_office_pairing_many_tablets(app, acme_on):
    alice = office(app)
    for number in range(12):
        pair(app, alice, f"Counter {number}")
    assert len(devices(acme_on.acme)) == 12


def test_a_code_of_one_organisation_does_not_pair_with_another(app, people):
    people.acme.enabled_plugins = ["kiosk"]
    people.globex.enabled_plugins = ["kiosk"]
    db.session.commit()
    code = pairing_code(office(app))
    tablet = app.test_client()
    assert support.post(tablet, "/kiosk/o/globex/pair", {"code": code, "name": "Sneaky"},
                        token_from="/kiosk/o/globex/").status_code == 422
    assert devices(people.globex) == []


def test_a_revoked_tablet_is_refused(app, acme_on):
    alice = office(app)
    tablet = pair(app, alice)
    [device] = devices(acme_on.acme)
    assert tablet.get("/kiosk/o/acme/state").status_code == 200
    assert support.post(alice, f"/kiosk/devices/{device.id}/revoke", token_from="/kiosk/").status_code == 302
    assert tablet.get("/kiosk/o/acme/state").status_code == 401
    assert "Pair this tablet" in tablet.get("/kiosk/o/acme/").get_data(as_text=True)
    listing = alice.get("/kiosk/").get_data(as_text=True)
    assert "Counter 2 is no longer paired." in listing and f'data-device="{device.id}"' not in listing


def test_another_organisation_cannot_revoke_or_see_a_tablet(app, people):
    people.acme.enabled_plugins = ["kiosk"]
    people.globex.enabled_plugins = ["kiosk"]
    db.session.commit()
    tablet = pair(app, office(app))
    [device] = devices(people.acme)
    charlie = office(app, "charlie@globex.example")
    assert "Counter 2" not in charlie.get("/kiosk/").get_data(as_text=True)
    assert support.post(charlie, f"/kiosk/devices/{device.id}/revoke", token_from="/kiosk/").status_code == 404
    # The acme tablet's cookie means nothing at globex's address.
    assert tablet.get("/kiosk/o/globex/state").status_code == 401


def test_off_for_the_organisation_means_nothing_there(app, people):
    alice = office(app)
    assert alice.get("/kiosk/").status_code == 404
    assert app.test_client().get("/kiosk/o/acme/").status_code == 404
    assert "Kiosk" not in alice.get("/cases/").get_data(as_text=True)


def test_the_device_cookie_is_http_only_and_secure_on_https(app, acme_on):
    app.config["SESSION_COOKIE_SECURE"] = True
    alice = office(app)
    tablet = app.test_client()
    from tests.plugins.kiosk.helpers import pairing_code

    code = pairing_code(alice)
    response = support.post(tablet, "/kiosk/o/acme/pair", {"code": code, "name": "Counter 9"},
                            token_from="/kiosk/o/acme/")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(service.COOKIE + "="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
