"""The BankID signing method through the signer's routes, against the BankID simulator."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from core.bankid.models import BankIDOrder
from core.extensions import db
from core.jobs import drain
from core.models import Event, Party, Signature
from tenants.scoping import tenant_context
from tests.signing.helpers import make_case, signer
from tests.signing_bankid.conftest import ALICE, BERTIL, control, orders
from tests.signing_bankid.helpers import action, collect, digest_on, sign, start

SARA = "Sara Svensson"


@pytest.fixture(autouse=True)
def collect_at_once(app):
    """Most tests ask BankID at every poll; one test checks the 2-second spacing."""
    app.config["BANKID_COLLECT_INTERVAL"] = 0


@pytest.fixture
def lease(people):
    return make_case(people.bob, [signer()], methods=["bankid", "touch"])


def approve_on_phone(sim, qr: str, person=ALICE) -> str:
    """The BankID app scans the frame shown to the signer and signs; returns the order ref."""
    scanned = control(sim, "scan", qr=qr, personalNumber=person.personal_number)
    control(sim, f"orders/{scanned['orderRef']}/approve", personalNumber=person.personal_number)
    return scanned["orderRef"]


def signatures(case) -> list[Signature]:
    with tenant_context(case.tenant_id):
        return db.session.scalars(sa.select(Signature).where(Signature.case_id == case.id)).all()


def events(case, kind: str | None = None) -> list[Event]:
    with tenant_context(case.tenant_id):
        query = sa.select(Event).where(Event.case_id == case.id).order_by(Event.seq)
        return [e for e in db.session.scalars(query) if kind in (None, e.kind)]


def test_the_signer_page_offers_bankid_first(client, lease):
    html = client.get(lease.path(SARA)).get_data(as_text=True)
    assert html.index('id="method-bankid"') < html.index('id="method-touch"')
    assert "BankID on another device" in html and "BankID on this device" in html


def test_bankid_is_not_offered_when_it_is_not_configured(app_factory, lease):
    plain = app_factory()
    html = plain.test_client().get(lease.path(SARA)).get_data(as_text=True)
    assert 'id="method-bankid"' not in html and 'id="method-touch"' in html


def test_a_signer_signs_with_bankid_and_the_case_keeps_verified_evidence(client, sim, lease):
    path = lease.path(SARA)
    started = start(client, path)["data"]
    assert started["status"] == "pending" and started["qr"].startswith("bankid.")
    assert "<svg" in started["qr_svg"] and started["message"] == "Start your BankID app."
    with tenant_context(lease.case.tenant_id):
        secret = db.session.get(BankIDOrder, started["order"]).qr_start_secret
    assert secret not in json.dumps(started) and secret not in client.get(path).get_data(as_text=True)

    approve_on_phone(sim, started["qr"])
    done = collect(client, path, started["order"])["data"]
    assert done["status"] == "complete"
    response = sign(client, path, started["order"])
    assert response.status_code == 302

    [signature] = signatures(lease.case)
    assert signature.method == "bankid"
    assert signature.identity["name"] == "Alice Andersson"
    assert signature.identity["personal_number"] == ALICE.personal_number
    completion = signature.evidence["completion_data"]
    assert completion["signature"] and completion["ocspResponse"] and completion["device"]["ipAddress"] == "127.0.0.1"
    assert lease.document_sha256 in signature.evidence["user_non_visible_data"]
    assert signature.evidence["verified"]["ocsp_produced_at"]
    [signed] = events(lease.case, "party_signed")
    assert signed.data["evidence"]["personal_number"] == "19800101-XXXX"
    assert signed.data["evidence"]["name"] == "Alice Andersson"
    assert signed.data["evidence"]["signature_sha256"] == hashlib.sha256(completion["signature"].encode()).hexdigest()
    everything = json.dumps([e.data for e in events(lease.case)])
    assert ALICE.personal_number not in everything
    with tenant_context(lease.case.tenant_id):
        assert db.session.get(Party, lease.parties[0].id).status == "signed"


def test_the_app_shows_the_case_organisation_documents_and_hashes(client, sim, people):
    made = make_case(people.bob, [signer(language="sv")], methods=["bankid"], title="Hyresavtal *12*")
    started = start(client, made.path(SARA))["data"]
    [order] = orders(sim)
    visible = base64.b64decode(order["visibleData"]).decode()
    assert "Hyresavtal \\*12\\*" in visible and "Acme AB" in visible
    assert "lease.pdf" in visible and made.document_sha256 in visible
    assert started["message"] == "Starta BankID-appen."  # BankID's own words, in the party's language
    with tenant_context(made.case.tenant_id):
        row = db.session.get(BankIDOrder, started["order"])
    assert json.loads(row.user_non_visible_data)["documents"][0]["sha256"] == made.document_sha256


def test_the_qr_code_is_a_new_frame_each_second_and_bankid_is_asked_every_two(app, client, sim, lease, monkeypatch):
    # The method's clock stands still but for the test's moves, so a slow machine cannot make "too soon" late.
    from datetime import timedelta

    from core.signing import bankid_method

    base, offset = bankid_method.utcnow(), [timedelta(0)]
    monkeypatch.setattr(bankid_method, "utcnow", lambda: base + offset[0])
    app.config["BANKID_COLLECT_INTERVAL"] = 1.8
    path = lease.path(SARA)
    first = start(client, path)["data"]
    first_poll = collect(client, path, first["order"])["data"]  # asks BankID
    approve_on_phone(sim, first_poll["qr"])
    offset[0] = timedelta(seconds=1.05)
    second_poll = collect(client, path, first["order"])["data"]  # too soon: BankID not asked
    assert second_poll["status"] == "pending" and second_poll["qr"] != first_poll["qr"]
    offset[0] = timedelta(seconds=1.9)
    assert collect(client, path, first["order"])["data"]["status"] == "complete"


def test_an_order_bound_to_the_personal_number_refuses_another_person(client, sim, people):
    made = make_case(people.bob, [signer(personal_number=ALICE.personal_number)], methods=["bankid"])
    path = made.path(SARA)
    html = client.get(path).get_data(as_text=True)
    assert "Only your own BankID can sign" in html
    started = start(client, path)["data"]
    [order] = orders(sim)
    assert order["requiredPersonalNumber"] == "19800101-XXXX"

    control(sim, "scan", qr=started["qr"], personalNumber=BERTIL.personal_number)
    searching = collect(client, path, started["order"])["data"]
    assert searching["hint"] == "started" and searching["message"].startswith("Searching for BankID")
    control(sim, f"orders/{order['orderRef']}/approve", expect=400, personalNumber=BERTIL.personal_number)
    control(sim, "time", advance=31)
    failed = collect(client, path, started["order"])["data"]
    assert failed["status"] == "failed" and failed["hint"] == "startFailed"
    assert failed["message"].startswith("Failed to scan the QR code")
    assert sign(client, path, started["order"]).status_code == 422
    assert signatures(made.case) == []


FAILURES = [
    ("fail:userCancel", "userCancel", "Action cancelled."),
    ("fail:expiredTransaction", "expiredTransaction", "The BankID app is not responding."),
    ("fail:certificateErr", "certificateErr", "The BankID you are trying to use is blocked or too old."),
    ("fail:somethingNew", "somethingNew", "Unknown error. Please try again."),
]


def test_a_failed_order_shows_bankids_message_and_signs_nothing(client, sim, lease):
    path = lease.path(SARA)
    for outcome, hint, message in FAILURES:
        started = start(client, path)["data"]
        [order] = [o for o in orders(sim) if o["status"] == "pending"]
        control(sim, f"orders/{order['orderRef']}/outcome", outcome=outcome)
        failed = collect(client, path, started["order"])["data"]
        assert (failed["status"], failed["hint"]) == ("failed", hint)
        assert failed["message"].startswith(message)
        assert "qr" not in failed
        assert sign(client, path, started["order"]).status_code == 422
        assert events(lease.case, "bankid_failed")[-1].data["hint"] == hint
    assert signatures(lease.case) == []


def test_unknown_pending_hints_are_shown_as_in_progress(client, sim, lease):
    path = lease.path(SARA)
    started = start(client, path)["data"]
    [order] = orders(sim)
    control(sim, f"orders/{order['orderRef']}/outcome", outcome="pending:brandNewHint")
    pending = collect(client, path, started["order"])["data"]
    assert (pending["status"], pending["hint"]) == ("pending", "brandNewHint")
    assert pending["message"] == "Identification or signing in progress."


def test_the_expired_order_fails_with_rfa8(client, sim, lease):
    path = lease.path(SARA)
    started = start(client, path)["data"]
    control(sim, "scan", qr=started["qr"], personalNumber=ALICE.personal_number)
    control(sim, "time", advance=181)
    failed = collect(client, path, started["order"])["data"]
    assert failed["hint"] == "expiredTransaction" and failed["message"].startswith("The BankID app is not responding")


def test_the_signer_cancels_and_bankid_is_told(client, sim, lease):
    path = lease.path(SARA)
    started = start(client, path)["data"]
    cancelled = action(client, path, "cancel", order=started["order"]).get_json()["data"]
    assert cancelled["status"] == "cancelled" and cancelled["message"] == "Action cancelled."
    assert orders(sim) == []  # BankID forgot the cancelled order
    assert sign(client, path, started["order"]).status_code == 422
    assert signatures(lease.case) == []


def test_starting_again_cancels_the_earlier_order(client, sim, lease):
    path = lease.path(SARA)
    first = start(client, path)["data"]
    second = start(client, path)["data"]
    assert first["order"] != second["order"]
    assert collect(client, path, first["order"])["data"]["status"] == "cancelled"
    assert collect(client, path, second["order"])["data"]["status"] == "pending"


def test_bankid_refusing_to_start_gives_its_message_and_a_retry_works(client, sim, lease):
    path = lease.path(SARA)
    for error, message in [("maintenance", "Internal error. Please try again."),
                           ("internalError", "Internal error. Please try again."),
                           ("alreadyInProgress", "An identification or signing for this personal number is "
                                                 "already started.")]:
        control(sim, "faults", endpoint="sign", error=error)
        refused = start(client, path)
        assert refused["ok"] is False and refused["message"].startswith(message)
        assert events(lease.case, "bankid_not_started")[-1].data == {"error": error}
    with tenant_context(lease.case.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BankIDOrder)) == 0
    assert start(client, path)["data"]["status"] == "pending"  # trying again works


def test_a_bankid_that_does_not_answer_in_time_gives_a_message(app, client, sim, lease):
    app.config["BANKID_TIMEOUT"] = 1
    control(sim, "faults", endpoint="sign", sleep=1.5)
    refused = start(client, lease.path(SARA))
    assert refused["ok"] is False and refused["message"] == "Internal error. Please try again."


def test_collect_errors_may_pass_but_not_forever(client, sim, lease):
    path = lease.path(SARA)
    started = start(client, path)["data"]
    control(sim, "faults", endpoint="collect", error="internalError", count=3)
    blip = collect(client, path, started["order"])["data"]
    assert blip["status"] == "pending" and blip["message"] == "Internal error. Please try again."
    collect(client, path, started["order"])
    failed = collect(client, path, started["order"])["data"]
    assert failed["status"] == "failed" and failed["error"] == "internalError"


def test_a_completion_that_does_not_verify_is_refused(app, client, sim, lease):
    app.config["BANKID_SIGNATURE_CA"] = str(sim.certs.server_cert)  # not the root of the signer's chain
    path = lease.path(SARA)
    started = start(client, path)["data"]
    approve_on_phone(sim, started["qr"])
    rejected = collect(client, path, started["order"])["data"]
    assert rejected["status"] == "failed" and rejected["error"] == "evidenceRejected"
    assert "could not be verified" in rejected["message"]
    assert sign(client, path, started["order"]).status_code == 422
    assert signatures(lease.case) == []


def test_stored_evidence_that_no_longer_matches_is_refused_at_signing(client, sim, lease):
    path = lease.path(SARA)
    started = start(client, path)["data"]
    approve_on_phone(sim, started["qr"])
    assert collect(client, path, started["order"])["data"]["status"] == "complete"
    with tenant_context(lease.case.tenant_id):
        row = db.session.get(BankIDOrder, started["order"])
        row.user_visible_data = row.user_visible_data.replace("lease.pdf", "other.pdf")
        db.session.commit()
    response = sign(client, path, started["order"])
    assert response.status_code == 422
    assert "could not be verified" in response.get_data(as_text=True)
    assert signatures(lease.case) == []


def test_an_order_is_used_once(client, sim, lease):
    path = lease.path(SARA)
    started = start(client, path)["data"]
    approve_on_phone(sim, started["qr"])
    collect(client, path, started["order"])
    digest = digest_on(client, path)
    assert sign(client, path, started["order"], digest).status_code == 302
    again = sign(client, path, started["order"], digest)  # a second tab, a double click
    assert again.status_code == 200  # the page says the party has signed
    assert len(signatures(lease.case)) == 1


def test_starting_needs_consent_and_the_current_documents(client, lease):
    path = lease.path(SARA)
    refused = action(client, path, "start", documents_digest=digest_on(client, path), device="other").get_json()
    assert refused["ok"] is False and refused["message"].startswith("Confirm that you have read")
    stale = action(client, path, "start", consent="yes", documents_digest="0" * 64).get_json()
    assert stale["ok"] is False and "documents have changed" in stale["message"]


def test_another_partys_or_tenants_order_is_unknown(client, sim, people, lease):
    started = start(client, lease.path(SARA))["data"]
    per = make_case(people.bob, [signer("Per Persson", "per@example.com")], methods=["bankid"])
    other = make_case(people.charlie, [signer("Carl Globex", "carl@example.com")], methods=["bankid"])
    for made, name in ((per, "Per Persson"), (other, "Carl Globex")):
        for step in ("collect", "cancel"):
            answer = action(client, made.path(name), step, order=started["order"]).get_json()
            assert answer["ok"] is False and answer["data"] == {"status": "gone"}
        assert sign(client, made.path(name), started["order"]).status_code == 422
    assert collect(client, lease.path(SARA), started["order"])["data"]["status"] == "pending"


def test_the_same_device_order_carries_the_return_link(client, sim, lease):
    path = lease.path(SARA)
    started = start(client, path, device="same")["data"]
    assert "qr" not in started and started["message"] == "Trying to start your BankID app."
    assert started["autostart"].startswith(sim.control_url + "autostart?autostarttoken=")
    [order] = orders(sim)
    assert order["returnUrl"] == f"http://sigill.test{path}#method-bankid"


def test_a_pending_order_resumes_when_the_page_is_opened_again(client, sim, lease):
    path = lease.path(SARA)
    started = start(client, path)["data"]
    html = client.get(path).get_data(as_text=True)
    assert f'id="bankid-order" value="{started["order"]}"' in html
    assert 'data-qr="bankid.' in html


def drain_in_a_thread(app) -> None:
    """Run the jobs as the embedded worker does: on a thread of their own. (On the main thread,
    the sealing job's asyncio.run() fails while Playwright's loop from earlier browser tests runs.)"""

    def work():
        with app.app_context():
            drain()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()


def test_the_receipt_shows_the_bankid_name_and_masked_personal_number(app, client, sim, lease):
    path = lease.path(SARA)
    started = start(client, path)["data"]
    approve_on_phone(sim, started["qr"])
    collect(client, path, started["order"])
    assert sign(client, path, started["order"]).status_code == 302
    drain_in_a_thread(app)  # the sealing job

    response = client.get(f"{path}/receipt/{lease.document_id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    text = " ".join(text.split())
    assert "Alice Andersson" in text and "19800101-XXXX" in text and "BankID" in text
    assert ALICE.personal_number not in text.replace("-", "")
