"""English and Swedish: locale selection and translation helpers."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import force_locale, get_locale, gettext, lazy_gettext, ngettext
from flask_login import current_user

_ = gettext
_l = lazy_gettext

__all__ = ["_", "_l", "force_locale", "gettext", "lazy_gettext", "ngettext", "select_locale", "current_language"]


def select_locale() -> str:
    """g.locale (a page that knows its reader, e.g. the party), then the visitor's own choice,
    then the officer's preference, then the browser, then Swedish."""
    languages = current_app.config["LANGUAGES"]
    if g.get("locale") in languages:
        return g.locale
    if not has_request_context():  # a job: its texts are rendered under force_locale(reader's language)
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    return str(get_locale() or "sv")


def init_app(app: Flask) -> None:
    @app.get("/lang/<code>")
    def set_language(code: str):
        from flask import redirect

        from core.security import safe_next_url

        if code in app.config["LANGUAGES"]:
            session["lang"] = code
        return redirect(safe_next_url(request.args.get("next"), default="/"))

    @app.context_processor
    def _i18n_context():
        return {"current_language": current_language(), "languages": app.config["LANGUAGES"]}
