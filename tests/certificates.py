"""X.509 certificates for tests: one builder for signers, CAs and TLS servers."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID


def certificate_for(name: str, key, organisation: str | None = None, issuer=None, ca: bool = False,
                    hosts: tuple[str, ...] = (), days: int = 30) -> x509.Certificate:
    """A certificate naming `name` (and `organisation`) for `key`, issued by `issuer` (its key and
    certificate), else self-signed, valid from an hour ago for `days` days.

    Plain: a signer's (digital signature, non-repudiation). `ca`: a CA that signs certificates.
    `hosts`: a self-signed TLS server for these DNS names, its own trust anchor (a client loads it
    as its CA file).
    """
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    subject = x509.Name(attributes)
    issuer_key, issuer_cert = issuer or (key, None)
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert is not None else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca or bool(hosts), path_length=None), critical=True))
    if hosts:
        builder = (builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    else:
        usage = (False, False, False, False, False, True, True, False, False) if ca else (
            True, True, False, False, False, False, False, False, False)
        builder = builder.add_extension(x509.KeyUsage(*usage), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())
