"""No secrets and no full personal numbers in the logs.

Everything logged at DEBUG (a handler on the root logger, the root at DEBUG) is captured while real
flows run against the real app served over HTTP by werkzeug (so its request log is captured too):
an officer fails to log in once and logs in, resets her password, invites a colleague; an API key
is made on the admin page and creates and sends a case through the API; one signer signs with an
SMS code (the real 46elks client against a local 46elks server), another, bound to her personal
number, with BankID (the simulator); the case is sealed by the jobs, the parties open the links
they were mailed, and the webhook is delivered. Then none of the concrete secret values of the run
(link tokens, codes, passwords, keys, BankID's order secrets, the session cookies, SECRET_KEY, the
personal number, the full phone number) may be in the captured text.

Not counted as the service's log: what the test's own HTTP client logs in the test's thread while it
plays browser or BankID app (urllib3 writes every URL it fetches at DEBUG), and the BankID
simulator's loggers (they stand in for BankID's own server, which knows its order refs).
Libraries that set their own level (SQLAlchemy: WARNING) keep it, as in a real deployment.

Also: Flask's "Exception on <path>" log in production, a database error's text (the engine hides
statement values), and gunicorn's access and error logs with `core.gunicorn_logging.MaskingLogger`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from core import jobs
from core.bankid.models import BankIDOrder
from core.bankid.sim.orders import TEST_USERS
from core.extensions import db
from core.jobs import drain
from core.models import Case
from core.security import hash_token, mask_link_tokens, mask_personal_number, mask_phone
from tenants.scoping import tenant_context
from tests import support
from tests.api.conftest import LOOPBACK, Receiver, case_body
from tests.api.helpers import endpoint_secret, signature_ok
from tests.bankid_fixtures import control
from tests.conftest import free_port
from tests.signing.elks_server import ElksServer
from tests.signing.helpers import sign_form
from tests.signing_bankid.conftest import bankid_settings
from tests.signing_bankid.helpers import collect, sign, start

BANKID_PERSON = TEST_USERS[0]
PHONE = "+46701234567"
SIMULATOR_LOGGERS = ("core.bankid.sim", "core.bankid.simulator")


# --- capturing ------------------------------------------------------------------------------------


class Capture(logging.Handler):
    """Every record as formatted text (message, arguments, traceback), except the test's own."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.simulator_lines: list[str] = []
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._local, "paused", False):
            return
        line = self.format(record)
        (self.simulator_lines if record.name.startswith(SIMULATOR_LOGGERS) else self.lines).append(line)

    @contextlib.contextmanager
    def paused(self):
        """Records from this thread are the test's own (its HTTP client), not the service's."""
        self._local.paused = True
        try:
            yield
        finally:
            self._local.paused = False

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def logs():
    """Everything logged at DEBUG and above while the test runs."""
    root = logging.getLogger()
    capture = Capture()
    level, disabled_below = root.level, root.manager.disable
    logging.disable(logging.NOTSET)
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture)
    root.setLevel(level)
    logging.disable(disabled_below)


# --- the service over HTTP ------------------------------------------------------------------------


class Response:
    """A requests response with the test client's accessors, so the shared helpers work over HTTP."""

    def __init__(self, response: requests.Response):
        self.raw = response
        self.status_code = response.status_code
        self.headers = response.headers

    def get_data(self, as_text: bool = False):
        return self.raw.text if as_text else self.raw.content

    def get_json(self):
        return self.raw.json()


class Browser:
    """A person's browser (a requests session) talking to the served app."""

    def __init__(self, base: str, logs: Capture):
        self.base = base
        self.logs = logs
        self.session = requests.Session()
        self.session.headers["Accept-Language"] = "en"

    def request(self, method: str, url: str, follow_redirects: bool = False, **kwargs) -> Response:
        url = url if url.startswith("http") else self.base + url
        with self.logs.paused():
            return Response(self.session.request(method, url, allow_redirects=follow_redirects, timeout=30, **kwargs))

    def get(self, url: str, **kwargs) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data=None, **kwargs) -> Response:
        return self.request("POST", url, data=data, **kwargs)

    def cookies(self) -> list[str]:
        return [c.value for c in self.session.cookies]


@pytest.fixture
def elks():
    server = ElksServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def app(app_factory, port, sim, elks):
    """Everything switched on: BankID (the simulator), SMS through 46elks, webhooks to loopback."""
    app = app_factory(BASE_URL=f"http://127.0.0.1:{port}", WTF_CSRF_ENABLED=True, BANKID_COLLECT_INTERVAL=0,
                      SMS_GATEWAY="46elks", ELKS_URL=elks.url, ELKS_USERNAME=elks.username,
                      ELKS_PASSWORD=elks.password, SMS_SENDER="Acme", WEBHOOK_ALLOWED_NETWORKS=LOOPBACK,
                      **bankid_settings(sim))
    with app.app_context():
        yield app


@pytest.fixture
def served(app, port, logs):
    """The app behind werkzeug's own server, whose request log goes to the `werkzeug` logger."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def mails_to(app, email: str) -> list:
    drain()
    return [m for m in support.outbox_messages(app) if email in str(m["To"])]


def link_in(app, email: str, part: str) -> str:
    return next(u for m in reversed(mails_to(app, email)) for u in support.links_in(m) if part in u)


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def token_of(link: str) -> str:
    return re.search(r"/(?:s|reset|invite)/([A-Za-z0-9_-]+)", link).group(1)


def assert_not_logged(logs: Capture, secrets: dict[str, str]) -> None:
    text = logs.text
    leaked = {name: value for name, value in secrets.items() if value and value in text}
    if leaked:
        lines = [line for line in logs.lines if any(v in line for v in leaked.values())]
        pytest.fail(f"secrets in the log: {sorted(leaked)}\n" + "\n".join(lines[:20]))


# --- the flows ------------------------------------------------------------------------------------


def test_officer_logins_resets_and_invitations_log_no_secrets(app, served, logs, people):
    secrets: dict[str, str] = {"SECRET_KEY": app.config["SECRET_KEY"], "password": support.PASSWORD}
    alice = Browser(served, logs)
    wrong = "not-my-password-7731"
    secrets["wrong password"] = wrong
    assert support.login(alice, people.alice.email, wrong).status_code == 401
    assert support.login(alice, people.alice.email).status_code == 302
    secrets["alice's session cookie"] = alice.cookies()[0]

    forgetful = Browser(served, logs)
    support.post(forgetful, "/forgot", {"email": people.bob.email})
    reset = link_in(app, people.bob.email, "/reset/")
    secrets["reset token"] = token_of(reset)
    new_password = "bobs-brand-new-secret-5521"
    secrets["new password"] = new_password
    response = support.post(forgetful, path_of(reset), {"password": new_password, "confirm": new_password},
                            token_from=path_of(reset))
    assert response.status_code == 302
    assert forgetful.get(path_of(reset)).status_code == 410  # used links are asked for too
    secrets["bob's session cookie"] = forgetful.cookies()[0]

    response = support.post(alice, "/admin/invite", {"name": "Dora Dahl", "email": "dora@acme.example",
                                                     "role": "officer", "language": "en"}, token_from="/admin/")
    assert response.status_code == 302
    invite = link_in(app, "dora@acme.example", "/invite/")
    secrets["invitation token"] = token_of(invite)
    dora = Browser(served, logs)
    doras_password = "doras-own-secret-9034"
    secrets["dora's password"] = doras_password
    response = support.post(dora, path_of(invite), {"password": doras_password, "confirm": doras_password},
                            token_from=path_of(invite))
    assert response.status_code == 302
    assert dora.get("/cases/").status_code == 200
    secrets["dora's session cookie"] = dora.cookies()[0]

    assert "POST /login" in logs.text and "/reset/" in logs.text  # werkzeug's request log was captured
    assert_not_logged(logs, secrets)


def test_a_case_through_the_api_signing_sealing_and_webhooks_logs_no_secrets(app, served, logs, people, sim, elks,
                                                                            receiver):
    secrets: dict[str, str] = {"SECRET_KEY": app.config["SECRET_KEY"], "46elks password": elks.password}
    alice = Browser(served, logs)
    assert support.login(alice, people.alice.email).status_code == 302
    secrets["session cookie"] = alice.cookies()[0]

    # An API key, shown once on the admin page, and a webhook for the case's life.
    html = support.post(alice, "/admin/api/keys", {"name": "HR system"}, token_from="/admin/api/").get_data(True)
    key = re.search(r"sgl_[A-Za-z0-9_-]{40,}", html).group(0)
    secrets["API key"] = key
    response = support.post(alice, "/admin/api/webhooks", {"url": receiver.url,
                                                           "events": ["case.sent", "case.completed"]},
                            token_from="/admin/api/")
    assert response.status_code == 302
    secrets["webhook secret"] = endpoint_secret(people.acme.id)

    # The integration creates and sends a case: Sara signs by SMS, Alva (bound to her personal number)
    # with BankID.
    integration = Browser(served, logs)
    integration.session.headers["Authorization"] = f"Bearer {key}"
    secrets["personal number"] = BANKID_PERSON.personal_number
    secrets["personal number with a dash"] = BANKID_PERSON.personal_number[:8] + "-" + BANKID_PERSON.personal_number[8:]
    secrets["phone"] = PHONE
    secrets["phone without +46"] = "0" + PHONE[3:]
    body = case_body(methods=["sms", "bankid"], parties=[
        {"name": "Sara Svensson", "email": "sara@example.com", "phone": PHONE, "methods": ["sms"],
         "language": "en"},
        {"name": "Alva Berg", "email": "alva@example.com", "personal_number": BANKID_PERSON.personal_number,
         "methods": ["bankid"], "language": "en"},
    ])
    created = integration.request("POST", "/api/v1/cases", json=body)
    assert created.status_code == 201, created.get_data(True)
    case_id = created.get_json()["id"]
    assert integration.post(f"/api/v1/cases/{case_id}/send").status_code == 200
    assert integration.post("/api/v1/cases", json=body,
                            headers={"Authorization": "Bearer sgl_" + "x" * 43}).status_code == 401

    # Sara: the link from her mail, a code by text message, the signature.
    sara_link = link_in(app, "sara@example.com", "/s/")
    secrets["Sara's link token"] = token_of(sara_link)
    sara = Browser(served, logs)
    path = path_of(sara_link)
    assert sara.get(path).status_code == 200
    support.post(sara, path + "/method/sms/send", {}, token_from=path, follow_redirects=True)
    code = elks.codes_to(PHONE)[0]
    secrets["SMS code"] = code
    wrong = "000000" if code != "000000" else "111111"
    support.post(sara, path + "/sign", sign_form(sara, path, method="sms", sms_code=wrong), token_from=path)
    response = support.post(sara, path + "/sign", sign_form(sara, path, method="sms", sms_code=code),
                            token_from=path)
    assert response.status_code == 302, response.get_data(True)[:300]
    secrets["Sara's session cookie"] = sara.cookies()[0]

    # Alva: BankID on another device, the simulator playing her phone.
    alva_link = link_in(app, "alva@example.com", "/s/")
    secrets["Alva's link token"] = token_of(alva_link)
    alva = Browser(served, logs)
    path = path_of(alva_link)
    started = start(alva, path)["data"]
    with tenant_context(people.acme.id):
        order = db.session.get(BankIDOrder, started["order"])
        secrets.update({"BankID orderRef": order.order_ref, "BankID autoStartToken": order.auto_start_token,
                        "BankID qrStartToken": order.qr_start_token, "BankID qrStartSecret": order.qr_start_secret})
    with logs.paused():
        scanned = control(sim, "scan", qr=started["qr"], personalNumber=BANKID_PERSON.personal_number)
        control(sim, f"orders/{scanned['orderRef']}/approve", personalNumber=BANKID_PERSON.personal_number)
    assert collect(alva, path, started["order"])["data"]["status"] == "complete"
    assert sign(alva, path, started["order"]).status_code == 302

    # The jobs seal the case, mail everybody the signed documents and deliver the webhooks.
    drain()
    with tenant_context(people.acme.id):
        assert db.session.get(Case, case_id).seal_state == "sealed"
    assert [r.headers["Sigill-Event"] for r in receiver.received] == ["case.sent", "case.completed"]
    assert all(signature_ok(secrets["webhook secret"], r) for r in receiver.received)

    # Every party opens every link they were mailed (the signed documents, the receipts).
    for email, browser in (("sara@example.com", sara), ("alva@example.com", alva)):
        for message in mails_to(app, email):
            for link in support.links_in(message):
                if link.startswith(served):
                    assert browser.get(link).status_code in (200, 302)
    secrets["Alva's session cookie"] = alva.cookies()[0]
    assert integration.get(f"/api/v1/cases/{case_id}").status_code == 200

    assert "/s/" in logs.text and "/api/v1/cases" in logs.text  # werkzeug's request log was captured
    assert mask_phone(PHONE) in logs.text  # the masked forms are what the log may hold
    assert_not_logged(logs, secrets)
    # BankID's stand-in logs its own order refs, but it too masks personal numbers.
    simulator = "\n".join(logs.simulator_lines)
    assert mask_personal_number(BANKID_PERSON.personal_number) in simulator
    assert BANKID_PERSON.personal_number not in simulator and secrets["personal number with a dash"] not in simulator


def test_a_crash_on_a_signer_link_is_logged_without_the_token(app_factory, logs, monkeypatch):
    """In production Flask logs "Exception on <path> [GET]" with the traceback."""
    app = app_factory(PROPAGATE_EXCEPTIONS=False)

    def broken(_token):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("core.signing.service.find_party", broken)
    token = "Zk3y" * 10 + "abc"
    assert app.test_client().get(f"/s/{token}?next=%2Fs%2F{token}").status_code == 500
    assert "Exception on /s/[sha256:" in logs.text and "the database went away" in logs.text
    assert_not_logged(logs, {"link token": token})


TOKEN = "tOk3n-_" * 6 + "x"


@pytest.mark.parametrize("path", [f"/s/{TOKEN}", f"/s/{TOKEN}/receipt/1", f"/e-delivery/s/{TOKEN}/2",
                                  f"/reset/{TOKEN}", f"/invite/{TOKEN}", f"/lang/sv?next=%2Fs%2F{TOKEN}%2Fsigned%2F1",
                                  f"https://sign.example.se/s/{TOKEN}"])
def test_every_kind_of_link_token_is_masked(path):
    masked = mask_link_tokens(path)
    assert TOKEN not in masked and f"[sha256:{hash_token(TOKEN)[:8]}]" in masked


@pytest.mark.parametrize("path", ["/cases/12/parties/3/resend", "/static/app.css", "/verify/ABCD-EFGH",
                                  "/api/v1/cases?status=sent", "/sim/orders", "/admin/api/keys/1/revoke"])
def test_other_paths_are_left_alone(path):
    assert mask_link_tokens(path) == path


def store_a_party_of_a_missing_case() -> None:
    """A job whose insert the database refuses: the error names the statement and, unless the
    engine hides them, its values."""
    db.session.execute(sa.text("INSERT INTO party (case_id, tenant_id, name, email, phone, personal_number) "
                               "VALUES (:case_id, :tenant_id, 'Sara', 'sara@example.com', :phone, :number)"),
                       {"case_id": 987654, "tenant_id": 987654, "phone": PHONE,
                        "number": BANKID_PERSON.personal_number})


def test_a_database_error_is_logged_without_the_statements_values(app_factory, logs):
    with app_factory().app_context():
        jobs.enqueue(store_a_party_of_a_missing_case)
        db.session.commit()
        drain()
    assert "IntegrityError" in logs.text and "INSERT INTO party" in logs.text
    assert_not_logged(logs, {"phone": PHONE, "personal number": BANKID_PERSON.personal_number})


def test_gunicorn_access_log_with_the_masking_logger(tmp_path):
    """The production server with its settings (`-c python:core.gunicorn_config`: the masking logger,
    2 threaded workers), a log format with the Referer and the credential
    headers, and requests that carry link tokens and keys."""
    port = free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update(SIGILL_INSTANCE=str(tmp_path / "instance"), SCHEDULER_ENABLED="0", BASE_URL=f"http://127.0.0.1:{port}")
    log_format = '%(h)s "%(r)s" %(s)s "%(f)s" "%({authorization}i)s" "%({cookie}i)s" "%({set-cookie}o)s" %(U)s'
    command = [str(Path(sys.executable).parent / "gunicorn"), "-c", "python:core.gunicorn_config", "-w", "2",
               "-b", f"127.0.0.1:{port}", "--access-logfile", str(access),
               "--access-logformat", log_format, "--error-logfile", str(errors), "--log-level", "debug",
               "--no-control-socket", "core.wsgi:app"]
    root = Path(__file__).resolve().parent.parent
    with open(errors.with_suffix(".stderr"), "wb") as stderr:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=stderr, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                # Long enough for the worker to boot on a busy machine: a request that times out is
                # served later all the same and logged, and the log's lines are counted below.
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, errors.read_text()
                time.sleep(0.2)
        secrets = {"signer token": "S1gn" * 10 + "xyz", "page token": "P4ge" * 10 + "xyz",
                   "reset token": "R3set" * 8 + "xyz", "API key": "sgl_" + "K3y" * 14 + "x",
                   "session cookie": "eyJzZXNzaW9uIjoidGVzdCJ9.c00kie"}
        base = f"http://127.0.0.1:{port}"
        requests.get(f"{base}/s/{secrets['signer token']}/documents/1", timeout=10,
                     headers={"Referer": f"{base}/s/{secrets['page token']}",
                              "Cookie": f"session={secrets['session cookie']}"})
        requests.get(f"{base}/reset/{secrets['reset token']}", timeout=10)
        requests.get(f"{base}/api/v1/cases", timeout=10, headers={"Authorization": f"Bearer {secrets['API key']}"})
        requests.get(f"{base}/login", timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=30)
    logged = access.read_text()
    assert logged.count("\n") == 5 and "/s/[sha256:" in logged and "/reset/[sha256:" in logged
    assert "[redacted]" in logged
    everything = logged + errors.read_text() + errors.with_suffix(".stderr").read_text()
    leaked = {name for name, value in secrets.items() if value in everything}
    assert not leaked, everything


def test_a_failed_webhook_and_a_refused_text_message_keep_secrets_out_of_the_log(app, logs):
    """A receiver URL may carry a token in its query; a gateway may echo the number it refused."""
    import http.server
    import threading

    from core.api import service as api
    from core.sms import ElksGateway, SmsError

    secret_url = "https://hooks.example.net/in?token=s3cr3t-hook-token"
    assert "s3cr3t" not in api._without_secrets(secret_url)
    assert api._without_secrets("https://user:pw@hooks.example.net:8443/in?x=1") == "https://hooks.example.net:8443/in"

    class Refusing(http.server.BaseHTTPRequestHandler):  # a gateway that echoes the number it refuses
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b"Invalid to number +46701234567"
            self.send_response(400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gateway = ElksGateway(f"http://127.0.0.1:{server.server_port}", "user", "password", "Acme", timeout=5)
        with pytest.raises(SmsError):
            gateway.send("+46701234567", "Your code is 123456")
    finally:
        server.shutdown()
    assert "701234567" not in logs.text and "[number]" in logs.text
