"""English and Swedish: locale selection and translation helpers."""

from __future__ import annotations

from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import force_locale, get_locale
from flask_babel import get_translations as _babel_translations
from flask_babel.speaklater import LazyString
from flask_login import current_user

_NULL = NullTranslations()


def translations():
    """The current translations, as Flask-Babel would return them, without its per-call cost.

    Flask-Babel resolves context, domain and locale on every message (~15 µs; a signer page
    has ~50 messages). Once the request has a locale and a domain, the catalogue is read
    straight from the domain's cache under the same key Flask-Babel uses; `force_locale` and
    `refresh` change the attributes read here, so they keep working.
    """
    app_ctx = _cv_app.get(None)
    state = getattr(app_ctx.g, "_flask_babel", None) if app_ctx is not None else None
    if state is not None:
        locale = getattr(state, "babel_locale", None)
        domain = getattr(state, "babel_domain", None)
        if locale is not None and domain is not None:
            cached = domain.cache.get((str(locale), domain.domain[0]))
            if cached is not None:
                return cached
    return _babel_translations() if app_ctx is not None else _NULL


def gettext(string: str, **variables) -> str:
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def pgettext(context: str, string: str, **variables) -> str:
    text = translations().upgettext(context, string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables) -> LazyString:
    """A message translated when it is used (labels defined at import time)."""
    return LazyString(gettext, string, **variables)


_ = gettext
_l = lazy_gettext

__all__ = ["_", "_l", "force_locale", "gettext", "lazy_gettext", "ngettext", "pgettext", "select_locale",
           "current_language", "translations"]


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
    app.jinja_env.install_gettext_callables(  # replaces Flask-Babel's, same semantics, faster
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )

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
