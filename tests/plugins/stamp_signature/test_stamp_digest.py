"""The digest email: a person with several cases waiting in one organisation gets one email
("N documents are waiting for you: review and sign together"), at most once per period, only about
cases that still send reminders; delivered to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import jobs
from core.extensions import db
from core.jobs import drain
from core.models import Party
from core.models.base import utcnow
from plugins.stamp_signature.models import StampDigest
from tenants.scoping import tenant_context
from tests.plugins.stamp_signature.helpers import SARA
from tests.signing.helpers import make_case, pdf, signer


@pytest.fixture
def app(app_factory, smtp):
    app = app_factory(SMTP_URL=f"smtp://127.0.0.1:{smtp.port}")
    app.smtp = smtp
    with app.app_context():
        yield app


def lease(officer, title, name=SARA, email="sara@example.com", language="en", **extra):
    return make_case(officer, [signer(name, email, methods=["touch"], language=language)], methods=["touch"],
                     title=title, document=pdf([title]), reminder_interval_days=extra.pop("interval", 3),
                     reminder_max=extra.pop("max", 3), **extra)


def age(tenant_id: int, days: float = 2) -> None:
    """Every party was invited `days` ago (so they have not heard from us today)."""
    with tenant_context(tenant_id):
        db.session.execute(sa.update(Party).values(invited_at=utcnow() - timedelta(days=days)))
        db.session.commit()


def run_digest() -> None:
    jobs.run_periodic("stamp_signature_digest")  # what the scheduler does every hour
    drain()


def digests_to(app, address: str) -> list:
    return [m for m in app.smtp.messages if address in str(m["To"]) and "waiting for you" in str(m["Subject"])
            or address in str(m["To"]) and "väntar på dig" in str(m["Subject"])]


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_person_with_several_waiting_cases_gets_one_digest_linking_the_stamp_page(app, on, client):
    first = lease(on.alice, "Lease 1")
    lease(on.bob, "Lease 2")
    lease(on.alice, "Lease 3")
    lease(on.alice, "Olle's lease", name="Olle Other", email="olle@example.com")  # one case: no digest
    lease(on.charlie, "Globex lease")  # Sara's only case in Globex: no digest there
    age(on.acme.id)
    age(on.globex.id)
    drain()  # the invitations
    before = len(app.smtp.messages)
    run_digest()

    [mail] = digests_to(app, "sara@example.com")
    assert len(app.smtp.messages) == before + 1  # nobody else got one
    assert str(mail["Subject"]) == "3 documents are waiting for you"
    text = body(mail)
    assert "3 documents are waiting for you: review and sign together." in text
    assert "Lease 1" in text and "Lease 2" in text and "Lease 3" in text and "Globex" not in text
    link = next(line for line in text.splitlines() if "/stamp/s/" in line).strip()
    page = client.get(link.split("sigill.test", 1)[-1]).get_data(as_text=True)
    assert "Lease 1" in page and "Lease 3" in page and "Globex lease" not in page
    assert first.token(SARA) not in link  # a link of its own; the earlier ones keep working
    assert client.get(first.path(SARA)).status_code == 200

    # Once per period: the next runs send nothing until the period has passed.
    run_digest()
    assert len(digests_to(app, "sara@example.com")) == 1
    with tenant_context(on.acme.id):
        db.session.execute(sa.update(StampDigest).values(sent_at=utcnow() - timedelta(days=8)))
        db.session.commit()
    run_digest()
    assert len(digests_to(app, "sara@example.com")) == 2


def test_the_digest_reads_in_swedish(app, on):
    lease(on.alice, "Hyresavtal 1", language="sv")
    lease(on.bob, "Hyresavtal 2", language="sv")
    age(on.acme.id)
    run_digest()
    [mail] = digests_to(app, "sara@example.com")
    assert str(mail["Subject"]) == "2 dokument väntar på dig"
    text = body(mail)
    assert "2 dokument väntar på dig: granska och skriv under tillsammans." in text
    assert mail["Content-Language"] == "sv"


def test_no_digest_the_day_of_an_invitation_or_reminder(app, on):
    lease(on.alice, "Lease 1")
    second = lease(on.bob, "Lease 2")
    run_digest()  # both invitations went out just now
    assert digests_to(app, "sara@example.com") == []
    age(on.acme.id)
    with tenant_context(on.acme.id):
        db.session.execute(sa.update(Party).where(Party.case_id == second.case_id)
                           .values(last_reminded_at=utcnow() - timedelta(hours=3), reminders_sent=1))
        db.session.commit()
    run_digest()
    assert digests_to(app, "sara@example.com") == []


def test_only_cases_that_still_send_reminders_count(app, on):
    lease(on.alice, "Lease 1")
    lease(on.bob, "Lease 2", interval=0)  # the officer turned reminders off
    used_up = lease(on.alice, "Lease 3")
    with tenant_context(on.acme.id):
        db.session.execute(sa.update(Party).where(Party.case_id == used_up.case_id).values(reminders_sent=3))
        db.session.commit()
    age(on.acme.id)
    run_digest()
    assert digests_to(app, "sara@example.com") == []


def test_a_tenant_can_turn_the_digest_off(app, on):
    on.acme.plugin_settings = {"stamp_signature": {"digest_days": 0}}
    db.session.commit()
    lease(on.alice, "Lease 1")
    lease(on.bob, "Lease 2")
    age(on.acme.id)
    run_digest()
    assert digests_to(app, "sara@example.com") == []
