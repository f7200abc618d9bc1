"""Webhooks: registering endpoints, signed deliveries to a local receiver, retries, the log and "resend"."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.api import service
from core.api.models import WebhookDelivery, WebhookEndpoint
from core.cases import periodic
from core.extensions import db
from core.jobs import drain
from core.models import Job
from core.models.base import utcnow
from tenants.scoping import tenant_context
from tests import support
from tests.api.helpers import deliveries, endpoint_secret, register_webhook, signature_ok, signer_link


@pytest.fixture
def hooked(client, login, people, receiver):
    """Alice has registered the receiver for case.sent and case.revoked; returns the endpoint's id."""
    login(people.alice)
    response = register_webhook(client, receiver.url, ["case.sent", "case.revoked"])
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def time_passes(seconds: int) -> None:
    """Move every pending job (and delivery schedule) `seconds` into the past, as if time had passed."""
    shift = timedelta(seconds=seconds)
    for job in db.session.scalars(sa.select(Job).where(Job.state == "pending")):
        job.run_after -= shift
    for delivery in db.session.scalars(sa.select(WebhookDelivery).execution_options(all_tenants=True)):
        delivery.window_started_at -= shift
        if delivery.next_attempt_at is not None:
            delivery.next_attempt_at -= shift
    db.session.commit()


def test_the_endpoint_page_shows_url_events_and_secret(client, hooked, receiver, people):
    html = client.get(f"/admin/api/webhooks/{hooked}").get_data(as_text=True)
    assert receiver.url in html and "case.revoked" in html and endpoint_secret(people.acme.id) in html
    assert "Nothing delivered yet." in html


def test_events_are_delivered_signed_only_for_the_chosen_events(api, new_case, hooked, receiver, people):
    case = new_case()
    api.post(f"/api/v1/cases/{case['id']}/send")
    api.post(f"/api/v1/cases/{case['id']}/revoke", json={"reason": "Changed our mind"})
    drain()
    assert receiver.events() == ["case.sent", "case.revoked"]
    secret = endpoint_secret(people.acme.id)
    for received in receiver.received:
        assert signature_ok(secret, received)
        assert received.headers["Content-Type"] == "application/json"
        assert received.json["id"] == received.headers["Sigill-Delivery"]
    assert receiver.received[1].json["data"]["case"]["close_reason"] == "Changed our mind"
    assert not signature_ok("whsec_wrong", receiver.received[0])


def test_a_failed_delivery_is_retried_with_backoff_and_logged(client, api, new_case, hooked, receiver, people):
    receiver.statuses = [500, 503]
    api.post(f"/api/v1/cases/{new_case()['id']}/send")
    drain()
    [delivery] = deliveries(people.acme.id)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert timedelta(seconds=25) < delivery.next_attempt_at - utcnow() <= timedelta(seconds=30)
    html = client.get(f"/admin/api/webhooks/{hooked}").get_data(as_text=True)
    assert "HTTP 500" in html and "Pending" in html

    drain()
    assert len(receiver.received) == 1  # not before its time
    time_passes(30)
    drain()
    [delivery] = deliveries(people.acme.id)
    assert (delivery.attempts, delivery.response_code) == (2, 503)
    assert timedelta(seconds=115) < delivery.next_attempt_at - utcnow() <= timedelta(minutes=2)
    time_passes(120)
    drain()
    [delivery] = deliveries(people.acme.id)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    assert len({r.headers["Sigill-Delivery"] for r in receiver.received}) == 1 and len(receiver.received) == 3
    assert "Delivered" in client.get(f"/admin/api/webhooks/{hooked}").get_data(as_text=True)


def test_retries_stop_after_a_day_and_resend_starts_again(client, api, new_case, hooked, receiver, people):
    receiver.statuses = [500] * 50
    api.post(f"/api/v1/cases/{new_case()['id']}/send")
    drain()
    for _ in range(26):
        time_passes(3600)
        drain()
    [delivery] = deliveries(people.acme.id)
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert delivery.attempts == 8  # 0 s, 30 s, 2 min, 10 min, 1 h, 2 h, 4 h, 8 h later; 8 h more is past a day
    assert "Failed" in client.get(f"/admin/api/webhooks/{hooked}").get_data(as_text=True)

    receiver.statuses = []
    response = support.post(client, f"/admin/api/webhooks/{hooked}/deliveries/{delivery.id}/resend",
                            token_from=f"/admin/api/webhooks/{hooked}")
    assert response.status_code == 302
    drain()
    [delivery] = deliveries(people.acme.id)
    assert delivery.status == "delivered" and receiver.received[-1].headers["Sigill-Delivery"] == delivery.uid


def test_the_retry_schedule_covers_a_day():
    delivery = WebhookDelivery(window_started_at=utcnow(), attempts=0)
    moment, waits = delivery.window_started_at, []
    while True:
        delivery.attempts += 1
        later = service.next_attempt(delivery, moment)
        if later is None:
            break
        waits.append(later - moment)
        moment = later
    assert waits[:4] == [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1)]
    assert timedelta(hours=16) < sum(waits, timedelta()) <= timedelta(hours=24)


def test_a_paused_endpoint_gets_nothing(client, api, new_case, hooked, receiver):
    support.post(client, f"/admin/api/webhooks/{hooked}/off", token_from=f"/admin/api/webhooks/{hooked}")
    api.post(f"/api/v1/cases/{new_case()['id']}/send")
    drain()
    assert receiver.received == []


@pytest.mark.parametrize("url, message", [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("ftp://example.org/hook", "complete http:// or https://"),
    ("https://user:secret@example.org/hook", "user name and password"),
    ("not a url", "complete http:// or https://"),
])
def test_urls_that_webhooks_may_not_go_to_are_refused(client, login, people, url, message):
    login(people.alice)
    response = register_webhook(client, url, ["case.sent"])
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with tenant_context(people.acme.id):
        assert db.session.scalars(sa.select(WebhookEndpoint)).all() == []


def test_an_endpoint_needs_an_event(client, login, people, receiver):
    login(people.alice)
    response = register_webhook(client, receiver.url, [])
    assert response.status_code == 400 and "Choose at least one event." in response.get_data(as_text=True)


def test_a_delivery_to_an_address_that_became_link_local_is_refused(api, new_case, hooked, receiver, people):
    with tenant_context(people.acme.id):
        db.session.get(WebhookEndpoint, hooked).url = "http://169.254.169.254/"
        db.session.commit()
    api.post(f"/api/v1/cases/{new_case()['id']}/send")
    drain()
    [delivery] = deliveries(people.acme.id)
    assert delivery.last_error == ("Refused, nothing sent: 169.254.169.254 is a link-local (cloud metadata) "
                                   "address; webhooks go to public addresses only.")
    assert receiver.received == []


def test_charlie_gets_404_for_acme_endpoints_and_deliveries(app, api, new_case, hooked, receiver, people):
    api.post(f"/api/v1/cases/{new_case()['id']}/send")
    drain()
    [delivery] = deliveries(people.acme.id)
    charlie = app.test_client()
    support.login(charlie, people.charlie.email)
    assert charlie.get(f"/admin/api/webhooks/{hooked}").status_code == 404
    for path in (f"/admin/api/webhooks/{hooked}/off", f"/admin/api/webhooks/{hooked}/delete",
                 f"/admin/api/webhooks/{hooked}/deliveries/{delivery.id}/resend"):
        assert support.post(charlie, path, token_from="/admin/api/").status_code == 404
    assert receiver.url not in charlie.get("/admin/api/").get_data(as_text=True)


def test_declined_and_expired_cases_are_announced(app, client, login, api, new_case, receiver, people):
    login(people.alice)
    register_webhook(client, receiver.url, ["party.viewed", "case.declined", "case.expired"])
    declined, expiring = new_case(), new_case(parties=[{"name": "Kim", "email": "kim@example.org"}])
    for case in (declined, expiring):
        api.post(f"/api/v1/cases/{case['id']}/send")
    signer = app.test_client()
    path = "/" + signer_link("sam@example.org").split("://", 1)[1].split("/", 1)[1]
    signer.get(path)
    support.post(signer, path + "/decline", {"reason": "The rent is wrong"}, token_from=path)
    periodic.expire_due_cases(now=utcnow() + timedelta(days=400))
    drain()
    assert receiver.events() == ["party.viewed", "case.declined", "case.expired"]
    assert receiver.received[1].json["data"]["party"]["decline_reason"] == "The rent is wrong"
    assert receiver.received[2].json["data"]["case"]["id"] == expiring["id"]


def test_huge_ids_on_the_admin_pages_are_404(client, hooked):
    assert client.get(f"/admin/api/webhooks/{2**40}").status_code == 404
    for path in (f"/admin/api/keys/{2**40}/revoke", f"/admin/api/webhooks/{hooked}/deliveries/{2**40}/resend"):
        assert support.post(client, path, token_from="/admin/api/").status_code == 404


def test_events_carry_a_sequence_that_orders_them_per_case(app, client, login, api, new_case, receiver, people):
    login(people.alice)
    register_webhook(client, receiver.url, ["case.sent", "party.viewed", "case.declined"])
    case = new_case()
    api.post(f"/api/v1/cases/{case['id']}/send")
    signer = app.test_client()
    path = "/" + signer_link("sam@example.org").split("://", 1)[1].split("/", 1)[1]
    signer.get(path)
    support.post(signer, path + "/decline", {"reason": "No"}, token_from=path)
    jobs = db.session.scalars(sa.select(Job).where(Job.func == service.DELIVER_JOB).order_by(Job.id.desc())).all()
    assert {job.queue for job in jobs} == {"webhooks"}
    drain()
    received = sorted(receiver.received, key=lambda r: r.json["sequence"])
    assert [r.json["event"] for r in received] == ["case.sent", "party.viewed", "case.declined"]
    assert len({r.json["sequence"] for r in received}) == 3


def test_an_attempt_is_counted_even_when_the_worker_dies_during_it(api, new_case, hooked, receiver, people,
                                                                 monkeypatch):
    from core.api import transport

    def worker_killed(*_args, **_kwargs):
        raise SystemExit("killed mid-delivery")

    monkeypatch.setattr(transport, "post", worker_killed)
    api.post(f"/api/v1/cases/{new_case()['id']}/send")
    with pytest.raises(SystemExit):
        drain()
    db.session.rollback()
    [delivery] = deliveries(people.acme.id)
    assert (delivery.status, delivery.attempts) == ("pending", 1)


def test_one_tenants_deliveries_in_flight_do_not_hold_up_anothers(app, api, new_case, hooked, receiver, people):
    from core import jobs as job_queue

    api.post(f"/api/v1/cases/{new_case()['id']}/send")
    [acme_job] = db.session.scalars(sa.select(Job).where(Job.func == service.DELIVER_JOB)).all()
    slow = job_queue.enqueue("tests.jobs_support.always_fails", tenant_id=people.acme.id, queue="webhooks")
    db.session.execute(sa.update(Job).where(Job.id == slow.id).values(func=service.DELIVER_JOB, state="running"))
    with tenant_context(people.globex.id):
        service.add_endpoint(receiver.url, ["case.sent"])
        service.queue_event(people.globex.id, "case.sent", {"case": {"id": 0}})
    db.session.commit()
    drain()
    assert receiver.events() == ["case.sent"]  # Globex's, while Acme's waits for its slow one
    waiting = db.session.get(Job, acme_job.id)
    assert (waiting.state, waiting.attempts) == ("pending", 0)
    assert deliveries(people.acme.id)[0].attempts == 0
