"""A party who signs with BankID gets a printed signature block in their signature field: signed
electronically, the name BankID returned (not the name the sender typed), the method and the time;
the order's userNonVisibleData binds the hash of their values, and the sealed document shows both."""

from __future__ import annotations

import json

import pytest

from core.fields.values import values_sha256
from core.models import Signature
from core.storage import blobs
from tenants.scoping import tenant_context
from tests.fields.helpers import BOXES, lease_with_fields, text_in_box
from tests.fields.test_signer_fields import save
from tests.fields.test_signer_fields import sign as sign_by_touch
from tests.sealing.checks import page_texts, pdfsig, qpdf_check
from tests.signing_bankid.conftest import ALICE
from tests.signing_bankid.helpers import collect, sign, start
from tests.signing_bankid.test_bankid_method import approve_on_phone, drain_in_a_thread


@pytest.fixture(autouse=True)
def collect_at_once(app):
    app.config["BANKID_COLLECT_INTERVAL"] = 0


def test_a_bankid_signature_field_shows_bankids_name_method_and_time(app, client, sim, people):
    made = lease_with_fields(people.bob, values={"rent": "9500"}, methods=("bankid", "touch"))
    tenant, landlord = made.links["tenant"], made.links["landlord"]
    save(client, tenant, {"full_name": "Sara Svensson"})
    started = start(client, tenant)["data"]
    approve_on_phone(sim, started["qr"], ALICE)
    assert collect(client, tenant, started["order"])["data"]["status"] == "complete"
    assert sign(client, tenant, started["order"]).status_code == 302
    assert sign_by_touch(client, landlord).status_code == 302
    drain_in_a_thread(app)  # the sealing job

    expected = values_sha256({"full_name": "Sara Svensson", "rent": "9500", "moving_in": None, "pets": False})
    case = made.case()
    with tenant_context(made.tenant_id):
        assert case.status == "completed"
        signature = Signature.query.filter_by(method="bankid").one()
        assert signature.field_values_sha256 == expected
        assert json.loads(signature.evidence["user_non_visible_data"])["field_values_sha256"] == expected
        [document] = case.documents
        pdf = blobs().get(document.sealed_sha256)
    original = pdf[: pdf.index(b"%%EOF") + 5]
    block = text_in_box(pdf, original, BOXES["tenant_signature"])
    assert block.startswith("Signed electronically Alice Andersson BankID ·"), block
    assert "Sara Svensson" not in block
    assert text_in_box(pdf, original, BOXES["full_name"]) == "Sara Svensson"
    assert text_in_box(pdf, original, BOXES["landlord_signature"]) == ""  # the landlord's drawn image
    qpdf_check(pdf)
    assert "Signature Validation: Signature is Valid." in pdfsig(pdf)
    receipt = " ".join(page_texts(pdf)[-1].split())
    assert expected in "".join(receipt.split()) and "Full name: Sara Svensson" in receipt
