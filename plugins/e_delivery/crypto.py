"""Encryption at rest for delivered files: AES-256-GCM with a fresh key per file.

The per-file key is wrapped (AES-GCM again) by a key-encryption key derived with HKDF from
`DELIVERY_KEY`, or from `SECRET_KEY` when that is not set. The file's id-independent associated
data binds ciphertext and key to the tenant and case, so a blob cannot be swapped between cases.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

NONCE = 12


def _kek() -> bytes:
    secret = current_app.config.get("DELIVERY_KEY") or current_app.config["SECRET_KEY"]
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sigill", info=b"e-delivery kek v1").derive(
        secret.encode()
    )


def _aad(tenant_id: int, case_id: int) -> bytes:
    return f"sigill-e-delivery:{tenant_id}:{case_id}".encode()


def encrypt(data: bytes, tenant_id: int, case_id: int) -> tuple[bytes, str]:
    """Returns (nonce + ciphertext, wrapped key as text)."""
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE)
    ciphertext = nonce + AESGCM(key).encrypt(nonce, data, _aad(tenant_id, case_id))
    key_nonce = os.urandom(NONCE)
    wrapped = key_nonce + AESGCM(_kek()).encrypt(key_nonce, key, _aad(tenant_id, case_id))
    return ciphertext, base64.b64encode(wrapped).decode()


def decrypt(blob: bytes, wrapped_key: str, tenant_id: int, case_id: int) -> bytes:
    wrapped = base64.b64decode(wrapped_key)
    key = AESGCM(_kek()).decrypt(wrapped[:NONCE], wrapped[NONCE:], _aad(tenant_id, case_id))
    return AESGCM(key).decrypt(blob[:NONCE], blob[NONCE:], _aad(tenant_id, case_id))
