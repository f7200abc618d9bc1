"""A template's documents pass the same bounded upload check as a case's (issue 12)."""

import io

import pytest

from tests import hostile_pdfs as hostile
from tests.case_templates.test_views import form_data


@pytest.mark.parametrize(("kind", "words"), [
    ("kids_loop", "The page structure of x.pdf loops back on itself"),
    ("trailer_array", "x.pdf holds more in one place than a PDF reader safely accepts"),
    ("zero_mediabox", "Page 1 of x.pdf has no size"),
])
def test_a_hostile_template_document_is_refused_with_its_message(client, people, login, kind, words):
    login(people.alice)
    make, _code = hostile.KINDS[kind]
    data = form_data(client, "/templates/new", documents=(io.BytesIO(make()), "x.pdf"))
    response = client.post("/templates/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert words in response.get_data(as_text=True).replace("&#39;", "'")
