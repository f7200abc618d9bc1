"""Mail through a real SMTP server, and the outbox when none is configured."""

from core.auth.service import invite
from core.extensions import db
from core.jobs import drain
from core.mail import send_mail
from tests import support


def test_invitation_goes_out_by_smtp_with_html_text_and_sender_name(app_factory, smtp):
    app = app_factory(SMTP_URL=f"smtp://127.0.0.1:{smtp.port}")
    with app.app_context(), app.test_request_context():
        people = support.make_people()
        people.acme.sender_name = "Acme Avtal"
        invite(people.acme, people.alice, "dora@acme.example", "Dora Dahl", "officer", "sv")
        db.session.commit()
        drain()
    [message] = smtp.wait_for("dora@acme.example")
    assert message["From"].addresses[0].display_name == "Acme Avtal"
    assert message.get_body(("html",)).get_content().count("/invite/") >= 1
    text = message.get_body(("plain",)).get_content()
    assert "Dora Dahl" in text and "/invite/" in text
    assert message["Content-Language"] == "sv"


def test_english_and_swedish_mails_differ(app):
    with app.test_request_context():
        people = support.make_people()
        send_mail("a@x.example", "password_reset", language="en", tenant=people.acme, officer=people.alice, link="L")
        send_mail("b@x.example", "password_reset", language="sv", tenant=people.acme, officer=people.alice, link="L")
        db.session.commit()
    drain()
    english, swedish = support.outbox_messages()
    assert english["Subject"] == "Choose a new password"
    assert swedish["Subject"] == "Välj ett nytt lösenord"


def test_outbox_page_lists_mails_in_debug_mode(app_factory):
    app = app_factory(DEBUG_OUTBOX=True)
    with app.app_context(), app.test_request_context():
        people = support.make_people()
        send_mail("a@x.example", "password_reset", language="en", tenant=people.acme, officer=people.alice,
                  link="http://sigill.test/reset/abc")
        db.session.commit()
        drain()
    client = app.test_client()
    listing = client.get("/dev/outbox").get_data(as_text=True)
    assert "Choose a new password" in listing
    name = support.outbox_messages(app)[0]
    assert name["To"] == "a@x.example"


def test_outbox_page_is_hidden_in_production(client):
    assert client.get("/dev/outbox").status_code == 404


def test_smtp_failure_is_retried_not_lost(app_factory):
    app = app_factory(SMTP_URL="smtp://127.0.0.1:1")
    with app.app_context(), app.test_request_context():
        people = support.make_people()
        send_mail("a@x.example", "password_reset", language="en", tenant=people.acme, officer=people.alice, link="L")
        db.session.commit()
        drain()
        from core.models import Job, OutgoingMail

        mail = db.session.query(OutgoingMail).one()
        job = db.session.query(Job).one()
        assert mail.sent_at is None
        assert job.state == "pending" and job.attempts == 1 and "Connection refused" in job.last_error
