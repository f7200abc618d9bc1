"""The signer's page through the test client: what a signer sees, signing, declining, bad links."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image

from core.cases import service as cases
from core.extensions import db
from core.models import Case, Document, Party, Signature
from core.models.base import utcnow
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import support
from tests.signing.helpers import PER, SARA, events_of, make_case, pdf, sign_form, signer


def test_it_shows_the_case_and_documents_but_not_other_parties_contacts(client, lease):
    html = client.get(lease.path(SARA)).get_data(as_text=True)
    assert "Lease 12" in html and "Acme AB" in html and "Bob Berg" in html and "Please sign the lease." in html
    assert "lease.pdf" in html and lease.document_sha256 in html
    assert "per@example.com" not in html and "709876543" not in html and "sara@example.com" not in html
    assert "Draw your signature" in html and "Code by text message" in html


def test_the_page_is_in_the_partys_language_with_a_switch(client, people):
    made = make_case(people.bob, [signer(language="sv")])
    html = client.get(made.path(SARA)).get_data(as_text=True)
    assert '<html lang="sv">' in html
    client.get(made.path(SARA) + "/lang/en")
    assert '<html lang="en">' in client.get(made.path(SARA)).get_data(as_text=True)


def test_only_the_first_view_is_recorded(client, lease):
    client.get(lease.path(SARA))
    client.get(lease.path(SARA))
    assert len(events_of(lease.case, "viewed")) == 1
    with tenant_context(lease.case.tenant_id):
        assert db.session.get(Party, lease.parties[0].id).status == "viewed"


def test_pages_render_as_images_and_the_original_downloads(client, lease):
    base = f"{lease.path(SARA)}/documents/{lease.document_id}"
    image = client.get(f"{base}/pages/2-800.webp")
    assert image.status_code == 200 and image.mimetype == "image/webp"
    assert Image.open(io.BytesIO(image.data)).width == 800
    assert client.get(f"{base}/pages/2-800.webp").data == image.data  # cached blob
    assert client.get(f"{base}/pages/3-800.webp").status_code == 404
    download = client.get(base)
    assert download.data == blobs().get(lease.document_sha256)
    assert "attachment" in download.headers["Content-Disposition"]


def test_another_tenants_document_is_not_found_through_a_link(client, people, lease):
    other = make_case(people.charlie, [signer("Gus Globex", "gus@globex.example")], title="Globex deal")
    theirs = other.document_id
    assert client.get(f"{lease.path(SARA)}/documents/{theirs}").status_code == 404
    assert client.get(f"{lease.path(SARA)}/documents/{theirs}/pages/1-800.webp").status_code == 404
    response = support.post(client, f"{lease.path(SARA)}/compare/{theirs}", {"copy": (io.BytesIO(pdf()), "x.pdf")},
                            token_from=lease.path(SARA))
    assert response.status_code == 404


def test_server_comparison_names_the_pages_and_lines_that_differ(client, lease):
    url = f"{lease.path(SARA)}/compare/{lease.document_id}"
    same = support.post(client, url, {"copy": (io.BytesIO(blobs().get(lease.document_sha256)), "lease.pdf")},
                        token_from=lease.path(SARA))
    assert "Identical" in same.get_data(as_text=True)
    changed = pdf(["Lease agreement for flat 12, Storgatan 1, Stockholm", "The rent is 5 500 SEK per month, paid in "
                   "advance.", "The lease runs from 1 January until further notice.", "Notice period: three months."])
    html = support.post(client, url, {"copy": (io.BytesIO(changed), "lease.pdf")},
                        token_from=lease.path(SARA)).get_data(as_text=True)
    assert "Not identical" in html and "Page 1 differs" in html and "Page 2 differs" in html
    assert "The rent is 9 500 SEK per month" in html and "The rent is 5 500 SEK per month" in html
    junk = support.post(client, url, {"copy": (io.BytesIO(b"hello"), "notes.txt")}, token_from=lease.path(SARA))
    assert junk.status_code == 422 and "not a readable PDF" in junk.get_data(as_text=True)


def test_it_signs_by_touch_with_evidence(client, lease):
    path = lease.path(SARA)
    response = support.post(client, path + "/sign", sign_form(client, path), token_from=path,
                            headers={"User-Agent": "TestPhone/1.0"})
    assert response.status_code == 302
    assert "Thank you for signing" in client.get(path).get_data(as_text=True)
    with tenant_context(lease.case.tenant_id):
        signature = db.session.scalars(sa.select(Signature)).one()
        assert signature.method == "touch" and signature.user_agent == "TestPhone/1.0" and signature.ip
        assert signature.document_hashes == {
            str(lease.document_id): {"filename": "lease.pdf", "sha256": lease.document_sha256}}
        assert lease.document_sha256 in signature.consent_text
        evidence = signature.evidence
        assert evidence["stroke_count"] == 1 and evidence["point_count"] == 20
        assert blobs().get(evidence["svg_sha256"]).startswith(b"<svg")
        assert blobs().get(evidence["png_sha256"]).startswith(b"\x89PNG")
        assert json.loads(blobs().get(evidence["strokes_sha256"]))[0]["points"][0]["x"] == 10
    [event] = events_of(lease.case, "party_signed")
    assert event.data["method"] == "touch" and event.data["evidence"]["png_sha256"] == evidence["png_sha256"]


def test_an_empty_pad_is_refused(client, lease):
    path = lease.path(SARA)
    form = sign_form(client, path, touch_strokes="[]")
    response = support.post(client, path + "/sign", form, token_from=path)
    assert response.status_code == 422 and "The signature pad is empty" in response.get_data(as_text=True)
    blank = io.BytesIO()
    Image.new("RGBA", (600, 200), (0, 0, 0, 0)).save(blank, format="PNG")
    form = sign_form(client, path, touch_png="data:image/png;base64," + base64.b64encode(blank.getvalue()).decode())
    assert support.post(client, path + "/sign", form, token_from=path).status_code == 422
    with tenant_context(lease.case.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0


def test_consent_must_be_confirmed(client, lease):
    path = lease.path(SARA)
    form = sign_form(client, path)
    del form["consent"]
    response = support.post(client, path + "/sign", form, token_from=path)
    assert response.status_code == 422 and "Confirm that you have read" in response.get_data(as_text=True)


def test_a_method_the_party_may_not_use_is_refused(client, lease):
    path = lease.path(PER)
    response = support.post(client, path + "/sign", sign_form(client, path, method="sms", sms_code="123456"),
                            token_from=path)
    assert response.status_code == 422 and "Choose one of the signing methods" in response.get_data(as_text=True)


def test_signing_twice_gives_one_signature_and_the_thank_you_page(client, lease):
    path = lease.path(SARA)
    form = sign_form(client, path)
    support.post(client, path + "/sign", form, token_from=path)
    again = support.post(client, path + "/sign", form, token_from=path)
    assert again.status_code == 200 and "Thank you for signing" in again.get_data(as_text=True)
    with tenant_context(lease.case.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 1


def test_the_last_signature_queues_sealing_once(client, lease):
    for name in (SARA, PER):
        path = lease.path(name)
        support.post(client, path + "/sign", sign_form(client, path), token_from=path)
    assert len(events_of(lease.case, "seal_queued")) == 1
    assert len(events_of(lease.case, "party_signed")) == 2


def test_it_declines_with_a_reason(client, lease):
    path = lease.path(SARA)
    empty = support.post(client, path + "/decline", {"reason": "  "}, token_from=path)
    assert empty.status_code == 422 and "why you decline" in empty.get_data(as_text=True)
    support.post(client, path + "/decline", {"reason": "The rent is wrong"}, token_from=path)
    with tenant_context(lease.case.tenant_id):
        db.session.refresh(lease.case)
        assert lease.case.status == "declined"
    [event] = events_of(lease.case, "declined")
    assert event.data["reason"] == "The rent is wrong"


def test_sequential_signer_sees_whom_they_wait_for(client, people):
    made = make_case(people.bob, [signer(), signer(PER, "per@example.com", phone="+46709876543")],
                     order="sequential")
    html = client.get(made.path(PER)).get_data(as_text=True)
    assert "It is not your turn yet" in html and SARA in html
    assert "sara@example.com" not in html and "701234567" not in html
    assert 'id="sign-form"' not in html


def test_an_unknown_link_has_its_page_and_guessing_is_rate_limited(app, client):
    app.config["TOKEN_RATE_LIMIT"] = "3/60"
    response = client.get("/s/not-a-real-token")
    assert response.status_code == 404 and "This link does not work" in response.get_data(as_text=True)
    for _ in range(3):
        client.get("/s/another-guess")
    assert client.get("/s/yet-another-guess").status_code == 429


def test_revoked_expired_and_declined_links_have_their_own_pages(client, people, lease):
    with tenant_context(lease.case.tenant_id):
        cases.revoke_case(lease.case, people.bob, "Wrong flat")
        db.session.commit()
    html = client.get(lease.path(SARA)).get_data(as_text=True)
    assert "withdrawn" in html and "Wrong flat" in html

    late = make_case(people.bob, [signer()], title="Old offer")
    with tenant_context(late.case.tenant_id):
        late.case.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = client.get(late.path(SARA))
    assert response.status_code == 410 and "This link has expired" in response.get_data(as_text=True)

    declined = make_case(people.bob, [signer(), signer(PER, "per@example.com")], title="Car")
    support.post(client, declined.path(SARA) + "/decline", {"reason": "No"}, token_from=declined.path(SARA))
    assert "You have declined to sign" in client.get(declined.path(SARA)).get_data(as_text=True)
    assert "Another party declined" in client.get(declined.path(PER)).get_data(as_text=True)


def test_after_sealing_the_thank_you_page_links_the_signed_document(client, people, lease):
    path = lease.path(SARA)
    support.post(client, path + "/sign", sign_form(client, path), token_from=path)
    assert "/signed/" not in client.get(path).get_data(as_text=True)
    assert client.get(f"{lease.path(PER)}/signed/{lease.document_id}").status_code == 302  # Per has not signed
    sealed = pdf(["Sealed lease"], pages=1)
    with tenant_context(lease.case.tenant_id):
        document = db.session.get(Document, lease.document_id)
        document.sealed_sha256 = blobs().put(sealed)
        case = db.session.get(Case, lease.case_id)  # what the sealing job leaves behind
        case.status, case.seal_state, case.completed_at = "completed", "sealed", utcnow()
        db.session.commit()
    html = client.get(path).get_data(as_text=True)
    assert "Download lease.pdf (signed)" in html
    download = client.get(f"{path}/signed/{lease.document_id}")
    assert download.data == sealed and "lease-signed.pdf" in download.headers["Content-Disposition"]
    other = make_case(people.charlie, [signer("Gus Globex", "gus@globex.example")], title="Globex deal")
    assert client.get(f"{path}/signed/{other.document_id}").status_code == 404


def test_an_officer_of_another_tenant_opening_a_link_sees_only_that_link(client, people, login, lease):
    login(people.charlie)
    html = client.get(lease.path(SARA)).get_data(as_text=True)
    assert "Lease 12" in html and "Acme AB" in html
    office = client.get("/cases/").get_data(as_text=True)
    assert "Lease 12" not in office  # Charlie's office is still scoped to Globex


def test_bankid_text_counts_the_documents_it_leaves_out_in_the_partys_language(app, people, monkeypatch):
    from core.signing import bankid_method
    from core.signing import service as signing

    with tenant_context(people.bob.tenant_id):
        case = cases.create_case(people.bob, "Avtal", allowed_methods=["touch"])
        for n in (1, 2, 3):
            cases.add_document(case, f"bilaga-{n}.pdf", pdf(lines=[f"Bilaga {n}"]))
        party = cases.add_party(case, **signer(language="sv"))
        cases.send_case(case, people.bob)
        db.session.commit()
        link = signing.link_state(party)
        ctx = signing.signing_context(link, "127.0.0.1", "test", "sv")
        full = bankid_method.visible_text(ctx)
        assert all(d.filename in full for d in ctx.documents) and "till." not in full
        # Room for the heading and one document only: the text says how many more there are.
        # The limit counts UTF-8 bytes (BankID's is on the base64 of the bytes; "å" is two).
        monkeypatch.setattr(bankid_method, "VISIBLE_LIMIT", len(full[:full.index("## bilaga-2.pdf")].encode()))
        assert "… och 2 handlingar till." in bankid_method.visible_text(ctx)
        monkeypatch.setattr(bankid_method, "VISIBLE_LIMIT", len(full[:full.index("## bilaga-3.pdf")].encode()))
        assert "… och 1 handling till. Dess kontrollsumma finns i signaturen." in bankid_method.visible_text(ctx)


def test_bankid_text_stays_within_bankids_limit_with_swedish_file_names(app, people):
    import base64
    import dataclasses
    from types import SimpleNamespace

    from core.signing import bankid_method
    from core.signing import service as signing

    with tenant_context(people.bob.tenant_id):
        case = cases.create_case(people.bob, "Avtal", allowed_methods=["touch"])
        cases.add_document(case, "bilaga.pdf", pdf(lines=["Bilaga"]))
        party = cases.add_party(case, **signer(language="sv"))
        cases.send_case(case, people.bob)
        db.session.commit()
        ctx = signing.signing_context(signing.link_state(party), "127.0.0.1", "test", "sv")
        # 150 documents whose names are 200 "ö" each: two bytes per character in UTF-8.
        many = [SimpleNamespace(id=n, filename=f"{'ö' * 200}-{n}.pdf", sha256="a" * 64) for n in range(150)]
        text = bankid_method.visible_text(dataclasses.replace(ctx, documents=many))
    assert len(base64.b64encode(text.encode())) <= 40_000
    assert "handlingar till" in text
