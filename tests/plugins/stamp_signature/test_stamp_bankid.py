"""Stamp signature with BankID: one order over the manifest of every ticked case, against the BankID
simulator (QR code on another device, and the app on this device)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json

import pytest
import requests
import sqlalchemy as sa

from core.cases import service as cases
from core.extensions import db
from core.jobs import drain
from core.models import Case, Signature
from plugins.stamp_signature.models import StampManifest
from tenants.scoping import tenant_context
from tests.plugins.stamp_signature.helpers import SARA, csrf_of
from tests.plugins.stamp_signature.test_stamp import digests, receipt_text
from tests.signing.helpers import make_case, pdf, signer
from tests.signing_bankid.conftest import ALICE, BERTIL, bankid_settings, control, orders


@pytest.fixture
def app(app_factory, sim):
    app = app_factory(**bankid_settings(sim))
    app.config["BANKID_COLLECT_INTERVAL"] = 0
    with app.app_context():
        yield app


def lease(officer, title, methods=("bankid", "touch"), **extra):
    return make_case(officer, [signer(SARA, "sara@example.com", methods=list(methods), **extra)],
                     methods=list(methods), title=title, document=pdf([f"{title}: the agreement"]))


def page_of(client, made):
    return client.get(f"/stamp/s/{made.token(SARA)}").get_data(as_text=True)


def step(client, made, action, html, **form):
    data = {"csrf_token": csrf_of(html), **form}
    return client.post(f"/stamp/s/{made.token(SARA)}/bankid/{action}", data=data,
                       headers={"Accept": "application/json"})


def start(client, made, html, case_ids, device="other"):
    shown = digests(html)
    response = step(client, made, "start", html, consent="yes", device=device, case=[str(i) for i in case_ids],
                    **{f"digest:{i}": d for i, d in shown.items()})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def finish(client, made, html, case_ids, order):
    shown = digests(html)
    form = {"csrf_token": csrf_of(html), "consent": "yes",
            "method": "bankid", "bankid_order": str(order), "case": [str(i) for i in case_ids],
            **{f"digest:{i}": d for i, d in shown.items()}}
    return client.post(f"/stamp/s/{made.token(SARA)}/sign", data=form)


def test_one_bankid_order_signs_every_ticked_case_and_the_app_lists_them(app, on, client, sim):
    made = [lease(on.alice if i % 2 else on.bob, f"Lease {i}", personal_number=ALICE.personal_number)
            for i in range(1, 4)]
    revoked = lease(on.alice, "Lease 4", personal_number=ALICE.personal_number)
    html = page_of(client, made[0])
    assert 'id="bankid"' in html and "BankID on another device" in html
    ids = [m.case_id for m in made] + [revoked.case_id]

    started = start(client, made[0], html, ids)
    assert started["ok"] and started["data"]["status"] == "pending" and started["data"]["qr"].startswith("bankid.")
    [order] = orders(sim)
    assert order["requiredPersonalNumber"] == "19800101-XXXX"  # every case names Alice's number
    visible = base64.b64decode(order["visibleData"]).decode()
    assert all(f"## Lease {i}" in visible for i in range(1, 5)) and "Acme AB" in visible
    with tenant_context(on.acme.id):
        [manifest] = db.session.scalars(sa.select(StampManifest)).all()
    assert hashlib.sha256(manifest.manifest.encode()).hexdigest() == manifest.sha256
    assert manifest.sha256 in visible
    listed = json.loads(manifest.manifest)
    assert sorted(e["case"] for e in listed) == sorted(ids)
    assert {d["sha256"] for e in listed for d in e["documents"]} >= {m.document_sha256 for m in made}

    # The sender revokes one case while the signer is in the app: the others still go through.
    with tenant_context(on.acme.id):
        cases.revoke_case(db.session.get(Case, revoked.case_id), on.alice, "Wrong flat")
        db.session.commit()
    control(sim, "scan", qr=started["data"]["qr"], personalNumber=ALICE.personal_number)
    control(sim, f"orders/{order['orderRef']}/approve", personalNumber=ALICE.personal_number)
    done = step(client, made[0], "collect", html, order=started["data"]["order"]).get_json()
    assert done["data"]["status"] == "complete"

    response = finish(client, made[0], html, ids, started["data"]["order"])
    result = response.get_data(as_text=True)
    assert response.status_code == 200, result
    assert "You signed 3 cases in one stamp signature." in result
    assert f'data-refused="{revoked.case_id}"' in result and "The sender revoked this case." in result
    # Sent again (a double click): nothing is signed twice (each case below has exactly one signature).
    assert "in one stamp signature" not in finish(client, made[0], html, ids, started["data"]["order"]).get_data(
        as_text=True)

    # The stamp page lists the case of the manifest that was not signed, with the reason.
    page = page_of(client, made[0])
    item = page.split(f'data-failed="{revoked.case_id}"', 1)[1].split("</li>", 1)[0]
    assert "The sender revoked this case." in item and "Try again" not in item

    drain()
    with tenant_context(on.acme.id):
        for m in made:
            [signature] = db.session.scalars(sa.select(Signature).where(Signature.case_id == m.case_id)).all()
            assert signature.method == "bankid" and signature.identity["personal_number"] == ALICE.personal_number
            # userNonVisibleData is the manifest's SHA-256, as BankID's XML signature echoes it (verified).
            assert signature.evidence["user_non_visible_data"] == manifest.sha256
            signed_xml = base64.b64decode(signature.evidence["completion_data"]["signature"]).decode()
            assert base64.b64encode(manifest.sha256.encode()).decode() in signed_xml
            assert signature.evidence["plugins"]["stamp_signature"]["manifest_sha256"] == manifest.sha256
            assert signature.evidence["plugins"]["stamp_signature"]["cases"] == 4
            assert db.session.get(Case, m.case_id).status == "completed"
            text = " ".join(receipt_text(m.document_id, on.acme.id).split()).replace(" ", "")
            assert manifest.sha256 in text
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)
                                 .where(Signature.case_id == revoked.case_id)) == 0


def test_bankid_on_this_device_returns_to_the_stamp_page_and_resumes(app, on, client, sim):
    first, second = lease(on.alice, "Lease A"), lease(on.bob, "Lease B")
    html = page_of(client, first)
    ids = [first.case_id, second.case_id]
    started = start(client, first, html, ids, device="same")["data"]
    assert "qr" not in started and started["autostart"].startswith(sim.control_url + "autostart?autostarttoken=")
    [order] = orders(sim)
    assert order["returnUrl"] == f"http://sigill.test/stamp/s/{first.token(SARA)}#stamp-bankid"

    opened = requests.get(started["autostart"], params={"personalNumber": BERTIL.personal_number},
                          allow_redirects=False, timeout=5)
    assert opened.status_code == 303
    control(sim, f"orders/{order['orderRef']}/approve", personalNumber=BERTIL.personal_number)
    # Back from the app: the page resumes the order with the same cases ticked.
    back = page_of(client, first)
    assert f'id="bankid-order" value="{started["order"]}"' in back
    assert all(_ticked(back, i) for i in ids)
    assert step(client, first, "collect", back, order=started["order"]).get_json()["data"]["status"] == "complete"
    result = finish(client, first, back, ids, started["order"]).get_data(as_text=True)
    assert "You signed 2 cases in one stamp signature." in result
    with tenant_context(on.acme.id):
        signed = db.session.scalars(sa.select(Signature)).all()
    assert {s.case_id for s in signed} == set(ids)
    assert all(s.evidence["same_device"] is True and s.identity["name"] == BERTIL.name for s in signed)


def _ticked(html: str, case_id: int) -> bool:
    tag = html.split(f'id="case-{case_id}"', 1)[1].split(">", 1)[0]
    return "checked" in tag


def test_bankid_is_offered_only_for_cases_that_allow_it(app, on, client, sim):
    first = lease(on.alice, "Lease A")
    second = lease(on.alice, "Lease B")
    drawn_only = lease(on.bob, "Lease C", methods=("touch",))
    html = page_of(client, first)
    # The page says which methods each case allows; its script shows only those every ticked case allows.
    assert f'data-case="{drawn_only.case_id}" data-methods="touch"' in html
    assert f'data-case="{first.case_id}" data-methods="bankid touch"' in html
    assert 'data-stamp-method="bankid"' in html and 'data-stamp-method="touch"' in html
    # Sent anyway with the drawn-only case ticked: that case is left out of the order, with the reason.
    answer = start(client, first, html, [first.case_id, second.case_id, drawn_only.case_id])
    [refused] = answer["data"]["refused"]
    assert refused["case"] == drawn_only.case_id
    assert refused["reason"] == "This case does not allow the method you chose."
    visible = base64.b64decode(orders(sim)[0]["visibleData"]).decode()
    assert "Lease A" in visible and "Lease C" not in visible
    only_drawn = page_of(client, drawn_only)
    assert 'data-stamp-method="bankid"' in only_drawn  # its own link: the other two cases allow BankID


def test_no_bankid_when_no_listed_case_allows_it(app, on, client):
    first = lease(on.alice, "Lease A", methods=("touch",))
    lease(on.bob, "Lease B", methods=("touch",))
    html = page_of(client, first)
    assert 'id="bankid"' not in html and 'id="touch-sign"' in html


def test_a_case_for_another_personal_number_is_refused_and_the_order_is_bound_to_one(app, on, client, sim):
    plain = lease(on.alice, "Lease plain")
    alices = lease(on.alice, "Lease Alice", personal_number=ALICE.personal_number)
    bertils = lease(on.bob, "Lease Bertil", personal_number=BERTIL.personal_number)
    html = page_of(client, plain)
    ids = [plain.case_id, alices.case_id, bertils.case_id]
    assert all(f'id="case-{i}"' in html for i in ids)
    answer = start(client, plain, html, ids)
    [refused] = answer["data"]["refused"]
    assert refused["reason"].startswith("This case is for another personal identity number")
    [order] = orders(sim)
    kept = ALICE if refused["case"] == bertils.case_id else BERTIL
    assert order["requiredPersonalNumber"] == kept.personal_number[:8] + "-XXXX"
    visible = base64.b64decode(order["visibleData"]).decode()
    assert "Lease plain" in visible and refused["title"] not in visible


def test_the_apps_text_stays_within_bankids_limit_and_says_how_many_more(app, on):
    from core.signing import bankid_method
    from core.signing import service as signing
    from plugins.stamp_signature import service

    made = lease(on.alice, "Hyresavtal")
    with tenant_context(on.acme.id):
        party = db.session.get(Case, made.case_id).parties[0]
        ctx = signing.signing_context(signing.link_state(party), "127.0.0.1", "test", "sv")
        stamp, _data, sha256 = service.bankid_context(party, "Acme AB", [ctx] * 2000, "sv", None)
        stamp = dataclasses.replace(stamp, listing=[(f"Hyresavtal för lägenhet {n} på Åsögatan", "avtal-åäö.pdf")
                                                    for n in range(2000)])
        text = bankid_method.visible_text(stamp)
    assert len(base64.b64encode(text.encode())) <= 40_000
    assert "Åsögatan" in text and sha256 in text
    listed = text.count("## Hyresavtal")
    assert 10 < listed < 2000
    assert f"… och {2000 - listed} till; alla finns i den signerade listan." in text
    assert bankid_method.non_visible_text(stamp) == sha256


def test_the_stamp_bankid_page_reads_in_swedish(app, on, client):
    first = lease(on.alice, "Avtal A", language="sv")
    lease(on.bob, "Avtal B", language="sv")
    html = page_of(client, first)
    assert "Mobilt BankID på en annan enhet" in html or "BankID på en annan enhet" in html
    assert "En BankID-underskrift" in html
