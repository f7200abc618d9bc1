"""The idle tablet's poll: "has my version changed?" answered 204 without the database while
nothing changed (from Redis; one SQL query when Redis is away), the state with a push's link as
soon as an officer pushes, a refusal as soon as the tablet is revoked; never another organisation's
tablet. Run with Redis, without Redis configured, and with Redis down."""

from __future__ import annotations

import pytest

from core.extensions import db
from tests import support
from tests.plugins.kiosk.helpers import device_of, office, pair
from tests.signing.helpers import make_case, signer


@pytest.fixture(params=["redis", "no redis", "redis down"])
def app(request, app_factory):
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
    else:
        url = None if request.param == "no redis" else "redis://127.0.0.1:1/0"
    app = app_factory(REDIS_URL=url)
    app.kiosk_mode = request.param
    with app.app_context():
        yield app


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = ["kiosk"]
    people.globex.enabled_plugins = ["kiosk"]
    db.session.commit()
    return people




def first_poll(tablet, slug="acme") -> dict:
    """What a fresh idle screen asks first: no version, the full state."""
    response = tablet.get(f"/kiosk/o/{slug}/poll")
    assert response.status_code == 200
    return response.get_json()


def push(officer_client, made, device):
    return support.post(officer_client, f"/kiosk/cases/{made.case_id}/push",
                        {"party": made.parties[0].id, "device": device.id}, token_from=f"/cases/{made.case_id}")


def test_nothing_changed_is_204_without_the_database_and_a_push_is_seen_at_once(app, acme_on):
    alice = office(app)
    tablet = pair(app, alice)
    state = first_poll(tablet)
    assert state["url"] is None and state["paired"] is True
    version = state["version"]
    tablet.get(f"/kiosk/o/acme/poll?v={version}")  # fills the cache (Redis) if it was not yet

    with support.counted_statements() as statements:
        unchanged = tablet.get(f"/kiosk/o/acme/poll?v={version}")
    assert unchanged.status_code == 204 and unchanged.get_data() == b""
    assert unchanged.headers["Cache-Control"] == "no-store"
    # With Redis nothing reaches the database; without it, one plain query.
    assert len(statements) == (0 if app.kiosk_mode == "redis" else 1)

    made = make_case(acme_on.alice, [signer("Sara Svensson")], methods=["touch"])
    assert push(alice, made, device_of(acme_on.acme)).status_code == 302
    pushed = tablet.get(f"/kiosk/o/acme/poll?v={version}")
    assert pushed.status_code == 200
    body = pushed.get_json()
    assert body["url"].startswith("/s/k") and body["version"] > version
    assert "Sara Svensson" in tablet.get(body["url"]).get_data(as_text=True)

    # The officer cancels: the next poll says so (no link), with the version to ask with next.
    device = device_of(acme_on.acme)
    assert support.post(alice, f"/kiosk/devices/{device.id}/cancel", token_from="/kiosk/").status_code == 302
    cancelled = tablet.get(f"/kiosk/o/acme/poll?v={body['version']}")
    assert cancelled.status_code == 200 and cancelled.get_json()["url"] is None
    assert tablet.get(f"/kiosk/o/acme/poll?v={cancelled.get_json()['version']}").status_code == 204


def test_a_revoked_tablet_is_refused_at_its_next_poll(app, acme_on):
    alice = office(app)
    tablet = pair(app, alice)
    version = first_poll(tablet)["version"]
    assert tablet.get(f"/kiosk/o/acme/poll?v={version}").status_code == 204
    assert tablet.get(f"/kiosk/o/acme/poll?v={version}").status_code == 204
    device = device_of(acme_on.acme)
    assert support.post(alice, f"/kiosk/devices/{device.id}/revoke", token_from="/kiosk/").status_code == 302

    refused = tablet.get(f"/kiosk/o/acme/poll?v={version}")
    assert refused.status_code == 401
    assert refused.get_json() == {"paired": False, "url": "/kiosk/o/acme/"}


def test_another_organisations_tablet_hears_nothing_at_this_address(app, acme_on):
    globex_tablet = pair(app, office(app, "charlie@globex.example"), "Globex desk", slug="globex")
    version = first_poll(globex_tablet, "globex")["version"]
    assert globex_tablet.get(f"/kiosk/o/globex/poll?v={version}").status_code == 204
    # Its cookie at acme's address: not paired there, whatever version it names.
    assert globex_tablet.get(f"/kiosk/o/acme/poll?v={version}").status_code == 401
    assert globex_tablet.get("/kiosk/o/acme/poll").status_code == 401
    # And no cookie at all, or a made-up one: nothing.
    stranger = app.test_client()
    assert stranger.get(f"/kiosk/o/acme/poll?v={version}").status_code == 401
    stranger.set_cookie("sigill_kiosk", "x" * 43)
    assert stranger.get(f"/kiosk/o/globex/poll?v={version}").status_code == 401


def test_off_for_the_organisation_the_poll_stops_answering(app, acme_on):
    tablet = pair(app, office(app))
    version = first_poll(tablet)["version"]
    acme_on.acme.enabled_plugins = []
    db.session.commit()
    if app.kiosk_mode == "redis":
        from core import redis_link
        from plugins.kiosk import service

        # The cached answer lives at most POLL_TTL seconds: let it run out.
        redis_link.connection(app).delete(service.POLL_KEY + device_of(acme_on.acme).token_hash)
    assert tablet.get(f"/kiosk/o/acme/poll?v={version}").status_code == 404



@pytest.mark.parametrize("app", ["redis"], indirect=True)  # only a cache can go stale
def test_a_slow_poll_that_read_the_row_before_a_push_cannot_hide_it(app, acme_on):
    """A poll that went the full way read version N, then a push published N + 1 before that poll
    refilled the cache: the refill must not put N back (the tablet would hear 204 and miss the push)."""
    from plugins.kiosk import service

    alice = office(app)
    tablet = pair(app, alice)
    version = first_poll(tablet)["version"]
    before_push = device_of(acme_on.acme)
    db.session.expunge(before_push)  # what the slow poll read
    made = make_case(acme_on.alice, [signer("Sara Svensson")], methods=["touch"])
    assert push(alice, made, device_of(acme_on.acme)).status_code == 302
    service.publish(before_push, "acme")  # the slow poll's refill, late

    pushed = tablet.get(f"/kiosk/o/acme/poll?v={version}")
    assert pushed.status_code == 200 and pushed.get_json()["url"].startswith("/s/k")
    # Nor does a late refill bring back a revoked token.
    device = device_of(acme_on.acme)
    db.session.expunge(device)
    assert support.post(alice, f"/kiosk/devices/{device.id}/revoke", token_from="/kiosk/").status_code == 302
    device.version += 5
    service.publish(device, "acme")
    assert tablet.get(f"/kiosk/o/acme/poll?v={device.version}").status_code == 401
