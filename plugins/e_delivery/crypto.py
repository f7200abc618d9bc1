"""Encryption at rest for delivered files: AES-256-GCM with a fresh key per file.

The per-file key is kept in the row wrapped by the core's encryption at rest
(`core.encryption`: the tenant's key under FILE_KEYS, bound to the tenant and the case), so a
copied storage folder or database dump alone leaks nothing, and `sigill files rotate` re-wraps
only the small keys, never the files. The file's associated data binds the ciphertext to the
tenant and case, so a blob cannot be swapped between cases.

Rows written before the core had encryption at rest hold keys wrapped under a key derived from
`DELIVERY_KEY` (or SECRET_KEY when that was unset); they still open, and `sigill files rotate`
moves them to FILE_KEYS.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from core import encryption

NONCE = 12


def _legacy_kek() -> bytes:
    secret = current_app.config.get("DELIVERY_KEY") or current_app.config["SECRET_KEY"]
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sigill", info=b"e-delivery kek v1").derive(
        secret.encode()
    )


def _aad(tenant_id: int, case_id: int) -> bytes:
    return f"sigill-e-delivery:{tenant_id}:{case_id}".encode()


def _context(case_id: int) -> str:
    return f"e_delivery:case:{int(case_id)}"


def encrypt(data: bytes, tenant_id: int, case_id: int) -> tuple[bytes, str]:
    """Returns (nonce + ciphertext, wrapped key as text)."""
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE)
    ciphertext = nonce + AESGCM(key).encrypt(nonce, data, _aad(tenant_id, case_id))
    wrapped = encryption.encrypt(key, tenant_id, _context(case_id))
    return ciphertext, base64.b64encode(wrapped).decode()


def _unwrap(wrapped_key: str, tenant_id: int, case_id: int) -> bytes:
    wrapped = base64.b64decode(wrapped_key)
    if encryption.is_ciphertext(wrapped):
        return encryption.decrypt(wrapped, tenant_id, _context(case_id))
    return AESGCM(_legacy_kek()).decrypt(wrapped[:NONCE], wrapped[NONCE:], _aad(tenant_id, case_id))


def decrypt(blob: bytes, wrapped_key: str, tenant_id: int, case_id: int) -> bytes:
    key = _unwrap(wrapped_key, tenant_id, case_id)
    return AESGCM(key).decrypt(blob[:NONCE], blob[NONCE:], _aad(tenant_id, case_id))


def rewrap(wrapped_key: str, tenant_id: int, case_id: int) -> str | None:
    """The file's key wrapped under the current FILE_KEYS key, or None when it already is."""
    wrapped = base64.b64decode(wrapped_key)
    if encryption.is_ciphertext(wrapped):
        again = encryption.reencrypt(wrapped, tenant_id, _context(case_id))
    else:
        again = encryption.encrypt(_unwrap(wrapped_key, tenant_id, case_id), tenant_id, _context(case_id))
    return base64.b64encode(again).decode() if again is not None else None
