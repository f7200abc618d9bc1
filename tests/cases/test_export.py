"""The case data export: the list's cases as CSV or Excel, with field values typed and plugin columns."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.cases import service as cases
from core.extensions import db
from tenants.scoping import tenant_context
from tests import support
from tests.fields.helpers import lease_with_fields
from tests.plugins import example
from tests.signing.helpers import make_case, signer


@pytest.fixture
def app(app_factory):
    app = app_factory(_plugins=[example])
    with app.app_context():
        yield app


def office(app, email="alice@acme.example"):
    client = app.test_client()
    support.login(client, email)
    return client


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="cases-' in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response) -> list[tuple]:
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


def test_the_export_lists_the_organisations_cases_with_the_plugins_column(app, people):
    people.acme.enabled_plugins = [example.NAME]
    db.session.commit()
    lease = make_case(people.alice, [signer("Sara Svensson", "sara@example.com")], methods=["touch"], title="Lease")
    make_case(people.charlie, [signer("Olle Other", "olle@example.com")], methods=["touch"], title="Globex only")
    with tenant_context(people.acme.id):
        cases.create_case(people.bob, "=HYPERLINK(\"http://evil.example\")", allowed_methods=["touch"])
        db.session.commit()
    rows = read_csv(office(app).get("/cases/export.csv"))
    assert rows[0] == ["Case", "Title", "Status", "Handled by", "Created (UTC)", "Sent (UTC)", "Signed (UTC)",
                       "Parties", "Notice confirmed"]
    assert [r[1] for r in rows[1:]] == ["Lease", "'=HYPERLINK(\"http://evil.example\")"]  # no formula, no Globex
    assert rows[1][0] == str(lease.case_id) and rows[1][2] == "Waiting for signatures"
    assert rows[1][7] == "Sara Svensson <sara@example.com>" and rows[1][8] == "No"
    assert rows[2][3] == "Bob Berg" and rows[2][5] == ""


def test_the_plugin_column_goes_with_the_plugin(app, people):
    make_case(people.alice, [signer()], methods=["touch"])
    assert "Notice confirmed" not in read_csv(office(app).get("/cases/export.csv"))[0]


def test_the_excel_export_has_typed_cells_and_never_a_formula(app, people):
    people.acme.enabled_plugins = [example.NAME]
    db.session.commit()
    make_case(people.alice, [signer()], methods=["touch"], title="=1+1")
    rows = read_xlsx(office(app).get("/cases/export.xlsx"))
    header, row = rows[0], rows[1]
    assert header[-1] == "Notice confirmed"
    assert isinstance(row[0], int) and row[1] == "=1+1"  # text, as typed
    assert isinstance(row[4], datetime) and isinstance(row[5], datetime) and row[6] is None
    assert row[-1] is False


def test_a_templates_export_has_a_column_per_field_with_typed_values(app, people):
    first = lease_with_fields(people.alice, values={"rent": "12500.50", "moving_in": "2026-09-01"})
    lease_with_fields(people.alice, values={"rent": "1"})  # another template's case
    make_case(people.alice, [signer()], methods=["touch"], title="Not from the template")
    with tenant_context(people.acme.id):
        template_id = first.case().template_id
    alice = office(app)
    rows = read_xlsx(alice.get(f"/cases/export.xlsx?template={template_id}"))
    header = list(rows[0])
    assert len(rows) == 2  # the template's case only
    rent, moving_in, pets = header.index("Rent"), header.index("Moving in"), header.index("Pets")
    assert rows[1][rent] == float(Decimal("12500.50")) and rows[1][moving_in] == datetime(2026, 9, 1)
    assert rows[1][pets] is False
    sheet = load_workbook(io.BytesIO(alice.get(f"/cases/export.xlsx?template={template_id}").data)).active
    last = sheet.cell(1, sheet.max_column).column_letter
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{last}2"  # the header stays, filters
    text = read_csv(alice.get(f"/cases/export.csv?template={template_id}&status=pending"))
    assert text[1][text[0].index("Rent")] == "12500.50" and text[1][text[0].index("Moving in")] == "2026-09-01"


def test_the_export_follows_the_lists_filters_and_another_organisations_template_is_404(app, people):
    make_case(people.alice, [signer()], methods=["touch"], title="Alice's")
    make_case(people.bob, [signer()], methods=["touch"], title="Bob's")
    bob = office(app, "bob@acme.example")
    assert [r[1] for r in read_csv(bob.get("/cases/export.csv?scope=mine"))[1:]] == ["Bob's"]
    assert [r[1] for r in read_csv(bob.get("/cases/export.csv?q=Alice"))[1:]] == ["Alice's"]
    assert read_csv(bob.get("/cases/export.csv?status=completed"))[1:] == []
    other = lease_with_fields(people.charlie)
    with tenant_context(people.globex.id):
        globex_template = other.case().template_id
    assert bob.get(f"/cases/export.csv?template={globex_template}").status_code == 404
    assert app.test_client().get("/cases/export.csv").status_code in (302, 401)


def test_the_export_is_in_the_officers_language(app, people):
    make_case(people.alice, [signer()], methods=["touch"])
    alice = office(app)
    alice.get("/lang/sv")
    rows = read_csv(alice.get("/cases/export.csv"))
    assert rows[0][:3] == ["Ärende", "Rubrik", "Status"] and rows[1][2] == "Väntar på underskrift"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_many_cases_are_read_in_batches_with_the_plugin_column_in_each(app, people, monkeypatch, fmt):
    from core.cases import export as exporting

    monkeypatch.setattr(exporting, "BATCH", 2)
    people.acme.enabled_plugins = [example.NAME]
    db.session.commit()
    with tenant_context(people.acme.id):
        for n in range(5):
            cases.create_case(people.alice, f"Case {n}", allowed_methods=["touch"])
        db.session.commit()
    response = office(app).get(f"/cases/export.{fmt}")
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert [r[1] for r in rows[1:]] == [f"Case {n}" for n in range(5)]
    assert all(r[-1] in ("No", False) for r in rows[1:])
