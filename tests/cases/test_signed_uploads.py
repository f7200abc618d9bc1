"""Uploading a PDF that is already signed: the officer is told, and a certified PDF is refused."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Event
from tenants.scoping import tenant_context
from tests.cases import pdfs
from tests.cases.test_views import _only_case, _post_new
from tests.sealing.pdfs import signed_pdf


@pytest.fixture
def alice_in(client, people, login):
    login(people.alice)
    return people


def test_a_signed_pdf_is_accepted_and_the_officer_is_told_who_signed_it(client, alice_in):
    signed = signed_pdf(pdfs.pdf(1), "Anna Andersson")
    html = _post_new(client, action="upload", documents=[(io.BytesIO(signed), "signed.pdf")]).get_data(as_text=True)
    assert "signed.pdf" in html and "accepted" in html
    assert "This PDF is already signed by Anna Andersson. Sealing adds a revision after that signature" in html
    # An unsigned file gets no such notice.
    html = _post_new(client, action="upload", documents=[(io.BytesIO(pdfs.pdf(1)), "plain.pdf")]).get_data(as_text=True)
    assert "already signed" not in html
    response = _post_new(client, documents=[(io.BytesIO(signed), "signed.pdf")])
    assert response.status_code == 302
    case = _only_case(alice_in.acme.id)
    assert [d.filename for d in case.documents] == ["signed.pdf"]
    with tenant_context(alice_in.acme.id):
        added = db.session.scalars(
            sa.select(Event).where(Event.case_id == case.id, Event.kind == "document_added")).all()
        assert added[0].data["signed_by"] == ["Anna Andersson"]


@pytest.mark.parametrize(("level", "words"), [
    (1, "certified.pdf is certified by Cert Ifier, who allowed no changes to it."),
    (2, "certified.pdf is certified by Cert Ifier, who allowed only filling in forms, signing and comments."),
    (3, "certified.pdf is certified by Cert Ifier, who allowed only filling in forms, signing and comments."),
])
def test_a_certified_pdf_is_refused_with_its_reason(client, alice_in, level, words):
    certified = signed_pdf(pdfs.pdf(1), "Cert Ifier", certify=level)
    response = _post_new(client, documents=[(io.BytesIO(certified), "certified.pdf")])
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)


def test_the_case_page_tells_it_too(client, alice_in):
    """Saved straight away (no upload step on the form), the notice is on the case page."""
    signed = signed_pdf(pdfs.pdf(1), "Anna Andersson")
    response = _post_new(client, documents=[(io.BytesIO(signed), "signed.pdf"), (io.BytesIO(pdfs.pdf(1)), "plain.pdf")])
    html = client.get(response.location).get_data(as_text=True)
    assert html.count("This PDF is already signed by Anna Andersson.") == 1


def test_the_notice_and_the_refusal_are_in_swedish(app):
    from flask_babel import force_locale

    from core.cases.service import DocumentRejected, _check_signatures, signed_notice

    with app.test_request_context("/"), force_locale("sv"):
        assert str(signed_notice(["Anna Andersson"])).startswith(
            "Den här PDF:en är redan underskriven av Anna Andersson. Förseglingen lägger till en ny version")
        with pytest.raises(DocumentRejected) as refused:
            _check_signatures("avtal.pdf", signed_pdf(pdfs.pdf(1), "Cert Ifier", certify=1))
        assert str(refused.value.message).startswith(
            "avtal.pdf är certifierad av Cert Ifier, som inte tillåter några ändringar.")
