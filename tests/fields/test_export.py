"""Exports read every case's values typed, streamed a case at a time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from core.case_templates import service as templates
from core.fields.export import columns, rows
from core.models import Case
from tenants.scoping import tenant_context
from tests.fields.helpers import lease_with_fields
from tests.fields.test_signer_fields import save


def test_columns_and_typed_rows_of_a_templates_cases(client, people):
    first = lease_with_fields(people.alice, values={"rent": "9500"})
    second = lease_with_fields(people.alice, values={"rent": "12500.50", "moving_in": "2026-09-01"})
    save(client, first.links["tenant"], {"full_name": "Åsa Öberg", "pets": "yes"})
    with tenant_context(people.acme.id):
        template = templates.active_template(first.case().template_id)
        names = [c.name for c in columns(templates.version_of(template).content)]
        found = dict(rows(sa.select(Case.id).where(Case.id.in_([first.case_id, second.case_id]))))
    assert names == ["full_name", "rent", "moving_in", "pets", "signed_on", "landlord_note"]
    assert found[first.case_id]["full_name"] == "Åsa Öberg" and found[first.case_id]["pets"] is True
    assert found[first.case_id]["rent"] == Decimal("9500") and found[first.case_id]["moving_in"] is None
    assert found[second.case_id]["rent"] == Decimal("12500.50")
    assert found[second.case_id]["moving_in"] == date(2026, 9, 1) and found[second.case_id]["pets"] is False


def test_another_organisations_cases_are_not_read(people):
    made = lease_with_fields(people.alice)
    with tenant_context(people.globex.id):
        assert list(rows(sa.select(Case.id).where(Case.id == made.case_id))) == []


def test_each_case_reads_what_its_fields_and_values_say_typed_as_one_value_at_a_time(client, people):
    """The values a row per case (built in SQL) are those the fields' own rows give, typed one by one."""
    from core.extensions import db
    from core.fields.export import by_case
    from core.fields.models import CaseField, FieldValue
    from core.fields.values import typed

    prefilled = lease_with_fields(people.alice, values={"rent": "9500", "moving_in": "2026-09-01"})
    saved = lease_with_fields(people.alice, values={"rent": "100"})
    save(client, saved.links["tenant"], {"full_name": 'Åsa "Ö" \\ <&> \u00e9', "pets": "yes"})
    ids = [prefilled.case_id, saved.case_id]
    with tenant_context(people.acme.id):
        expected: dict[int, dict] = {}
        for field in db.session.scalars(sa.select(CaseField).where(CaseField.case_id.in_(ids),
                                                                   CaseField.type != "signature")):
            value = db.session.scalars(sa.select(FieldValue).where(FieldValue.field_id == field.id)).first()
            expected.setdefault(field.case_id, {})[field.name] = typed(
                field.type, value.value if value is not None else field.default)
        found = dict(by_case(ids))
        subquery = dict(by_case(sa.select(Case.id).where(Case.id.in_(ids)).scalar_subquery()))
    assert found == expected == subquery
    assert found[saved.case_id]["full_name"] == 'Åsa "Ö" \\ <&> \u00e9'
