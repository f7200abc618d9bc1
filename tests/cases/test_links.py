"""A party's links: reminders and "send the link again" never break a link the party already has;
only a corrected email or the officer's "replace the link" retires them. Links stay hashed."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.cases import followup
from core.cases import service as cases
from core.cases.periodic import send_due_reminders
from core.extensions import db
from core.jobs import drain
from core.models import Case, Officer, Party
from core.models.base import utcnow
from core.security import hash_token
from core.signing.models import RetiredLink
from core.signing.service import find_party, link_state
from tenants.scoping import tenant_context
from tests import support

DEAD = "This link does not work"


def links_to(address: str) -> list[str]:
    """Every signing link mailed to `address`, oldest first."""
    messages = [m for m in support.outbox_messages() if address in str(m["To"])]
    return [link for m in messages for link in support.links_in(m) if "/s/" in link]


def path(link: str) -> str:
    return "/s/" + link.rsplit("/", 1)[-1]


def opens(client, link: str) -> bool:
    html = client.get(path(link)).get_data(as_text=True)
    return DEAD not in html and "Sign with my drawn signature" in html


def act(people, case_id: int, action) -> None:
    with tenant_context(people.acme.id):
        case = db.session.get(Case, case_id)
        action(case, case.parties[0], db.session.get(Officer, people.alice.id))
        db.session.commit()
    drain()


def test_reminders_and_sending_again_keep_every_earlier_link_working(client, people, make_case):
    case_id = make_case()
    act(people, case_id, lambda case, party, officer: followup.remind_party(case, party, actor=officer))
    act(people, case_id, lambda case, party, officer: followup.resend_link(case, party, officer))
    act(people, case_id, lambda case, party, officer: followup.remind_party(
        case, party, actor=officer, now=utcnow() + timedelta(hours=2)))
    links = links_to("sam@example.org")
    assert len(links) == 4 and len(set(links)) == 4  # the invitation, two reminders, the link again
    assert all(opens(client, link) for link in links)
    sent_again = [m for m in support.outbox_messages() if "sam@example.org" in str(m["To"])][2]
    assert "replaces any link" not in support.body_text(sent_again) and "New link" not in sent_again["Subject"]
    with tenant_context(people.acme.id):  # only hashes are stored
        stored = db.session.scalars(sa.select(RetiredLink.token_hash)).all() + [
            db.session.scalars(sa.select(Party.token_hash)).one()]
        assert sorted(stored) == sorted(hash_token(link.rsplit("/", 1)[-1]) for link in links)
    # the first email's link signs
    first = path(links[0])
    assert support.post(client, first + "/sign", _sign_form(client, first), token_from=first).status_code == 302
    assert "Thank you for signing" in client.get(first).get_data(as_text=True)


def test_the_scheduled_reminder_keeps_the_invitation_link(client, people, make_case):
    case_id = make_case(reminder_interval_days=1, reminder_max=2)
    with tenant_context(people.acme.id):
        case = db.session.get(Case, case_id)
        for party in case.parties:
            party.invited_at -= timedelta(days=2)
        db.session.commit()
    send_due_reminders(utcnow())
    drain()
    links = links_to("sam@example.org")
    assert len(links) == 2 and all(opens(client, link) for link in links)


def test_replacing_the_link_retires_every_earlier_one(client, people, make_case):
    case_id = make_case()
    act(people, case_id, lambda case, party, officer: followup.remind_party(case, party, actor=officer))
    act(people, case_id, lambda case, party, officer: followup.resend_link(case, party, officer, replace=True))
    *earlier, new = links_to("sam@example.org")
    assert len(earlier) == 2
    assert not any(opens(client, link) for link in earlier)
    assert all(DEAD in client.get(path(link)).get_data(as_text=True) for link in earlier)
    assert opens(client, new)
    replaced = [m for m in support.outbox_messages() if "sam@example.org" in str(m["To"])][-1]
    assert "replaces any link" in support.body_text(replaced)


def test_correcting_the_email_retires_the_links_sent_to_the_old_address(client, people, make_case):
    case_id = make_case(parties=(("Sam Signer", "sam@exmaple.org"),))
    act(people, case_id, lambda case, party, officer: followup.remind_party(case, party, actor=officer))
    act(people, case_id, lambda case, party, officer: followup.correct_party(case, party, officer,
                                                                              email="sam@example.org"))
    old = links_to("sam@exmaple.org")
    assert len(old) == 2 and not any(opens(client, link) for link in old)
    [new] = links_to("sam@example.org")
    assert opens(client, new)


def test_correcting_only_the_phone_keeps_the_links(client, people, make_case):
    case_id = make_case()
    act(people, case_id, lambda case, party, officer: followup.correct_party(case, party, officer,
                                                                              email="sam@example.org",
                                                                              phone="+46701234567"))
    [link] = links_to("sam@example.org")  # no new email
    assert opens(client, link)


def test_a_kept_link_of_a_revoked_case_says_it_was_withdrawn(client, people, make_case):
    case_id = make_case()
    act(people, case_id, lambda case, party, officer: followup.remind_party(case, party, actor=officer))
    act(people, case_id, lambda case, party, officer: cases.revoke_case(case, officer, "Wrong flat"))
    first = links_to("sam@example.org")[0]
    with tenant_context(people.acme.id):
        assert link_state(find_party(first.rsplit("/", 1)[-1])).state == "revoked"
    html = client.get(path(first)).get_data(as_text=True)
    assert "withdrawn" in html and "Sign with my drawn signature" not in html


def _sign_form(client, signer_path: str) -> dict:
    from tests.signing.helpers import sign_form

    return sign_form(client, signer_path)
