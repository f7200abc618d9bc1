"""Templates: versions, copies, archive, search, and a case saved as a template."""

import pytest
import sqlalchemy as sa

from core.case_templates import service
from core.case_templates.models import CaseTemplate
from core.extensions import db
from core.i18n import force_locale
from tenants.scoping import tenant_context


def test_a_new_template_has_its_pdfs_form_fields_for_the_first_signer_role(make_template, people):
    template = make_template()
    with tenant_context(people.acme.id):
        content = service.version_of(template).content
    assert template.version == 1 and [r["key"] for r in content["roles"]] == ["tenant", "our-signatory"]
    fields = {f["name"]: f for f in content["fields"]}
    assert set(fields) == {"tenant", "notes", "pets", "payment", "city", "tenant_signature"}
    assert {f["assignee"] for f in fields.values()} == {"tenant"}
    assert content["documents"][0]["pages"][0] == pytest.approx([595.2756, 841.8898])


def test_every_change_is_a_new_version_and_the_old_ones_stay(make_template, people):
    template = make_template()
    with tenant_context(people.acme.id):
        first = service.version_of(template).content
        changed = {**first, "message": "New message"}
        service.save_version(template, people.bob, changed, base_version=1)
        db.session.commit()
        assert template.version == 2 and template.updated_by_id == people.bob.id
        assert service.version_of(template, 1).content["message"] == "Please sign"
        assert service.version_of(template, 2).content["message"] == "New message"


def test_a_change_made_from_an_old_version_is_refused_not_lost_silently(make_template, people):
    template = make_template()
    with tenant_context(people.acme.id):
        content = service.version_of(template).content
        service.save_version(template, people.bob, content, base_version=1)
        db.session.commit()
        with force_locale("en"), pytest.raises(service.TemplateChanged) as refused:
            service.save_version(template, people.alice, content, base_version=1)
        assert "Bob Berg saved a newer version of this template (version 2)" in refused.value.message


def test_a_content_with_a_field_outside_its_page_is_refused_by_field(make_template, people):
    template = make_template()
    with tenant_context(people.acme.id):
        content = service.version_of(template).content
        bad = {**content, "fields": [{**content["fields"][0], "x": 0.95}]}
        with force_locale("en"), pytest.raises(service.TemplateError) as refused:
            service.save_version(template, people.alice, bad, base_version=1)
        assert refused.value.errors["fields"]["0"]["x"] == [
            "The field lies partly outside page 1. Move it onto the page."]


def test_copy_archive_and_search(make_template, people):
    lease = make_template(name="Lease agreement")
    make_template(name="Employment contract")
    with tenant_context(people.acme.id), force_locale("en"):
        copy = service.copy_template(lease, people.bob)
        service.set_archived(lease, people.alice, True)
        db.session.commit()
        assert copy.name == "Copy of Lease agreement" and copy.created_by_id == people.bob.id
        assert service.version_of(copy).content == service.version_of(lease).content
        assert [t.name for t in service.templates()] == [copy.name, "Employment contract"]
        assert [t.name for t in service.templates(q="employ")] == ["Employment contract"]
        assert [t.name for t in service.templates(q="lease", archived=True)] == ["Lease agreement"]
        assert service.templates(q="100%") == []


def test_another_organisation_never_sees_a_template(make_template, people):
    template = make_template()
    with tenant_context(people.globex.id):
        assert service.templates() == []
        assert db.session.scalar(sa.select(CaseTemplate).where(CaseTemplate.id == template.id)) is None


def test_removing_a_document_takes_its_fields_and_a_removed_role_leaves_fields_unassigned(make_template, people):
    from tests.fields.pdfs import plain

    template = make_template()
    with tenant_context(people.acme.id):
        previous = service.version_of(template).content
        added = [service.document_entry("annex.pdf", plain(2))]
        content, _found = service.revised_content(previous, dict(previous, documents=None), [
            {"key": "our-signatory", "label": "Our signatory", "kind": "signer"}], [0], added)
        assert [d["filename"] for d in content["documents"]] == ["doc0.pdf", "annex.pdf"]
        assert {f["assignee"] for f in content["fields"]} == {None}
        with force_locale("en"):
            assert service.use_problems(content) == ["6 fields are not assigned to a role."]
        content, _found = service.revised_content(previous, previous, previous["roles"], [], added)
        assert content["fields"] == []


def test_a_filled_form_value_too_long_for_its_box_is_left_out_and_the_field_kept(app):
    """PDF readers shrink text to almost nothing; we print at a readable size, so such a value
    becomes no default (the field is still offered) instead of printing past its box."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=A4, invariant=1)
    drawing.acroForm.textfield(name="address", x=100, y=700, width=45, height=12,
                               value="Storgatan 1, 903 26 Umeå, Västerbottens län", fontSize=0)
    drawing.acroForm.textfield(name="city", x=100, y=650, width=150, height=20, value="Umeå")
    drawing.showPage()
    drawing.save()
    found = {spec.name: spec for spec in service.document_entry("form.pdf", out.getvalue()).found}
    assert found["address"].default is None and found["city"].default == "Umeå"
