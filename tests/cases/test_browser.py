"""The web office in a real browser (Chromium), mail to a real SMTP server."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from core.cases import service
from core.extensions import db
from core.jobs import run_periodic
from core.models import Case, Job, Officer
from core.models.base import utcnow
from tenants.models import Tenant
from tenants.scoping import tenant_context
from tests import support
from tests.cases import pdfs

pytestmark = pytest.mark.browser


@pytest.fixture
def office(live_server):
    """The people's ids (their rows belong to the live server's sessions)."""
    with live_server.app.app_context():
        people = support.make_people()
        return SimpleNamespace(acme=people.acme.id, alice=people.alice.id)


def log_in(page, live_server, email: str = "alice@acme.example") -> None:
    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", support.PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/cases/")


def sent_case(live_server, people, parties=(("Sam Signer", "sam@example.org"),), title="Lease 12B") -> int:
    """A case sent by Alice through the service, as the form would."""
    with live_server.app.app_context(), tenant_context(people.acme):
        alice = db.session.get(Officer, people.alice)
        case = service.create_case(alice, title, "", ["touch"], "parallel", "en", None, None, None)
        service.add_document(case, "lease.pdf", pdfs.pdf(1), actor=alice)
        for name, email in parties:
            service.add_party(case, name, email, language="en")
        service.send_case(case, alice)
        db.session.commit()
        return case.id


def mails_to(live_server, address: str) -> list:
    return [m for m in live_server.smtp.messages if address in str(m["To"])]


def wait_for_due_jobs(live_server, timeout: float = 30) -> None:
    """Until the background jobs due now (mails among them) have run: no fixed sleep to guess it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with live_server.app.app_context():
            waiting = db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
                Job.state.in_(("pending", "running")), Job.run_after <= utcnow()))
        if not waiting:
            return
        time.sleep(0.1)
    raise AssertionError(f"{waiting} job(s) still waiting after {timeout} s")


def test_create_send_sequential_and_remind_by_the_scheduler(page, live_server, office, tmp_path):
    (tmp_path / "lease.pdf").write_bytes(pdfs.pdf(2, "Lease"))
    (tmp_path / "annex.pdf").write_bytes(pdfs.pdf(1, "Annex"))
    log_in(page, live_server)
    support.click_and_load(page, "text=New case")
    page.fill("#title", "Lease 12B")
    page.set_input_files("#documents-input", [str(tmp_path / "lease.pdf"), str(tmp_path / "annex.pdf")])
    page.check("input[name=signing_order][value=sequential]")
    page.fill("#party-0-name", "Sam Signer")
    page.fill("#party-0-email", "sam@example.org")
    page.select_option("#party-0-language", "en")
    support.click_and_load(page, "button[value=add_party]")
    page.fill("#party-1-name", "Tove Two")
    page.fill("#party-1-email", "tove@example.org")
    support.click_and_load(page, "button[value=add_party]")
    page.fill("#party-2-name", "Rita Recipient")
    page.fill("#party-2-email", "rita@example.org")
    page.select_option("#party-2-role", "recipient")
    assert page.locator("#kept-files li").count() == 2  # the files survived the row round trips
    page.click("button.primary[value=send]")
    page.wait_for_selector("text=The case has been sent for signing.")
    assert "lease.pdf" in page.content() and "annex.pdf" in page.content()

    [invitation] = live_server.smtp.wait_for("sam@example.org")
    assert "Lease 12B" in invitation["Subject"]
    wait_for_due_jobs(live_server)  # any wrongly sent invitation would have been sent by now
    assert not mails_to(live_server, "tove@example.org") and not mails_to(live_server, "rita@example.org")

    with live_server.app.app_context(), tenant_context(office.acme):
        case = db.session.scalars(sa.select(Case)).one()
        for party in case.parties:
            if party.invited_at:
                party.invited_at -= timedelta(days=4)  # time moves forward
        db.session.commit()
    with live_server.app.app_context():
        run_periodic("case_reminders")
    reminder = live_server.smtp.wait_for("sam@example.org", count=2)[-1]
    assert "Reminder" in reminder["Subject"]
    page.reload()
    assert page.locator("#timeline li[data-kind=reminded]").count() == 1


def test_every_kind_of_bad_file_gets_its_message(page, live_server, office, tmp_path):
    with live_server.app.app_context():
        tenant = db.session.get(Tenant, office.acme)
        tenant.settings = {"max_upload_mb": 1}
        db.session.commit()
    files = {"good.pdf": pdfs.pdf(1), "empty.pdf": b"", "photo.pdf": pdfs.png(), "cut.pdf": pdfs.truncated_pdf(),
             "secret.pdf": pdfs.encrypted_pdf(), "huge.pdf": pdfs.pdf(1) + b"%" + b"x" * (1024 * 1024) + b"\n%%EOF\n"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    log_in(page, live_server)
    page.goto(live_server.url + "/cases/new")
    page.fill("#title", "Bad files")
    page.fill("#party-0-name", "Sam Signer")
    page.set_input_files("#documents-input", [str(tmp_path / name) for name in files])
    support.click_and_load(page, "button[value=upload]")
    errors = page.locator("#file-errors").inner_text()
    for expected in ("empty.pdf is empty", "photo.pdf is not a PDF", "cut.pdf is damaged or incomplete",
                     "secret.pdf is password-protected", "huge.pdf is larger than 1 MB"):
        assert expected in errors
    assert page.input_value("#title") == "Bad files" and page.input_value("#party-0-name") == "Sam Signer"
    assert page.locator("#kept-files").inner_text().strip().startswith("good.pdf")


def test_correct_reassign_search_and_revoke(page, live_server, office):
    case_id = sent_case(live_server, office, parties=(("Sam Signer", "sam@exmaple.org"),))
    other = sent_case(live_server, office, parties=(("Olle", "olle@example.org"),), title="Loan")
    log_in(page, live_server)
    page.fill("#q", "sam@exmaple")
    support.click_and_load(page, "form[role=search] button[type=submit]")  # the list had both cases
    assert page.locator("#case-list tbody tr").count() == 1
    page.click("text=Lease 12B")

    page.click("text=Correct the email or phone of Sam Signer")
    page.fill("input[name=email]", "sam@example.org")
    page.click("text=Save the correction")
    page.wait_for_selector("text=have been corrected")
    live_server.smtp.wait_for("sam@example.org")

    page.select_option("#officer_id", label="Bob Berg")
    page.click("text=Hand over the case")
    page.wait_for_selector("text=The case is now handled by Bob Berg.")

    page.fill("#reason", "The rent was wrong")
    page.click("button.danger:has-text('Revoke the case')")
    page.wait_for_selector("text=The case has been revoked")
    assert page.inner_text("#case-status") == "Revoked"
    withdrawn = live_server.smtp.wait_for("sam@example.org", count=2)[-1]
    assert "withdrawn" in withdrawn["Subject"] and "The rent was wrong" in support.body_text(withdrawn)
    with live_server.app.app_context(), tenant_context(office.acme):
        assert all(p.token_hash is None for p in db.session.get(Case, case_id).parties)
        assert db.session.get(Case, other).status == "pending"


def test_a_colleague_acts_and_another_tenant_gets_404(page, live_server, office):
    case_id = sent_case(live_server, office)
    log_in(page, live_server, "bob@acme.example")
    page.click("text=Lease 12B")
    page.fill("#note-text", "Sam calls back on Monday")
    page.click("text=Add the note")
    page.wait_for_selector("text=Note: Sam calls back on Monday")
    assert "Bob Berg" in page.locator("#timeline li[data-kind=note]").inner_text()

    support.click_and_load(page, "text=Log out")  # else going to /login may cut the logout off
    log_in(page, live_server, "charlie@globex.example")
    assert "Lease 12B" not in page.content()
    response = page.goto(f"{live_server.url}/cases/{case_id}")
    assert response.status == 404
