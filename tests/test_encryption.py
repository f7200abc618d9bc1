"""Encryption at rest (core/encryption.py): per-tenant keys from one master key, key ids in the
ciphertext, old keys kept for decryption, and rotation."""

from __future__ import annotations

import pytest

from core import encryption

OLD = "2026a:" + "o" * 40
NEW = "2026b:" + "n" * 40


def test_a_tenants_data_round_trips_and_opens_for_no_other_tenant_or_context(app):
    blob = encryption.encrypt(b"passport scan", 1, "id_check:party:7")
    assert b"passport scan" not in blob and encryption.key_id_of(blob) == "sk"
    assert encryption.decrypt(blob, 1, "id_check:party:7") == b"passport scan"
    with pytest.raises(encryption.DecryptionError):
        encryption.decrypt(blob, 2, "id_check:party:7")  # another tenant's key
    with pytest.raises(encryption.DecryptionError):
        encryption.decrypt(blob, 1, "id_check:party:8")  # moved to another row
    assert encryption.tenant_key("sk", 1) != encryption.tenant_key("sk", 2)
    assert encryption.encrypt(b"same", 1, "c") != encryption.encrypt(b"same", 1, "c")  # fresh nonces


def test_a_changed_header_or_byte_does_not_decrypt(app):
    blob = bytearray(encryption.encrypt(b"contract", 1, "c"))
    blob[-1] ^= 1
    with pytest.raises(encryption.DecryptionError):
        encryption.decrypt(bytes(blob), 1, "c")
    with pytest.raises(encryption.DecryptionError):
        encryption.decrypt(b"plain bytes, never encrypted", 1, "c")


def test_rotation_keeps_old_ciphertexts_readable_and_reencrypts_them(app_factory):
    before = app_factory(FILE_KEYS=OLD)
    with before.app_context():
        old_blob = encryption.encrypt(b"delivered file key", 3, "e_delivery:case:9")
    rotated = app_factory(FILE_KEYS=f"{NEW},{OLD}")  # the new key first, the old one kept
    with rotated.app_context():
        assert encryption.current_key_id() == "2026b"
        assert encryption.decrypt(old_blob, 3, "e_delivery:case:9") == b"delivered file key"
        new_blob = encryption.reencrypt(old_blob, 3, "e_delivery:case:9")
        assert encryption.key_id_of(new_blob) == "2026b"
        assert encryption.reencrypt(new_blob, 3, "e_delivery:case:9") is None  # already current
    after = app_factory(FILE_KEYS=NEW)  # the old key removed once everything was rotated
    with after.app_context():
        assert encryption.decrypt(new_blob, 3, "e_delivery:case:9") == b"delivered file key"
        with pytest.raises(encryption.DecryptionError, match="2026a"):
            encryption.decrypt(old_blob, 3, "e_delivery:case:9")


@pytest.mark.parametrize("setting", ["short:tooshort", ":" + "x" * 40, "a" * 17 + ":" + "x" * 40,
                                     f"{NEW},{NEW}"])
def test_bad_file_keys_are_refused_with_a_clear_message(setting):
    with pytest.raises(ValueError, match="FILE_KEYS"):
        encryption.parse_keys(setting, "secret")


def test_a_bad_file_keys_setting_stops_the_start(app_factory):
    with pytest.raises(ValueError, match="FILE_KEYS: give id:secret pairs"):
        app_factory(FILE_KEYS="2026a:short")
