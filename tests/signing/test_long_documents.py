"""A long document keeps the signer page small: its pages load as they are viewed (issue 12).

Before, every page of every document was a figure in the signer page's HTML: 20,000 tiny pages
made an 11.6 MB page. Now the page holds the first piece of pages and a link to the next.
"""

from __future__ import annotations

import re

import pytest

from tests.signing.helpers import SARA, make_case, signer


def _long_pdf(pages: int) -> bytes:
    from tests import hostile_pdfs

    return hostile_pdfs.many_pages(pages)


def test_the_signer_page_of_a_2000_page_document_stays_small(client, people):
    made = make_case(people.bob, [signer()], document=_long_pdf(2000))
    html = client.get(made.path(SARA)).get_data(as_text=True)
    assert len(html.encode()) < 60_000
    assert html.count('<figure class="page"') == 20
    assert "2000 pages" in html
    more = re.search(r'<a data-more-pages href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert more.endswith("/pages?start=21")
    piece = client.get(more + "&fragment=1").get_data(as_text=True)
    assert re.findall(r'data-page="(\d+)"', piece) == [str(n) for n in range(21, 41)]
    assert "<html" not in piece and "/pages?start=41" in piece
    last = client.get(f"{made.path(SARA)}/documents/{made.document_id}/pages?start=1981&fragment=1")
    assert last.get_data(as_text=True).count('<figure class="page"') == 20
    assert "data-more-pages" not in last.get_data(as_text=True)
    assert client.get(f"{made.path(SARA)}/documents/{made.document_id}/pages?start=2001").status_code == 404


def test_without_javascript_the_next_pages_are_a_page_of_their_own(client, people):
    made = make_case(people.bob, [signer()], document=_long_pdf(45))
    client.get(made.path(SARA) + "/lang/en")
    page = client.get(f"{made.path(SARA)}/documents/{made.document_id}/pages?start=21")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert "Pages 21–40 of lease.pdf" in html and "Show pages 41–45 of 45" in html
    assert "Back to the documents to sign" in html


def test_another_partys_link_cannot_read_the_pages(client, people):
    made = make_case(people.bob, [signer()], document=_long_pdf(45))
    other = make_case(people.charlie, [signer("Gus Globex", "gus@globex.example")], title="Globex deal")
    assert client.get(f"{made.path(SARA)}/documents/{other.document_id}/pages?start=1").status_code == 404


@pytest.mark.browser
def test_in_a_browser_later_pages_load_when_scrolled_to_and_by_next_page(live_server, people, page):
    from tests.signing.test_signer_browser import link_from_email, send_live_case

    send_live_case(live_server, people, [signer(language="en")], document=_long_pdf(45))
    page.goto(link_from_email(live_server, "sara@example.com"))
    figures = page.locator("figure.page")
    assert figures.count() == 20
    for _ in range(19):
        page.get_by_role("button", name="Next page").click()
    page.get_by_role("button", name="Next page").click()  # past the last page loaded: the next piece comes
    page.wait_for_function("() => document.querySelectorAll('figure.page').length === 40")
    page.wait_for_function("() => document.querySelector('[data-current]').textContent === '21'")
    page.locator(".pages").evaluate("el => el.scrollTop = el.scrollHeight")  # scrolled near the end
    page.wait_for_function("() => document.querySelectorAll('figure.page').length === 45")
    assert page.locator("[data-more-pages]").count() == 0
    assert page.locator("figure.page[data-page='45'] img").get_attribute("alt").startswith("Page 45 of 45")
