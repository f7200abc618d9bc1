from core.app import create_app


def test_factory_takes_config_overrides(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "STORAGE_DIR": str(tmp_path / "b"),
                      "TESTING": True, "BASE_URL": "http://example.test/"})
    assert app.testing
    assert app.config["BASE_URL"] == "http://example.test/"


def test_it_reports_liveness_and_readiness(client):
    assert client.get("/healthz").json == {"status": "alive"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "database": "ok"}


def test_a_broken_redis_leaves_the_process_alive_and_ready_but_degraded(app_factory):
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded" and response.json["failing"] == ["redis"]
    assert response.json["redis"].startswith("error")


def test_a_broken_database_makes_the_process_unready_and_names_it(tmp_path):
    from tests.conftest import base_config

    app = create_app(base_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/nothing.db"))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["database"] and response.json["database"].startswith("error")


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/cases/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_unknown_page_is_a_clear_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True) or "Sidan" in response.get_data(as_text=True)


def test_pages_carry_security_headers(client):
    headers = client.get("/login").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite(client, people):
    from tests import support

    response = support.login(client, "alice@acme.example")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_https_base_url_from_environment_makes_cookies_secure(tmp_path, monkeypatch):
    monkeypatch.setenv("BASE_URL", "https://sign.example.se")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "STORAGE_DIR": str(tmp_path / "b")})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_pages_forbid_scripts_from_elsewhere(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_webhook_network_settings_come_from_the_environment(monkeypatch, tmp_path):
    from core.api import transport
    from core.config import load_config

    assert transport.allowed_networks(load_config(str(tmp_path))["WEBHOOK_ALLOWED_NETWORKS"]) == ()
    monkeypatch.setenv("WEBHOOK_ALLOWED_NETWORKS", "10.1.0.0/16, 192.168.7.0/24")
    monkeypatch.setenv("WEBHOOK_CA_BUNDLE", "/etc/sigill/receivers-ca.pem")
    config = load_config(str(tmp_path))
    assert [str(n) for n in transport.allowed_networks(config["WEBHOOK_ALLOWED_NETWORKS"])] == [
        "10.1.0.0/16", "192.168.7.0/24"]
    assert config["WEBHOOK_CA_BUNDLE"] == "/etc/sigill/receivers-ca.pem"


def test_processes_starting_at_once_on_a_new_instance_share_one_secret_key(monkeypatch, tmp_path):
    """gunicorn's workers load the config at once: each writing its own key would log a user out
    whenever a request reached the other worker (the session signed with another key)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from core.config import load_config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    start = threading.Barrier(8)

    def starting(_n):
        start.wait()
        return load_config(str(tmp_path))["SECRET_KEY"]

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(starting, range(8)))
    assert len(keys) == 1 and len(keys.pop()) >= 48
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".secret_key")] == []


def test_a_web_process_warms_up_before_serving_and_writes_nothing(app, client):
    """`core.wsgi` warms each web process before it serves: every template compiled, the link lookup
    run once. It must not leave a trace: no row, no rate-limit count, and an unknown link still
    answers as before."""
    import sqlalchemy as sa

    from core.extensions import db
    from core.warmup import NO_SUCH_TOKEN, warm_web

    def rows():
        with app.app_context():
            return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
                    for t in db.metadata.sorted_tables}

    before = rows()
    warm_web(app)
    assert set(app.jinja_env.list_templates()) <= {name for _loader, name in app.jinja_env.cache}
    assert rows() == before
    assert client.get(f"/s/{NO_SUCH_TOKEN}").status_code == 404


def test_a_web_process_whose_database_is_down_at_start_still_starts(tmp_path, caplog):
    from core.warmup import warm_web
    from tests.conftest import base_config

    app = create_app(base_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/nothing.db"))
    warm_web(app)
    assert "warm-up step _link_lookup failed" in caplog.text
    assert app.test_client().get("/healthz").status_code == 200
