"""The seal certificate: loading it, and a development one when none is configured."""

import datetime
import fcntl
import logging
import os
import secrets
from functools import cache
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

log = logging.getLogger(__name__)

DEV_P12 = "dev-seal.p12"
DEV_PASSWORD = "dev-seal.password"  # noqa: S105 - a file name, not a password
DEV_ROOT = "dev-root.pem"
DEV_VALIDITY = datetime.timedelta(days=3650)


def ensure_dev_seal(directory: str | Path) -> tuple[Path, bytes]:
    """Create (once) a development root CA and seal certificate; return the p12 and password.

    Never for production: anyone with the directory can seal documents as us. Safe when several
    processes or job threads seal for the first time at once: one makes the files (each written
    whole, then renamed into place), the others wait and read them (without the lock each made a
    pair, and a seal read one's password with the other's p12: "Invalid password or PKCS12 data").
    """
    directory = Path(directory)
    p12_path, password_path = directory / DEV_P12, directory / DEV_PASSWORD
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".dev-seal.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # per open file: threads of one process wait too
        try:
            if not p12_path.exists():
                password = secrets.token_urlsafe(24).encode()
                p12, root_pem = _make_dev_seal(password)
                _write_whole(password_path, password, private=True)
                _write_whole(directory / DEV_ROOT, root_pem)
                _write_whole(p12_path, p12, private=True)  # last: it says the set is complete
            password = password_path.read_bytes()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    log.warning("Sealing with a DEVELOPMENT seal certificate (%s): set SEAL_P12", p12_path)
    return p12_path, password


def _write_whole(path: Path, data: bytes, private: bool = False) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    if private:
        partial.chmod(0o600)
    os.replace(partial, path)


def dev_root(directory: str | Path) -> asn1_x509.Certificate:
    """The development root CA, to trust when validating development seals."""
    return load_pem_certificate((Path(directory) / DEV_ROOT).read_bytes())


def load_pem_certificate(pem: bytes) -> asn1_x509.Certificate:
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def _make_dev_seal(password: bytes) -> tuple[bytes, bytes]:
    root_key = ec.generate_private_key(ec.SECP256R1())
    seal_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate(
        _name("Sigill Development Root CA"), root_key.public_key(), root_key, None, ca=True
    )
    seal = _certificate(_name("Sigill Development Seal"), seal_key.public_key(), root_key, root)
    p12 = pkcs12.serialize_key_and_certificates(
        b"sigill-seal",
        seal_key,
        seal,
        [root],
        serialization.BestAvailableEncryption(password),
    )
    return p12, root.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sigill (development)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(subject, public_key, issuer_key, issuer, ca: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    usage = dict.fromkeys(
        (
            "digital_signature", "content_commitment", "key_encipherment",
            "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
            "encipher_only", "decipher_only",
        ),
        False,
    )
    if ca:
        usage.update(key_cert_sign=True, crl_sign=True)
    else:
        # content_commitment is the newer name of nonRepudiation.
        usage.update(digital_signature=True, content_commitment=True)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + DEV_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA256())


class KeptKeySigner(SimpleSigner):
    """SimpleSigner that signs with a parsed `cryptography` key kept in memory.

    pyHanko's SimpleSigner re-parses the DER private key on every signature, which
    measured ~36 of ~48 ms per B-B seal (see shared/notes/pades.md).
    """

    def __init__(self, private_key, **kwargs):
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algorithm = getattr(hashes, digest_algorithm.upper().replace("-", "_"))()
        if mechanism == "ecdsa":
            return self._private_key.sign(data, ec.ECDSA(hash_algorithm))
        if mechanism == "rsassa_pkcs1v15":
            return self._private_key.sign(data, padding.PKCS1v15(), hash_algorithm)
        return super().sign_raw(data, digest_algorithm)

    def __reduce__(self):
        """Pickled as its DER key and certificates (the parsed key does not pickle): for the
        sealing job's reused bounded child, which is sent the signer once (core.bounded.Kept)."""
        return _signer_from_der, (self.signing_key.dump(), self.signing_cert.dump(),
                                  tuple(c.dump() for c in self.cert_registry))


def _signer_from_der(key_der: bytes, certificate_der: bytes, chain_der: tuple[bytes, ...]) -> "KeptKeySigner":
    return KeptKeySigner(
        serialization.load_der_private_key(key_der, password=None),
        signing_cert=asn1_x509.Certificate.load(certificate_der),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(c) for c in chain_der]),
    )


def signer_from_key(private_key, certificate, chain=()) -> KeptKeySigner:
    """A pyHanko signer from `cryptography` objects (the key is used as is, never re-parsed)."""
    der_key = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return KeptKeySigner(
        private_key,
        signing_cert=_to_asn1(certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs([_to_asn1(c) for c in chain]),
    )


@cache
def _load(p12_path: str, password: bytes, mtime_ns: int) -> KeptKeySigner:
    key, certificate, chain = pkcs12.load_key_and_certificates(
        Path(p12_path).read_bytes(), password
    )
    if key is None or certificate is None:
        raise ValueError(f"{p12_path} holds no private key and certificate")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{p12_path}: only RSA and ECDSA seal keys are supported")
    return signer_from_key(key, certificate, chain)


def load_seal_signer(p12_path: str | Path, password: bytes | None) -> KeptKeySigner:
    """The seal signer for a PKCS#12 file, parsed once per file version and cached."""
    path = Path(p12_path)
    return _load(str(path.resolve()), password, path.stat().st_mtime_ns)


def _to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
