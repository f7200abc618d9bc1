"""Signing by SMS code, with the real 46elks client against a local server that speaks its API."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.models import Event, Signature
from core.models.base import utcnow
from core.signing.models import SmsChallenge
from tenants.scoping import tenant_context
from tests import support
from tests.signing.helpers import SARA, events_of, sign_form, sms_codes

PHONE = "+46701234567"


def send_code(client, path: str):
    return support.post(client, path + "/method/sms/send", {}, token_from=path, follow_redirects=True)


def sign_with(client, path: str, code: str):
    return support.post(client, path + "/sign", sign_form(client, path, method="sms", sms_code=code),
                        token_from=path)


def signatures(case) -> list[Signature]:
    with tenant_context(case.tenant_id):
        return db.session.scalars(sa.select(Signature)).all()


def test_it_signs_with_a_code_sent_through_46elks(client, lease, elks):
    path = lease.path(SARA)
    page = send_code(client, path).get_data(as_text=True)
    assert "We sent a code to +4670XXXXX67" in page
    [message] = elks.messages
    assert message["to"] == PHONE and message["from"] == "Acme" and message["dontlog"] == "message"
    code = elks.codes_to(PHONE)[0]
    assert message["message"] == f"Code {code} to sign 'Lease 12' for Acme AB"
    response = sign_with(client, path, code)
    assert response.status_code == 302
    assert "Thank you for signing" in client.get(path).get_data(as_text=True)
    [signature] = signatures(lease.case)
    assert signature.method == "sms" and signature.identity == {"phone": PHONE}
    assert signature.evidence["phone_masked"] == "+4670XXXXX67" and signature.evidence["gateway"] == "46elks"
    [event] = events_of(lease.case, "party_signed")
    assert event.data["evidence"]["phone"] == "+4670XXXXX67"


def test_codes_and_phone_numbers_stay_out_of_the_event_log(client, lease, elks):
    path = lease.path(SARA)
    send_code(client, path)
    code = elks.codes_to(PHONE)[0]
    wrong = "000000" if code != "000000" else "111111"
    sign_with(client, path, wrong)
    sign_with(client, path, code)
    with tenant_context(lease.case.tenant_id):
        logged = json.dumps([e.data for e in db.session.scalars(sa.select(Event)).all()])
    assert code not in logged and "701234567" not in logged
    kinds = [e.kind for e in events_of(lease.case, "sms_code_sent") + events_of(lease.case, "sms_code_wrong")
             + events_of(lease.case, "sms_code_verified")]
    assert kinds == ["sms_code_sent", "sms_code_wrong", "sms_code_verified"]


def test_five_wrong_codes_lock_that_code(client, lease, elks):
    path = lease.path(SARA)
    send_code(client, path)
    code = elks.codes_to(PHONE)[0]
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        html = sign_with(client, path, wrong).get_data(as_text=True)
        assert f"You have {left} attempt" in html
    assert "this code is locked" in sign_with(client, path, wrong).get_data(as_text=True)
    assert "this code is locked" in sign_with(client, path, code).get_data(as_text=True)
    assert signatures(lease.case) == []
    send_code(client, path)
    assert sign_with(client, path, elks.codes_to(PHONE)[-1]).status_code == 302
    assert len(signatures(lease.case)) == 1


def test_only_the_latest_code_is_valid(client, lease, elks):
    path = lease.path(SARA)
    send_code(client, path)
    send_code(client, path)
    first, latest = elks.codes_to(PHONE)
    if first != latest:
        assert sign_with(client, path, first).status_code == 422
    assert sign_with(client, path, latest).status_code == 302


def test_an_expired_code_is_refused(client, lease, elks):
    path = lease.path(SARA)
    send_code(client, path)
    with tenant_context(lease.case.tenant_id):
        db.session.execute(sa.update(SmsChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    html = sign_with(client, path, elks.codes_to(PHONE)[0]).get_data(as_text=True)
    assert "The code has expired" in html


def test_sending_is_throttled(client, lease, elks):
    path = lease.path(SARA)
    for _ in range(3):
        send_code(client, path)
    page = send_code(client, path).get_data(as_text=True)
    assert "Wait 15 minutes" in page and len(elks.messages) == 3


def test_a_gateway_failure_is_told_and_nothing_is_stored(client, lease, elks):
    elks.refuse_with = (402, "Not enough credits")
    page = send_code(client, lease.path(SARA)).get_data(as_text=True)
    assert "could not be sent" in page
    with tenant_context(lease.case.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsChallenge)) == 0
    assert [e.kind for e in events_of(lease.case, "sms_code_not_sent")] == ["sms_code_not_sent"]


def test_the_outbox_gateway_keeps_messages_for_development(app, client, lease):
    path = lease.path(SARA)
    send_code(client, path)
    [code] = sms_codes(app.config["OUTBOX_DIR"] + "/sms")
    app.config.update(DEBUG_OUTBOX=True, BASE_URL="http://127.0.0.1:5000")
    assert f"Code {code} to sign" in client.get("/dev/outbox").get_data(as_text=True)
    assert sign_with(client, path, code).status_code == 302


def test_scripts_get_method_steps_as_json(client, lease, elks):
    path = lease.path(SARA)
    token = support.csrf_token(client, path)
    answer = client.post(path + "/method/sms/send", headers={"Accept": "application/json", "X-CSRFToken": token})
    assert answer.json["ok"] is True and "+4670XXXXX67" in answer.json["message"]
    unknown = client.post(path + "/method/sms/nonsense", headers={"Accept": "application/json", "X-CSRFToken": token})
    assert unknown.json["ok"] is False and "no such step" in unknown.json["message"]
    support.post(client, path + "/decline", {"reason": "Changed my mind"}, token_from=path)
    closed = client.post(path + "/method/sms/send", headers={"Accept": "application/json", "X-CSRFToken": token})
    assert closed.status_code == 409 and closed.json["state"] == "declined" and closed.json["redirect"] == path
