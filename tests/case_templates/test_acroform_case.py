"""A PDF with its own form fields, end to end: it becomes a template with those fields, a case is
made from it, the signer fills them in, and the sealed PDF shows the values where the PDF's fields
were, drawn as page content, with none of the PDF's own fields or their old values left."""

from __future__ import annotations

import io

from pypdf import PdfReader

from core.case_templates import service as templates
from core.case_templates.cases import Person, case_from_template
from core.cases import service as cases
from core.extensions import db
from core.jobs import drain
from core.storage import blobs
from tenants.scoping import tenant_context
from tests.case_templates.conftest import build_template
from tests.fields.helpers import FieldCase, text_in_box
from tests.fields.test_signer_fields import save, sign
from tests.sealing.checks import page_texts, pdfsig, qpdf_check, render


def ink(image, box, height: int) -> int:
    """Dark pixels in a box relative to the page before sealing (`height` pixels high; the footer
    strip goes below it and moves nothing)."""
    x, y, w, h = box
    region = image.crop((int(x * image.width), int(y * height), int((x + w) * image.width), int((y + h) * height)))
    return sum(region.histogram()[:128])


def test_a_pdfs_form_becomes_a_template_whose_case_is_filled_in_and_sealed(client, people):
    template = build_template(people.alice)  # the lease form: its fields go to the first role, "Tenant"
    with tenant_context(people.acme.id):
        content = templates.version_of(template).content
        by_name = {f["name"]: f for f in content["fields"]}
        assert {n: by_name[n]["type"] for n in by_name} == {
            "tenant": "text", "notes": "textarea", "pets": "checkbox", "payment": "radio", "city": "select",
            "tenant_signature": "signature"}
        assert by_name["payment"]["options"] == ["monthly", "quarterly"]
        assert by_name["city"]["options"] == ["Stockholm", "Göteborg", "Malmö"]
        case = case_from_template(template, people.bob, {"tenant": Person("Åsa Öberg", "asa@example.com", None,
                                                                           None, "en")})
        cases.send_case(case, people.bob)
        links = {p.role_key: "/s/" + cases.issue_party_link(p).rsplit("/", 1)[-1] for p in case.parties}
        db.session.commit()
        made = FieldCase(case.id, case.tenant_id, links)

    answer = save(client, made.links["tenant"], {"tenant": "Åsa Öberg", "notes": "Two cats.", "pets": "yes",
                                                 "payment": "quarterly", "city": "Malmö"}).json
    assert answer["ok"], answer
    assert sign(client, made.links["tenant"]).status_code == 302
    drain()  # signed in order: the next party is invited now, with a link of her own
    with tenant_context(made.tenant_id):
        signatory = next(p for p in made.case().parties if p.role_key == "our-signatory")
        link = "/s/" + cases.issue_party_link(signatory).rsplit("/", 1)[-1]
        db.session.commit()
    assert sign(client, link).status_code == 302
    drain()
    with tenant_context(made.tenant_id):
        case = made.case()
        assert case.status == "completed"
        [document] = case.documents
        original, sealed = blobs().get(document.sha256), blobs().get(document.sealed_sha256)

    def box(name: str) -> tuple[float, float, float, float]:
        f = by_name[name]
        return f["x"], f["y"], f["w"], f["h"]

    assert text_in_box(sealed, original, box("tenant")) == "Åsa Öberg"
    assert text_in_box(sealed, original, box("notes")) == "Two cats."
    assert text_in_box(sealed, original, box("city")) == "Malmö"
    assert "Stockholm" not in page_texts(sealed)[0]  # the drop-down's old value went with its widget
    page, height = render(sealed, 0, scale=2), render(original, 0, scale=2).height
    monthly, quarterly = (
        (by_name["payment"]["x"] + a[0] * by_name["payment"]["w"], by_name["payment"]["y"] + a[1] * by_name[
            "payment"]["h"], a[2] * by_name["payment"]["w"], a[3] * by_name["payment"]["h"])
        for a in by_name["payment"]["option_areas"])
    assert ink(page, quarterly, height) > 5 and ink(page, monthly, height) < ink(page, quarterly, height) / 4
    assert ink(page, box("pets"), height) > 5 and ink(page, box("tenant_signature"), height) > 5
    fields = PdfReader(io.BytesIO(sealed)).trailer["/Root"]["/AcroForm"]["/Fields"]
    assert [str(f.get_object()["/T"]) for f in fields] == ["Sigill seal"]
    qpdf_check(sealed)
    assert "Signature Validation: Signature is Valid." in pdfsig(sealed)
