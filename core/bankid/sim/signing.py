"""What the simulated BankID app and server produce on completion: a real XML signature and OCSP response.

The XML follows the layout of BankID's own signatures: an enveloping `Signature` whose two
references cover `bankIdSignedData` (the user's data plus server info with a nonce) and `KeyInfo`
(the user's chain). Each signed element redeclares its namespace, so the document text is already in
canonical form, as BankID's is. The OCSP response binds the signature: its nonce is SHA-1 of the
base64 `signature` string.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import threading
from dataclasses import dataclass
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from core.bankid.sim.certs import CertPaths, issue, load_cert, load_key, name, new_key

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
BANKID_NS = "http://www.bankid.com/signature/v1.0.0/types"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


@dataclass(frozen=True)
class TestUser:
    """A person holding a BankID in the simulated phone app."""

    personal_number: str
    given_name: str
    surname: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.surname}"


@dataclass(frozen=True)
class SignedData:
    """What the user's app signs: the RP's base64 data as received, and the order's context."""

    visible_b64: str | None
    non_visible_b64: str | None
    function: str  # "Signing" or "Identification"
    end_user_ip: str


class BankIDIssuer:
    """The simulated bank: issues user certificates once per person and answers OCSP for them."""

    def __init__(self, certs: CertPaths) -> None:
        self.root = load_cert(certs.ca)
        self.user_ca = load_cert(certs.user_ca)
        self.user_ca_key = load_key(certs.user_ca_key)
        self.ocsp_cert = load_cert(certs.ocsp_cert)
        self.ocsp_key = load_key(certs.ocsp_key)
        self._users: dict[str, tuple[rsa.RSAPrivateKey, x509.Certificate]] = {}
        self._lock = threading.Lock()

    def credentials(self, user: TestUser) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        """The user's key and certificate, issued on first use (key generation is the slow part)."""
        with self._lock:
            if user.personal_number not in self._users:
                self._users[user.personal_number] = self._issue_user(user)
            return self._users[user.personal_number]

    def _issue_user(self, user: TestUser) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        key = new_key()
        subject = name(
            f"{user.name}",
            given_name=user.given_name,
            surname=user.surname,
            serial_number=user.personal_number,
        )
        return key, issue(subject, key, self.user_ca, self.user_ca_key, ca=False)

    def completion_evidence(self, user: TestUser, data: SignedData) -> tuple[str, str]:
        """The base64 XML signature and base64 DER OCSP response for one completed order."""
        key, cert = self.credentials(user)
        signature_b64 = base64.b64encode(xml_signature(key, [cert, self.user_ca], data)).decode()
        return signature_b64, base64.b64encode(self.ocsp_response(cert, signature_b64)).decode()

    def ocsp_response(self, cert: x509.Certificate, signature_b64: str) -> bytes:
        """A signed 'good' OCSP response for `cert` whose nonce binds it to the signature."""
        nonce = hashlib.sha1(signature_b64.encode("ascii")).digest()  # noqa: S324 - BankID's binding
        return self.signed_ocsp(cert, x509.OCSPNonce(nonce))

    def signed_ocsp(self, cert: x509.Certificate, nonce: x509.ExtensionType) -> bytes:
        """A 'good' OCSP response (DER) by the bank's responder, carrying the given nonce extension."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert, issuer=self.user_ca,
                algorithm=hashes.SHA1(),  # noqa: S303 - OCSP CertIDs use SHA-1, as BankID's do
                cert_status=ocsp.OCSPCertStatus.GOOD, this_update=now, next_update=None,
                revocation_time=None, revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.ocsp_cert)
            .certificates([self.ocsp_cert])
            .add_extension(nonce, critical=False)
        )
        return builder.sign(self.ocsp_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def xml_signature(key: rsa.RSAPrivateKey, chain: list[x509.Certificate], data: SignedData) -> bytes:
    """An enveloping XML-DSig signature in BankID's layout, signed RSA-SHA256 with `key`."""
    key_info = _key_info(chain)
    signed_data = _bankid_signed_data(data)
    signed_info = _signed_info(_digest(signed_data), _digest(key_info))
    value = key.sign(signed_info.encode(), padding.PKCS1v15(), hashes.SHA256())
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
        f'<Signature xmlns="{DSIG_NS}">{signed_info}'
        f"<SignatureValue>{base64.b64encode(value).decode()}</SignatureValue>"
        f"{key_info}<Object>{signed_data}</Object></Signature>"
    ).encode()


def _digest(canonical_xml: str) -> str:
    return base64.b64encode(hashlib.sha256(canonical_xml.encode()).digest()).decode()


def _reference(uri: str, digest: str, type_: str | None = None) -> str:
    type_attr = f' Type="{type_}"' if type_ else ""
    return (
        f'<Reference{type_attr} URI="{uri}"><Transforms><Transform Algorithm="{C14N11}">'
        f'</Transform></Transforms><DigestMethod Algorithm="{SHA256}"></DigestMethod>'
        f"<DigestValue>{digest}</DigestValue></Reference>"
    )


def _signed_info(data_digest: str, key_info_digest: str) -> str:
    return (
        f'<SignedInfo xmlns="{DSIG_NS}"><CanonicalizationMethod Algorithm="{C14N11}">'
        f'</CanonicalizationMethod><SignatureMethod Algorithm="{RSA_SHA256}"></SignatureMethod>'
        f"{_reference('#bidSignedData', data_digest, BANKID_NS)}"
        f"{_reference('#bidKeyInfo', key_info_digest)}</SignedInfo>"
    )


def _key_info(chain: list[x509.Certificate]) -> str:
    certs = "".join(
        f"<X509Certificate>{base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()}"
        "</X509Certificate>"
        for c in chain
    )
    return f'<KeyInfo xmlns="{DSIG_NS}" Id="bidKeyInfo"><X509Data>{certs}</X509Data></KeyInfo>'


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _bankid_signed_data(data: SignedData) -> str:
    visible = (
        f'<usrVisibleData charset="UTF-8" visible="wysiwys">{escape(data.visible_b64)}</usrVisibleData>'
        if data.visible_b64 else ""
    )
    non_visible = (
        f"<usrNonVisibleData>{escape(data.non_visible_b64)}</usrNonVisibleData>"
        if data.non_visible_b64 else ""
    )
    server = (
        f"<srvInfo><name>{_b64('Sigill BankID simulator')}</name>"
        f"<nonce>{base64.b64encode(secrets.token_bytes(20)).decode()}</nonce>"
        f"<displayName>{_b64('Sigill test')}</displayName></srvInfo>"
    )
    client = (
        f"<clientInfo><funcId>{data.function}</funcId><version>{_b64('simulator-1')}</version>"
        f"<env><ai><type>{_b64('SIMULATOR')}</type><deviceInfo>{_b64('sim')}</deviceInfo>"
        f"<uhi>{_b64(data.end_user_ip)}</uhi><fsib>0</fsib><utb>cs1</utb>"
        f"<requirement><condition><type>AllowedPolicies</type><value>1.2.3.4.25</value>"
        f"</condition></requirement><uauth>pw</uauth></ai></env></clientInfo>"
    )
    return (
        f'<bankIdSignedData xmlns="{BANKID_NS}" Id="bidSignedData">'
        f"{visible}{non_visible}{server}{client}</bankIdSignedData>"
    )


def common_name(cert: x509.Certificate) -> str:
    """The certificate's CN, for the phone page and logs."""
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
