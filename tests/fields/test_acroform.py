"""A PDF's own form fields are found with their names, types, options, flags and places."""

import pytest

from core.fields.acroform import detect
from tests.fields.pdfs import lease_form, plain


def by_name(specs):
    return {s.name: s for s in specs}


def test_every_kind_of_form_field_is_found():
    found = by_name(detect(lease_form(filled=True), document=2))
    assert set(found) == {"tenant", "notes", "pets", "payment", "city", "tenant_signature"}
    assert {name: s.type for name, s in found.items()} == {
        "tenant": "text", "notes": "textarea", "pets": "checkbox", "payment": "radio", "city": "select",
        "tenant_signature": "signature"}
    assert all(s.document == 2 and s.page == 1 and s.acroform == s.name for s in found.values())
    tenant = found["tenant"]
    assert tenant.label == "Tenant's name" and tenant.required and tenant.default == "Åsa Öberg"
    assert found["payment"].options == ("monthly", "quarterly") and found["payment"].default == "monthly"
    assert found["city"].options == ("Stockholm", "Göteborg", "Malmö") and found["city"].default == "Göteborg"
    assert found["pets"].default is True


def test_positions_are_relative_to_the_visible_page_from_the_top_left():
    tenant = by_name(detect(lease_form()))["tenant"]
    # The widget is at x=140..390, y=735..755 on an A4 page (595.28 x 841.89 points).
    assert tenant.x == pytest.approx(140 / 595.2756, abs=1e-3)
    assert tenant.y == pytest.approx(1 - 755 / 841.8898, abs=1e-3)
    assert tenant.w == pytest.approx(250 / 595.2756, abs=1e-3)
    assert tenant.h == pytest.approx(20 / 841.8898, abs=1e-3)


def test_radio_buttons_keep_their_own_places_inside_the_group():
    payment = by_name(detect(lease_form()))["payment"]
    monthly, quarterly = payment.option_areas
    assert monthly[0] == pytest.approx(0) and quarterly[0] + quarterly[2] == pytest.approx(1)


def test_a_pdf_without_a_form_has_no_fields():
    assert detect(plain()) == []


def test_a_damaged_pdf_has_no_fields_rather_than_an_error():
    assert detect(b"%PDF-1.7\n1 0 obj << /AcroForm 5 0 R >> broken") == []
