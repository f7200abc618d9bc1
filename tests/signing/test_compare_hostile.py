"""The signer's compare upload passes the same bounded check as any upload (issue 12).

Before, a copy with a trailer array of 100,001 elements answered 500 (pypdf's LimitReachedError
was not caught), and a copy's page tree loop or bomb was parsed in the web process unbounded.
"""

from __future__ import annotations

import io

import pytest

from tests import hostile_pdfs as hostile
from tests import support
from tests.signing.helpers import SARA


@pytest.mark.parametrize(("kind", "words"), [
    ("trailer_array", "copy.pdf holds more in one place than a PDF reader safely accepts"),
    ("kids_loop", "The page structure of copy.pdf loops back on itself"),
    ("zero_mediabox", "Page 1 of copy.pdf has no size"),
    ("many_pages", "copy.pdf has more than 2,000 pages, the limit of the sender"),
    ("flate_bomb", "copy.pdf unpacks to more than 512 MB of data, the limit of the sender"),
])
def test_a_hostile_copy_is_a_422_naming_the_problem(client, lease, kind, words):
    client.get(lease.path(SARA) + "/lang/en")
    make, _code = hostile.KINDS[kind]
    response = support.post(client, f"{lease.path(SARA)}/compare/{lease.document_id}",
                            {"copy": (io.BytesIO(make()), "copy.pdf")}, token_from=lease.path(SARA))
    assert response.status_code == 422
    assert words in response.get_data(as_text=True).replace("&#39;", "'")


def test_a_copy_readers_can_repair_is_compared(client, lease):
    response = support.post(client, f"{lease.path(SARA)}/compare/{lease.document_id}",
                            {"copy": (io.BytesIO(hostile.broken_xref()), "copy.pdf")}, token_from=lease.path(SARA))
    assert response.status_code == 200
