"""PDFs with security settings: each refused with the reason that is true of it (issue 12).

An owner password alone does not stop anyone opening the file, so "password-protected" was the
wrong reason; what stops sealing is its encryption and, usually, its author's ban on changes.
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.constants import UserAccessPermissions

from tests.cases import pdfs
from tests.cases.test_views import _post_new


def protected(user_password: str, permissions: int) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdfs.pdf(1))))
    writer.encrypt(user_password=user_password, owner_password="the-owner", permissions_flag=permissions,
                   algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


EVERYTHING = UserAccessPermissions.all()

CASES = [
    ("restricted.pdf", "", UserAccessPermissions.PRINT,
     "restricted.pdf opens without a password, but its author restricted changes to it"),
    ("open.pdf", "", EVERYTHING, "open.pdf opens without a password, but it is encrypted"),
    ("locked.pdf", "secret", EVERYTHING, "locked.pdf is password-protected."),
]


@pytest.fixture
def alice_in(client, people, login):
    login(people.alice)
    return people


@pytest.mark.parametrize(("name", "user_password", "permissions", "words"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_protection_is_refused_with_its_own_reason(client, alice_in, name, user_password, permissions,
                                                                words):
    response = _post_new(client, documents=[(io.BytesIO(protected(user_password, permissions)), name)])
    assert response.status_code == 422
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert words in html
    if user_password == "":
        assert "password-protected" not in html


def test_the_reason_is_given_in_swedish(app):
    from flask_babel import force_locale

    from core.cases.documents import problem_message
    from core.pdfcheck import PdfProblem

    with app.test_request_context("/"), force_locale("sv"):
        assert str(problem_message(PdfProblem("restricted"), "avtal.pdf")).startswith(
            "avtal.pdf öppnas utan lösenord, men dess upphovsperson har begränsat ändringar")
        assert str(problem_message(PdfProblem("encrypted_open"), "avtal.pdf")).startswith(
            "avtal.pdf öppnas utan lösenord, men den är krypterad")
