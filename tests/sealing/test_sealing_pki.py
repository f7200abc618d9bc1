import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from asn1crypto import x509
from pyhanko.sign.signers import pdf_cms

from core.sealing.pki import dev_root, ensure_dev_seal, load_seal_signer
from core.sealing.seal import seal_pdf
from core.sealing.validate import validate_sealed
from tests.sealing.pdfs import reportlab_pdf


def test_a_development_seal_is_made_once_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="core.sealing.pki"):
        first = ensure_dev_seal(tmp_path)
        p12 = first[0].read_bytes()
        second = ensure_dev_seal(tmp_path)
    assert first == second
    assert second[0].read_bytes() == p12
    assert "DEVELOPMENT seal" in caplog.text


def test_job_threads_sealing_for_the_first_time_at_once_all_get_the_one_seal(tmp_path):
    # In-process jobs seal in threads; the first seals of a new instance came at once and each
    # made a pair of files, so one read another's password with its own p12 and the seal failed.
    start = threading.Barrier(8)

    def first_seal(_n):
        start.wait()
        p12, password = ensure_dev_seal(tmp_path)
        return password, load_seal_signer(p12, password).signing_cert.dump()

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(first_seal, range(8)))
    assert len(set(got)) == 1
    assert got[0][0] == (tmp_path / "dev-seal.password").read_bytes()


def test_the_development_seal_certificate_is_for_seals(tmp_path):
    signer = load_seal_signer(*ensure_dev_seal(tmp_path))
    cert: x509.Certificate = signer.signing_cert
    assert set(cert.key_usage_value.native) == {"digital_signature", "non_repudiation"}
    assert cert.issuer == dev_root(tmp_path).subject


def test_the_signer_is_loaded_once_per_file(tmp_path):
    p12, password = ensure_dev_seal(tmp_path)
    assert load_seal_signer(p12, password) is load_seal_signer(str(p12), password)


def test_sealing_never_reparses_the_private_key(tmp_path, monkeypatch):
    signer = load_seal_signer(*ensure_dev_seal(tmp_path))

    def refuse(*args, **kwargs):
        raise AssertionError("private key parsed again")

    monkeypatch.setattr(pdf_cms.serialization, "load_der_private_key", refuse)
    sealed = seal_pdf(reportlab_pdf(1), signer)
    assert validate_sealed(sealed, [dev_root(tmp_path)]).verdict == "authentic"
