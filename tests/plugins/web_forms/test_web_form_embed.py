"""Embedding a web form: only the origins the office listed may frame it (CSP frame-ancestors), the
office copies a snippet, and the form's post works without any cookie (a signed page token
instead of the session's CSRF token), as it must inside another site's frame."""

from __future__ import annotations

import html as html_lib
import re

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from core.extensions import db
from core.models import Case
from tenants.scoping import tenant_context
from tests.plugins.web_forms.helpers import form_of, form_template, key_of, office, public_path, submit, turn_on


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = ["web_forms"]
    db.session.commit()
    return people


def cases_of(tenant_id) -> list[Case]:
    db.session.expire_all()
    with tenant_context(tenant_id):
        return list(db.session.scalars(sa.select(Case)))


def frame_ancestors(response) -> str:
    return re.search(r"frame-ancestors ([^;]+)", response.headers["Content-Security-Policy"]).group(1)


def test_with_no_origins_listed_no_site_may_frame_the_form(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    page = app.test_client().get(public_path(officer, template_id))
    assert page.status_code == 200
    assert frame_ancestors(page) == "'none'" and page.headers["X-Frame-Options"] == "DENY"
    template_page = officer.get(f"/templates/{template_id}").get_data(as_text=True)
    assert "No website may show the form in a frame yet" in template_page


def test_the_listed_origins_may_frame_the_form_and_nothing_else_changes(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    response = turn_on(officer, template_id,
                       frame_origins="https://www.Example.com/\nhttps://shop.example.se:8443  http://localhost:8000")
    assert response.status_code == 302
    path = public_path(officer, template_id)
    visitor = app.test_client()
    for page in (visitor.get(path), visitor.get(path + "?embed=1"), submit(visitor, path, name="")):
        assert frame_ancestors(page) == "https://www.example.com https://shop.example.se:8443 http://localhost:8000"
        assert "X-Frame-Options" not in page.headers  # the policy alone decides: no conflicting header
        policy = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "default-src 'self'" in policy and "form-action 'self'" in policy
    # Every other page stays unframeable, the office's included.
    for other in (officer.get(f"/templates/{template_id}"), visitor.get("/f/no-such-form"), visitor.get("/login")):
        assert frame_ancestors(other) == "'none'" and other.headers["X-Frame-Options"] == "DENY"

    # A paused form's page may be framed by them too (it says it is paused, inside the frame).
    form = form_of(acme_on.acme.id, template_id)
    from tests import support

    support.post(officer, f"/web-forms/{form.id}/status", {"status": "paused"}, token_from=f"/templates/{template_id}")
    paused = visitor.get(path)
    assert paused.status_code == 503 and "X-Frame-Options" not in paused.headers

    # The settings show the origins again, one a line.
    template_page = officer.get(f"/templates/{template_id}").get_data(as_text=True)
    assert ">https://www.example.com\nhttps://shop.example.se:8443\nhttp://localhost:8000</textarea>" in template_page


@pytest.mark.parametrize("bad", ["https://a.example; script-src *", "javascript:alert(1)", "https://*.example.com",
                                 "http://example.com", "https://example.com/form", "example.com",
                                 "https://example.com:99999", "'self'", "https://exa mple.com'"])
def test_an_origin_that_is_not_one_plain_https_address_is_refused(app, acme_on, bad):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id, frame_origins="https://ok.example")
    response = turn_on(officer, template_id, frame_origins=bad)
    assert response.status_code == 302
    page = officer.get(f"/templates/{template_id}").get_data(as_text=True)
    assert "is not a web address the form can be embedded on" in html_lib.unescape(page)
    form = form_of(acme_on.acme.id, template_id)
    assert form.frame_origins == "https://ok.example"  # unchanged
    framed = app.test_client().get(public_path(officer, template_id))
    assert frame_ancestors(framed) == "https://ok.example"


def test_the_refusal_is_in_swedish_for_a_swedish_officer(app, acme_on):
    template_id = form_template(acme_on.alice)
    acme_on.alice.language = "sv"
    db.session.commit()
    officer = office(app)
    turn_on(officer, template_id, frame_origins="ftp://files.example")
    page = html_lib.unescape(officer.get(f"/templates/{template_id}").get_data(as_text=True))
    assert "ftp://files.example är ingen webbadress som formuläret kan bäddas in på" in page


def test_the_office_copies_a_snippet_that_frames_the_form_and_takes_only_its_height(app, acme_on):
    template_id = form_template(acme_on.alice, name='Parking "permit" <2027>')
    officer = office(app)
    turn_on(officer, template_id, frame_origins="https://www.example.com")
    page = officer.get(f"/templates/{template_id}").get_data(as_text=True)
    path = public_path(officer, template_id)
    area = re.search(r'<textarea id="web-form-snippet"[^>]*>(.*?)</textarea>', page, re.S)
    snippet = html_lib.unescape(area.group(1))
    form = form_of(acme_on.acme.id, template_id)
    assert f'<iframe id="sigill-form-{form.id}" src="http://sigill.test{path}?embed=1"' in snippet
    assert 'title="Parking &#34;permit&#34; &lt;2027&gt;"' in snippet  # the name cannot break out of the attribute
    assert 'event.origin !== "http://sigill.test"' in snippet and "event.source !== frame.contentWindow" in snippet
    assert "Copy the code" in page and "web-forms/static/office.js" in page
    assert app.test_client().get("/web-forms/static/office.js").status_code == 200
    # The form page tells its height only to the listed origins.
    form_page = app.test_client().get(path).get_data(as_text=True)
    assert 'embed.js" data-origins="https://www.example.com"' in form_page
    assert app.test_client().get("/web-forms/static/embed.js").status_code == 200


def test_the_post_needs_no_cookie_and_a_framed_post_opens_the_signer_page_in_the_top_window(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id, frame_origins="https://www.example.com")
    path = public_path(officer, template_id)
    assert app.config["WTF_CSRF_ENABLED"] is not False

    loader = app.test_client()
    page = loader.get(path + "?embed=1")
    assert "Set-Cookie" not in page.headers  # the framed page sets no cookie (a third-party frame keeps none)
    key = key_of(page.get_data(as_text=True))
    poster = app.test_client(use_cookies=False)  # what a cross-site frame sends: no cookie at all
    data = {"name": "Sara Svensson", "email": "sara@example.com", "phone": "", "key": key}
    response = poster.post(path + "?embed=1", data=data, headers={"Sec-Fetch-Dest": "iframe"})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    text = response.get_data(as_text=True)
    link = re.search(r'<a class="button primary" id="wf-open-document" href="(/s/[A-Za-z0-9_-]+)" target="_top"', text)
    assert link and "Open the document" in text
    assert len(cases_of(acme_on.acme.id)) == 1
    # The link is the visitor's signer page, which no other site may frame.
    signer = app.test_client().get(link.group(1))
    assert signer.status_code == 200 and frame_ancestors(signer) == "'none'"
    # The same page posted again (a double click inside the frame) makes no second case.
    again = poster.post(path + "?embed=1", data=data)
    assert again.status_code == 200 and len(cases_of(acme_on.acme.id)) == 1
    # Outside a frame the post redirects to the signer page as before.
    plain = submit(app.test_client(use_cookies=False), path)
    assert plain.status_code == 302 and plain.headers["Location"].startswith("/s/")


def test_a_forged_or_another_forms_page_token_is_refused(app, acme_on):
    first, second = form_template(acme_on.alice), form_template(acme_on.alice, name="Other")
    officer = office(app)
    turn_on(officer, first)
    turn_on(officer, second)
    path, other_path = public_path(officer, first), public_path(officer, second)
    visitor = app.test_client()
    data = {"name": "Sara Svensson", "email": "sara@example.com", "phone": ""}
    other_key = key_of(visitor.get(other_path).get_data(as_text=True))
    assert visitor.post(path, data={**data, "key": other_key}).status_code == 400
    assert visitor.post(path, data={**data, "key": "made-up"}).status_code == 400
    assert visitor.post(path, data=data).status_code == 400
    forged = URLSafeTimedSerializer("not our secret", salt="sigill web form page").dumps(
        {"f": form_of(acme_on.acme.id, first).id, "k": "x" * 22})
    assert visitor.post(path, data={**data, "key": forged}).status_code == 400
    assert cases_of(acme_on.acme.id) == []


def test_a_page_left_open_too_long_asks_to_send_again_and_starts_nothing(app, acme_on, monkeypatch):
    import time

    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    visitor = app.test_client()
    key = key_of(visitor.get(path, headers={"Accept-Language": "sv"}).get_data(as_text=True))
    later = time.time() + 13 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    response = visitor.post(path, data={"name": "Sara Svensson", "email": "sara@example.com", "phone": "",
                                        "key": key}, headers={"Accept-Language": "sv"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Sidan var öppen länge. Kontrollera dina uppgifter och skicka dem igen." in text
    assert 'value="Sara Svensson"' in text and key_of(text) != key
    assert cases_of(acme_on.acme.id) == []
