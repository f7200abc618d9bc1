"""Driving the BankID method through the signer's routes, as the page's script does."""

from __future__ import annotations

import re
from typing import Any

from tests import support

_DIGEST = re.compile(r'name="documents_digest" value="([0-9a-f]{64})"')


def digest_on(client, path: str) -> str:
    return _DIGEST.search(client.get(path).get_data(as_text=True)).group(1)


def action(client, path: str, name: str, **form: Any):
    """POST a BankID step the way bankid.js does (form fields + CSRF token, JSON wanted)."""
    return support.post(client, f"{path}/method/bankid/{name}", form, token_from=path,
                        headers={"Accept": "application/json"})


def start(client, path: str, device: str = "other", **extra: Any) -> dict[str, Any]:
    form = {"consent": "yes", "documents_digest": digest_on(client, path), "device": device, **extra}
    response = action(client, path, "start", **form)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def collect(client, path: str, order: int) -> dict[str, Any]:
    response = action(client, path, "collect", order=order)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def sign(client, path: str, order: int | str, digest: str | None = None):
    form = {"method": "bankid", "consent": "yes", "documents_digest": digest or digest_on(client, path),
            "bankid_order": order}
    return support.post(client, f"{path}/sign", form, token_from=path)
