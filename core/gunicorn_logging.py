"""gunicorn's access log without secrets: `gunicorn --logger-class core.gunicorn_logging.MaskingLogger`.

gunicorn's access log writes the request line, the Referer (a signer page's own requests carry the
page's /s/<token> address there) and, with `%({name}i)s` in `--access-logformat`, any request or
response header or environ value. `MaskingLogger` masks link tokens in every value with
`core.security.mask_link_tokens` and replaces credentials (Authorization with an API key, cookies
with the session, Set-Cookie) by "[redacted]" before the line is formatted; its error log gets the
same path filter as the app's loggers (`core.logging_filters`).
"""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

from core.logging_filters import install_on
from core.security import mask_link_tokens

REDACTED = "[redacted]"
CREDENTIALS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
_NAMED_ATOM = re.compile(r"\{(.+)\}([ioe])")


def _is_credential(atom: str) -> bool:
    """`{authorization}i`, `{set-cookie}o`, `{http_cookie}e` and the like."""
    named = _NAMED_ATOM.fullmatch(atom)
    if not named:
        return False
    name = named.group(1).lower().replace("_", "-")
    if named.group(2) == "e" and name.startswith("http-"):
        name = name[len("http-"):]
    return name in CREDENTIALS


class MaskingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        install_on(self.error_log)

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if not isinstance(value, str):
                continue
            atoms[key] = REDACTED if _is_credential(key) else mask_link_tokens(value)
        return atoms
