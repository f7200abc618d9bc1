"""Sending a party to a tablet: the tablet opens the core's signing page for that party only,
with its own cookie only, while the push lasts; the signature and the receipt say kiosk mode."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Signature
from plugins.kiosk.models import KioskDevice
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.kiosk.helpers import device_of, office, pair
from tests.signing.helpers import events_of, make_case, sign_form, signer


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = ["kiosk"]
    db.session.commit()
    return people



def push(officer_client, made, party_name, device, **extra):
    party = next(p for p in made.parties if p.name == party_name)
    return support.post(officer_client, f"/kiosk/cases/{made.case_id}/push",
                        {"party": party.id, "device": device.id, **extra}, token_from=f"/cases/{made.case_id}")


def tablet_url(tablet) -> str | None:
    return tablet.get("/kiosk/o/acme/state").get_json()["url"]


@pytest.fixture
def counter(app, acme_on):
    alice = office(app)
    tablet = pair(app, alice)
    made = make_case(acme_on.alice, [signer("Sara Svensson"), signer("Per Persson", "per@example.com")],
                     methods=["touch"])
    return alice, tablet, made, device_of(acme_on.acme)


def test_push_review_sign_and_back_to_idle(app, acme_on, counter):
    alice, tablet, made, device = counter
    assert tablet_url(tablet) is None  # idle
    case_page = alice.get(f"/cases/{made.case_id}").get_data(as_text=True)
    assert "Sign on tablet" in case_page and "Counter 2" in case_page

    assert push(alice, made, "Sara Svensson", device).status_code == 302
    url = tablet_url(tablet)
    assert url.startswith("/s/k")
    page = tablet.get(url)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "Sara Svensson" in html and "kiosk-watch" in html
    assert device_of(acme_on.acme).state == "opened"
    assert "Sara Svensson is reading" in alice.get(f"/cases/{made.case_id}").get_data(as_text=True)
    watch = tablet.get(html.split('data-watch-url="')[1].split('"')[0])
    assert watch.get_json()["state"] == "opened"

    # The same link is nothing without the tablet's cookie (e.g. read over its shoulder).
    assert app.test_client().get(url).status_code == 404

    signed = support.post(tablet, f"{url}/sign", sign_form(tablet, url), token_from=url)
    assert signed.status_code == 302
    assert device_of(acme_on.acme).state == "signed"
    assert "Sara Svensson has signed" in alice.get("/kiosk/").get_data(as_text=True)
    with tenant_context(acme_on.acme.id):
        signature = db.session.scalars(sa.select(Signature).where(Signature.case_id == made.case_id)).one()
        evidence = signature.evidence["plugins"]["kiosk"]
    assert evidence == {"mode": "kiosk", "device_id": device.id, "device": "Counter 2", "actor": "device",
                        "officer_id": acme_on.alice.id, "officer": "Alice Andersson"}
    [event] = events_of(made.case, "party_signed")
    assert event.data["plugins"]["kiosk"]["device"] == "Counter 2"

    # The tablet goes back to idle: the link is dead, even with its cookie.
    assert "kiosk-idle" in tablet.get("/kiosk/o/acme/?end=1").get_data(as_text=True)
    assert device_of(acme_on.acme).state == "idle"
    assert tablet.get(url).status_code == 404
    assert tablet_url(tablet) is None


def test_the_receipt_says_kiosk_mode_in_both_languages(app, acme_on, counter):
    from core.models import Case
    from plugins import kiosk

    alice, tablet, made, device = counter
    push(alice, made, "Sara Svensson", device)
    url = tablet_url(tablet)
    support.post(tablet, f"{url}/sign", sign_form(tablet, url), token_from=url)
    db.session.expire_all()
    with tenant_context(acme_on.acme.id):
        case = db.session.get(Case, made.case_id)
        [(heading_en, [line_en])] = kiosk.receipt_sections(case=case, language="en")
        [(heading_sv, [line_sv])] = kiosk.receipt_sections(case=case, language="sv")
    assert heading_en == "Kiosk mode"
    assert line_en == ("Sara Svensson signed on the tablet \u201cCounter 2\u201d in kiosk mode, "
                       "with Alice Andersson present.")
    assert heading_sv == "Kioskläge"
    assert "kioskläge" in line_sv and "Alice Andersson närvarande" in line_sv


def test_the_sealed_receipt_says_which_tablet_and_officer(app, acme_on):
    import io

    from pypdf import PdfReader

    from core.jobs import drain
    from core.models import Case
    from core.storage import blobs

    alice = office(app)
    tablet = pair(app, alice, "Disk 1")
    made = make_case(acme_on.alice, [signer("Sara Svensson")], methods=["touch"])
    push(alice, made, "Sara Svensson", device_of(acme_on.acme, "Disk 1"))
    url = tablet_url(tablet)
    assert support.post(tablet, f"{url}/sign", sign_form(tablet, url), token_from=url).status_code == 302
    drain()
    db.session.expire_all()
    with tenant_context(acme_on.acme.id):
        receipt = blobs().get(db.session.get(Case, made.case_id).documents[0].receipt_sha256)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt)).pages)
    flat = " ".join(text.split())
    assert "Kioskläge" in flat  # the tenant is Swedish
    assert "surfplattan" in flat and "Disk 1" in flat and "Alice Andersson" in flat


def test_officer_cancel_ends_the_push(app, acme_on, counter):
    alice, tablet, made, device = counter
    push(alice, made, "Sara Svensson", device)
    url = tablet_url(tablet)
    assert tablet.get(url).status_code == 200
    assert support.post(alice, f"/kiosk/devices/{device.id}/cancel", {"next": f"/cases/{made.case_id}"},
                        token_from="/kiosk/").status_code == 302
    assert tablet.get(url).status_code == 404
    assert tablet_url(tablet) is None
    [event] = events_of(made.case, "kiosk_cancelled")
    assert event.actor_label.startswith("Alice Andersson") and event.data["device_name"] == "Counter 2"
    timeline = alice.get(f"/cases/{made.case_id}").get_data(as_text=True)
    assert "The tablet Counter 2 went back to idle" in timeline
    assert "Sent to the tablet Counter 2 for Sara Svensson to sign" in timeline


def test_a_second_push_asks_the_officer_to_confirm(app, acme_on, counter):
    alice, tablet, made, device = counter
    push(alice, made, "Sara Svensson", device)
    first = tablet_url(tablet)
    tablet.get(first)
    asked = push(alice, made, "Per Persson", device)
    assert asked.status_code == 409
    assert "Counter 2 is showing another signing" in asked.get_data(as_text=True)
    assert tablet_url(tablet) == first
    assert push(alice, made, "Per Persson", device, confirm="yes").status_code == 302
    second = tablet_url(tablet)
    assert second != first and tablet.get(first).status_code == 404
    assert "Per Persson" in tablet.get(second).get_data(as_text=True)


def test_another_organisations_tablet_cannot_be_pushed_to_or_read(app, people):
    people.acme.enabled_plugins = ["kiosk"]
    people.globex.enabled_plugins = ["kiosk"]
    db.session.commit()
    globex_tablet = pair(app, office(app, "charlie@globex.example"), "Globex desk", slug="globex")
    globex_device = device_of(people.globex, "Globex desk")
    alice = office(app)
    made = make_case(people.alice, [signer("Sara Svensson")], methods=["touch"])
    assert push(alice, made, "Sara Svensson", globex_device).status_code == 404
    assert globex_tablet.get("/kiosk/o/globex/state").get_json()["url"] is None
    # An acme tablet's push link does not open with a globex tablet's cookie.
    pair(app, alice)
    acme_tablet_device = device_of(people.acme)
    assert push(alice, made, "Sara Svensson", acme_tablet_device).status_code == 302
    db.session.expire_all()
    with tenant_context(people.acme.id):
        from plugins.kiosk import service

        url = "/s/" + service.push_token(db.session.get(KioskDevice, acme_tablet_device.id))
    assert globex_tablet.get(url).status_code == 404


def test_a_revoked_tablet_loses_its_push(app, acme_on, counter):
    alice, tablet, made, device = counter
    push(alice, made, "Sara Svensson", device)
    url = tablet_url(tablet)
    support.post(alice, f"/kiosk/devices/{device.id}/revoke", token_from="/kiosk/")
    assert tablet.get(url).status_code == 404
    assert tablet.get("/kiosk/o/acme/state").status_code == 401


def test_the_next_party_gets_nothing_of_the_last_ones_session(app, acme_on, counter):
    """Sara chose Swedish on the tablet; Per, sent next, reads his page in his own language."""
    alice, tablet, made, device = counter
    push(alice, made, "Sara Svensson", device)
    url = tablet_url(tablet)
    tablet.get(f"{url}/lang/sv")
    assert "Skriv under" in tablet.get(url).get_data(as_text=True)
    support.post(tablet, f"{url}/sign", sign_form(tablet, url), token_from=url)
    tablet.get("/kiosk/o/acme/?end=1")
    push(alice, made, "Per Persson", device)
    page = tablet.get(tablet_url(tablet)).get_data(as_text=True)
    assert "Per Persson" in page and "Skriv under" not in page and "Sign with my drawn signature" in page


def test_the_tablet_speaks_swedish(app, acme_on):
    tablet = app.test_client()
    headers = {"Accept-Language": "sv-SE,sv;q=0.9"}
    assert "Parkoppla den här surfplattan" in tablet.get("/kiosk/o/acme/", headers=headers).get_data(as_text=True)
    refused = support.post(tablet, "/kiosk/o/acme/pair", {"code": "WRONG123", "name": "Kassa 2"},
                           token_from="/kiosk/o/acme/", headers=headers)
    assert "Parkopplingskoden är fel" in refused.get_data(as_text=True)


def test_watching_an_ended_push_does_not_lock_out_the_branch(app, acme_on):
    """Tablets at one branch share an address: ending many pushes must not rate limit their
    watchers (they would hang on a dead signing page), while guessed links still are."""
    app.config["TOKEN_RATE_LIMIT"] = "3/60"
    alice = office(app)
    tablet = pair(app, alice)
    made = make_case(acme_on.alice, [signer("Sara Svensson")], methods=["touch"])
    for _ in range(5):
        device = device_of(acme_on.acme)
        assert push(alice, made, "Sara Svensson", device).status_code == 302
        page = tablet.get(tablet_url(tablet)).get_data(as_text=True)
        watch = page.split('data-watch-url="')[1].split('"')[0]
        assert tablet.get(watch).status_code == 200
        assert support.post(alice, f"/kiosk/devices/{device.id}/cancel", token_from="/kiosk/").status_code == 302
        assert tablet.get(watch).status_code == 404  # the push ended: back to idle, not 429
    stranger = app.test_client()  # the same address, without the tablet's cookie
    answers = [stranger.get(watch).status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]


def test_a_touch_reported_as_the_signature_is_stored_leaves_the_tablet_signed(app, acme_on, counter, monkeypatch):
    """The tablet's watch says "touched" (opened becomes signing) while the party's signature is
    being stored: its late "signing" must not overwrite "signed", or the office never sees the
    signature and the tablet never goes back to idle after it."""
    from plugins.kiosk import service

    alice, tablet, made, device = counter
    push(alice, made, "Sara Svensson", device)
    html = tablet.get(tablet_url(tablet)).get_data(as_text=True)
    assert device_of(acme_on.acme).state == "opened"
    watch_url = html.split('data-watch-url="')[1].split('"')[0]
    found = service.device_for_link
    calls = []

    def counted(token):
        calls.append(token)
        return found(token)

    monkeypatch.setattr(service, "device_for_link", counted)
    tablet.get(watch_url)  # how many reads a watch makes: the last is the one its answer is made from
    reads, calls[:] = len(calls), []

    def signed_meanwhile(token):
        device = counted(token)
        if len(calls) == reads:  # the watch has read the tablet ("opened"); now the signature commits
            with db.engine.begin() as other:
                other.execute(sa.update(KioskDevice).where(KioskDevice.id == device.id).values(state="signed"))
        return device

    monkeypatch.setattr(service, "device_for_link", signed_meanwhile)
    assert tablet.get(watch_url + "?touched=1").get_json()["state"] == "signed"
    monkeypatch.undo()
    assert device_of(acme_on.acme).state == "signed"
    assert "Sara Svensson has signed" in alice.get(f"/cases/{made.case_id}").get_data(as_text=True)


def test_a_tablet_asking_about_an_ended_push_is_told_its_idle_screen(app, acme_on, counter):
    """A page that never had an answer (just opened when the officer cancelled) learns from the
    404 where the tablet's idle screen is; a browser without the tablet's cookie learns nothing."""
    alice, tablet, made, device = counter
    push(alice, made, "Sara Svensson", device)
    html = tablet.get(tablet_url(tablet)).get_data(as_text=True)
    watch = html.split('data-watch-url="')[1].split('"')[0]
    assert support.post(alice, f"/kiosk/devices/{device.id}/cancel", token_from="/kiosk/").status_code == 302
    answer = tablet.get(watch)
    assert answer.status_code == 404 and answer.get_json() == {"idle_url": "/kiosk/o/acme/"}
    stranger = app.test_client().get(watch)
    assert stranger.status_code == 404 and not stranger.is_json
