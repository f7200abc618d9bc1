"""pdfium is not thread-safe: previews and page images rendered at the same moment in several
request threads must not crash the process (they did: "Fatal Python error: Aborted")."""

from __future__ import annotations

import threading

from core.cases.documents import check_pdf, render_page_png
from core.signing.pages import render_page
from tests.signing.helpers import pdf


def test_renders_in_parallel_threads_all_succeed():
    documents = [pdf(lines=[f"Document {n}, line {m}" for m in range(30)], pages=3) for n in range(4)]
    results: list[bool] = []
    errors: list[BaseException] = []

    def work(data: bytes) -> None:
        try:
            for page in (1, 2, 3, 1, 2, 3):
                png = render_page_png(data, page)
                webp, height = render_page(data, page, 800)
                results.append(png.startswith(b"\x89PNG") and webp[8:12] == b"WEBP" and height > 0)
                results.append(check_pdf(data, 10 * 2**20).page_count == 3)
        except BaseException as exc:  # noqa: BLE001  reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(data,)) for data in documents * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 8 * 12 and all(results)
