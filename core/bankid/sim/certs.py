"""The simulator's own PKI, generated once into a directory and reused on every start.

Two chains hang off one root: the TLS side (server certificate for 127.0.0.1/localhost and the
relying party's client certificate) and the BankID side (a bank's customer CA issuing the test
users' signing certificates, plus an OCSP responder). Clients pin the root for TLS and use it as
the trust root for completion evidence, just as they pin BankID's CAs in production.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

RP_P12_PASSWORD = "qwerty123"  # noqa: S105 - the same public test password BankID uses
_VALID_DAYS = 3650


@dataclass(frozen=True)
class CertPaths:
    """Where the simulator's certificates live; every field is a path to a PEM file unless named otherwise."""

    dir: Path
    ca: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    rp_cert: Path
    rp_key: Path
    rp_p12: Path
    user_ca: Path
    user_ca_key: Path
    ocsp_cert: Path
    ocsp_key: Path
    rp_p12_password: str = RP_P12_PASSWORD


def cert_paths(directory: Path | str) -> CertPaths:
    """The file layout inside a certs directory, whether or not the files exist yet."""
    d = Path(directory)
    return CertPaths(
        dir=d,
        ca=d / "ca.pem",
        ca_key=d / "ca.key",
        server_cert=d / "server.pem",
        server_key=d / "server.key",
        rp_cert=d / "rp.pem",
        rp_key=d / "rp.key",
        rp_p12=d / "rp.p12",
        user_ca=d / "user-ca.pem",
        user_ca_key=d / "user-ca.key",
        ocsp_cert=d / "ocsp.pem",
        ocsp_key=d / "ocsp.key",
    )


def ensure_certs(directory: Path | str) -> CertPaths:
    """Create the simulator's certificates in `directory` unless they are all there already."""
    paths = cert_paths(directory)
    files = [v for v in vars(paths).values() if isinstance(v, Path) and v != paths.dir]
    if all(f.exists() for f in files):
        return paths
    paths.dir.mkdir(parents=True, exist_ok=True)
    ca_key, ca = _write_ca(paths)
    _write_server(paths, ca, ca_key)
    _write_rp(paths, ca, ca_key)
    user_ca_key, user_ca = _write_user_ca(paths, ca, ca_key)
    _write_ocsp_responder(paths, user_ca, user_ca_key)
    return paths


def new_key() -> rsa.RSAPrivateKey:
    """RSA 2048, what BankID's own certificates use."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(common_name: str, **extra: str) -> x509.Name:
    """A Swedish distinguished name; extra attributes are NameOID names in lower case."""
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "SE")]
    attrs += [x509.NameAttribute(getattr(NameOID, k.upper()), v) for k, v in extra.items()]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def issue(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
    eku: list[x509.ObjectIdentifier] | None = None,
    san: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    """Sign one certificate with the extensions strict path validation (WebPKI-style) expects."""
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_key_usage(ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    issuer_public = issuer.public_key() if issuer else public
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _key_usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def load_cert(path: Path) -> x509.Certificate:
    """Read one PEM certificate."""
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path) -> rsa.RSAPrivateKey:
    """Read one unencrypted PEM private key (the simulator's own, never a real one)."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def pem(cert: x509.Certificate) -> bytes:
    """PEM bytes of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, cert: x509.Certificate, key: rsa.RSAPrivateKey, key_path: Path) -> None:
    path.write_bytes(pem(cert))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)


def _write_ca(paths: CertPaths) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = new_key()
    cert = issue(name("Sigill BankID Simulator Root CA", organization_name="Sigill"),
                 key, None, key, ca=True)
    _write(paths.ca, cert, key, paths.ca_key)
    return key, cert


def _write_server(paths: CertPaths, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey) -> None:
    key = new_key()
    san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = issue(name("localhost"), key, ca, ca_key, ca=False,
                 eku=[ExtendedKeyUsageOID.SERVER_AUTH], san=san)
    _write(paths.server_cert, cert, key, paths.server_key)


def _write_rp(paths: CertPaths, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey) -> None:
    key = new_key()
    cert = issue(name("Sigill test relying party", organization_name="Sigill"),
                 key, ca, ca_key, ca=False, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    _write(paths.rp_cert, cert, key, paths.rp_key)
    p12 = pkcs12.serialize_key_and_certificates(
        b"rp", key, cert, [ca],
        serialization.BestAvailableEncryption(RP_P12_PASSWORD.encode()),
    )
    paths.rp_p12.write_bytes(p12)


def _write_user_ca(
    paths: CertPaths, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = new_key()
    cert = issue(name("Sigill Simulated Bank Customer CA for BankID", organization_name="Sigill"),
                 key, ca, ca_key, ca=True)
    _write(paths.user_ca, cert, key, paths.user_ca_key)
    return key, cert


def _write_ocsp_responder(
    paths: CertPaths, user_ca: x509.Certificate, user_ca_key: rsa.RSAPrivateKey
) -> None:
    key = new_key()
    cert = issue(name("Sigill Simulated Bank OCSP responder", organization_name="Sigill"),
                 key, user_ca, user_ca_key, ca=False, eku=[ExtendedKeyUsageOID.OCSP_SIGNING])
    _write(paths.ocsp_cert, cert, key, paths.ocsp_key)
