"""The application factory: config -> extensions -> tenancy -> plugins -> blueprints."""

from __future__ import annotations

import logging
import os

from flask import Flask, g, jsonify, render_template, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from core import i18n, security, timezones
from core.config import load_config
from core.extensions import babel, csrf, db, login_manager, migrate
from core.sessions import end_session, safe_rollback
from tenants import scoping

log = logging.getLogger(__name__)


def create_app(config: dict | None = None, plugins: list | None = None) -> Flask:
    """Build the app. `config` overrides settings; `plugins` registers extra plugin objects."""
    app = Flask(__name__, instance_path=os.environ.get("SIGILL_INSTANCE") or None)
    app.config.update(load_config(app.instance_path, config))
    _configure_logging(app)
    _init_extensions(app)
    _init_tenancy(app)
    _init_plugins(app, plugins)
    _register_blueprints(app)
    _register_error_pages(app)
    _register_security_headers(app)
    _register_health(app)
    _start_background(app)
    return app


def _configure_logging(app: Flask) -> None:
    from core import logging_filters

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging_filters.install(app)  # link tokens in logged request paths are masked
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)


def _init_extensions(app: Flask) -> None:
    import core.models  # noqa: F401  (every table known to SQLAlchemy and Alembic)

    db.init_app(app)
    _safe_session_teardown(app)
    from core.cases import events

    events.init_app(app)
    migrations = os.path.join(os.path.dirname(__file__), "migrations")
    migrate.init_app(app, db, directory=migrations, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    timezones.init_app(app)
    from core import storage

    storage.init_app(app)
    with app.app_context():
        _tune_sqlite(app)
        _hide_row_values(app)


def _safe_session_teardown(app: Flask) -> None:
    """End each request's session without letting a dead connection turn its answer into a 500.

    Flask-SQLAlchemy's own teardown rolls back on the connection; when the database cut that
    connection meanwhile, the rollback raises after the response was made, and the client gets a
    bare 500 for work that succeeded. Here that failure is logged and the connection discarded.
    """
    funcs = app.teardown_appcontext_funcs
    funcs[:] = [f for f in funcs if getattr(f, "__func__", None) is not type(db)._teardown_session]
    app.teardown_appcontext(lambda _exc: end_session())


def _tune_sqlite(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    @event.listens_for(db.engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()


def _hide_row_values(app: Flask) -> None:
    """PostgreSQL's error details quote the row or key ("Failing row contains (..., +4670..., 1980...)",
    "Key (email)=(...) already exists"). With hide_parameters on, an error keeps only its primary
    message, so logs and a job's last error carry no personal data; `exc.orig.diag` still has it all."""
    if not (app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
            and app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("hide_parameters")):
        return
    from sqlalchemy import event

    @event.listens_for(db.engine, "handle_error")
    def _primary_message_only(context):
        original = context.original_exception
        primary = getattr(getattr(original, "diag", None), "message_primary", None)
        full = str(original)
        if not primary or primary == full:
            return
        original.args = (primary,)
        wrapped = context.sqlalchemy_exception
        if wrapped is not None and wrapped.args:
            wrapped.args = (wrapped.args[0].replace(full, primary),)


def _init_tenancy(app: Flask) -> None:
    scoping.install(db.session)
    from core.auth.service import load_officer

    login_manager.user_loader(load_officer)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @app.before_request
    def _tenant_from_officer():
        g.tenant = None
        g.tenant_token = None
        if current_user.is_authenticated:
            g.tenant = current_user.tenant
            g.tenant_token = scoping.set_current_tenant(current_user.tenant_id)

    @app.teardown_request
    def _clear_tenant(_exc):
        token = g.pop("tenant_token", None)
        if token is not None:
            try:
                scoping.reset_current_tenant(token)
            except ValueError:
                scoping.set_current_tenant(None)


def _init_plugins(app: Flask, extra: list | None) -> None:
    from core.plugins import load_plugin_config, make_plugin_manager

    pm = app.extensions["sigill_pm"] = make_plugin_manager(extra=extra)
    load_plugin_config(app, pm)
    _plugin_translations(app, pm)
    from core.signing import methods

    methods.init_app(app)


def _plugin_translations(app: Flask, pm) -> None:
    """Plugins' catalogues before the core's (Flask-Babel merges in order: the core's wins)."""
    folders = [os.fspath(folder) for provided in pm.hook.register_translations() for folder in provided or []]
    if not folders:
        return
    state = app.extensions["babel"]
    state.translation_directories[:0] = [f for f in folders if f not in state.translation_directories]
    with app.app_context():
        babel.domain_instance.cache.clear()  # merged catalogues are cached per process, not per app


def _register_blueprints(app: Flask) -> None:
    from core.auth.views import bp as auth_bp
    from core.views import bp as main_bp
    from tenants.views import bp as admin_bp

    for bp in (main_bp, auth_bp, admin_bp):
        app.register_blueprint(bp)
    for bp in _optional_core_blueprints():
        app.register_blueprint(bp)
    pm = app.extensions["sigill_pm"]
    for blueprints in pm.hook.register_blueprints(app=app):
        for bp in blueprints or []:
            app.register_blueprint(bp)


def _optional_core_blueprints() -> list:
    """Domain blueprints, imported only once their packages have views."""
    import importlib

    found = []
    for module in ("core.cases.views", "core.signing.views", "core.sealing.views", "core.verify.views",
                   "core.api.views", "core.case_templates.views", "core.fields.views"):
        try:
            found.append(importlib.import_module(module).bp)
        except ModuleNotFoundError as exc:
            if exc.name not in (module, module.rsplit(".", 1)[0]):
                raise
    return found


def _register_error_pages(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    def render_error(code: int, title: str, message: str):
        if request.path.startswith("/api/"):
            return jsonify({"error": {"code": str(code), "message": message}}), code
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def _csrf(_e):
        return render_error(
            400,
            i18n._("The form had expired"),
            i18n._(
                "For your security the form must be sent from a fresh page. Go back, reload the page and try again."
            ),
        )

    @app.errorhandler(404)
    def _not_found(_e):
        return render_error(
            404, i18n._("Page not found"), i18n._("There is nothing here, or you do not have access to it.")
        )

    @app.errorhandler(410)
    def _gone(_e):
        return render_error(410, i18n._("No longer available"), i18n._(
            "The organisation keeps signed documents available for a limited time, and this one is past it. "
            "Ask the organisation for a copy."))

    @app.errorhandler(413)
    def _too_large(_e):
        return render_error(
            413,
            i18n._("The upload is too large"),
            i18n._("The files sent were larger than the service accepts. Choose a smaller file."),
        )

    @app.errorhandler(429)
    def _too_many(_e):
        return render_error(429, i18n._("Too many attempts"), i18n._("Wait a few minutes and try again."))

    @app.errorhandler(500)
    def _server_error(_e):
        safe_rollback()
        return render_error(
            500, i18n._("Something went wrong"), i18n._("The error has been logged. Try again in a moment.")
        )


CSP = security.CSP


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # Signer links carry their token in the path: never send it to another site.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
        # Nothing runs or loads from elsewhere: no CDN, no inline script; nothing frames a page. A
        # response that set its own policy (`security.allow_framing`) decides its framing with it.
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = CSP
            headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint and request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        return response


def _register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "alive"})

    @app.get("/readyz")
    def readyz():
        from core.health import readiness

        report, status = readiness(app)
        return jsonify(report), status


def _start_background(app: Flask) -> None:
    from core import jobs

    jobs.init_app(app)
