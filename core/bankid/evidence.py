"""Checking BankID completion data before it is stored as evidence of a signature.

A completed order is only evidence if (1) the XML signature verifies with a certificate chaining to
the configured BankID trust root, (2) what it signed is exactly what we asked the signer to sign, and
(3) the OCSP response is a 'good' answer for that certificate, signed by the issuer's responder, and
bound to this very signature by its nonce (SHA-1 of the base64 signature string).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidInput, SignXMLException

BANKID_NS = "http://www.bankid.com/signature/v1.0.0/types"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"


_ATTRIBUTE_NAMES = {NameOID.SERIAL_NUMBER: "serialNumber", NameOID.GIVEN_NAME: "GN",
                    NameOID.SURNAME: "SN"}


class BankIDEvidenceError(Exception):
    """The completion data does not prove what it claims; `reason` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify_completion(completion_data: dict[str, Any], expected_visible: str | None,
                      expected_non_visible: str | None, *, ca_path: str | Path) -> dict[str, Any]:
    """Verify signature, signed data and OCSP binding; return the evidence worth keeping.

    `expected_visible`/`expected_non_visible` are the texts we sent (before base64), or None when
    none was sent. `ca_path` is the PEM trust root of BankID's signing certificates.
    """
    signature_b64 = _required(completion_data, "signature")
    signed_data, signer, chain = _verify_xml(signature_b64, ca_path)
    _check_signed_texts(signed_data, expected_visible, expected_non_visible)
    issuer = _issuer_of(signer, chain)
    produced_at = _verify_ocsp(_required(completion_data, "ocspResponse"), signature_b64, signer, issuer)
    user = completion_data.get("user") or {}
    _check_person(user.get("personalNumber"), signer)
    return {
        "name": user.get("name"),
        "personal_number": user.get("personalNumber"),
        "given_name": user.get("givenName"),
        "surname": user.get("surname"),
        "ip_address": (completion_data.get("device") or {}).get("ipAddress"),
        "bank_id_issue_date": completion_data.get("bankIdIssueDate"),
        "cert_subject": signer.subject.rfc4514_string(_ATTRIBUTE_NAMES),
        "cert_serial": format(signer.serial_number, "x"),
        "ocsp_produced_at": produced_at.isoformat(),
    }


def _required(completion_data: dict[str, Any], key: str) -> str:
    value = completion_data.get(key)
    if not isinstance(value, str) or not value:
        raise BankIDEvidenceError(f"completionData has no {key}")
    return value


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BankIDEvidenceError(f"{what} is not valid base64") from None


def _verify_xml(signature_b64: str, ca_path: str | Path
                ) -> tuple[etree._Element, x509.Certificate, list[x509.Certificate]]:
    """signxml verification of both references; returns the verified bankIdSignedData and signer."""
    verifier = XMLVerifier()
    # BankID redeclares the default namespace on SignedInfo and KeyInfo; libxml2's c14n then emits
    # spurious xmlns="" on their children. Excising them gives the canonical form BankID signed.
    verifier.excise_empty_xmlns_declarations = True
    try:
        results = verifier.verify(_b64decode(signature_b64, "signature"), ca_pem_file=str(ca_path),
                                  expect_references=2)
    except (SignXMLException, InvalidInput, etree.XMLSyntaxError, ValueError) as exc:
        raise BankIDEvidenceError(f"XML signature does not verify: {exc}") from None
    signed = [r for r in results if r.signed_xml.tag == f"{{{BANKID_NS}}}bankIdSignedData"]
    key_infos = [r for r in results if r.signed_xml.tag == f"{{{DSIG_NS}}}KeyInfo"]
    if len(signed) != 1 or len(key_infos) != 1:
        raise BankIDEvidenceError("XML signature does not cover bankIdSignedData and KeyInfo")
    chain = _certificates(key_infos[0].signed_xml)
    return signed[0].signed_xml, _signer(chain, results[0].signature_key), chain


def _certificates(key_info: etree._Element) -> list[x509.Certificate]:
    texts = key_info.findall(f".//{{{DSIG_NS}}}X509Certificate")
    return [x509.load_der_x509_certificate(_b64decode(t.text or "", "X509Certificate")) for t in texts]


def _signer(chain: list[x509.Certificate], key_pem: bytes) -> x509.Certificate:
    """The KeyInfo certificate holding the key signxml verified with (PEM SubjectPublicKeyInfo)."""
    for cert in chain:
        spki = cert.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
        if spki == key_pem:
            return cert
    raise BankIDEvidenceError("the signing key is not in the signature's KeyInfo")


def _issuer_of(cert: x509.Certificate, chain: list[x509.Certificate]) -> x509.Certificate:
    for candidate in chain:
        if candidate.subject == cert.issuer and candidate is not cert:
            return candidate
    raise BankIDEvidenceError("the signer's issuing CA is missing from KeyInfo")


def _signed_text(signed_data: etree._Element, tag: str) -> str | None:
    element = signed_data.find(f"{{{BANKID_NS}}}{tag}")
    if element is None:
        return None
    try:
        return _b64decode((element.text or "").strip(), tag).decode("utf-8")
    except UnicodeDecodeError:
        raise BankIDEvidenceError(f"signed {tag} is not UTF-8") from None


def _check_signed_texts(signed_data: etree._Element, visible: str | None,
                        non_visible: str | None) -> None:
    if _signed_text(signed_data, "usrVisibleData") != visible:
        raise BankIDEvidenceError("the signed usrVisibleData differs from what was sent")
    if _signed_text(signed_data, "usrNonVisibleData") != non_visible:
        raise BankIDEvidenceError("the signed usrNonVisibleData differs from what was sent")


def _check_person(personal_number: str | None, signer: x509.Certificate) -> None:
    serials = signer.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if serials and personal_number and serials[0].value != personal_number:
        raise BankIDEvidenceError("completionData.user is not the certificate's holder")


def _verify_ocsp(ocsp_b64: str, signature_b64: str, signer: x509.Certificate,
                 issuer: x509.Certificate) -> Any:
    """Status good for this certificate, signed by its issuer's responder, nonce bound to the signature."""
    try:
        response = ocsp.load_der_ocsp_response(_b64decode(ocsp_b64, "ocspResponse"))
    except ValueError as exc:
        raise BankIDEvidenceError(f"ocspResponse is not an OCSP response: {exc}") from None
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise BankIDEvidenceError(f"OCSP response status is {response.response_status.name}")
    if response.serial_number != signer.serial_number or not _same_issuer(response, issuer):
        raise BankIDEvidenceError("OCSP response is about another certificate")
    if response.certificate_status != ocsp.OCSPCertStatus.GOOD:
        raise BankIDEvidenceError(f"OCSP certificate status is {response.certificate_status.name}")
    _check_ocsp_signature(response, issuer)
    if not _nonce_binds(response.tbs_response_bytes, signature_b64):
        raise BankIDEvidenceError("OCSP nonce is not SHA-1 of the signature")
    return response.produced_at_utc


def _same_issuer(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> bool:
    digest = hashlib.new(response.hash_algorithm.name)
    digest.update(_subject_public_key_bits(issuer.public_key()))
    return digest.digest() == response.issuer_key_hash


def _subject_public_key_bits(key: Any) -> bytes:
    """The subjectPublicKey BIT STRING contents, which is what an OCSP CertID hashes."""
    if isinstance(key, rsa.RSAPublicKey):
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(serialization.Encoding.X962,
                                serialization.PublicFormat.UncompressedPoint)
    raise BankIDEvidenceError("the signer's CA key type is not supported")


def _check_ocsp_signature(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> None:
    responder = _responder(response, issuer)
    try:
        _verify_with(responder, response.signature, response.tbs_response_bytes,
                     response.signature_hash_algorithm)
    except InvalidSignature:
        raise BankIDEvidenceError("OCSP response signature does not verify") from None


def _responder(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> x509.Certificate:
    """The issuer itself, or a delegated responder it issued for OCSP signing (RFC 6960 4.2.2.2)."""
    for cert in response.certificates:
        try:
            cert.verify_directly_issued_by(issuer)
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in eku:
            return cert
    if response.responder_name == issuer.subject or not response.certificates:
        return issuer
    raise BankIDEvidenceError("OCSP responder is not authorised by the signer's CA")


def _verify_with(cert: x509.Certificate, signature: bytes, data: bytes, algorithm: Any) -> None:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(algorithm))
    else:
        raise BankIDEvidenceError("OCSP responder key type is not supported")


_NONCE_OID_DER = bytes.fromhex("06092b0601050507300102")  # OBJECT IDENTIFIER id-pkix-ocsp-nonce


def _nonce_binds(tbs_response: bytes, signature_b64: str) -> bool:
    """Whether the signed response data carries a nonce equal to SHA-1 of the base64 signature.

    Read from the DER directly: cryptography and asn1crypto both refuse a nonce that is not wrapped
    in the inner OCTET STRING RFC 8954 asks for, and responders differ; both encodings are accepted.
    """
    expected = hashlib.sha1(signature_b64.encode("ascii")).digest()  # noqa: S324 - BankID's binding
    at = tbs_response.find(_NONCE_OID_DER)
    if at < 0:
        raise BankIDEvidenceError("OCSP response has no nonce")
    rest = tbs_response[at + len(_NONCE_OID_DER):]
    if rest[:2] == b"\x01\x01":  # the optional `critical` BOOLEAN
        rest = rest[3:]
    if rest[:1] != b"\x04" or rest[1] >= 0x80:
        return False
    value = rest[2:2 + rest[1]]
    return value in (expected, b"\x04\x14" + expected)
