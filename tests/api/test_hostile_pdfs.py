"""Hostile PDFs through the API: a 422 naming the problem, never a 500 (issue 12).

Before, a trailer array of 100,001 elements made pypdf raise LimitReachedError and the API
answered 500; a /Kids loop was accepted.
"""

from __future__ import annotations

import pytest

from tests import hostile_pdfs as hostile
from tests.api.conftest import b64, case_body


@pytest.mark.parametrize(("kind", "words"), [
    ("trailer_array", "holds more in one place than a PDF reader safely accepts"),
    ("kids_loop", "loops back on itself"),
    ("zero_mediabox", "Page 1 of x.pdf has no size"),
    ("deep_arrays", "nested more than 64 levels deep"),
    ("huge_count", "says it has a different number of pages"),
])
def test_each_hostile_kind_is_a_422_with_its_code_and_message(api, kind, words):
    make, code = hostile.KINDS[kind]
    response = api.post("/api/v1/cases", json=case_body(documents=[
        {"filename": "x.pdf", "content_base64": b64(make())}]), headers={"Accept-Language": "en"})
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == f"document_{code}"
    assert words in response.json["error"]["fields"]["documents"]["0"][0]
    assert api.get("/api/v1/cases").json["cases"] == []
