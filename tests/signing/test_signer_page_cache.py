"""The signer page's rendered-HTML cache never shows a stale page, another party's link or
another visitor's CSRF token (core/signing/page.py)."""

from __future__ import annotations

import re

from core.extensions import db
from core.signing import page as signer_page
from tenants.models import Tenant
from tests import support
from tests.signing.helpers import PER, SARA, make_case, sign_form, signer

CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')
FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_each_visitor_gets_their_own_csrf_token_and_no_stand_ins(app, lease):
    first, second = app.test_client(), app.test_client()
    html_first, html_second = page(first, lease.path(SARA)), page(second, lease.path(SARA))
    token_first, token_second = CSRF_META.search(html_first)[1], CSRF_META.search(html_second)[1]
    assert token_first != token_second
    # Every form on the page carries the visitor's own token, and nothing of the stand-ins is left.
    assert set(FORM_CSRF.findall(html_second)) == {token_second}
    for html in (html_first, html_second):
        assert "standin" not in html
    # The second visitor was served from the cache and can sign with what the page gave them.
    response = support.post(second, lease.path(SARA) + "/sign", sign_form(second, lease.path(SARA)),
                            token_from=lease.path(SARA), follow_redirects=True)
    assert response.status_code == 200 and "Thank you" in response.get_data(as_text=True)


def test_two_parties_of_one_case_each_see_only_their_own_link(client, lease):
    sara, per = page(client, lease.path(SARA)), page(client, lease.path(PER))
    assert lease.token(SARA) in sara and lease.token(PER) not in sara
    assert lease.token(PER) in per and lease.token(SARA) not in per
    # Per may only sign by touch: his page must not be Sara's page (which offers SMS) with his link.
    assert "Code by text message" in sara and "Code by text message" not in per


def test_the_page_follows_a_sent_code_and_a_renamed_organisation(client, lease, elks):
    assert "Send the code" in page(client, lease.path(SARA))
    support.post(client, lease.path(SARA) + "/method/sms/send", {}, token_from=lease.path(SARA))
    assert "Send a new code" in page(client, lease.path(SARA))

    tenant = db.session.get(Tenant, lease.case.tenant_id)
    tenant.name = "Acme Fastigheter AB"
    db.session.commit()
    assert "Acme Fastigheter AB" in page(client, lease.path(SARA))


def test_a_waiting_signer_sees_the_queue_shrink(client, people):
    made = make_case(people.bob, [signer(), signer(PER, "per@example.com", phone="+46709876543"),
                                  signer("Ola Olsson", "ola@example.com", phone=None)], order="sequential")
    waiting = page(client, made.path("Ola Olsson"))
    assert "It is not your turn yet" in waiting and SARA in waiting and PER in waiting
    support.post(client, made.path(SARA) + "/sign", sign_form(client, made.path(SARA)), token_from=made.path(SARA))
    waiting = page(client, made.path("Ola Olsson"))
    assert "It is not your turn yet" in waiting and PER in waiting and SARA not in waiting


def test_a_refused_signature_is_shown_with_the_form_kept_and_not_cached(client, lease):
    form = sign_form(client, lease.path(SARA), consent="")
    response = support.post(client, lease.path(SARA) + "/sign", form, token_from=lease.path(SARA))
    assert response.status_code == 422
    assert "Confirm that you have read the documents" in response.get_data(as_text=True)
    # The next plain view is the normal page again, not the error page from a cache.
    assert "Confirm that you have read the documents" not in page(client, lease.path(SARA))


def test_the_cache_is_bounded_and_can_be_turned_off(app, people):
    signer_page.clear_caches()
    app.config["SIGNER_PAGE_CACHE"] = 3
    made = make_case(people.bob, [signer(f"Signer {n}", f"s{n}@example.com") for n in range(5)])
    for party in made.parties:
        page(app.test_client(), made.path(party.name))
    assert len(signer_page._pages) == 3

    signer_page.clear_caches()
    app.config["SIGNER_PAGE_CACHE"] = 0
    html = page(app.test_client(), made.path("Signer 0"))
    assert "Signer 0" in html and len(signer_page._pages) == 0


def test_the_cache_is_bounded_by_size_too(monkeypatch):
    cache = signer_page._LRU()
    monkeypatch.setattr(signer_page._LRU, "MAX_CHARS", 1000)
    for n in range(5):
        cache.put(("page", n), "x" * 240, size=100)
    assert len(cache) == 4 and cache.get(("page", 0)) is None and cache.get(("page", 4))
    cache.put(("huge",), "x" * 300, size=100)  # over a quarter of the budget: not kept
    assert cache.get(("huge",)) is None and len(cache) == 4


def test_the_page_follows_values_filled_elsewhere_and_a_field_edit(app, people):
    """The fields are read once per request and are part of the cached page's key: a value another
    party signed, a value saved from another device and a field's changed label each show at once."""
    from core.fields.models import CaseField
    from tenants.scoping import tenant_context
    from tests.fields.helpers import lease_with_fields
    from tests.fields.test_signer_fields import save, sign

    signer_page.clear_caches()
    made = lease_with_fields(people.bob)
    tenant, landlord = made.links["tenant"], made.links["landlord"]
    phone, laptop = app.test_client(), app.test_client()
    before = page(laptop, landlord)
    assert "Åsa Öberg" not in before and "Filled in by others who have signed" not in before

    # The tenant types on their phone: their page on the laptop shows the value, not the cached page.
    page(laptop, tenant)
    save(phone, tenant, {"full_name": "Åsa Öberg", "rent": "9500"})
    assert 'value="Åsa Öberg"' in page(laptop, tenant)

    # The tenant signs: the landlord's page now shows their values, read-only.
    assert sign(phone, tenant).status_code == 302
    after = page(laptop, landlord)
    assert "Filled in by others who have signed" in after and "Åsa Öberg" in after and "9,500" in after

    # An edit of the landlord's field (its label) is on the landlord's page at the next view.
    with tenant_context(made.tenant_id):
        note = CaseField.query.filter_by(case_id=made.case_id, name="landlord_note").one()
        note.label = "Remarks for the tenant"
        db.session.commit()
    assert "Remarks for the tenant" in page(laptop, landlord)
