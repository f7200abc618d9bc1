"""The public verification page reads uploads inside a memory and time bound (issue 12).

Anyone may upload to /verify/. Before, a file that made the PDF libraries loop would have held a
web process for as long as it looped; now verifying runs in a bounded child and a file over the
bound is told as one that cannot be read.
"""

from __future__ import annotations

import time

from tests import hostile_pdfs as hostile
from tests.completion.test_verify_bad_input import upload


def _forever(*_args, **_kwargs):
    while True:
        pass


def test_a_file_that_makes_the_reader_loop_is_told_damaged_in_bounded_time(app, client, monkeypatch):
    from core.sealing import validate

    app.config.update(VERIFY_CPU_SECONDS=1, VERIFY_WALL_SECONDS=5)
    monkeypatch.setattr(validate, "PdfFileReader", _forever)  # as pyHanko would on some hostile file
    monkeypatch.setattr(validate, "PdfReader", _forever)
    started = time.monotonic()
    response = upload(client, hostile.plain())
    assert time.monotonic() - started < 20
    assert response.status_code == 200 and 'data-verdict="damaged"' in response.get_data(as_text=True)
    assert client.get("/verify/").status_code == 200  # this process carries on


def test_hostile_kinds_get_a_verdict_never_a_500(client):
    for kind in ("kids_loop", "deep_arrays", "trailer_array", "parent_loop", "zero_mediabox"):
        make, _code = hostile.KINDS[kind]
        response = upload(client, make())
        assert response.status_code in (200, 422), kind
        assert 'data-verdict="' in response.get_data(as_text=True), kind
