"""The office's case pages through the test client: form, list, case page, actions, isolation."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.jobs import drain
from core.models import Case, Document
from tenants.scoping import tenant_context
from tests import support
from tests.cases import pdfs


def _files(*pairs):
    return [(io.BytesIO(data), name) for name, data in pairs]


def _form(**extra) -> dict:
    data = {"title": "Lease 12B", "message": "Welcome!", "methods": ["touch"], "signing_order": "parallel",
            "language": "en", "expires_on": "2099-01-01", "reminder_interval_days": "3", "reminder_max": "3",
            "party-0-name": "Sam Signer", "party-0-email": "Sam@Example.org", "party-0-role": "signer",
            "party-0-language": "en", "action": "save"}
    data["expires_on"] = _future()
    data.update(extra)
    return data


def _future() -> str:
    from datetime import timedelta

    from core.models.base import utcnow

    return (utcnow() + timedelta(days=20)).date().isoformat()


def _post_new(client, **extra):
    return support.post(client, "/cases/new", _form(**extra), token_from="/cases/new",
                        content_type="multipart/form-data")


def _only_case(tenant_id: int) -> Case:
    with tenant_context(tenant_id):
        return db.session.scalars(
            sa.select(Case).options(selectinload(Case.documents), selectinload(Case.parties))
        ).one()


@pytest.fixture
def alice_in(client, people, login):
    login(people.alice)
    return people


def test_the_list_needs_a_login(client, people):
    assert client.get("/cases/").status_code == 302


def test_a_new_case_is_saved_as_a_draft_with_documents_and_normalised_parties(client, alice_in):
    response = _post_new(client, documents=_files(("lease.pdf", pdfs.pdf(2)), ("annex.pdf", pdfs.pdf(1))),
                         **{"party-0-phone": "070-123 45 67", "party-0-personal_number": "19121212-1212"})
    assert response.status_code == 302
    case = _only_case(alice_in.acme.id)
    assert case.status == "draft" and case.title == "Lease 12B"
    assert [(d.filename, d.page_count) for d in case.documents] == [("lease.pdf", 2), ("annex.pdf", 1)]
    party = case.parties[0]
    assert (party.email, party.phone, party.personal_number) == ("sam@example.org", "+46701234567", "191212121212")
    assert "The draft has been saved." in client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("empty.pdf", b"", "empty.pdf is empty"),
    ("picture.pdf", pdfs.png(), "picture.pdf is not a PDF"),
    ("broken.pdf", pdfs.truncated_pdf(), "broken.pdf is damaged or incomplete"),
    ("locked.pdf", pdfs.encrypted_pdf(), "locked.pdf is password-protected"),
])
def test_each_bad_file_gets_its_message_and_nothing_is_lost(client, alice_in, name, data, expected):
    response = _post_new(client, documents=_files(("good.pdf", pdfs.pdf(1)), (name, data)))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert expected in html.replace("&#39;", "'")
    assert 'value="Lease 12B"' in html and 'value="Sam@Example.org"' in html and "Welcome!" in html
    kept = re.findall(r'name="kept" value="([^"]+)"', html)
    assert len(kept) == 1 and kept[0].endswith("|good.pdf")
    # Sending the form again without choosing the good file again keeps it.
    response = support.post(client, "/cases/new", {**_form(), "kept": kept}, token_from="/cases/new")
    assert response.status_code == 302
    assert [d.filename for d in _only_case(alice_in.acme.id).documents] == ["good.pdf"]


def test_a_file_over_the_tenants_limit_is_refused(client, alice_in):
    alice_in.acme.settings = {"max_upload_mb": 1}
    db.session.commit()
    big = pdfs.pdf(1) + b"%" + b"x" * (1024 * 1024) + b"\n%%EOF\n"
    html = _post_new(client, documents=_files(("scan.pdf", big))).get_data(as_text=True)
    assert "scan.pdf is larger than 1 MB" in html


def test_an_accepted_file_has_a_preview_before_the_draft_is_saved(client, people, login):
    login(people.alice)
    html = _post_new(client, action="upload", documents=_files(("lease.pdf", pdfs.pdf(2)))).get_data(as_text=True)
    preview = re.search(r'<img src="(/cases/uploads/pages/1\.png\?ref=[^"]+)"', html).group(1).replace("&amp;", "&")
    assert client.get(preview).data.startswith(b"\x89PNG")
    assert client.get(preview.replace("/1.png", "/3.png")).status_code == 404
    client.post("/logout", data={"csrf_token": support.csrf_token(client, "/cases/")})
    login(people.charlie)
    assert client.get(preview).status_code == 404


def test_a_kept_file_reference_cannot_be_forged(client, alice_in):
    forged = "0" * 32 + "|" + "a" * 64 + "|1|stolen.pdf"
    assert _post_new(client, kept=[forged]).status_code == 302
    assert _only_case(alice_in.acme.id).documents == []


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("party-0-email", "not-an-address", "Give a valid email address"),
    ("party-0-phone", "12", "This is not a valid phone number"),
    ("party-0-personal_number", "191212121213", "12 digits, YYYYMMDDNNNN, with a correct check digit"),
    ("title", "", "Give the case a title."),
    ("expires_on", "2001-01-01", "must be in the future"),
])
def test_invalid_input_is_explained_and_kept(client, alice_in, field, value, expected):
    response = _post_new(client, **{field: value})
    assert response.status_code == 422
    assert expected in response.get_data(as_text=True)


def test_sms_signing_needs_a_phone_number(client, alice_in):
    html = _post_new(client, methods=["touch", "sms"]).get_data(as_text=True)
    assert "A mobile number is needed" in html


def test_bankid_is_offered_only_when_configured(client, alice_in, app):
    assert 'value="bankid"' not in client.get("/cases/new").get_data(as_text=True)
    app.config["BANKID_URL"] = "https://bankid.test"
    assert 'value="bankid"' in client.get("/cases/new").get_data(as_text=True)


def test_parties_are_added_and_reordered_without_javascript(client, alice_in):
    two = {"party-1-name": "Tove Two", "party-1-email": "tove@example.org"}
    html = _post_new(client, action="add_party").get_data(as_text=True)
    assert 'name="party-1-name"' in html
    html = _post_new(client, action="up-1", **two).get_data(as_text=True)
    assert html.index('value="Tove Two"') < html.index('value="Sam Signer"')
    _post_new(client, **{"party-0-name": "Tove Two", "party-0-email": "tove@example.org",
                         "party-1-name": "Sam Signer", "party-1-email": "sam@example.org"})
    assert [p.name for p in _only_case(alice_in.acme.id).parties] == ["Tove Two", "Sam Signer"]


def test_a_draft_is_edited_and_deleted(client, alice_in, make_case):
    case_id = make_case(send=False)
    url = f"/cases/{case_id}/edit"
    html = client.get(url).get_data(as_text=True)
    assert 'value="Lease agreement"' in html
    with tenant_context(alice_in.acme.id):
        party_id = db.session.get(Case, case_id).parties[0].id
        document_id = db.session.get(Case, case_id).documents[0].id
    response = support.post(client, url, {**_form(title="Lease, v2"), "party-0-id": str(party_id),
                                          "remove_document": str(document_id)}, token_from=url)
    assert response.status_code == 302
    with tenant_context(alice_in.acme.id):
        case = db.session.get(Case, case_id)
        assert case.title == "Lease, v2" and case.documents == [] and case.parties[0].id == party_id
    response = support.post(client, f"/cases/{case_id}/delete", token_from=f"/cases/{case_id}")
    assert response.status_code == 302
    with tenant_context(alice_in.acme.id):
        assert db.session.scalar(sa.select(Case).where(Case.id == case_id)) is None


def test_send_without_documents_keeps_the_draft_and_says_why(client, alice_in):
    response = _post_new(client, action="send")
    assert response.status_code == 302 and response.location.endswith("/edit")
    assert "Add at least one PDF document before sending." in client.get(response.location).get_data(as_text=True)
    assert _only_case(alice_in.acme.id).status == "draft"


def test_send_for_signing_from_the_form(client, alice_in):
    response = _post_new(client, action="send", documents=_files(("lease.pdf", pdfs.pdf(1))))
    assert response.status_code == 302
    drain()
    assert _only_case(alice_in.acme.id).status == "pending"
    assert [str(m["To"]) for m in support.outbox_messages()] == ["sam@example.org"]


# --- the list ------------------------------------------------------------------------------------


def test_the_list_has_tabs_with_counts_and_searches(client, alice_in, make_case):
    make_case(title="Lease one")
    make_case(title="Loan", parties=(("Olle", "olle@bank.example"),))
    make_case(title="Draft thing", send=False)
    html = client.get("/cases/").get_data(as_text=True)
    assert "Waiting for signatures <span class=\"count\">(2)</span>" in html
    assert "Drafts <span class=\"count\">(1)</span>" in html
    pending = client.get("/cases/?status=draft").get_data(as_text=True)
    assert "Draft thing" in pending and "Loan" not in pending
    found = client.get("/cases/?q=olle@bank").get_data(as_text=True)
    assert "Loan" in found and "Lease one" not in found
    assert "Lease one" in client.get("/cases/?q=lease").get_data(as_text=True)
    assert "Loan" in client.get("/cases/?q=Olle").get_data(as_text=True)


def test_tab_counts_stop_at_the_cap(client, alice_in, make_case, monkeypatch):
    from core.cases import listing

    monkeypatch.setattr(listing, "COUNT_CAP", 1)
    make_case()
    make_case()
    make_case(send=False)
    html = client.get("/cases/").get_data(as_text=True)
    assert "Waiting for signatures <span class=\"count\">(1+)</span>" in html
    assert "Drafts <span class=\"count\">(1)</span>" in html
    assert "All <span class=\"count\">(2+)</span>" in html


def test_the_list_finds_a_case_by_fingerprint(client, alice_in, make_case):
    case_id = make_case(title="Sealed lease")
    make_case(title="Other")
    with tenant_context(alice_in.acme.id):
        document = db.session.scalar(sa.select(Document).where(Document.case_id == case_id))
        document.fingerprint = "7K3M-Q9XD-A1B2-C3D4-U"
        db.session.get(Case, case_id).status = "completed"
        db.session.commit()
    html = client.get("/cases/?status=completed&q=7k3m q9xd a1b2 c3d4 u").get_data(as_text=True)
    assert "Sealed lease" in html and "Other" not in html


def test_my_cases_and_all_cases(client, alice_in, make_case):
    make_case(title="Alices case")
    make_case(owner=alice_in.bob, title="Bobs case")
    mine = client.get("/cases/?scope=mine").get_data(as_text=True)
    assert "Alices case" in mine and "Bobs case" not in mine
    assert "Bobs case" in client.get("/cases/").get_data(as_text=True)


def test_the_list_pages_by_latest_activity(client, alice_in, make_case):
    from core.cases import listing

    for number in range(3):
        make_case(title=f"Case {number}", send=False)
    with tenant_context(alice_in.acme.id):
        first = listing.list_cases(limit=2)
        second = listing.list_cases(limit=2, cursor=first.next_cursor)
    assert [c.title for c in first.cases] == ["Case 2", "Case 1"]
    assert [c.title for c in second.cases] == ["Case 0"] and second.next_cursor is None
    html = client.get(f"/cases/?after={first.next_cursor}").get_data(as_text=True)
    assert "Case 0" in html and "First page" in html


# --- the case page -------------------------------------------------------------------------------


def test_the_case_page_shows_parties_documents_and_the_timeline(client, alice_in, make_case):
    case_id = make_case()
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Sam Signer" in html and "Invited" in html and "doc1.pdf" in html
    assert "Sent for signing" in html and "Alice Andersson" in html
    preview = client.get(re.search(r'src="(/cases/\d+/documents/\d+/pages/1\.png)"', html).group(1))
    assert preview.status_code == 200 and preview.data.startswith(b"\x89PNG")
    original = client.get(re.search(r'href="(/cases/\d+/documents/\d+)"', html).group(1))
    assert original.data.startswith(b"%PDF") and "doc1.pdf" in original.headers["Content-Disposition"]


def _act(client, case_id: int, path: str, **data):
    url = f"/cases/{case_id}"
    response = support.post(client, f"{url}/{path}", data, token_from=url)
    assert response.status_code == 302
    return client.get(response.location).get_data(as_text=True)


def _party_id(tenant_id: int, case_id: int) -> int:
    with tenant_context(tenant_id):
        return db.session.get(Case, case_id).parties[0].id


def test_remind_now_once_an_hour(client, alice_in, make_case):
    case_id = make_case()
    party = _party_id(alice_in.acme.id, case_id)
    assert "A reminder has been sent to Sam Signer." in _act(client, case_id, f"parties/{party}/remind")
    assert "less than an hour ago" in _act(client, case_id, f"parties/{party}/remind")
    drain()
    assert len([m for m in support.outbox_messages() if "Reminder" in m["Subject"]]) == 1


def test_resend_correct_revoke_reassign_and_note(client, alice_in, make_case):
    case_id = make_case()
    party = _party_id(alice_in.acme.id, case_id)
    assert "links sent earlier still work" in _act(client, case_id, f"parties/{party}/resend")
    assert "links sent earlier no longer work" in _act(client, case_id, f"parties/{party}/replace-link")
    html = _act(client, case_id, f"parties/{party}/correct", email="sam.new@example.org", phone="0701234567")
    assert "have been corrected" in html and "sam.new@example.org" in html and "+46701234567" in html
    assert "Give a valid email address" in _act(client, case_id, f"parties/{party}/correct", email="nope")
    html = _act(client, case_id, "reassign", officer_id=str(alice_in.bob.id))
    assert "The case is now handled by Bob Berg." in html
    html = _act(client, case_id, "notes", text="Called Sam, signs tomorrow")
    assert "Note: Called Sam, signs tomorrow" in html
    assert "Give a reason" in _act(client, case_id, "revoke", reason=" ")
    html = _act(client, case_id, "revoke", reason="Wrong tenant name")
    assert "The case has been revoked" in html and "Wrong tenant name" in html
    drain()
    assert any("withdrawn" in m["Subject"] for m in support.outbox_messages() if "sam.new" in str(m["To"]))


def test_a_colleague_sees_and_acts_on_the_case(client, people, login, make_case):
    case_id = make_case()
    login(people.bob)
    assert "Lease agreement" in client.get("/cases/").get_data(as_text=True)
    assert "The note has been added." in _act(client, case_id, "notes", text="Bob was here")
    with tenant_context(people.acme.id):
        note = db.session.get(Case, case_id).events[-1]
    assert (note.kind, note.actor_id) == ("note", people.bob.id)


def test_charlie_gets_404_on_every_case_route(client, people, login, make_case):
    case_id = make_case()
    draft_id = make_case(send=False)
    with tenant_context(people.acme.id):
        case = db.session.get(Case, case_id)
        party_id, document_id = case.parties[0].id, case.documents[0].id
    login(people.charlie)
    token = support.csrf_token(client, "/cases/")
    for url in [f"/cases/{case_id}", f"/cases/{draft_id}/edit", f"/cases/{case_id}/documents/{document_id}",
                f"/cases/{case_id}/documents/{document_id}/pages/1.png"]:
        assert client.get(url).status_code == 404, url
    for url in [f"/cases/{draft_id}/edit", f"/cases/{draft_id}/delete", f"/cases/{draft_id}/send",
                f"/cases/{case_id}/parties/{party_id}/remind", f"/cases/{case_id}/parties/{party_id}/resend",
                f"/cases/{case_id}/parties/{party_id}/correct", f"/cases/{case_id}/revoke",
                f"/cases/{case_id}/reassign", f"/cases/{case_id}/notes"]:
        assert client.post(url, data={"csrf_token": token, "reason": "x", "text": "x"}).status_code == 404, url
    assert "Lease agreement" not in client.get("/cases/?q=sam@example.org").get_data(as_text=True)
    for search in ("", "?q=lease", "?q=Sam"):
        html = client.get(f"/cases/{search}").get_data(as_text=True)
        assert "All <span class=\"count\">(0)</span>" in html and "Lease agreement" not in html
    with tenant_context(people.acme.id):
        assert db.session.get(Case, case_id).status == "pending"


def test_an_unknown_page_of_a_document_is_404(client, alice_in, make_case):
    case_id = make_case()
    with tenant_context(alice_in.acme.id):
        document_id = db.session.get(Case, case_id).documents[0].id
    assert client.get(f"/cases/{case_id}/documents/{document_id}/pages/9.png").status_code == 404
