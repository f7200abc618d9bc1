"""Sealing a document with filled-in fields: values on the pages, a seal that pdfsig and pyHanko accept."""

import io

import pytest
from pypdf import PdfReader

from core.fields.drawing import Mark
from core.sealing.pipeline import FieldLayer, seal_document
from core.sealing.validate import validate_sealed
from tests.fields.pdfs import black_png, lease_form
from tests.sealing.checks import page_texts, pdfsig, qpdf_check
from tests.sealing.conftest import FINGERPRINT, VERIFY_URL, local_pki, make_receipt  # noqa: F401  (fixture)

TENANT_BOX = (0.2352, 0.1032, 0.42, 0.0238)


@pytest.fixture(scope="module")
def sealed(local_pki):  # noqa: F811
    original = lease_form(filled=True)
    layer = FieldLayer({1: [Mark(TENANT_BOX, "text", text="Bertil Åkesson"),
                            Mark((0.2352, 0.4417, 0.336, 0.0594), "image", image=black_png(300, 80)),
                            Mark((0.6, 0.6, 0.3, 0.08), "block",
                                 lines=("Signerat elektroniskt", "Sara Svensson", "BankID · 2026-07-01 14:00"))]},
                       replaced=frozenset({"tenant", "tenant_signature"}))
    result = seal_document(original, FINGERPRINT, VERIFY_URL, make_receipt(1), "sv", local_pki.signer, "B-LT",
                           local_pki.tsa_url, local_pki.validation_context(), layer)
    return original, result.pdf, result.receipt


def test_the_original_stays_a_prefix_and_tools_accept_the_file(sealed, local_pki):  # noqa: F811
    original, pdf, _receipt = sealed
    assert pdf.startswith(original)
    qpdf_check(pdf)
    report = pdfsig(pdf)
    assert "Signature Validation: Signature is Valid." in report and "Total document signed" in report
    assert validate_sealed(pdf, [local_pki.root]).verdict == "authentic"


def test_values_are_page_content_and_no_form_field_is_left_but_the_seal(sealed):
    _original, pdf, _receipt = sealed
    first = page_texts(pdf)[0]
    assert "Bertil Åkesson" in first and "Sara Svensson" in first and "Göteborg" in first
    assert "Åsa Öberg" not in first  # the replaced field's old value is gone with its widget
    reader = PdfReader(io.BytesIO(pdf))
    fields = [f.get_object() for f in reader.trailer["/Root"]["/AcroForm"]["/Fields"]]
    assert [str(f.get("/T")) for f in fields] == ["Sigill seal"]


def test_the_receipt_alone_is_the_sealed_files_receipt_page_without_footer_or_values(sealed):
    """The receipt kept beside the sealed file is cut out of the pipeline's drawing (the receipt is
    drawn once per document): the same page as the sealed file's last, nothing of the footers or
    the values drawn in the same reportlab document, and a file qpdf accepts."""
    _original, pdf, receipt = sealed
    qpdf_check(receipt)
    [text] = page_texts(receipt)
    sealed_receipt_page = page_texts(pdf)[-1]
    assert "Signeringskvitto" in text and FINGERPRINT in text
    assert " ".join(text.split()) in " ".join(sealed_receipt_page.split())  # that page has the footer as well
    assert "Bertil Åkesson" not in text and "Sara Svensson" not in text
    assert "verifiera på" not in text  # the footer's words
    assert "Bertil Åkesson" not in str(PdfReader(io.BytesIO(receipt)).pages[0].get_contents().get_data())


def test_an_already_signed_form_is_left_as_it_is(sealed):
    from core.fields.flatten import flatten
    from core.sealing.stamp import open_writer, write

    _original, signed, _receipt = sealed
    writer = open_writer(signed)
    flatten(writer, {})
    again = write(writer)
    reader = PdfReader(io.BytesIO(again))
    assert [str(f.get_object().get("/T")) for f in reader.trailer["/Root"]["/AcroForm"]["/Fields"]] == ["Sigill seal"]
    assert "Signature Validation: Signature is Valid." in pdfsig(again)


@pytest.mark.parametrize(("count", "listed"), [(2, True), (13, False)])
def test_the_receipt_lists_each_partys_values_or_counts_them_and_names_the_hash(count, listed):
    from dataclasses import replace

    from core.sealing.receipt import render_receipt

    receipt = make_receipt(1)
    values = tuple((f"Fält {n}", f"Värde {n}") for n in range(count))
    sara = replace(receipt.parties[1], field_values=values, field_values_sha256="ab" * 32)
    text = " ".join(page_texts(render_receipt(replace(receipt, parties=(receipt.parties[0], sara)), "sv")))
    assert "Ifyllda fält" in text and "ab" * 32 in " ".join(text.split())
    assert ("Fält 0: Värde 0" in text) is listed
    assert ("13 fält, se dokumentet" in text) is not listed
