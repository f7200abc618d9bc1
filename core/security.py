"""Small security helpers: link tokens, safe redirects, client address, masking for logs."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

from flask import current_app, request

# The policy of every page: nothing runs or loads from elsewhere (no CDN, no inline script), and
# no other site may frame it. `allow_framing` opens the last for one response.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'")


def allow_framing(response, origins: list[str]) -> None:
    """Let exactly `origins` ("https://host[:port]", already checked) frame this response.

    Sets the response's own Content-Security-Policy: the core's, with `frame-ancestors` listing the
    origins. A response with its own policy gets no X-Frame-Options (which cannot name origins;
    where both are sent a browser may apply the stricter), so the policy alone decides. With no
    origins the response keeps the core's headers: `frame-ancestors 'none'` and
    `X-Frame-Options: DENY`. Only for pages that are safe inside another site's frame: never a
    page that signs, logs in or changes anything with one click (clickjacking).
    """
    if not origins:
        return
    response.headers["Content-Security-Policy"] = CSP.replace("frame-ancestors 'none'",
                                                              "frame-ancestors " + " ".join(origins))
    response.headers.pop("X-Frame-Options", None)


def new_token() -> tuple[str, str]:
    """A link token with 256 random bits and its SHA-256 (the only thing stored)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_hash(*parts: str) -> str:
    """HMAC-SHA256 under the app's secret key (one-time codes, rate-limit keys)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def safe_next_url(target: str | None, default: str) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def client_ip() -> str:
    """The client's address (ProxyFix rewrites remote_addr when TRUSTED_PROXIES is set)."""
    return request.remote_addr or "unknown"


def user_agent() -> str:
    return (request.headers.get("User-Agent") or "")[:500]


def mask_personal_number(number: str | None) -> str:
    """19800101-1234 or 198001011234 -> 19800101-XXXX: the birth date stays readable; never log or
    show a full personal number."""
    if not number:
        return ""
    digits = "".join(c for c in number if c.isdigit())
    return f"{digits[:-4]}-XXXX" if len(digits) > 4 else "XXXX"


def mask_phone(phone: str | None) -> str:
    """+46701234567 -> +4670XXXXX67: enough to recognise, not enough to call."""
    if not phone:
        return ""
    compact = "".join(c for c in phone if c.isdigit() or c == "+")
    if len(compact) <= 6:
        return "X" * len(compact)
    return compact[:5] + "X" * (len(compact) - 7) + compact[-2:]


# A link token in a path: the signer's /s/<token>/... (also under /e-delivery/s/), /reset/<token>,
# /invite/<token>, an emailed confirmation's .../confirm/<token>; also URL-encoded, as in
# ?next=%2Fs%2F<token>.
_LINK_TOKEN = re.compile(r"((?:/|%2F)(?:s|reset|invite|confirm)(?:/|%2F))([A-Za-z0-9_-]+)", re.IGNORECASE)


def mask_link_tokens(text: str) -> str:
    """/s/<token>/sign -> /s/[sha256:1a2b3c4d]/sign: the token is a password, so a log line keeps only
    the start of its SHA-256 (what the database stores), enough to find the party or link."""
    if "/" not in text and "%" not in text:
        return text
    return _LINK_TOKEN.sub(lambda m: f"{m.group(1)}[sha256:{hash_token(m.group(2))[:8]}]", text)
