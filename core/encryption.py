"""Encryption at rest for files and secrets plugins keep: AES-256-GCM under per-tenant keys.

Master keys come from `FILE_KEYS="2026b:<secret>,2026a:<older secret>"` (ids up to 16
characters, secrets of 32+ characters): the first encrypts, every one listed decrypts. Without
it one key is derived from SECRET_KEY (id "sk"), fine for development. Each tenant's key is
derived from a master key with HKDF-SHA256 (`info` names the tenant), so one master key serves
every tenant and no two tenants share a key.

A ciphertext says which master key made it: `SGF1 | key id length | key id | nonce | AES-GCM
ciphertext and tag`. The header, the tenant and the caller's `context` (e.g. "e_delivery:case:12")
are authenticated data: a ciphertext moved to another tenant, case or purpose, or given another
key id, does not decrypt.

Rotation (docs/plugins.md): put a new key first in FILE_KEYS and keep the old ones after it; new
ciphertexts use the new key at once, old ones still decrypt. `sigill files rotate` then asks
every plugin (`reencrypt_files`) to re-encrypt what it keeps under an older key; once it reports
nothing left, the old keys can be removed from FILE_KEYS.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

MAGIC = b"SGF1"
NONCE = 12


class DecryptionError(ValueError):
    """The ciphertext is damaged, not ours, for another tenant or context, or its key is gone."""


def parse_keys(setting: str | None, secret_key: str) -> dict[str, bytes]:
    """`FILE_KEYS` as {id: secret}, the encrypting key first."""
    keys: dict[str, bytes] = {}
    for item in (setting or "").replace("\n", ",").split(","):
        if not item.strip():
            continue
        key_id, _, secret = item.strip().partition(":")
        if not key_id or len(key_id) > 16 or len(secret) < 32 or not key_id.isascii():
            raise ValueError("FILE_KEYS: give id:secret pairs, ids up to 16 characters, secrets of 32+ characters")
        if key_id in keys:
            raise ValueError(f"FILE_KEYS: the key id {key_id!r} is given twice")
        keys[key_id] = secret.encode()
    if not keys:
        keys["sk"] = hmac.new(secret_key.encode(), b"sigill files at rest", hashlib.sha256).digest()
    return keys


def master_keys() -> dict[str, bytes]:
    app = current_app._get_current_object()
    keys = app.extensions.get("sigill_file_keys")
    if keys is None:
        keys = app.extensions["sigill_file_keys"] = parse_keys(app.config.get("FILE_KEYS"), app.config["SECRET_KEY"])
    return keys


def current_key_id() -> str:
    return next(iter(master_keys()))


def tenant_key(key_id: str, tenant_id: int) -> bytes:
    """The tenant's 256-bit key under master key `key_id` (HKDF-SHA256)."""
    try:
        master = master_keys()[key_id]
    except KeyError:
        raise DecryptionError(f"the file key {key_id!r} is not configured (FILE_KEYS)") from None
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sigill files v1",
                info=f"tenant:{int(tenant_id)}".encode()).derive(master)


def _header(key_id: str) -> bytes:
    raw = key_id.encode()
    return MAGIC + bytes([len(raw)]) + raw


def _aad(header: bytes, tenant_id: int, context: str) -> bytes:
    return header + f"|tenant:{int(tenant_id)}|{context}".encode()


def encrypt(data: bytes, tenant_id: int, context: str) -> bytes:
    """`data` encrypted for the tenant under the current master key, bound to `context`."""
    key_id = current_key_id()
    header = _header(key_id)
    nonce = os.urandom(NONCE)
    return header + nonce + AESGCM(tenant_key(key_id, tenant_id)).encrypt(nonce, data, _aad(header, tenant_id, context))


def is_ciphertext(blob: bytes) -> bool:
    return blob[:4] == MAGIC and len(blob) > 5 and len(blob) >= 5 + blob[4] + NONCE + 16


def key_id_of(blob: bytes) -> str:
    if not is_ciphertext(blob):
        raise DecryptionError("not a Sigill ciphertext")
    return blob[5:5 + blob[4]].decode("ascii", "replace")


def decrypt(blob: bytes, tenant_id: int, context: str) -> bytes:
    key_id = key_id_of(blob)
    header_end = 5 + blob[4]
    header, nonce, sealed = blob[:header_end], blob[header_end:header_end + NONCE], blob[header_end + NONCE:]
    try:
        return AESGCM(tenant_key(key_id, tenant_id)).decrypt(nonce, sealed, _aad(header, tenant_id, context))
    except InvalidTag:
        raise DecryptionError("the ciphertext does not decrypt for this tenant and context") from None


def reencrypt(blob: bytes, tenant_id: int, context: str) -> bytes | None:
    """The same plaintext under the current key, or None when `blob` already uses it."""
    if key_id_of(blob) == current_key_id():
        return None
    return encrypt(decrypt(blob, tenant_id, context), tenant_id, context)
