"""A test PKI on loopback: root CA, seal certificate, RFC 3161 TSA, OCSP responder and CRLs.

certomancer builds the certificates from the YAML-like dict below and its "animator"
WSGI app serves the TSA, OCSP and CRL endpoints; werkzeug runs it in a thread on
127.0.0.1 with a free port. Keys are ECDSA P-256 because certomancer re-parses its
private keys on every request and EC keys parse in microseconds (RSA takes ~30 ms).
"""

import threading
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import CertomancerConfig
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.keys import load_private_key_from_pemder
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from werkzeug.serving import WSGIRequestHandler, make_server

from core.sealing.pki import KeptKeySigner
from core.sealing.seal import sealing_context

ARCH = "sigill-test"
VALIDITY = {"valid-from": "2020-01-01T00:00:00+0000", "valid-to": "2100-01-01T00:00:00+0000"}
KEYS = ("root", "seal", "tsa", "ocsp")


@dataclass
class LocalPKI:
    root: object  # asn1crypto Certificate
    signer: KeptKeySigner
    tsa_url: str
    server: object

    def validation_context(self) -> ValidationContext:
        """What sealing needs: trust the root, fetch OCSP/CRL answers to embed."""
        return sealing_context([self.root])

    def stop(self) -> None:
        self.server.shutdown()


def start_local_pki(directory: Path, revinfo_seconds: int | None = None) -> LocalPKI:
    """Start the TSA, OCSP and CRL services and return what sealing needs.

    `revinfo_seconds` makes OCSP answers and CRLs expire that soon (default: 10 minutes
    and 90 days), to show that validation does not depend on their staying fresh.
    """
    for label in KEYS:
        key = ec.generate_private_key(ec.SECP256R1())
        (directory / f"{label}.key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    server = make_server(
        "127.0.0.1", 0, _Deferred(), threaded=True, request_handler=_QuietHandler
    )
    prefix = f"http://127.0.0.1:{server.port}"
    config = CertomancerConfig(_config(prefix, revinfo_seconds), key_search_dir=str(directory))
    arch = config.get_pki_arch(ARCH)
    server.app.target = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return LocalPKI(
        root=_parsed(arch.get_cert("root")),
        signer=_seal_signer(arch, directory),
        tsa_url=f"{prefix}/{ARCH}/tsa/tsa",
        server=server,
    )


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        """Keep test output readable: a seal makes four requests."""


class _Deferred:
    """WSGI app set after the server has its port, since the URLs go into certificates."""

    target = None

    def __call__(self, environ, start_response):
        return self.target(environ, start_response)


def _seal_signer(arch, directory: Path) -> KeptKeySigner:
    pem = (directory / "seal.key.pem").read_bytes()
    return KeptKeySigner(
        serialization.load_pem_private_key(pem, password=None),
        signing_cert=_parsed(arch.get_cert("seal")),
        signing_key=load_private_key_from_pemder(directory / "seal.key.pem", None),
        cert_registry=SimpleCertificateStore.from_certs([_parsed(arch.get_cert("root"))]),
    )


def _parsed(certificate: x509.Certificate) -> x509.Certificate:
    """The certificate as if read from a file, like a production seal's.

    certomancer builds certificates as asn1crypto structures, which re-serialise
    themselves on every dump(); a parsed certificate keeps its DER bytes.
    """
    return x509.Certificate.load(certificate.dump())


def _key_usage(*usages: str, critical: bool = True) -> dict:
    return {"id": "key_usage", "critical": critical,
            "smart-value": {"schema": "key-usage", "params": list(usages)}}


def _config(prefix: str, revinfo_seconds: int | None) -> dict:
    ocsp_pointer = {"id": "authority_information_access",
                    "smart-value": {"schema": "aia-urls",
                                    "params": {"ocsp-responder-names": ["root-ocsp"]}}}
    crl_pointer = {"id": "crl_distribution_points",
                   "smart-value": {"schema": "crl-dist-url",
                                   "params": {"crl-repo-names": ["root"]}}}
    leaf = {"issuer": "root", "validity": VALIDITY}
    ocsp_validity = {"validity-period": {"seconds": revinfo_seconds}} if revinfo_seconds else {}
    crl_schedule = f"PT{revinfo_seconds}S" if revinfo_seconds else "P90D"
    return {
        "external-url-prefix": prefix,
        "keysets": {ARCH: {"keys": {k: {"path": f"{k}.key.pem"} for k in KEYS}}},
        "pki-architectures": {ARCH: {
            "keyset": ARCH,
            "entity-defaults": {"country-name": "SE", "organization-name": "Sigill Test PKI"},
            "entities": {
                "root": {"common-name": "Sigill Test Root"},
                "seal": {"common-name": "Sigill Test Seal"},
                "tsa": {"common-name": "Sigill Test TSA"},
                "ocsp": {"common-name": "Sigill Test OCSP"},
            },
            "certs": {
                "root": {"subject": "root", "issuer": "root", "validity": VALIDITY,
                         "extensions": [
                             {"id": "basic_constraints", "critical": True,
                              "value": {"ca": True}},
                             _key_usage("digital_signature", "key_cert_sign", "crl_sign")]},
                "seal": {**leaf, "extensions": [
                    _key_usage("digital_signature", "non_repudiation"),
                    ocsp_pointer, crl_pointer]},
                "tsa": {**leaf, "extensions": [
                    _key_usage("digital_signature", "non_repudiation"),
                    {"id": "extended_key_usage", "critical": True,
                     "value": ["time_stamping"]},
                    crl_pointer]},
                "ocsp": {**leaf, "extensions": [
                    _key_usage("digital_signature"),
                    {"id": "extended_key_usage", "critical": True,
                     "value": ["ocsp_signing"]},
                    {"id": "ocsp_no_check"}]},
            },
            "services": {
                "ocsp": {"root-ocsp": {"for-issuer": "root", "responder-cert": "ocsp",
                                       "signing-key": "ocsp", **ocsp_validity}},
                "crl-repo": {"root": {"for-issuer": "root", "signing-key": "root",
                                      "simulated-update-schedule": crl_schedule}},
                "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
            },
        }},
    }
