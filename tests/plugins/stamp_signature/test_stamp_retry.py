"""Retry from the stamp page: what did not go through in a stamp signature is listed with the
reason and can be tried again (a refused case ticked again; a failed seal restarted)."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.models import Case, Event, Job, Signature
from tenants.scoping import tenant_context
from tests.plugins.stamp_signature.helpers import SARA, csrf_of
from tests.plugins.stamp_signature.test_stamp import lease, stamp_form, stamp_page

SEAL_JOB = "core.sealing.jobs.seal_case"


def ticked(html: str, case_id: int) -> bool:
    return "checked" in html.split(f'id="case-{case_id}"', 1)[1].split(">", 1)[0]


def test_a_refused_case_is_ticked_again_from_the_result_and_signed(app, on, client):  # noqa: F811
    first, second, changed = lease(on.alice, "Lease A"), lease(on.bob, "Lease B"), lease(on.alice, "Lease C")
    html = stamp_page(client, first).get_data(as_text=True)
    form = stamp_form(html, [first.case_id, second.case_id, changed.case_id])
    form[f"digest:{changed.case_id}"] = "0" * 64  # changed since the page was loaded
    result = client.post(f"/stamp/s/{first.token(SARA)}/sign", data=form).get_data(as_text=True)
    assert "You signed 2 cases" in result and "The documents have changed" in result
    again = result.split('id="stamp-retry-refused"')[0].rsplit('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert f"retry={changed.case_id}" in again

    page = client.get(again).get_data(as_text=True)  # the link whose own case is signed still opens the page
    assert ticked(page, changed.case_id) and "Lease A" not in page
    done = client.post(f"/stamp/s/{first.token(SARA)}/sign", data=stamp_form(page, [changed.case_id]))
    assert "You signed 1 case in one stamp signature." in done.get_data(as_text=True)
    with tenant_context(on.acme.id):
        assert set(db.session.scalars(sa.select(Signature.case_id))) == {first.case_id, second.case_id,
                                                                          changed.case_id}


def test_a_failed_seal_is_listed_and_restarted_from_the_stamp_page(app, on, client, people, monkeypatch):  # noqa: F811
    from core.sealing import jobs as sealing_jobs

    first, second = lease(on.alice, "Lease A"), lease(on.bob, "Lease B")
    other = lease(on.alice, "Olle's lease", name="Olle Other", email="olle@example.com")
    real = sealing_jobs._seal_documents
    monkeypatch.setattr(sealing_jobs, "_seal_documents", lambda case: (_ for _ in ()).throw(OSError("disk full")))
    html = stamp_page(client, first).get_data(as_text=True)
    client.post(f"/stamp/s/{first.token(SARA)}/sign", data=stamp_form(html, [first.case_id, second.case_id]))
    with tenant_context(on.acme.id):
        db.session.execute(sa.update(Job).where(Job.func == SEAL_JOB).values(max_attempts=1))
        db.session.commit()
    drain()

    page = stamp_page(client, first).get_data(as_text=True)
    assert 'id="stamp-failed"' in page
    for made in (first, second):
        item = page.split(f'data-failed="{made.case_id}"', 1)[1].split("</li>", 1)[0]
        assert 'data-kind="seal"' in item and "Sealing the signed documents failed." in item
    csrf = csrf_of(page)

    # Not the person's case: nothing to restart.
    refused = client.post(f"/stamp/s/{first.token(SARA)}/seal/{other.case_id}/retry", data={"csrf_token": csrf})
    assert refused.status_code == 404

    monkeypatch.setattr(sealing_jobs, "_seal_documents", real)
    restarted = client.post(f"/stamp/s/{first.token(SARA)}/seal/{second.case_id}/retry", data={"csrf_token": csrf})
    assert restarted.status_code == 200 and "The sealing was restarted." in restarted.get_data(as_text=True)
    drain()
    with tenant_context(on.acme.id):
        assert db.session.get(Case, second.case_id).status == "completed"
        assert db.session.get(Case, first.case_id).status == "pending"  # not restarted: still listed
        [event] = db.session.scalars(sa.select(Event).where(Event.case_id == second.case_id,
                                                            Event.kind == "seal_retried")).all()
        assert event.actor_type == "party" and event.actor_label == SARA
    page = stamp_page(client, first).get_data(as_text=True)
    assert f'data-failed="{first.case_id}"' in page and f'data-failed="{second.case_id}"' not in page


def test_another_organisations_link_cannot_restart_a_seal(app, on, client, monkeypatch):  # noqa: F811
    from core.sealing import jobs as sealing_jobs

    acme, acme2 = lease(on.alice, "Lease A"), lease(on.bob, "Lease B")
    globex = lease(on.charlie, "Globex lease")
    lease(on.charlie, "Globex lease 2")
    monkeypatch.setattr(sealing_jobs, "_seal_documents", lambda case: (_ for _ in ()).throw(OSError("disk full")))
    html = stamp_page(client, acme).get_data(as_text=True)
    client.post(f"/stamp/s/{acme.token(SARA)}/sign", data=stamp_form(html, [acme.case_id, acme2.case_id]))
    with tenant_context(on.acme.id):
        db.session.execute(sa.update(Job).where(Job.func == SEAL_JOB).values(max_attempts=1))
        db.session.commit()
    drain()
    page = stamp_page(client, globex).get_data(as_text=True)
    assert "Lease A" not in page and 'id="stamp-failed"' not in page
    csrf = csrf_of(page)
    response = client.post(f"/stamp/s/{globex.token(SARA)}/seal/{acme.case_id}/retry", data={"csrf_token": csrf})
    assert response.status_code == 404
    with tenant_context(on.acme.id):
        assert db.session.scalars(sa.select(Job.state).where(Job.func == SEAL_JOB)).all() == ["failed", "failed"]
