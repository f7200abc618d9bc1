"""What a web form asks and what the office reads back: the visitor's personal identity number
(checked with the core's rule, kept on their party, masked in the office's list, the export and
never in a log) and each sealed case's fingerprint in the submissions list and the exports."""

from __future__ import annotations

import csv
import io
import logging

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.jobs import drain
from core.models import Case
from plugins.web_forms.models import WebFormSubmission
from tenants.scoping import tenant_context
from tests.plugins.web_forms.helpers import form_of, form_template, office, public_path, submit, turn_on
from tests.plugins.web_forms.test_web_form import cases_of, save_fields, sign, sign_links

NUMBER = "198112189876"  # a valid check digit


@pytest.fixture
def acme_on(people):
    people.acme.enabled_plugins = ["web_forms"]
    db.session.commit()
    return people


def test_a_required_personal_number_is_checked_in_the_visitors_language(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id, require_personal_number="1")
    path = public_path(officer, template_id)
    visitor = app.test_client()
    page = visitor.get(path, headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "Ditt personnummer" in page and "12 siffror: ÅÅÅÅMMDDNNNN" in page
    for wrong in ("", "19811218-9875", "198113189876", "8112189876"):
        response = submit(visitor, path, personal_number=wrong, headers={"Accept-Language": "sv"})
        text = response.get_data(as_text=True)
        assert response.status_code == 400, wrong
        assert "Ange ett personnummer med 12 siffror, ÅÅÅÅMMDDNNNN, med korrekt kontrollsiffra." in text
    assert cases_of(acme_on.acme.id) == []
    # A form that does not ask for it shows no such field and keeps nothing sent anyway.
    other = form_template(acme_on.alice, name="No number")
    turn_on(officer, other)
    other_path = public_path(officer, other)
    assert 'name="personal_number"' not in visitor.get(other_path).get_data(as_text=True)
    assert submit(visitor, other_path, personal_number=NUMBER).status_code == 302
    with tenant_context(acme_on.acme.id):
        [kept] = db.session.scalars(sa.select(WebFormSubmission)).all()
        assert kept.personal_number is None
        party = next(p for p in db.session.get(Case, kept.case_id).parties if p.role_key == "tenant")
        assert party.personal_number is None


def test_the_personal_number_reaches_the_party_is_masked_for_the_office_and_never_logged(app, acme_on, caplog):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id, require_personal_number="1")
    form = form_of(acme_on.acme.id, template_id)
    path = public_path(officer, template_id)
    with caplog.at_level(logging.DEBUG):
        response = submit(app.test_client(), path, personal_number="19811218-9876")
        assert response.status_code == 302
        drain()
        listing = officer.get(f"/web-forms/{form.id}").get_data(as_text=True)
        exported = officer.get(f"/web-forms/{form.id}/export.csv").get_data(as_text=True)
    [case] = cases_of(acme_on.acme.id)
    with tenant_context(case.tenant_id):
        party = next(p for p in case.parties if p.role_key == "tenant")
        assert party.personal_number == NUMBER  # BankID then signs only for this person
    assert "19811218-XXXX" in listing and NUMBER not in listing and "9876" not in listing
    row = next(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert row["Personal identity number"] == "19811218-XXXX" and NUMBER not in exported
    assert NUMBER not in caplog.text and "19811218-9876" not in caplog.text


def test_the_sealed_documents_fingerprint_is_in_the_list_and_both_exports(app, acme_on):
    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    form = form_of(acme_on.acme.id, template_id)
    path = public_path(officer, template_id)
    visitor = app.test_client()
    signer_path = submit(visitor, path).headers["Location"]
    submit(app.test_client(), path, name="Olle Open", email="olle@example.com")  # stays unsigned

    listing = officer.get(f"/web-forms/{form.id}").get_data(as_text=True)
    assert "<th scope=\"col\">Fingerprint</th>" in listing
    save_fields(visitor, signer_path, {"full_name": "Sara Svensson", "rent": "9500", "moving_in": "2026-09-01",
                                       "pets": True})
    sign(visitor, signer_path)
    drain()
    [landlord_path, *_] = sign_links(app, "per@acme.example")
    sign(app.test_client(), landlord_path)
    drain()
    sealed, unsigned = cases_of(acme_on.acme.id)
    assert sealed.status == "completed" and unsigned.status == "pending"
    with tenant_context(sealed.tenant_id):
        [code] = [d.fingerprint for d in db.session.get(Case, sealed.id).documents]
    assert code

    listing = officer.get(f"/web-forms/{form.id}").get_data(as_text=True)
    assert f"<code style=\"overflow-wrap:anywhere\">{code}</code>" in listing

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(officer.get(f"/web-forms/{form.id}/export.xlsx").data)).active
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in sheet.iter_rows(min_row=2)]
    assert header.index("Fingerprint") == header.index("Case") - 1
    assert [(r["Visitor"], r["Fingerprint"]) for r in rows] == [("Sara Svensson", code), ("Olle Open", None)]
    exported = officer.get(f"/web-forms/{form.id}/export.csv").get_data(as_text=True)
    by_name = {r["Visitor"]: r for r in csv.DictReader(io.StringIO(exported.lstrip("\ufeff")))}
    assert by_name["Sara Svensson"]["Fingerprint"] == code and by_name["Olle Open"]["Fingerprint"] == ""


def test_the_export_reads_every_kind_of_submission_the_same_on_each_database(app, acme_on, monkeypatch):
    """On PostgreSQL the export streams one query through a producer thread; its rows are the same as
    the batched reader's (used on SQLite), cell for cell: a sealed case with typed values, an
    unsigned one, one waiting for its email confirmation; and a download abandoned after its first
    row stops the reading thread."""
    import threading
    from datetime import date
    from decimal import Decimal

    from flask import g

    from plugins.web_forms import export
    from tenants.models import Tenant

    template_id = form_template(acme_on.alice)
    officer = office(app)
    turn_on(officer, template_id)
    path = public_path(officer, template_id)
    visitor = app.test_client()
    signer_path = submit(visitor, path).headers["Location"]
    save_fields(visitor, signer_path, {"full_name": "Sara Svensson", "rent": "9500.50", "moving_in": "2026-09-01",
                                       "pets": True})
    sign(visitor, signer_path)
    drain()
    sign(app.test_client(), sign_links(app, "per@acme.example")[0])
    drain()
    submit(app.test_client(), path, name="Olle Open", email="olle@example.com", phone="")
    turn_on(officer, template_id, require_confirmation="1")
    submit(app.test_client(), path, name="Vera Waiting", email="vera@example.com")
    form = form_of(acme_on.acme.id, template_id)
    sealed, unsigned = cases_of(acme_on.acme.id)

    def exported() -> tuple[list[str], list[list]]:
        with app.test_request_context("/", headers={"Accept-Language": "en"}), tenant_context(acme_on.acme.id):
            g.tenant = db.session.get(Tenant, acme_on.acme.id)
            made = export.submissions_export(db.session.get(type(form), form.id))
            return made.header, list(made.rows)

    header, rows = exported()
    by_name = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(r["Visitor"], r["Status"], r["Case"]) for r in by_name] == [
        ("Sara Svensson", "Signed", sealed.id), ("Olle Open", "Waiting for signatures", unsigned.id),
        ("Vera Waiting", "Waiting for email confirmation", None)]
    sara = by_name[0]
    assert (sara["Rent"], sara["Moving in"], sara["Pets"]) == (Decimal("9500.50"), date(2026, 9, 1), True)
    assert sara["Signed by"] == "Sara Svensson; Per Persson" and len(sara["Fingerprint"]) > 20
    assert by_name[1]["Signed by"] == "" and by_name[1]["Phone"] == ""
    assert by_name[2]["Rent"] is None and by_name[2]["Case link"] == ""

    if db.engine.dialect.name != "postgresql":
        return
    monkeypatch.setattr(export, "_streamed", lambda _engine, form_id, _tenant_id, with_values, row_of:
                        export._batched(form_id, with_values, row_of))
    assert exported() == (header, rows)
    monkeypatch.undo()
    with app.test_request_context("/"), tenant_context(acme_on.acme.id):
        g.tenant = db.session.get(Tenant, acme_on.acme.id)
        made = export.submissions_export(db.session.get(type(form), form.id))
        assert next(made.rows)[1] == "Sara Svensson"
        assert any(t.name.startswith("web-form-export-") for t in threading.enumerate())
        made.rows.close()  # the client went away
        assert not any(t.name.startswith("web-form-export-") for t in threading.enumerate())
