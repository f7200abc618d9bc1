"""The office's template pages and the field editor: colleagues share, other organisations get 404."""

import io
import json

import pytest

from core.case_templates import service
from core.extensions import db
from tenants.scoping import tenant_context
from tests import support
from tests.cases import pdfs
from tests.fields.pdfs import lease_form


def form_data(client, url: str, **changes) -> dict:
    data = {"csrf_token": support.csrf_token(client, url), "name": "Lease", "methods": ["touch"],
            "signing_order": "parallel", "language": "en", "expiry_days": "30", "reminder_interval_days": "3",
            "reminder_max": "3", "role-0-label": "Tenant", "role-0-kind": "signer", "action": "save"}
    data.update(changes)
    return data


def post_json(client, url: str, body: dict, token_from: str):
    return client.post(url, data=json.dumps(body), content_type="application/json",
                       headers={"X-CSRFToken": support.csrf_token(client, token_from)})


def test_a_pdf_with_form_fields_becomes_a_template_with_those_fields(client, people, login):
    login(people.alice)
    data = form_data(client, "/templates/new", documents=(io.BytesIO(lease_form()), "lease.pdf"))
    response = client.post("/templates/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("/fields")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "6 form fields found in the documents were added" in page
    editor_data = json.loads(page.split('id="fe-data">')[1].split("</script>")[0])
    assert {f["name"] for f in editor_data["fields"]} == {"tenant", "notes", "pets", "payment", "city",
                                                            "tenant_signature"}
    assert editor_data["assignees"] == [["tenant", "Tenant"]]


def test_bad_input_keeps_everything_and_says_what_is_wrong(client, people, login):
    login(people.alice)
    data = form_data(client, "/templates/new", name="", documents=[(io.BytesIO(b"not a pdf"), "notes.txt"),
                                                                   (io.BytesIO(pdfs.pdf(2)), "good.pdf")])
    response = client.post("/templates/new", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "notes.txt is not a PDF" in html and "good.pdf" in html and 'name="kept"' in html
    assert 'value="Tenant"' in html


def test_colleagues_see_and_change_each_others_templates(client, people, login, make_template):
    template = make_template(name="Lease agreement")
    login(people.bob)
    listing = client.get("/templates/?q=lease").get_data(as_text=True)
    assert "Lease agreement" in listing and "Alice Andersson" in listing
    url = f"/templates/{template.id}/edit"
    response = client.post(url, data=form_data(client, url, name="Lease agreement 2026", base_version="1"))
    assert response.status_code == 302
    detail = client.get(f"/templates/{template.id}").get_data(as_text=True)
    assert "Lease agreement 2026" in detail and "Version 2" in detail and "Bob Berg" in detail


def test_a_stale_form_is_refused_with_the_changes_kept(client, people, login, make_template):
    template = make_template()
    with tenant_context(people.acme.id):
        service.save_version(template, people.bob, service.version_of(template).content, base_version=1)
        db.session.commit()
    login(people.alice)
    url = f"/templates/{template.id}/edit"
    response = client.post(url, data=form_data(client, url, name="My new name", base_version="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "Bob Berg saved a newer version" in html
    assert 'value="My new name"' in html and 'name="base_version" value="2"' in html


def test_the_editor_saves_fields_as_a_new_version_and_refuses_bad_ones_by_field(client, people, login, make_template):
    template = make_template()
    with tenant_context(people.acme.id):
        fields = service.version_of(template).content["fields"]
    login(people.alice)
    url, page = f"/templates/{template.id}/fields", f"/templates/{template.id}/fields"
    outside = [dict(fields[0], x=0.9)] + fields[1:]
    response = post_json(client, url, {"version": 1, "fields": outside}, page)
    assert response.status_code == 422
    assert response.json["errors"]["0"]["x"] == ["The field lies partly outside page 1. Move it onto the page."]
    moved = [dict(fields[0], x=0.3, label="Tenant's full name")] + fields[1:]
    response = post_json(client, url, {"version": 1, "fields": moved}, page)
    assert response.status_code == 200 and response.json["version"] == 2
    response = post_json(client, url, {"version": 1, "fields": fields}, page)
    assert response.status_code == 409 and "newer version" in response.json["message"]
    with tenant_context(people.acme.id):
        db.session.refresh(template)
        assert template.version == 2
        assert service.version_of(template).content["fields"][0]["label"] == "Tenant's full name"


def test_copy_and_archive(client, people, login, make_template):
    template = make_template(name="Lease")
    login(people.alice)
    response = support.post(client, f"/templates/{template.id}/copy", token_from="/templates/")
    assert response.status_code == 302
    support.post(client, f"/templates/{template.id}/archive", {"archived": "1"}, token_from="/templates/")
    listing = client.get("/templates/").get_data(as_text=True)
    assert "Copy of Lease" in listing and f'data-template="{template.id}"' not in listing
    assert f'data-template="{template.id}"' in client.get("/templates/?archived=1").get_data(as_text=True)


def test_the_editors_page_images_are_the_templates_pages(client, people, login, make_template):
    template = make_template()
    with tenant_context(people.acme.id):
        sha256 = service.version_of(template).content["documents"][0]["sha256"]
    login(people.alice)
    response = client.get(f"/templates/{template.id}/documents/{sha256}/pages/1.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert client.get(f"/templates/{template.id}/documents/{sha256}/pages/2.png").status_code == 404
    assert client.get(f"/templates/{template.id}/documents/{'0' * 64}/pages/1.png").status_code == 404


@pytest.mark.parametrize(("method", "path"), [
    ("get", ""), ("get", "/edit"), ("post", "/edit"), ("get", "/fields"), ("post", "/fields"), ("post", "/copy"),
    ("post", "/archive"), ("get", "/use"), ("post", "/use"),
])
def test_another_organisation_gets_404_for_everything(client, people, login, make_template, method, path):
    template = make_template()
    login(people.charlie)
    url = f"/templates/{template.id}{path}"
    if method == "get":
        assert client.get(url).status_code == 404
    else:
        assert support.post(client, url, {"name": "x"}, token_from="/templates/").status_code == 404
    with tenant_context(people.acme.id):
        sha256 = service.version_of(template).content["documents"][0]["sha256"]
    assert client.get(f"/templates/{template.id}/documents/{sha256}/pages/1.png").status_code == 404


def test_logged_out_visitors_are_sent_to_the_login(client, make_template):
    template = make_template()
    assert client.get(f"/templates/{template.id}").status_code == 302
