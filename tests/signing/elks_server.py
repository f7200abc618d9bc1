"""A local HTTP server that speaks 46elks' SMS API, for tests of the real `ElksGateway` client.

`POST /a1/sms` with HTTP Basic auth and form fields `from`, `to`, `message` (optional
`dontlog`, `whendelivered`, `flashsms`), answered like 46elks: JSON with `id`, `status`,
`from`, `to`, `created`, `parts`, `cost`, `direction`; errors as plain text with 401/403/400.
Every accepted message is kept in `messages`.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
ALPHA_SENDER = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,10}$")


class ElksServer:
    def __init__(self, username: str = "u1234567890abcdef", password: str = "elks-test-password"):  # noqa: S107
        self.username = username
        self.password = password
        self.messages: list[dict] = []
        self.refuse_with: tuple[int, str] | None = None  # e.g. (402, "Not enough credits")
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/a1"

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802  (http.server's name)
                if self.path != "/a1/sms":
                    return self._answer(404, "Not found", "text/plain")
                if not server._authorised(self.headers.get("Authorization", "")):
                    return self._answer(401, "Authentication failed", "text/plain")
                length = int(self.headers.get("Content-Length") or 0)
                if "application/x-www-form-urlencoded" not in (self.headers.get("Content-Type") or ""):
                    return self._answer(400, "Missing key from", "text/plain")
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()}
                problem = server._problem(form)
                if problem:
                    return self._answer(400, problem, "text/plain")
                if server.refuse_with:
                    return self._answer(server.refuse_with[0], server.refuse_with[1], "text/plain")
                return self._answer(200, server._accept(form), "application/json")

            def _answer(self, status: int, body: str, content_type: str):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _authorised(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(user, self.username) and secrets.compare_digest(password, self.password)

    @staticmethod
    def _problem(form: dict) -> str | None:
        for key in ("from", "to", "message"):
            if not form.get(key):
                return f"Missing key {key}"
        if not E164.match(form["to"]):
            return "Invalid to number"
        if not (E164.match(form["from"]) or ALPHA_SENDER.match(form["from"])):
            return "Invalid from number"
        if len(form["message"]) > 1600:
            return "Message too long"
        return None

    def _accept(self, form: dict) -> str:
        import json

        message_id = "s" + secrets.token_hex(16)
        record = {"id": message_id, "from": form["from"], "to": form["to"], "message": form["message"],
                  "dontlog": form.get("dontlog"), "created": datetime.now(UTC).isoformat()}
        with self._lock:
            self.messages.append(record)
        answer = {"status": "created", "direction": "outgoing", "from": form["from"], "to": form["to"],
                  "created": record["created"], "parts": 1, "cost": 3500, "id": message_id}
        if form.get("dontlog") != "message":
            answer["message"] = form["message"]
        return json.dumps(answer)

    def codes_to(self, number: str) -> list[str]:
        return [re.search(r"\b(\d{6})\b", m["message"]).group(1) for m in self.messages if m["to"] == number]
