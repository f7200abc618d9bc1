"""Times are shown in the organisation's time zone, named, in the office, on the signer's pages, in
emails and on the verify page; the evidence keeps UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from core import timezones
from core.extensions import db
from core.jobs import drain
from core.models import Case, Event, Party
from core.models.base import utcnow
from tenants.models import Tenant
from tenants.scoping import tenant_context
from tests import support
from tests.signing.helpers import SARA, make_case, sign_form, signer


def local(moment: datetime, zone: str, seconds: bool = False) -> str:
    there = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    return there.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def set_zone(people, zone: str) -> None:
    tenant = db.session.get(Tenant, people.acme.id)
    tenant.settings = {**(tenant.settings or {}), "time_zone": zone}
    db.session.commit()


def test_times_are_named_in_the_default_zone_stockholm():
    winter, summer = datetime(2026, 1, 15, 13, 5), datetime(2026, 7, 15, 12, 5)
    assert timezones.format_time(winter) == "2026-01-15 14:05 CET"
    assert timezones.format_time(summer) == "2026-07-15 14:05 CEST"
    assert timezones.format_date(datetime(2026, 1, 15, 23, 30)) == "2026-01-16"
    assert timezones.format_time(winter, "America/Sao_Paulo") == "2026-01-15 10:05 America/Sao_Paulo"  # no letters
    assert timezones.format_time(winter, "Not/AZone") == "2026-01-15 14:05 CET"


def test_the_office_shows_the_case_page_in_the_organisations_zone(client, people, login):
    set_zone(people, "America/New_York")
    made = make_case(people.bob, [signer()], expires_at=utcnow() + timedelta(days=10))
    login(people.bob)
    html = client.get(f"/cases/{made.case_id}").get_data(as_text=True)
    with tenant_context(people.acme.id):
        events = db.session.scalars(sa.select(Event).where(Event.case_id == made.case_id)).all()
        party = db.session.scalars(sa.select(Party)).first()
        expires = db.session.get(Case, made.case_id).expires_at
    timeline = html.split('id="timeline"')[-1] if 'id="timeline"' in html else html
    assert " UTC" not in html
    assert all(local(e.created_at, "America/New_York", seconds=True) in timeline for e in events)
    assert local(party.invited_at, "America/New_York") in html
    assert local(expires, "America/New_York") in html
    assert ("EST" in html) or ("EDT" in html)
    listing = client.get("/cases/").get_data(as_text=True)
    with tenant_context(people.acme.id):
        latest = db.session.get(Case, made.case_id).last_activity_at
    assert local(latest, "America/New_York") in listing
    assert f'datetime="{latest.isoformat()}"' in listing  # machine-readable, still UTC


def test_the_signer_sees_the_time_of_signing_and_the_deadline_in_the_organisations_zone(client, people):
    made = make_case(people.bob, [signer()], expires_at=utcnow() + timedelta(days=10))
    path = made.path(SARA)
    with tenant_context(people.acme.id):
        expires = db.session.get(Case, made.case_id).expires_at
    assert f"Sign before {local(expires, 'Europe/Stockholm')}." in client.get(path).get_data(as_text=True)
    support.post(client, path + "/sign", sign_form(client, path), token_from=path)
    html = client.get(path).get_data(as_text=True)
    with tenant_context(people.acme.id):
        signed_at = db.session.get(Party, made.parties[0].id).signed_at
    assert f"on {local(signed_at, 'Europe/Stockholm')}." in html and "(UTC)" not in html


def test_the_invitation_email_names_the_deadline_in_the_organisations_zone(app, people):
    set_zone(people, "Europe/London")
    made = make_case(people.bob, [signer()], expires_at=datetime(2026, 12, 31, 22, 30, tzinfo=UTC), issue_links=False)
    drain()
    [invitation] = [m for m in support.outbox_messages() if "sara@example.com" in str(m["To"])]
    assert made.case_id
    assert "Sign before 2026-12-31 22:30 GMT." in support.body_text(invitation)
    html = invitation.get_body(("html",)).get_content()
    assert "Sign before 2026-12-31 22:30 GMT." in html


def test_the_verify_page_names_the_organisations_zone_and_the_evidence_keeps_utc(client, people):
    from tests.completion.test_sealing_job import sign

    set_zone(people, "Asia/Tokyo")
    made = make_case(people.bob, [signer(methods=["touch"])], methods=["touch"])
    sign(client, made, SARA)
    drain()
    with tenant_context(people.acme.id):
        case = db.session.get(Case, made.case_id)
        fingerprint, completed_at = case.documents[0].fingerprint, case.completed_at
        signed = db.session.scalars(sa.select(Event).where(Event.case_id == case.id,
                                                           Event.kind == "party_signed")).one()
    html = client.get(f"/verify/{fingerprint}", follow_redirects=True).get_data(as_text=True)
    assert local(completed_at, "Asia/Tokyo") in html and "JST" in html and " UTC" not in html
    assert signed.created_at.tzinfo is None or signed.created_at.utcoffset() == timedelta(0)  # stored in UTC


def test_an_admin_chooses_the_time_zone_and_an_unknown_one_is_refused(client, people, login):
    login(people.alice)
    page = client.get("/admin/").get_data(as_text=True)
    assert 'name="time_zone"' in page and '<option selected value="Europe/Stockholm">' in page
    form = support.csrf_token(client, "/admin/")
    base = {"csrf_token": form, "name": "Acme AB", "max_upload_mb": "25", "reminder_interval_days": "3",
            "reminder_max": "3", "expiry_days": "30", "retention_days": "3650", "default_language": "sv"}
    refused = client.post("/admin/settings", data={**base, "time_zone": "Mars/Olympus"}, follow_redirects=True)
    assert "Check the settings" in refused.get_data(as_text=True)
    saved = client.post("/admin/settings", data={**base, "time_zone": "Europe/Helsinki"}, follow_redirects=True)
    assert "Settings saved." in saved.get_data(as_text=True), saved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Tenant, people.acme.id).setting("time_zone") == "Europe/Helsinki"
