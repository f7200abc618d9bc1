"""One lookup for a case named in a URL: the office, the API and a plugin answer 404 alike, also
for another organisation's case and for an id too large for the database."""

from __future__ import annotations

import pytest

from core.extensions import db
from tests import support
from tests.api.conftest import ApiClient, make_key
from tests.signing.helpers import make_case, signer

HUGE = 2**31  # one past PostgreSQL's integer: used to be a database error (500) in the office


@pytest.fixture
def acme_case(people):
    people.acme.enabled_plugins = ["e_delivery"]
    db.session.commit()
    return make_case(people.alice, [signer(methods=["touch"])], methods=["touch"]).case


@pytest.mark.parametrize("case_id", ["other", HUGE, 0])
def test_the_office_a_plugin_and_the_api_answer_404(app, people, acme_case, case_id):
    globex = make_case(people.charlie, [signer(methods=["touch"])], methods=["touch"]).case
    case_id = globex.id if case_id == "other" else case_id
    alice = app.test_client()
    support.login(alice, "alice@acme.example")
    for url in (f"/cases/{case_id}", f"/cases/{case_id}/edit", f"/cases/{case_id}/documents/1",
                f"/e-delivery/cases/{case_id}/files/1"):
        response = alice.get(url)
        assert response.status_code == 404, url
        assert "There is nothing here" in response.get_data(as_text=True)
    api = ApiClient(app.test_client(), make_key(people.alice))
    answer = api.get(f"/api/v1/cases/{case_id}")
    assert answer.status_code == 404
    assert answer.json["error"] == {"code": "not_found", "message": "There is no case with this id."}


def test_a_party_or_document_of_another_case_is_404_with_its_own_words(app, people, acme_case):
    other = make_case(people.alice, [signer("Per Persson", "per@example.com", methods=["touch"])],
                      methods=["touch"])
    api = ApiClient(app.test_client(), make_key(people.alice))
    party = other.parties[0].id
    answer = api.post(f"/api/v1/cases/{acme_case.id}/parties/{party}/remind")
    assert answer.status_code == 404 and answer.json["error"]["message"] == "The case has no party with this id."
    answer = api.get(f"/api/v1/cases/{acme_case.id}/documents/{other.document_id}")
    assert answer.status_code == 404 and answer.json["error"]["message"] == "The case has no document with this id."
    alice = app.test_client()
    support.login(alice, "alice@acme.example")
    response = support.post(alice, f"/cases/{acme_case.id}/parties/{party}/remind", token_from="/cases/")
    assert response.status_code == 404
