"""A party who signed in person without an email address: once the case is sealed, the officer
prints the result (a print page with the sealed PDFs) or emails it to an address typed at the
counter (checked, and recorded on the timeline); another organisation's officer can do neither."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.models import Case
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.kiosk.helpers import office, pair
from tests.plugins.kiosk.test_push import device_of, push, tablet_url
from tests.signing.helpers import make_case, sign_form, signer


def signed_walk_in(app, people):
    people.acme.enabled_plugins = ["kiosk"]
    db.session.commit()
    alice = office(app)
    tablet = pair(app, alice)
    made = make_case(people.alice, [signer("Walk In", "", phone=None)], methods=["touch"], issue_links=False)
    push(alice, made, "Walk In", device_of(people.acme))
    url = tablet_url(tablet)
    assert support.post(tablet, f"{url}/sign", sign_form(tablet, url), token_from=url).status_code == 302
    return alice, made


def test_the_officer_prints_or_emails_the_result_typed_at_the_counter(app, people):
    alice, made = signed_walk_in(app, people)
    case_url = f"/cases/{made.case_id}"
    party = made.parties[0]
    page = alice.get(case_url).get_data(as_text=True)
    assert "The result for those who signed in person" in page and "Print the result" not in page  # not sealed
    assert alice.get(f"/kiosk/cases/{made.case_id}/result").status_code == 404
    drain()  # sealing
    with tenant_context(people.acme.id):
        assert db.session.get(Case, made.case_id).status == "completed"
        mails_before = len(support.outbox_messages())

    page = alice.get(case_url).get_data(as_text=True)
    assert "Print the result" in page and "Email the result to Walk In at" in page
    printed = alice.get(f"/kiosk/cases/{made.case_id}/result")
    text = printed.get_data(as_text=True)
    assert printed.status_code == 200 and printed.headers["Cache-Control"] == "no-store"
    assert "Walk In" in text and f"/cases/{made.case_id}/sealed/" in text and "The sealed PDF, to print" in text
    sealed_path = re.search(rf'href="(/cases/{made.case_id}/sealed/\d+)"', text).group(1)
    sealed = alice.get(sealed_path)
    assert sealed.status_code == 200 and sealed.data.startswith(b"%PDF")

    action = f"/kiosk/cases/{made.case_id}/parties/{party.id}/email-result"
    refused = support.post(alice, action, {"email": "walk.in@example"}, token_from=case_url)
    assert "Give a valid email address, like name@example.com." in alice.get(refused.headers["Location"]).get_data(
        as_text=True)
    sent = support.post(alice, action, {"email": " walk.in@example.com "}, token_from=case_url)
    page = alice.get(sent.headers["Location"]).get_data(as_text=True)
    assert "The signed result was emailed to walk.in@example.com." in page
    assert "The signed result for Walk In was emailed to walk.in@example.com from the counter" in page
    drain()  # delivery
    messages = support.outbox_messages()
    assert len(messages) == mails_before + 1
    mail = messages[-1]
    assert mail["To"] == "walk.in@example.com"
    links = support.links_in(mail)
    download = next(link for link in links if "/signed/" in link)
    anonymous = app.test_client()
    got = anonymous.get(urlsplit(download).path)
    assert got.status_code == 200 and got.data.startswith(b"%PDF")


def test_another_organisation_cannot_print_or_email_the_result(app, people):
    alice, made = signed_walk_in(app, people)
    drain()
    party = made.parties[0]
    people.globex.enabled_plugins = ["kiosk"]
    db.session.commit()
    other = office(app, "charlie@globex.example")
    assert other.get(f"/kiosk/cases/{made.case_id}/result").status_code == 404
    refused = support.post(other, f"/kiosk/cases/{made.case_id}/parties/{party.id}/email-result",
                           {"email": "x@example.com"}, token_from="/cases/")
    assert refused.status_code == 404
    with tenant_context(people.acme.id):
        kinds = db.session.scalars(sa.text("SELECT kind FROM event WHERE case_id = :c").bindparams(
            c=made.case_id)).all()
    assert "kiosk_result_emailed" not in kinds


def test_emailing_the_result_again_adds_a_link_and_the_first_email_s_link_keeps_working(app, people):
    alice, made = signed_walk_in(app, people)
    drain()  # sealing
    case_url = f"/cases/{made.case_id}"
    action = f"/kiosk/cases/{made.case_id}/parties/{made.parties[0].id}/email-result"
    downloads = []
    for address in ("walk.in@example.com", "walk.in.at.work@example.com"):  # a second copy, e.g. for work
        sent = support.post(alice, action, {"email": address}, token_from=case_url)
        assert f"The signed result was emailed to {address}." in alice.get(sent.headers["Location"]).get_data(
            as_text=True)
        drain()  # delivery
        mail = support.outbox_messages()[-1]
        assert mail["To"] == address
        downloads.append(urlsplit(next(link for link in support.links_in(mail) if "/signed/" in link)).path)
    first, second = downloads
    assert first != second, "each email carries a link of its own"
    anonymous = app.test_client()
    for path in (first, second):
        got = anonymous.get(path)
        assert got.status_code == 200 and got.data.startswith(b"%PDF"), path
    first_page = anonymous.get(first.rsplit("/signed/", 1)[0])  # the result page the first email links
    assert first_page.status_code == 200 and "Lease 12" in first_page.get_data(as_text=True)
    # Another organisation's officer still cannot send a link for this party.
    people.globex.enabled_plugins = ["kiosk"]
    db.session.commit()
    other = office(app, "charlie@globex.example")
    refused = support.post(other, action, {"email": "x@example.com"}, token_from="/cases/")
    assert refused.status_code == 404
