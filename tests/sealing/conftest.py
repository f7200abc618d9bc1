"""Fixtures for the sealing tests: a local PKI with TSA/OCSP/CRL on loopback, and receipt data."""

from datetime import UTC, datetime

import pytest

from core.sealing.fingerprint import make_fingerprint
from core.sealing.receipt import (
    ReceiptData,
    ReceiptDocument,
    ReceiptParty,
    ReceiptSeal,
    ReceiptSection,
)
from tests.sealing.localpki import start_local_pki

SIGNED_AT = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # summer: Swedish time is UTC+2
DOCUMENT_SHA256 = "9f" * 32
EVIDENCE_HEAD = "e1" * 32
FINGERPRINT = make_fingerprint(DOCUMENT_SHA256, EVIDENCE_HEAD)
VERIFY_URL = f"https://sigill.example/verify/{FINGERPRINT.replace('-', '')}"


@pytest.fixture(scope="session")
def local_pki(tmp_path_factory):
    pki = start_local_pki(tmp_path_factory.mktemp("pki"))
    yield pki
    pki.stop()


@pytest.fixture
def receipt() -> ReceiptData:
    return make_receipt()


def make_receipt(pages: int = 3) -> ReceiptData:
    return ReceiptData(
        organisation="Åkesson & Öberg Fastigheter AB",
        case_title="Hyresavtal Storgatan 1, Umeå",
        case_id="C-2026-0042",
        documents=(ReceiptDocument("hyresavtal.pdf", DOCUMENT_SHA256, pages),),
        parties=(
            ReceiptParty(
                name="Alice Ärlig",
                role="signer",
                method="bankid",
                method_title="BankID",
                email="alice@acme.example",
                verified_name="Alice Ärlig",
                personal_number="198001011234",
                invited_at=SIGNED_AT,
                viewed_at=SIGNED_AT,
                signed_at=SIGNED_AT,
            ),
            ReceiptParty(
                name="Bob Berg",
                role="signer",
                method="sms",
                method_title="SMS-kod",
                phone="+46701234567",
                invited_at=SIGNED_AT,
                viewed_at=SIGNED_AT,
                signed_at=SIGNED_AT,
            ),
        ),
        evidence_head=EVIDENCE_HEAD,
        fingerprint=FINGERPRINT,
        verify_url=VERIFY_URL,
        seal=ReceiptSeal("Sigill Test Seal, Sigill Test PKI, SE", "B-LT", "Sigill Test TSA",
                         SIGNED_AT),
        extra_sections=(ReceiptSection("Intern referens", ("Avdelning: Uthyrning",)),),
    )
