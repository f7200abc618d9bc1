"""A party who signs in person needs no email address: the office accepts a signer without one,
the timeline says no link was sent, no reminder goes out, and the tablet is how they sign."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.models import Case, OutgoingMail, Party
from core.models.base import utcnow
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.kiosk.helpers import office, pair
from tests.plugins.kiosk.test_push import device_of, push, tablet_url
from tests.signing.helpers import make_case, pdf, sign_form, signer


def _form(**extra) -> dict:
    data = {"title": "Counter lease", "message": "", "methods": ["touch"], "signing_order": "parallel",
            "language": "en", "expires_on": (utcnow() + timedelta(days=20)).date().isoformat(),
            "reminder_interval_days": "3", "reminder_max": "3",
            "party-0-name": "Walk In", "party-0-email": "", "party-0-role": "signer", "party-0-language": "en",
            "documents": [(io.BytesIO(pdf()), "lease.pdf")], "action": "save"}
    data.update(extra)
    return data


def test_the_office_accepts_a_signer_without_an_email_address_but_not_a_copy_recipient(app, people):
    alice = office(app)
    saved = support.post(alice, "/cases/new", _form(), token_from="/cases/new", content_type="multipart/form-data")
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with tenant_context(people.acme.id):
        party = db.session.scalars(sa.select(Party)).one()
    assert party.email == ""
    refused = support.post(alice, "/cases/new", _form(**{"party-0-role": "recipient"}), token_from="/cases/new",
                           content_type="multipart/form-data")
    assert "Give a valid email address, like name@example.com." in refused.get_data(as_text=True)


def test_a_walk_in_party_gets_no_mail_and_signs_on_the_tablet(app, people):
    people.acme.enabled_plugins = ["kiosk"]
    db.session.commit()
    alice = office(app)
    tablet = pair(app, alice)
    made = make_case(people.alice, [signer("Walk In", "", phone=None)], methods=["touch"], issue_links=False)
    timeline = alice.get(f"/cases/{made.case_id}").get_data(as_text=True)
    assert "Walk In has no email address and signs in person: no link was sent" in timeline
    from core.cases import periodic  # noqa: PLC0415

    with tenant_context(people.acme.id):
        case = db.session.get(Case, made.case_id)
        case.reminder_interval_days, case.reminder_max = 1, 3
        db.session.commit()
    assert periodic.send_due_reminders(now=utcnow() + timedelta(days=2)) == 0  # nobody to mail
    mails = lambda: db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingMail))  # noqa: E731
    with tenant_context(people.acme.id):
        assert mails() == 0
    make_case(people.alice, [signer("Sara Svensson")], methods=["touch"], issue_links=False)
    with tenant_context(people.acme.id):
        assert mails() == 1  # an emailed party's invitation is counted here
    party = made.parties[0]
    reminder = support.post(alice, f"/cases/{made.case_id}/parties/{party.id}/remind",
                            token_from=f"/cases/{made.case_id}")
    page = alice.get(reminder.headers.get("Location", f"/cases/{made.case_id}")).get_data(as_text=True)
    assert "This party has no email address: they sign in person." in page

    push(alice, made, "Walk In", device_of(people.acme))
    url = tablet_url(tablet)
    assert support.post(tablet, f"{url}/sign", sign_form(tablet, url), token_from=url).status_code == 302
    db.session.expire_all()
    with tenant_context(people.acme.id):
        assert db.session.get(Case, made.case_id).parties[0].status == "signed"
