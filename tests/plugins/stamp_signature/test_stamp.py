"""Stamp signature: a party's waiting cases in one organisation, signed together with one signature."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa
from pypdf import PdfReader

from core.cases import service as cases
from core.extensions import db
from core.jobs import drain
from core.models import Case, Document, Party, Signature
from core.storage import blobs
from plugins.stamp_signature.models import StampManifest, StampOpened
from tenants.scoping import tenant_context
from tests.plugins.stamp_signature.helpers import SARA, csrf_of
from tests.signing.helpers import drawn_signature, events_of, make_case, pdf, signer


def lease(officer, title, name=SARA, email="sara@example.com", **extra):
    return make_case(officer, [signer(name, email, methods=["touch"])], methods=["touch"], title=title,
                     document=pdf([f"{title}: the agreement", "Rent 9 500 SEK"]), **extra)


def stamp_page(client, made, name=SARA):
    return client.get(f"/stamp/s/{made.token(name)}")


def digests(html: str) -> dict[int, str]:
    found = {}
    for part in html.split('name="digest:')[1:]:
        case_id, rest = part.split('"', 1)
        found[int(case_id)] = rest.split('value="', 1)[1].split('"', 1)[0]
    return found


def stamp_form(html: str, case_ids: list[int], **extra) -> dict:
    shown = digests(html)
    form = {"csrf_token": csrf_of(html), "consent": "yes",
            "method": "touch", "case": [str(i) for i in case_ids],
            **{f"digest:{i}": d for i, d in shown.items()}, **drawn_signature()}
    form.update(extra)
    return form


def receipt_text(document_id: int, tenant_id: int) -> str:
    with tenant_context(tenant_id):
        document = db.session.get(Document, document_id)
        assert document.sealed_sha256 and document.receipt_sha256, "sealed, with its receipt"
        reader = PdfReader(io.BytesIO(blobs().get(document.receipt_sha256)))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_signer_page_says_how_many_documents_wait_and_links_the_stamp_page(app, on, client):
    first = lease(on.alice, "Lease 1")
    lease(on.bob, "Lease 2")
    lease(on.alice, "Lease 3")
    html = client.get(first.path(SARA)).get_data(as_text=True)
    assert "3 documents are waiting for you" in html
    assert f'/stamp/s/{first.token(SARA)}' in html


def test_no_panel_with_one_case_or_when_the_plugin_is_off(app, people, client):
    only = lease(people.alice, "Lease 1")
    people.acme.enabled_plugins = ["stamp_signature"]
    db.session.commit()
    assert "waiting for you" not in client.get(only.path(SARA)).get_data(as_text=True)
    lease(people.alice, "Lease 2")
    people.acme.enabled_plugins = []
    db.session.commit()
    assert "waiting for you" not in client.get(only.path(SARA)).get_data(as_text=True)
    assert stamp_page(client, only).status_code == 404


def test_the_stamp_page_lists_only_this_organisations_cases_of_the_same_person(app, on, client):
    mine = lease(on.alice, "Acme lease 1")
    lease(on.bob, "Acme lease 2")
    lease(on.alice, "Someone else's lease", name="Olle Other", email="olle@example.com")
    other_tenant = lease(on.charlie, "Globex lease")  # the same email, another organisation
    html = stamp_page(client, mine).get_data(as_text=True)
    assert "Acme lease 1" in html and "Acme lease 2" in html
    assert "Globex lease" not in html and "Someone else" not in html
    globex = stamp_page(client, other_tenant).get_data(as_text=True)
    assert "Globex lease" in globex and "Acme lease" not in globex
    # Acme's link cannot open or sign Globex's documents.
    assert client.get(f"/stamp/s/{mine.token(SARA)}/documents/{other_tenant.document_id}").status_code == 404
    response = client.post(f"/stamp/s/{mine.token(SARA)}/sign", data=stamp_form(html, [other_tenant.case_id]))
    assert "not waiting for you" in response.get_data(as_text=True)
    with tenant_context(on.globex.id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0


def test_sign_together_writes_one_signature_per_case_each_sealed_once_naming_the_manifest(app, on, client):
    made = [lease(on.alice if i % 2 else on.bob, f"Lease {i}") for i in range(1, 5)]
    html = stamp_page(client, made[0]).get_data(as_text=True)
    opened = client.get(f"/stamp/s/{made[0].token(SARA)}/documents/{made[2].document_id}")
    assert opened.status_code == 200 and opened.data.startswith(b"%PDF")
    assert "Opened" in stamp_page(client, made[0]).get_data(as_text=True)
    with tenant_context(on.acme.id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StampOpened)) == 1

    response = client.post(f"/stamp/s/{made[0].token(SARA)}/sign", data=stamp_form(html, [m.case_id for m in made]))
    result = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You signed 4 cases in one stamp signature." in result
    drain()

    with tenant_context(on.acme.id):
        [manifest] = db.session.scalars(sa.select(StampManifest)).all()
        listed = json.loads(manifest.manifest)
        assert sorted(entry["case"] for entry in listed) == sorted(m.case_id for m in made)
        assert {d["sha256"] for entry in listed for d in entry["documents"]} == {m.document_sha256 for m in made}
        assert manifest.sha256 in result
        for m in made:
            case = db.session.get(Case, m.case_id)
            assert case.status == "completed"
            signature = db.session.scalar(sa.select(Signature).where(Signature.case_id == m.case_id))
            stamp = signature.evidence["plugins"]["stamp_signature"]
            assert stamp == {"manifest_sha256": manifest.sha256, "cases": 4, "other_documents": 3}
            assert manifest.sha256 in signature.consent_text and m.document_sha256 in signature.consent_text
            assert len(events_of(case, "completed")) == 1
            assert len(events_of(case, "stamp_signed")) == 1
            text = " ".join(receipt_text(m.document_id, on.acme.id).split())  # the case is in Swedish
            assert "Sara Svensson undertecknade tillsammans med 3 andra dokument i en stämpelsignatur" in text
            assert manifest.sha256 in text.replace(" ", "")

    # The verify page names the stamp signature under each signer.
    with tenant_context(on.acme.id):
        fingerprint = db.session.get(Document, made[1].document_id).fingerprint
    verify = app.test_client().get(f"/verify/{fingerprint}").get_data(as_text=True)
    assert "Signed together with 3 other documents; manifest SHA-256 " + manifest.sha256 in verify

    # The timeline says it too, in the officer's language.
    from tests import support
    officer = app.test_client()
    support.login(officer, "alice@acme.example")
    timeline = officer.get(f"/cases/{made[0].case_id}").get_data(as_text=True)
    assert "other documents in one stamp signature" in timeline or "andra dokument i en stämpelsignatur" in timeline


def test_a_case_not_yet_the_partys_turn_revoked_or_changed_is_refused_and_the_others_go_through(app, on, client):
    first = lease(on.alice, "Lease A")
    second = lease(on.alice, "Lease B")
    revoked = lease(on.alice, "Lease C")
    changed = lease(on.bob, "Lease D")
    in_order = make_case(on.alice, [signer("Per Persson", "per@example.com", methods=["touch"]),
                                    signer(SARA, "sara@example.com", methods=["touch"])],
                         methods=["touch"], order="sequential", title="Lease E")
    html = stamp_page(client, first).get_data(as_text=True)
    assert "Lease E" not in html  # not Sara's turn: not listed
    with tenant_context(on.acme.id):
        cases.revoke_case(db.session.get(Case, revoked.case_id), on.alice, "Wrong flat")
        db.session.commit()
    form = stamp_form(html, [first.case_id, second.case_id, revoked.case_id, changed.case_id, in_order.case_id])
    form[f"digest:{changed.case_id}"] = "0" * 64  # what the page showed no longer matches
    result = client.post(f"/stamp/s/{first.token(SARA)}/sign", data=form).get_data(as_text=True)
    assert "You signed 2 cases in one stamp signature." in result
    assert f'data-refused="{revoked.case_id}"' in result and "The sender revoked this case." in result
    assert f'data-refused="{changed.case_id}"' in result and "The documents have changed" in result
    assert f'data-refused="{in_order.case_id}"' in result and "It is not your turn yet: Per Persson" in result
    with tenant_context(on.acme.id):
        signed = set(db.session.scalars(sa.select(Signature.case_id)))
        assert signed == {first.case_id, second.case_id}
        assert db.session.scalar(sa.select(StampManifest.case_count)) == 2


def test_nothing_is_signed_without_the_drawn_signature_or_the_consent(app, on, client):
    first = lease(on.alice, "Lease A")
    lease(on.alice, "Lease B")
    html = stamp_page(client, first).get_data(as_text=True)
    ids = list(digests(html))
    empty = stamp_form(html, ids, touch_strokes="[]")
    assert client.post(f"/stamp/s/{first.token(SARA)}/sign", data=empty).status_code == 422
    no_consent = stamp_form(html, ids)
    no_consent.pop("consent")
    assert client.post(f"/stamp/s/{first.token(SARA)}/sign", data=no_consent).status_code == 422
    assert client.post(f"/stamp/s/{first.token(SARA)}/sign", data=stamp_form(html, [])).status_code == 422
    with tenant_context(on.acme.id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StampManifest)) == 0


def test_personal_numbers_must_match_where_a_case_requires_bankid(app, on):
    from plugins.stamp_signature.service import same_person

    with tenant_context(on.acme.id):
        a = Party(email="Sara@Example.com", personal_number="199001011234", methods=["bankid"])
        b = Party(email="sara@example.com", personal_number="199001011234", methods=["touch"])
        c = Party(email="sara@example.com", personal_number="198001011234", methods=["touch"])
        d = Party(email="sara@example.com", personal_number=None, methods=["touch"])
        assert same_person(a, b)
        assert not same_person(a, c) and not same_person(a, d)
        assert same_person(b, d)
        # Parties with no address (they sign in person) are never one person.
        nobody = Party(email="", personal_number=None, methods=["touch"])
        assert not same_person(nobody, Party(email="", personal_number=None, methods=["touch"]))


def test_the_officer_sees_the_stamp_signature_on_the_case_and_downloads_the_manifest(app, on, client):
    from tests import support

    first = lease(on.alice, "Lease A")
    second = lease(on.bob, "Lease B")
    html = stamp_page(client, first).get_data(as_text=True)
    client.post(f"/stamp/s/{first.token(SARA)}/sign", data=stamp_form(html, [first.case_id, second.case_id]))
    with tenant_context(on.acme.id):
        manifest = db.session.scalar(sa.select(StampManifest))
        party_id = db.session.scalar(sa.select(Party.id).where(Party.case_id == second.case_id))
    alice = app.test_client()
    support.login(alice, "alice@acme.example")
    page = alice.get(f"/cases/{second.case_id}").get_data(as_text=True)
    assert "Stamp signature" in page or "Stämpelsignatur" in page
    assert manifest.sha256 in page
    download = alice.get(f"/stamp/cases/{second.case_id}/parties/{party_id}/manifest.json")
    assert download.status_code == 200
    assert __import__("hashlib").sha256(download.data).hexdigest() == manifest.sha256
    charlie = app.test_client()  # another organisation's officer
    support.login(charlie, "charlie@globex.example")
    assert charlie.get(f"/stamp/cases/{second.case_id}/parties/{party_id}/manifest.json").status_code == 404


def test_with_the_setting_a_case_is_signed_together_only_once_its_documents_were_opened(app, on, client):
    on.acme.plugin_settings = {"stamp_signature": {"require_opened": True}}
    db.session.commit()
    first = lease(on.alice, "Lease A")
    second = lease(on.alice, "Lease B")
    client.get(f"/stamp/s/{first.token(SARA)}/documents/{first.document_id}")
    html = stamp_page(client, first).get_data(as_text=True)
    assert "Open every document of this case before you sign it." in html
    result = client.post(f"/stamp/s/{first.token(SARA)}/sign",
                         data=stamp_form(html, [first.case_id, second.case_id])).get_data(as_text=True)
    assert "You signed 1 case in one stamp signature." in result
    assert f'data-refused="{second.case_id}"' in result
    with tenant_context(on.acme.id):
        assert set(db.session.scalars(sa.select(Signature.case_id))) == {first.case_id}


def sms_lease(officer, title, phone="+46701234567"):
    return make_case(officer, [signer(SARA, "sara@example.com", phone=phone, methods=["sms", "touch"])],
                     methods=["sms", "touch"], title=title, document=pdf([f"{title}: the agreement"]))


def test_one_sms_code_bound_to_the_manifest_signs_every_ticked_case(app, on, client):
    from core.sms import outbox_messages
    from tests.signing.helpers import sms_codes

    first, second = sms_lease(on.alice, "Lease A"), sms_lease(on.bob, "Lease B")
    html = stamp_page(client, first).get_data(as_text=True)
    assert 'id="sms-send"' in html
    ids = [first.case_id, second.case_id]
    form = {k: v for k, v in stamp_form(html, ids).items() if not k.startswith("touch_")}
    form.pop("method")
    sent = client.post(f"/stamp/s/{first.token(SARA)}/sms", data=form)
    assert sent.status_code == 200 and "We sent a code to" in sent.get_data(as_text=True)
    folder = app.config["OUTBOX_DIR"] + "/sms"
    assert "'2 documents'" in outbox_messages(folder)[0]["message"]
    [code] = sms_codes(folder)
    wrong = client.post(f"/stamp/s/{first.token(SARA)}/sign", data={**form, "method": "sms", "sms_code": "000000"})
    assert wrong.status_code == 422 and "Wrong code" in wrong.get_data(as_text=True)
    result = client.post(f"/stamp/s/{first.token(SARA)}/sign", data={**form, "method": "sms", "sms_code": code})
    assert "You signed 2 cases in one stamp signature." in result.get_data(as_text=True)
    with tenant_context(on.acme.id):
        manifest = db.session.scalar(sa.select(StampManifest))
        signatures = db.session.scalars(sa.select(Signature)).all()
        assert {s.case_id for s in signatures} == set(ids) and {s.method for s in signatures} == {"sms"}
        assert all(s.evidence["documents_digest"] == manifest.sha256 for s in signatures)
        assert all(s.evidence["plugins"]["stamp_signature"]["manifest_sha256"] == manifest.sha256 for s in signatures)


def test_no_sms_code_when_the_cases_have_different_numbers_for_the_party(app, on, client):
    first = sms_lease(on.alice, "Lease A")
    sms_lease(on.alice, "Lease B", phone="+46709999999")
    html = stamp_page(client, first).get_data(as_text=True)
    assert 'id="sms-send"' not in html and 'id="touch-pad"' in html


def test_the_stamp_page_filters_by_title_sender_and_date(app, on, client):
    first = lease(on.alice, "Lease Storgatan")
    lease(on.bob, "Lease Kungsgatan")
    lease(on.alice, "Parking Kungsgatan")
    base = f"/stamp/s/{first.token(SARA)}"
    by_title = client.get(base + "?q=kungs").get_data(as_text=True)
    assert "Lease Kungsgatan" in by_title and "Parking Kungsgatan" in by_title and "Lease Storgatan" not in by_title
    by_sender = client.get(base + f"?sender={on.bob.id}").get_data(as_text=True)
    assert "Lease Kungsgatan" in by_sender and "Storgatan" not in by_sender and "Parking" not in by_sender
    future = client.get(base + "?since=2999-01-01").get_data(as_text=True)
    assert "No waiting document matches the filter." in future
    assert "Lease Storgatan" in client.get(base + "?since=not-a-date").get_data(as_text=True)


def test_the_result_shows_each_signed_case_until_it_is_sealed(app, on, client):
    first = lease(on.alice, "Lease A")
    second = lease(on.bob, "Lease B")
    other_person = lease(on.alice, "Not Sara's", name="Olle Other", email="olle@example.com")
    html = stamp_page(client, first).get_data(as_text=True)
    result = client.post(f"/stamp/s/{first.token(SARA)}/sign",
                         data=stamp_form(html, [first.case_id, second.case_id])).get_data(as_text=True)
    assert "Being sealed…" in result
    url = (f"/stamp/s/{first.token(SARA)}/progress"
           f"?case={first.case_id}&case={second.case_id}&case={other_person.case_id}")
    before = client.get(url).get_json()
    assert before == {str(first.case_id): {"outcome": "sealing", "text": "Being sealed…"},
                      str(second.case_id): {"outcome": "sealing", "text": "Being sealed…"}}
    drain()
    after = client.get(url).get_json()
    assert {v["outcome"] for v in after.values()} == {"sealed"} and len(after) == 2


def test_parties_without_an_email_address_see_no_one_elses_cases(app, on, client):
    first = lease(on.alice, "In person 1", name="Ann Ek", email="")
    lease(on.alice, "In person 2", name="Bo Ek", email="")
    assert "waiting for you" not in client.get(first.path("Ann Ek")).get_data(as_text=True)
    assert "In person 2" not in stamp_page(client, first, "Ann Ek").get_data(as_text=True)


def test_the_panel_and_the_stamp_page_read_in_swedish(app, on, client):
    first = make_case(on.alice, [signer(SARA, "sara@example.com", language="sv", methods=["touch"])],
                      methods=["touch"], title="Hyresavtal 1")
    make_case(on.bob, [signer(SARA, "sara@example.com", language="sv", methods=["touch"])], methods=["touch"],
              title="Hyresavtal 2")
    assert "2 dokument väntar på dig" in client.get(first.path(SARA)).get_data(as_text=True)
    html = stamp_page(client, first).get_data(as_text=True)
    assert "Granska och underteckna tillsammans" in html and "Markera alla" in html
    assert "Jag har läst de markerade dokumenten och godkänner att underteckna dem." in html


def test_many_cases_are_signed_by_jobs_each_once_and_one_revoked_meanwhile_is_reported(app, on, client, monkeypatch):
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)
    monkeypatch.setattr(service, "CHUNK", 2)
    made = [lease(on.alice if i % 2 else on.bob, f"Lease {i}") for i in range(1, 6)]
    html = stamp_page(client, made[0]).get_data(as_text=True)
    result = client.post(f"/stamp/s/{made[0].token(SARA)}/sign",
                         data=stamp_form(html, [m.case_id for m in made])).get_data(as_text=True)
    assert "Your stamp signature covers 5 cases: each is being signed and sealed, see below." in result
    assert result.count("Being signed…") == 5
    with tenant_context(on.acme.id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0  # the jobs sign
        cases.revoke_case(db.session.get(Case, made[3].case_id), on.alice, "Wrong flat")  # before its job ran
        db.session.commit()
        sha256 = db.session.scalar(sa.select(StampManifest.sha256))
    url = f"/stamp/s/{made[0].token(SARA)}/progress?manifest={sha256}"
    assert {v["outcome"] for v in client.get(url).get_json().values()} == {"signing"}
    # The first job signs its two cases; the page does not call the others' not signed while theirs wait.
    from core.jobs import run_job
    from core.models import Job
    with tenant_context(on.acme.id):
        first_job = db.session.scalars(sa.select(Job).where(Job.func.like("%sign_chunk")).order_by(Job.id)).first()
    assert run_job(first_job.id)
    states = client.get(url).get_json()
    assert [states[str(m.case_id)]["outcome"] for m in made] == ["sealing", "sealing", "signing", "signing", "signing"]
    assert "It was not signed with the others" not in stamp_page(client, made[0]).get_data(as_text=True)

    drain()
    drain()  # a chunk run again (a retried job) signs nothing twice
    states = client.get(url).get_json()
    assert states[str(made[3].case_id)] == {"outcome": "not_signed", "text": "The sender revoked this case."}
    assert {states[str(m.case_id)]["outcome"] for m in made if m is not made[3]} == {"sealed"}
    with tenant_context(on.acme.id):
        for m in made:
            signatures = db.session.scalars(sa.select(Signature).where(Signature.case_id == m.case_id)).all()
            case = db.session.get(Case, m.case_id)
            if m is made[3]:
                assert signatures == [] and case.status == "revoked"
                continue
            [signature] = signatures
            assert signature.evidence["plugins"]["stamp_signature"] == {
                "manifest_sha256": sha256, "cases": 5, "other_documents": 4}
            assert sha256 in signature.consent_text and m.document_sha256 in signature.consent_text
            assert len(events_of(case, "completed")) == 1 and len(events_of(case, "stamp_signed")) == 1
    # A chunk job run once more (as after a crash) passes over the cases it already signed.
    from core.models import Job
    with tenant_context(on.acme.id):
        job = db.session.scalars(sa.select(Job).where(Job.func.like("%sign_chunk"))).first()
        service.sign_chunk(*job.args)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 4
        assert len(events_of(db.session.get(Case, made[3].case_id), "stamp_not_signed")) == 1


def test_the_page_lists_the_newest_cases_first_and_all_of_them_on_request(app, on, client, monkeypatch):
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "PAGE_SIZE", 2)
    first = lease(on.alice, "Lease 1")
    lease(on.bob, "Lease 2")
    lease(on.alice, "Lease 3")
    assert "More than 2 documents are waiting for you" in client.get(first.path(SARA)).get_data(as_text=True)
    base = f"/stamp/s/{first.token(SARA)}"
    html = client.get(base).get_data(as_text=True)
    assert "The newest 2 documents waiting for you" in html and "More documents are waiting." in html
    assert "Lease 3" in html and "Lease 2" in html and "Lease 1" not in html
    everything = client.get(base + "?all=1").get_data(as_text=True)
    assert "3 documents are waiting for you" in everything and "More documents" not in everything
    assert all(f"Lease {n}" in everything for n in (1, 2, 3))
    filtered = client.get(base + f"?sender={on.alice.id}").get_data(as_text=True)
    assert "Lease 1" in filtered and "Lease 3" in filtered and "Lease 2" not in filtered
    assert "More documents" not in filtered
