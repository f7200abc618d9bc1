"""Hostile text at input: line breaks in names, address lists as one email, bidi characters in file
names. Refused (or, for file names, cleaned) where it comes in; the mail layer never breaks."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.mail import InvalidRecipient, send_mail
from core.models import Case
from core.text import clean_filename, header_text, line_problem, valid_email
from tenants.scoping import tenant_context
from tests import support
from tests.cases import pdfs

RLO = "\u202e"


@pytest.mark.parametrize("address", [
    "sam@example.org", "Sam.Signer+lease@example.org", "o'brien@example.ie", "åsa@företag.se",
    "x@xn--frtag-pra.se", "a_b@mail.example.com",
])
def test_plain_addresses_are_valid(address):
    assert valid_email(address)


@pytest.mark.parametrize("address", [
    "a@example.com,evil", "a@example.com, b@example.com", "a@example.com;b@example.com", "Sam <sam@example.org>",
    '"a,b"@example.com', "a@example.com (comment)", "a@example.com\n", "a@example.com\r\nBcc: x@example.org",
    f"a{RLO}@example.com", "a@example.com\u200b", "a@@example.com", "a@example", "a@127.0.0.1", "a@ex_ample.com",
    "a..b@example.com", ".a@example.com", "a@-example.com", "", "a" * 65 + "@example.com",
])
def test_anything_but_one_plain_address_is_refused(address):
    assert not valid_email(address)


@pytest.mark.parametrize("raw, clean", [
    (f"invoice{RLO}fdp.exe", "invoicefdp.exe"),
    ("C:\\Users\\sam\\lease.pdf", "lease.pdf"),
    ("../../etc/passwd", "passwd"),
    ("lease\r\n.pdf", "lease .pdf"),
    ("\u2066lease\u2069.pdf", "lease.pdf"),
    ("  ", "document.pdf"),
    ("...", "document.pdf"),
    ("ｌｅａｓｅ.pdf", "ｌｅａｓｅ.pdf"),  # visible characters are kept as typed
    ("Köpekontrakt 👨‍👩‍👧.pdf", "Köpekontrakt 👨‍👩‍👧.pdf"),  # the zero-width joiners of an emoji stay
])
def test_file_names_are_cleaned(raw, clean):
    assert clean_filename(raw) == clean


def test_a_long_file_name_keeps_its_extension():
    name = clean_filename("x" * 300 + ".pdf")
    assert len(name) == 255 and name.endswith("xxx.pdf")


def test_one_line_text(app):
    from core.i18n import force_locale

    with app.test_request_context(), force_locale("en"):
        assert line_problem("Acme AB") is None
        assert "one line" in line_problem("Acme AB\r\nBcc: evil@example.org")
        assert "control characters" in line_problem(f"Acme {RLO}BA")
    with app.test_request_context(), force_locale("sv"):
        assert "en rad" in line_problem("Acme\nAB")
        assert "osynliga styrtecknen" in line_problem(f"Acme {RLO}BA")
    assert header_text(f"Acme\r\nBcc: evil@example.org {RLO}") == "Acme Bcc: evil@example.org"


# --- the organisation's name -----------------------------------------------------------------------


SETTINGS = {"sender_name": "", "max_upload_mb": "10", "reminder_interval_days": "2", "reminder_max": "4",
            "expiry_days": "14", "retention_days": "3650", "default_language": "en"}


def test_an_organisation_name_with_a_line_break_is_refused_in_words(app, people, login, client):
    login(people.alice)
    page = support.post(client, "/admin/settings", {**SETTINGS, "name": "Acme AB\r\nBcc: evil@example.org"},
                        token_from="/admin/", follow_redirects=True).get_data(as_text=True)
    assert "Write it on one line, without line breaks." in page
    page = support.post(client, "/admin/settings", {**SETTINGS, "name": "Acme AB", "sender_name": f"Acme {RLO}BA"},
                        token_from="/admin/", follow_redirects=True).get_data(as_text=True)
    assert "Remove the invisible control characters" in page
    db.session.refresh(people.acme)
    assert people.acme.name == "Acme AB" and people.acme.sender_name is None


def test_the_cli_refuses_an_organisation_name_with_a_line_break(app):
    from core.cli import cli

    result = app.test_cli_runner().invoke(cli, args=["tenant", "create", "evil", "Evil\nAB"])
    assert result.exit_code != 0 and "Invalid value for NAME" in result.output


def test_mail_of_an_organisation_whose_stored_name_has_a_line_break_still_goes_out(app, people):
    people.acme.name = "Acme AB\r\nBcc: evil@example.org"  # stored before names were checked
    db.session.commit()
    with app.test_request_context():
        send_mail("sam@example.org", "password_reset", language="en", tenant=people.acme, officer=people.alice,
                  link="http://sigill.test/reset/abc")
        db.session.commit()
    drain()
    [mail] = support.outbox_messages()
    assert mail["From"].addresses[0].display_name == "Acme AB Bcc: evil@example.org"
    assert mail["Bcc"] is None and [a.addr_spec for a in mail["To"].addresses] == ["sam@example.org"]


def test_the_mail_layer_sends_to_one_address_or_not_at_all(app, people):
    with app.test_request_context(), pytest.raises(InvalidRecipient):
        send_mail("sam@example.org,evil@example.org", "password_reset", language="en", tenant=people.acme,
                  officer=people.alice, link="L")


# --- parties -------------------------------------------------------------------------------------------


def _in_20_days() -> str:
    from datetime import timedelta

    from core.models.base import utcnow

    return (utcnow() + timedelta(days=20)).date().isoformat()


def _case_form(**extra) -> dict:
    data = {"title": "Lease 12B", "message": "", "methods": ["touch"], "signing_order": "parallel",
            "language": "en", "expires_on": _in_20_days(), "reminder_interval_days": "3", "reminder_max": "3",
            "party-0-name": "Sam Signer", "party-0-email": "sam@example.org", "party-0-role": "signer",
            "party-0-language": "en", "action": "save"}
    data.update(extra)
    return data


def test_the_case_form_refuses_an_address_list_and_a_name_with_a_line_break(app, people, login, client):
    login(people.alice)
    page = support.post(client, "/cases/new", _case_form(**{"party-0-email": "sam@example.org,evil"}),
                        token_from="/cases/new", content_type="multipart/form-data")
    assert "Give a valid email address, like name@example.com." in page.get_data(as_text=True)
    page = support.post(client, "/cases/new", _case_form(**{"party-0-name": "Sam\nSigner", "title": f"Lease{RLO}"}),
                        token_from="/cases/new", content_type="multipart/form-data").get_data(as_text=True)
    assert "Write it on one line, without line breaks." in page
    assert "Remove the invisible control characters" in page
    with tenant_context(people.acme.id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_an_uploaded_file_loses_its_right_to_left_override(app, people, login, client):
    login(people.alice)
    form = _case_form(documents=[(io.BytesIO(pdfs.pdf(1, "Lease")), f"lease{RLO}fdp.exe")])
    response = support.post(client, "/cases/new", form, token_from="/cases/new", content_type="multipart/form-data")
    assert response.status_code == 302
    with tenant_context(people.acme.id):
        [document] = db.session.scalars(sa.select(Case)).one().documents
    assert document.filename == "leasefdp.exe"


def test_a_stored_name_with_an_override_is_cleaned_in_the_download_header(app):
    from core.downloads import attachment

    with app.test_request_context():
        header = attachment(b"%PDF", f"lease{RLO}fdp.exe.pdf").headers["Content-Disposition"]
    assert "%E2%80%AE" not in header and "leasefdp.exe.pdf" in header


def test_a_party_address_saved_before_the_checks_gets_no_mail_and_the_timeline_says_why(app, people):
    from core.cases import event_texts, service
    from core.i18n import force_locale
    from core.models import Event

    with app.test_request_context(), tenant_context(people.acme.id):
        case = service.create_case(people.alice, "Lease", "", ["touch"], "parallel", "en", None, None, None)
        service.add_document(case, "lease.pdf", pdfs.pdf(1, "Lease"), actor=people.alice)
        service.add_party(case, "Sam Signer", "sam@example.org", language="en")
        bad = service.add_party(case, "Eve", "eve@example.org", language="en")
        bad.email = "eve@example.org,mallory@example.org"  # as saved before addresses were checked
        service.send_case(case, people.alice)
        db.session.commit()
        case_id = case.id
    drain()
    assert [str(m["To"]) for m in support.outbox_messages()] == ["sam@example.org"]
    with tenant_context(people.acme.id):
        [event] = db.session.scalars(sa.select(Event).where(Event.case_id == case_id, Event.kind == "mail_not_sent"))
        with app.test_request_context(), force_locale("sv"):
            assert event_texts.text(event) == ("Inget e-postmeddelande skickades till Eve: eve@example.org,"
                                               "mallory@example.org är inte en giltig e-postadress. Rätta adressen.")
