"""verify_completion accepts only completion data that proves what it claims."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import OCSPExtensionOID

from core.bankid import BankIDEvidenceError, verify_completion
from core.bankid.sim.certs import ensure_certs
from tests.bankid.conftest import ALICE, BERTIL, NON_VISIBLE, VISIBLE, signed_order


@pytest.fixture
def completion(sim, bankid) -> dict[str, Any]:
    order = signed_order(sim, bankid)
    return bankid.collect(order.order_ref).completion_data


def rejected(completion: dict[str, Any], ca, visible: str = VISIBLE, non_visible: str | None = NON_VISIBLE) -> str:
    with pytest.raises(BankIDEvidenceError) as error:
        verify_completion(completion, visible, non_visible, ca_path=ca)
    return error.value.reason


def edit_signature(completion: dict[str, Any], old: bytes, new: bytes) -> dict[str, Any]:
    xml = base64.b64decode(completion["signature"])
    assert old in xml
    return {**completion, "signature": base64.b64encode(xml.replace(old, new)).decode()}


def test_it_rejects_a_tampered_signed_text(sim, completion):
    forged_text = base64.b64encode(b"Sign **something else**")
    original = base64.b64encode(VISIBLE.encode())
    tampered = edit_signature(completion, original, forged_text)
    assert "does not verify" in rejected(tampered, sim.certs.ca, visible="Sign **something else**")


def test_it_rejects_a_tampered_signature_value(sim, completion):
    xml = base64.b64decode(completion["signature"])
    start = xml.index(b"<SignatureValue>") + len(b"<SignatureValue>")
    flipped = b"A" if xml[start:start + 1] != b"A" else b"B"
    tampered = edit_signature(completion, xml[start:start + 8], flipped + xml[start + 1:start + 8])
    assert "does not verify" in rejected(tampered, sim.certs.ca)


def test_it_rejects_a_signature_over_other_texts(sim, completion):
    assert "usrVisibleData differs" in rejected(completion, sim.certs.ca, visible="Another case")
    assert "usrNonVisibleData differs" in rejected(completion, sim.certs.ca, non_visible=None)


def test_it_rejects_a_signer_outside_the_trust_root(completion, tmp_path):
    assert "does not verify" in rejected(completion, ensure_certs(tmp_path).ca)


def test_it_rejects_an_ocsp_response_with_the_wrong_nonce(sim, completion):
    _, cert = sim.book.issuer.credentials(ALICE)
    unbound = sim.book.issuer.ocsp_response(cert, "some other signature")
    forged = {**completion, "ocspResponse": base64.b64encode(unbound).decode()}
    assert rejected(forged, sim.certs.ca) == "OCSP nonce is not SHA-1 of the signature"


def test_it_rejects_an_ocsp_response_about_someone_else(sim, completion):
    _, cert = sim.book.issuer.credentials(BERTIL)
    other = sim.book.issuer.ocsp_response(cert, completion["signature"])
    forged = {**completion, "ocspResponse": base64.b64encode(other).decode()}
    assert rejected(forged, sim.certs.ca) == "OCSP response is about another certificate"


def test_it_rejects_a_user_who_is_not_the_certificate_holder(sim, completion):
    forged = {**completion, "user": {**completion["user"], "personalNumber": BERTIL.personal_number}}
    assert rejected(forged, sim.certs.ca) == "completionData.user is not the certificate's holder"


def test_it_rejects_missing_parts(sim, completion):
    assert rejected({**completion, "ocspResponse": None}, sim.certs.ca) == "completionData has no ocspResponse"
    assert "not valid base64" in rejected({**completion, "signature": "@@@"}, sim.certs.ca)


def test_it_accepts_a_nonce_without_the_inner_octet_string(sim, completion):
    """Some responders put the 20 raw bytes in extnValue instead of RFC 8954's OCTET STRING."""
    _, cert = sim.book.issuer.credentials(ALICE)
    raw_nonce = hashlib.sha1(completion["signature"].encode()).digest()  # noqa: S324
    response = sim.book.issuer.signed_ocsp(cert, x509.UnrecognizedExtension(OCSPExtensionOID.NONCE, raw_nonce))
    raw = {**completion, "ocspResponse": base64.b64encode(response).decode()}
    assert verify_completion(raw, VISIBLE, NON_VISIBLE, ca_path=sim.certs.ca)["name"] == "Alice Andersson"
