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


def _outbox_app(app_factory, **config):
    app = app_factory(DEBUG_OUTBOX=True, BASE_URL="http://127.0.0.1:5000", **config)
    with app.app_context(), app.test_request_context():
        people = support.make_people()
        send_mail("a@x.example", "password_reset", language="en", tenant=people.acme, officer=people.alice,
                  link="http://127.0.0.1:5000/reset/abc")
        db.session.commit()
        drain()
    return app


def test_outbox_page_lists_mails_in_debug_mode(app_factory):
    app = _outbox_app(app_factory)
    client = app.test_client()
    listing = client.get("/dev/outbox").get_data(as_text=True)
    assert "Choose a new password" in listing
    name = support.outbox_messages(app)[0]
    assert name["To"] == "a@x.example"
    mail = listing.split('href="/dev/outbox/')[1].split('"')[0]
    assert "/reset/abc" in client.get(f"/dev/outbox/{mail}").get_data(as_text=True)


def test_outbox_page_is_hidden_in_production(client):
    assert client.get("/dev/outbox").status_code == 404


def test_outbox_page_is_only_for_browsers_on_this_machine(app_factory):
    app = _outbox_app(app_factory)
    mail = support.outbox_path_names(app)[0]
    for remote in ("192.0.2.10", "10.0.0.5", "2001:db8::1"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = remote
        assert client.get("/dev/outbox").status_code == 404
        assert client.get(f"/dev/outbox/{mail}").status_code == 404
    for local in ("127.0.0.1", "::1"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = local
        assert client.get("/dev/outbox").status_code == 200
    # A proxy on this machine forwards others' requests from 127.0.0.1: not a local browser.
    proxied = app.test_client()
    assert proxied.get("/dev/outbox", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404


def test_outbox_page_is_off_when_the_service_has_an_address_others_reach(app_factory):
    app = _outbox_app(app_factory)
    app.config["BASE_URL"] = "https://sign.acme.example"
    mail = support.outbox_path_names(app)[0]
    client = app.test_client()  # even from this machine
    assert client.get("/dev/outbox").status_code == 404
    assert client.get(f"/dev/outbox/{mail}").status_code == 404


def test_serve_says_whether_and_where_the_outbox_is(app, monkeypatch):
    import werkzeug.serving

    from core.cli import cli

    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *args, **kwargs: None)
    app.config.update(DEBUG_OUTBOX=True, BASE_URL="http://127.0.0.1:5000")
    output = app.test_cli_runner().invoke(cli, args=["serve"]).output
    assert "http://127.0.0.1:5000/dev/outbox (only to browsers on this machine)" in output
    app.config["BASE_URL"] = "https://sign.acme.example"
    output = app.test_cli_runner().invoke(cli, args=["serve"]).output
    assert "/dev/outbox" not in output
    assert "The development outbox page is off: BASE_URL https://sign.acme.example is not a local address" in output


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


def test_mails_sent_in_one_batch_go_out_in_one_job_and_a_run_again_sends_none_twice(app_factory, smtp):
    from core.mail import batched
    from core.models import Job, OutgoingMail

    app = app_factory(SMTP_URL=f"smtp://127.0.0.1:{smtp.port}")
    with app.app_context(), app.test_request_context():
        people = support.make_people()
        with batched():
            for to in ("a@x.example", "b@x.example", "c@x.example"):
                send_mail(to, "password_reset", language="en", tenant=people.acme, officer=people.alice, link="L")
        db.session.commit()
        [job] = db.session.query(Job).all()
        assert job.func == "core.mail.deliver_many"
        # The first was delivered before a crash (its sent_at committed): the job run again skips it.
        first = db.session.query(OutgoingMail).order_by(OutgoingMail.id).first()
        from core.models.base import utcnow
        first.sent_at = utcnow()
        db.session.commit()
        drain()
        assert db.session.get(Job, job.id).state == "done"
        assert all(m.sent_at is not None for m in db.session.query(OutgoingMail))
    smtp.wait_for("c@x.example")
    assert sorted(str(m["To"]) for m in smtp.messages) == ["b@x.example", "c@x.example"]


def test_swedish_sender_name_with_punctuation_and_a_long_subject_read_back_as_written(app):
    """Headers with åäö, commas and ampersands arrive as written, however the message folds them."""
    from email import message_from_string, policy
    from email.utils import formataddr

    from core.mail import mime_text

    subject = "Påminnelse: " + "Hyresavtal för lägenhet 1204, Storgatan 1 & 3, Umeå " * 3
    sender = formataddr(("Åkesson & Öberg, Fastigheter AB", "noreply@sigill.example"))
    with app.test_request_context():
        people = support.make_people()
        people.acme.sender_name = "Åkesson & Öberg, Fastigheter AB"
        send_mail("a@x.example", "password_reset", language="sv", tenant=people.acme, officer=people.alice, link="L")
        db.session.commit()
    drain()
    [stored] = support.outbox_messages()
    assert stored["From"].addresses[0].display_name == "Åkesson & Öberg, Fastigheter AB"
    assert stored["Subject"] == "Välj ett nytt lösenord"
    mime = mime_text(subject.strip(), sender, "a@x.example", "<1@x>", "sv", "Hej åäö", "<p>Hej</p>")
    header = mime.split("\n\n", 1)[0]
    assert max(len(line) for line in header.split("Subject:", 1)[1].split("\nFrom:")[0].splitlines()) <= 78
    message = message_from_string(mime, policy=policy.default)
    assert message["Subject"] == subject.strip()
    long_ascii = "Reminder: " + "the lease for flat 1204, " * 8
    mime = mime_text(long_ascii.strip(), sender, "a@x.example", "<1@x>", "en", "Hi", "<p>Hi</p>")
    assert max(len(line) for line in mime.split("Subject:", 1)[1].split("\nFrom:")[0].splitlines()) <= 78
    assert message_from_string(mime, policy=policy.default)["Subject"] == long_ascii.strip()
    assert message.get_body(("plain",)).get_content().strip() == "Hej åäö"
    assert message["Content-Language"] == "sv"
